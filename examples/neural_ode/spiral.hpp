// The spiral task of torchdiffeq's examples/ode_demo.py, on Cairn: the true dynamics, batches, and
// the loss with its exact gradient through cairn::Driver. Shared by examples/neural_ode and the
// tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/schedule.hpp"

namespace spiral {

/// dy/dt = (y^3) A with A = [[-0.1, 2.0], [-2.0, -0.1]], y a row vector: the true dynamics.
class TrueField final : public cairn::ode::VectorField {
 public:
  std::size_t state_size() const override { return 2; }
  std::size_t parameter_count() const override { return 0; }
  void evaluate(double, const double* y, const double*, double* out) const override {
    const double a = y[0] * y[0] * y[0], b = y[1] * y[1] * y[1];
    out[0] = -0.1 * a - 2.0 * b;
    out[1] = 2.0 * a - 0.1 * b;
  }
  void vjp(double, const double* y, const double*, const double* v, double* vjp_y,
           double*) const override {
    const double da = 3 * y[0] * y[0], db = 3 * y[1] * y[1];
    vjp_y[0] = da * (-0.1 * v[0] + 2.0 * v[1]);
    vjp_y[1] = db * (-2.0 * v[0] - 0.1 * v[1]);
  }
};

/// The true trajectory at `points` equally spaced times on [0, t_end] from y0 = (2, 0), each
/// interval integrated by classic RK4 with `substeps` steps (200 give about 1e-12 against 400).
inline std::vector<std::vector<double>> true_trajectory(std::size_t points = 1000,
                                                        double t_end = 25.0,
                                                        std::int64_t substeps = 200) {
  TrueField field;
  const double dt = t_end / static_cast<double>(points - 1);
  cairn::ode::ExplicitRungeKutta rk(field, cairn::ode::rk4(), 0.0,
                                    dt / static_cast<double>(substeps), nullptr);
  std::vector<std::vector<double>> out{{2.0, 0.0}};
  std::vector<double> y = out.front();
  std::int64_t i = 0;
  for (std::size_t p = 1; p < points; ++p) {
    for (std::int64_t k = 0; k < substeps; ++k) rk.step(i++, y);
    out.push_back(y);
  }
  return out;
}

enum class Loss { mean_abs, mean_square };

/// Observations of a batch of trajectories: targets[k] (batch x 2, row-major) is compared with the
/// state after k intervals, k = 0 .. targets.size() - 1.
struct Observations {
  std::vector<std::vector<double>> targets;
  std::int64_t substeps = 1;  // solver steps per interval
  Loss loss = Loss::mean_abs;

  std::int64_t steps() const { return static_cast<std::int64_t>(targets.size() - 1) * substeps; }
  std::size_t entries() const { return targets.size() * targets.front().size(); }
};

/// A random batch as in ode_demo.py: `batch` start indices s uniform in [0, points - length), the
/// start states true[s], and targets true[s + k], k < length.
inline std::pair<std::vector<double>, Observations> random_batch(
    const std::vector<std::vector<double>>& truth, std::size_t batch, std::size_t length,
    std::int64_t substeps, std::mt19937_64& random) {
  std::uniform_int_distribution<std::size_t> pick(0, truth.size() - length - 1);
  std::vector<std::size_t> starts(batch);
  for (std::size_t& s : starts) s = pick(random);
  std::pair<std::vector<double>, Observations> out;
  out.second.substeps = substeps;
  out.second.targets.assign(length, std::vector<double>(2 * batch));
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t k = 0; k < length; ++k) {
      out.second.targets[k][2 * b] = truth[starts[b] + k][0];
      out.second.targets[k][2 * b + 1] = truth[starts[b] + k][1];
    }
  }
  out.first = out.second.targets.front();
  return out;
}

/// Adds the loss of state y against target k to `loss`, and its gradient to `lambda` if given.
inline void observe(const Observations& obs, std::size_t k, const std::vector<double>& y,
                    double& loss, std::vector<double>* lambda) {
  const double scale = 1.0 / static_cast<double>(obs.entries());
  const std::vector<double>& target = obs.targets[k];
  for (std::size_t e = 0; e < y.size(); ++e) {
    const double d = y[e] - target[e];
    if (obs.loss == Loss::mean_abs) {
      loss += scale * std::abs(d);
      if (lambda) (*lambda)[e] += scale * (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
    } else {
      loss += scale * d * d;
      if (lambda) (*lambda)[e] += scale * 2 * d;
    }
  }
}

struct Gradient {
  double loss = 0;
  std::vector<double> theta;  // dL/dtheta
  std::vector<double> y0;     // dL/dy0
  cairn::DriverStatistics statistics;
};

/// The loss of the model's trajectories from y0 against the observations, and its exact gradient
/// with respect to theta and y0, by the discrete adjoint of `rk` run through `schedule` (over
/// obs.steps() steps) with `storage`. Each observation inside the chain enters the adjoint in the
/// reverse step that ends at it (ExplicitRungeKutta::tape, then reverse).
inline Gradient loss_and_gradient(const cairn::ode::ExplicitRungeKutta& rk,
                                  std::size_t parameter_count, cairn::Schedule& schedule,
                                  cairn::Storage& storage, const std::vector<double>& y0,
                                  const Observations& obs) {
  Gradient g;
  g.theta.assign(parameter_count, 0.0);
  const std::int64_t S = obs.substeps;
  const std::int64_t T = obs.steps();
  bool first_sweep = true;  // the driver also calls step() to recompute, later
  cairn::Driver<std::vector<double>> driver(
      schedule, storage,
      [&](std::int64_t i, std::vector<double>& y) {
        rk.step(i, y);
        if (first_sweep && (i + 1) % S == 0 && i + 1 < T) {
          observe(obs, static_cast<std::size_t>((i + 1) / S), y, g.loss, nullptr);
        }
      },
      [&](std::int64_t i, const std::vector<double>& y, std::vector<double>& lambda) {
        const auto& tape = rk.tape(i, y);
        if ((i + 1) % S == 0 && i + 1 < T) {
          double ignored = 0;
          observe(obs, static_cast<std::size_t>((i + 1) / S), tape.next, ignored, &lambda);
        }
        rk.reverse(i, lambda, g.theta.data());
      });
  g.y0 = driver.run(y0, [&](const std::vector<double>& yT) {
    first_sweep = false;
    std::vector<double> lambda(yT.size(), 0.0);
    observe(obs, obs.targets.size() - 1, yT, g.loss, &lambda);
    return lambda;
  });
  observe(obs, 0, y0, g.loss, &g.y0);
  g.statistics = driver.statistics();
  return g;
}

/// The loss alone, by a plain forward run (no checkpoints).
inline double loss_only(const cairn::ode::ExplicitRungeKutta& rk, std::vector<double> y,
                        const Observations& obs) {
  double loss = 0;
  observe(obs, 0, y, loss, nullptr);
  std::int64_t i = 0;
  for (std::size_t k = 1; k < obs.targets.size(); ++k) {
    for (std::int64_t s = 0; s < obs.substeps; ++s) rk.step(i++, y);
    observe(obs, k, y, loss, nullptr);
  }
  return loss;
}

}  // namespace spiral
