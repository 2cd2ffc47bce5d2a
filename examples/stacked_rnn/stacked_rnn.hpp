// A stacked tanh RNN as a T x (L + 1) grid for GridDriver: L layers
//   h[t][l] = tanh(W_l h[t-1][l] + U_l h[t][l-1] + b_l),   h[t][-1] = x[t],
// and a top loss layer whose one-number state accumulates J = sum_t 0.5 ||h[t][L-1] - y[t]||^2
// (docs/grid_driver.md). The loss is a layer of the grid rather than folded into the terminal
// adjoint: every h[t][L-1] then receives its loss adjoint through the grid, and the seed is 1.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "cairn/grid_driver.hpp"

namespace stacked_rnn {

using State = std::vector<double>;

class Model {
 public:
  /// widths[0] is the input's width, widths[1..L] the layers'.
  Model(std::int64_t steps, std::vector<std::int64_t> widths, std::uint64_t seed)
      : steps_(steps), widths_(std::move(widths)) {
    if (steps_ < 1 || widths_.size() < 2) {
      throw std::invalid_argument("stacked_rnn: need steps >= 1 and at least one layer");
    }
    std::size_t size = 0;
    for (std::int64_t l = 0; l < layers(); ++l) {
      offsets_.push_back(size);
      size += static_cast<std::size_t>(n(l) * n(l) + n(l) * m(l) + n(l));
    }
    offsets_.push_back(size);
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    params_.resize(size);
    for (std::int64_t l = 0; l < layers(); ++l) {
      // Weights of scale 1 / sqrt(fan-in) keep tanh away from saturation.
      const double scale = 1.0 / std::sqrt(static_cast<double>(n(l) + m(l)));
      for (std::size_t k = offsets_[static_cast<std::size_t>(l)];
           k < offsets_[static_cast<std::size_t>(l) + 1]; ++k) {
        params_[k] = scale * uniform(random);
      }
    }
    for (std::int64_t t = 0; t < steps_; ++t) {
      inputs_.emplace_back(static_cast<std::size_t>(widths_[0]));
      for (double& v : inputs_.back()) v = uniform(random);
      targets_.emplace_back(static_cast<std::size_t>(n(layers() - 1)));
      for (double& v : targets_.back()) v = 0.5 * uniform(random);
    }
    for (std::int64_t l = 0; l < layers(); ++l) dz_.emplace_back(static_cast<std::size_t>(n(l)));
  }

  std::int64_t steps() const { return steps_; }
  std::int64_t layers() const { return static_cast<std::int64_t>(widths_.size()) - 1; }
  std::int64_t n(std::int64_t l) const { return widths_[static_cast<std::size_t>(l) + 1]; }
  std::int64_t m(std::int64_t l) const { return widths_[static_cast<std::size_t>(l)]; }
  std::vector<double>& params() { return params_; }
  const std::vector<double>& params() const { return params_; }

  /// The grid: L RNN layers and the loss layer, bytes of doubles.
  cairn::GridShape shape() const {
    std::vector<cairn::GridLayer> layers;
    for (std::int64_t l = 0; l < this->layers(); ++l) {
      cairn::GridLayer g;
      g.state_bytes = static_cast<std::uint64_t>(n(l)) * sizeof(double);
      layers.push_back(g);
    }
    cairn::GridLayer loss;
    loss.state_bytes = sizeof(double);
    layers.push_back(loss);
    return cairn::GridShape(steps_, std::move(layers));
  }

  /// The loss by a plain forward loop (no driver), for the Taylor test.
  double loss() const {
    std::vector<State> h;
    for (std::int64_t l = 0; l < layers(); ++l) h.emplace_back(static_cast<std::size_t>(n(l)));
    State next;
    double J = 0;
    for (std::int64_t t = 0; t < steps_; ++t) {
      for (std::int64_t l = 0; l < layers(); ++l) {
        next.assign(static_cast<std::size_t>(n(l)), 0.0);
        cell(l, h[static_cast<std::size_t>(l)],
             l == 0 ? inputs_[static_cast<std::size_t>(t)] : h[static_cast<std::size_t>(l) - 1],
             next);
        h[static_cast<std::size_t>(l)] = next;
      }
      J = loss_cell(t, J, h.back());
    }
    return J;
  }

