// A small batched multilayer perceptron with tanh, and the neural vector field f(y) = MLP(y^3).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cairn/ode/vector_field.hpp"

namespace cairn::ode {

/// x -> W_L tanh(... tanh(W_1 x + b_1) ...) + b_L, applied to a batch of rows, with a hand-written
/// reverse pass. Parameters are one flat array: for each layer, W (outputs x inputs, row-major),
/// then b. Plain loops rather than a BLAS: for 2 -> 50 -> 2 and 20 rows a forward pass takes about
/// 9 us, 7 of them in tanh (docs/neural_ode.md), so a GEMM could only speed up the rest.
class Mlp {
 public:
  /// widths = {inputs, hidden..., outputs}, at least two entries, all >= 1.
  explicit Mlp(std::vector<std::size_t> widths) : widths_(std::move(widths)) {
    if (widths_.size() < 2)
      throw std::invalid_argument("cairn::ode::Mlp: give at least {inputs, outputs}");
    for (std::size_t w : widths_) {
      if (w == 0) throw std::invalid_argument("cairn::ode::Mlp: every width must be >= 1");
    }
    for (std::size_t l = 0; l + 1 < widths_.size(); ++l) {
      offsets_.push_back(parameters_);
      parameters_ += widths_[l + 1] * widths_[l] + widths_[l + 1];
    }
  }

  std::size_t inputs() const noexcept { return widths_.front(); }
  std::size_t outputs() const noexcept { return widths_.back(); }
  std::size_t parameter_count() const noexcept { return parameters_; }
  const std::vector<std::size_t>& widths() const noexcept { return widths_; }

  /// Weights from N(0, stddev^2), biases 0 (the spiral demo's initialisation), reproducibly from
  /// `seed` (std::mt19937_64 and std::normal_distribution of this standard library).
  void initialize(std::vector<double>& theta, std::uint64_t seed, double stddev = 0.1) const {
    theta.assign(parameters_, 0.0);
    std::mt19937_64 random(seed);
    std::normal_distribution<double> normal(0.0, stddev);
    for (std::size_t l = 0; l + 1 < widths_.size(); ++l) {
      const std::size_t count = widths_[l + 1] * widths_[l];
      for (std::size_t k = 0; k < count; ++k) theta[offsets_[l] + k] = normal(random);
    }
  }

  /// out (batch x outputs) = MLP(x (batch x inputs)). Keeps the activations for backward().
  void forward(const double* theta, const double* x, std::size_t batch, double* out) const {
    reserve(batch);
    const std::size_t layers = widths_.size() - 1;
    const double* in = x;
    for (std::size_t l = 0; l < layers; ++l) {
      const std::size_t ni = widths_[l], no = widths_[l + 1];
      const double* W = theta + offsets_[l];
      const double* bias = W + no * ni;
      const bool last = l + 1 == layers;
      double* dst = last ? out : activations_[l].data();
      for (std::size_t r = 0; r < batch; ++r) {
        const double* xi = in + r * ni;
        double* yo = dst + r * no;
        for (std::size_t o = 0; o < no; ++o) {
          double sum = bias[o];
          const double* w = W + o * ni;
          for (std::size_t i = 0; i < ni; ++i) sum += w[i] * xi[i];
          yo[o] = last ? sum : std::tanh(sum);
        }
      }
      in = dst;
    }
    input_ = x;
  }

  /// For the cotangent dout of the last forward(): dx = (dMLP/dx)^T dout (overwritten),
  /// grad_theta += (dMLP/dtheta)^T dout. dx may be null when not needed.
  void backward(const double* theta, const double* dout, std::size_t batch, double* dx,
                double* grad_theta) const {
    const std::size_t layers = widths_.size() - 1;
    // delta holds the cotangent of the current layer's pre-activation output.
    delta_.assign(dout, dout + batch * widths_.back());
    for (std::size_t l = layers; l-- > 0;) {
      const std::size_t ni = widths_[l], no = widths_[l + 1];
      const double* W = theta + offsets_[l];
      double* gW = grad_theta + offsets_[l];
      double* gb = gW + no * ni;
      const double* in = l == 0 ? input_ : activations_[l - 1].data();
      for (std::size_t r = 0; r < batch; ++r) {
        const double* d = &delta_[r * no];
        const double* xi = in + r * ni;
        for (std::size_t o = 0; o < no; ++o) {
          gb[o] += d[o];
          double* g = gW + o * ni;
          for (std::size_t i = 0; i < ni; ++i) g[i] += d[o] * xi[i];
        }
      }
      if (l == 0 && dx == nullptr) break;
      next_delta_.assign(batch * ni, 0.0);
      for (std::size_t r = 0; r < batch; ++r) {
        const double* d = &delta_[r * no];
        double* nd = &next_delta_[r * ni];
        for (std::size_t o = 0; o < no; ++o) {
          const double* w = W + o * ni;
          for (std::size_t i = 0; i < ni; ++i) nd[i] += w[i] * d[o];
        }
        if (l > 0) {  // through the tanh that made this layer's input
          const double* a = &activations_[l - 1][r * ni];
          for (std::size_t i = 0; i < ni; ++i) nd[i] *= 1 - a[i] * a[i];
        }
      }
      delta_.swap(next_delta_);
    }
    if (dx != nullptr) {
      for (std::size_t k = 0; k < batch * widths_.front(); ++k) dx[k] = delta_[k];
    }
  }

 private:
  void reserve(std::size_t batch) const {
    activations_.resize(widths_.size() - 2);
    for (std::size_t l = 0; l + 2 < widths_.size(); ++l)
      activations_[l].resize(batch * widths_[l + 1]);
  }

  std::vector<std::size_t> widths_;
  std::vector<std::size_t> offsets_;
  std::size_t parameters_ = 0;
  mutable std::vector<std::vector<double>> activations_;
  mutable std::vector<double> delta_, next_delta_;
  mutable const double* input_ = nullptr;
};

/// The spiral demo's model: f(t, y) = MLP(y^3) for a batch of row states y (batch x d), the cube
/// taken entrywise. Autonomous (t is not used).
class CubedMlpField final : public VectorField {
 public:
  CubedMlpField(const Mlp& mlp, std::size_t batch) : mlp_(mlp), batch_(batch) {
    if (mlp.inputs() != mlp.outputs()) {
      throw std::invalid_argument("cairn::ode::CubedMlpField: the MLP must map R^d to R^d");
    }
    if (batch == 0) throw std::invalid_argument("cairn::ode::CubedMlpField: batch must be >= 1");
    cubes_.resize(state_size());
  }

  std::size_t state_size() const override { return batch_ * mlp_.inputs(); }
  std::size_t parameter_count() const override { return mlp_.parameter_count(); }
  std::size_t batch() const noexcept { return batch_; }

  void evaluate(double, const double* y, const double* theta, double* out) const override {
    for (std::size_t k = 0; k < cubes_.size(); ++k) cubes_[k] = y[k] * y[k] * y[k];
    mlp_.forward(theta, cubes_.data(), batch_, out);
  }

  void vjp(double t, const double* y, const double* theta, const double* v, double* vjp_y,
           double* grad_theta) const override {
    // The activations of the point asked for (the stepper evaluated other points since).
    std::vector<double>& scratch = scratch_;
    scratch.resize(state_size());
    evaluate(t, y, theta, scratch.data());
    mlp_.backward(theta, v, batch_, vjp_y, grad_theta);
    for (std::size_t k = 0; k < cubes_.size(); ++k) vjp_y[k] *= 3 * y[k] * y[k];
  }

 private:
  const Mlp& mlp_;
  std::size_t batch_;
  mutable std::vector<double> cubes_;
  mutable std::vector<double> scratch_;
};

}  // namespace cairn::ode