  /// The problem for GridDriver; cell_adjoint accumulates dJ/dparams into `gradient` (of
  /// params().size(), zeroed by the caller).
  cairn::GridProblem<State> problem(std::vector<double>& gradient) {
    cairn::GridProblem<State> p;
    const std::int64_t L = layers();
    p.cell = [this, L](std::int64_t t, std::int64_t l, const State& left, const State& below,
                       State& out) {
      if (l == L) {
        out[0] = loss_cell(t, left[0], below);
      } else {
        cell(l, left, below, out);
      }
    };
    p.cell_adjoint = [this, L, &gradient](std::int64_t t, std::int64_t l, const State& left,
                                          const State& below, const State& out_adjoint,
                                          State& left_adjoint, State& below_adjoint) {
      if (l == L) {
        const State& y = targets_[static_cast<std::size_t>(t)];
        left_adjoint[0] = out_adjoint[0];
        for (std::size_t k = 0; k < below.size(); ++k) {
          below_adjoint[k] = out_adjoint[0] * (below[k] - y[k]);
        }
      } else {
        cell_adjoint(l, left, below, out_adjoint, left_adjoint, below_adjoint, gradient);
      }
    };
    p.terminal_adjoint = [](const State&, State& adjoint) { adjoint[0] = 1.0; };
    for (std::int64_t l = 0; l < L; ++l) {
      p.left_inputs.emplace_back(static_cast<std::size_t>(n(l)), 0.0);
      p.prototypes.emplace_back(static_cast<std::size_t>(n(l)), 0.0);
    }
    p.left_inputs.push_back(State{0.0});
    p.prototypes.push_back(State{0.0});
    p.inputs = inputs_;
    return p;
  }

 private:
  const double* W(std::int64_t l) const {
    return params_.data() + offsets_[static_cast<std::size_t>(l)];
  }
  const double* U(std::int64_t l) const { return W(l) + n(l) * n(l); }
  const double* b(std::int64_t l) const { return U(l) + n(l) * m(l); }

  void cell(std::int64_t l, const State& left, const State& below, State& out) const {
    const std::int64_t nl = n(l), ml = m(l);
    const double *w = W(l), *u = U(l), *bias = b(l);
    for (std::int64_t i = 0; i < nl; ++i) {
      double z = bias[i];
      for (std::int64_t j = 0; j < nl; ++j) z += w[i * nl + j] * left[static_cast<std::size_t>(j)];
      for (std::int64_t j = 0; j < ml; ++j) z += u[i * ml + j] * below[static_cast<std::size_t>(j)];
      out[static_cast<std::size_t>(i)] = std::tanh(z);
    }
  }

  double loss_cell(std::int64_t t, double J, const State& top) const {
    const State& y = targets_[static_cast<std::size_t>(t)];
    double s = 0;
    for (std::size_t k = 0; k < top.size(); ++k) s += (top[k] - y[k]) * (top[k] - y[k]);
    return J + 0.5 * s;
  }

  // The exact vector-Jacobian product of cell(): dz = a (1 - tanh(z)^2), then dW = dz left^T,
  // dU = dz below^T, db = dz, and the input adjoints W^T dz, U^T dz.
  void cell_adjoint(std::int64_t l, const State& left, const State& below, const State& out_adjoint,
                    State& left_adjoint, State& below_adjoint, std::vector<double>& gradient) {
    const std::int64_t nl = n(l), ml = m(l);
    const double *w = W(l), *u = U(l), *bias = b(l);
    State& dz = dz_[static_cast<std::size_t>(l)];
    for (std::int64_t i = 0; i < nl; ++i) {
      double z = bias[i];
      for (std::int64_t j = 0; j < nl; ++j) z += w[i * nl + j] * left[static_cast<std::size_t>(j)];
      for (std::int64_t j = 0; j < ml; ++j) z += u[i * ml + j] * below[static_cast<std::size_t>(j)];
      const double o = std::tanh(z);
      dz[static_cast<std::size_t>(i)] = out_adjoint[static_cast<std::size_t>(i)] * (1.0 - o * o);
    }
    double* gw = gradient.data() + offsets_[static_cast<std::size_t>(l)];
    double* gu = gw + nl * nl;
    double* gb = gu + nl * ml;
    for (std::int64_t i = 0; i < nl; ++i) {
      const double d = dz[static_cast<std::size_t>(i)];
      for (std::int64_t j = 0; j < nl; ++j) gw[i * nl + j] += d * left[static_cast<std::size_t>(j)];
      for (std::int64_t j = 0; j < ml; ++j)
        gu[i * ml + j] += d * below[static_cast<std::size_t>(j)];
      gb[i] += d;
    }
    for (std::int64_t j = 0; j < nl; ++j) {
      double s = 0;
      for (std::int64_t i = 0; i < nl; ++i) s += w[i * nl + j] * dz[static_cast<std::size_t>(i)];
      left_adjoint[static_cast<std::size_t>(j)] = s;
    }
    for (std::int64_t j = 0; j < ml; ++j) {
      double s = 0;
      for (std::int64_t i = 0; i < nl; ++i) s += u[i * ml + j] * dz[static_cast<std::size_t>(i)];
      below_adjoint[static_cast<std::size_t>(j)] = s;
    }
  }

  std::int64_t steps_;
  std::vector<std::int64_t> widths_;
  std::vector<std::size_t> offsets_;
  std::vector<double> params_;
  std::vector<State> inputs_, targets_;
  std::vector<State> dz_;  // per layer, so that cell_adjoint allocates nothing
};

}  // namespace stacked_rnn
