// An explicit Runge-Kutta stepper and its exact discrete adjoint, ready for cairn::Driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cairn/ode/butcher.hpp"
#include "cairn/ode/vector_field.hpp"

namespace cairn::ode {

/// Fixed steps of size h from t0 (t_i = t0 + i h) of y' = f(t, y, theta) with the method of a
/// Butcher tableau, and the transpose of each step's linearisation:
///
///  - step(i, y):                       y_i -> y_{i+1} in place;
///  - adjoint_step(i, y_i, lambda, g):   lambda_{i+1} -> lambda_i = (dy_{i+1}/dy_i)^T lambda_{i+1}
///                                       in place, and g += (dy_{i+1}/dtheta)^T lambda_{i+1}.
///
/// The adjoint is the exact transpose of the discrete step (not a discretised continuous adjoint):
/// with stage inputs Y_j = y + h sum_{l<j} a_jl K_l and K_j = f(t_i + c_j h, Y_j), it runs
///   mu_j = h b_j lambda + h sum_{l>j} a_lj nu_l,   nu_j = (df/dy (Y_j))^T mu_j,
///   g += (df/dtheta (Y_j))^T mu_j,                  lambda_i = lambda + sum_j nu_j
/// for j = s-1, ..., 0, after recomputing the stages from y_i (the "taped" forward step). The
/// tests check <J v, w> = <v, J^T w> to round-off for every tableau here.
///
/// For observations inside the chain (a loss on several states), tape() and reverse() split the
/// adjoint step: tape() recomputes the stages and y_{i+1}, the caller adds dLoss/dy_{i+1} to
/// lambda, then reverse() applies the transpose.
///
/// Adjoint data (mixed schedules, cairn/mixed.hpp): record() is step() that also keeps the stage
/// inputs Y_j the transpose reads (adjoint_data_states() states: the used stages), and
/// adjoint_from() applies the transpose from them without evaluating f, bitwise the same as
/// adjoint_step() from y_i (the tests check it to the bit).
///
/// Cost per step: s evaluations of f; per adjoint step: s evaluations and s vector-Jacobian
/// products (stages whose value no later stage or the update uses are skipped, e.g. the last of
/// dopri5). Memory: (2 s + 2) n doubles of workspace, allocated by the constructor; step() and
/// adjoint_step() allocate nothing. Not thread-safe (the workspace is shared by the calls).
class ExplicitRungeKutta {
 public:
  /// theta: f's parameters (parameter_count() doubles), read at every call, so training may change
  /// them between runs. Throws std::invalid_argument for a tableau that is not explicit, h == 0,
  /// or a null theta with parameters.
  ExplicitRungeKutta(const VectorField& field, ButcherTableau tableau, double t0, double h,
                     const double* theta)
      : field_(field), tableau_(std::move(tableau)), t0_(t0), h_(h), theta_(theta) {
    const std::size_t s = tableau_.stages;
    if (s == 0 || tableau_.a.size() != s * s || tableau_.b.size() != s || tableau_.c.size() != s) {
      throw std::invalid_argument("cairn::ode::ExplicitRungeKutta: tableau '" + tableau_.name +
                                  "' has inconsistent sizes");
    }
    for (std::size_t j = 0; j < s; ++j) {
      for (std::size_t l = j; l < s; ++l) {
        if (tableau_.a_at(j, l) != 0) {
          throw std::invalid_argument("cairn::ode::ExplicitRungeKutta: tableau '" + tableau_.name +
                                      "' is not explicit (a must be strictly lower triangular)");
        }
      }
    }
    if (!(h_ != 0))
      throw std::invalid_argument("cairn::ode::ExplicitRungeKutta: h must be non-zero");
    if (theta_ == nullptr && field_.parameter_count() > 0) {
      throw std::invalid_argument("cairn::ode::ExplicitRungeKutta: theta is null");
    }
    // A stage is needed when the update or a later stage reads it.
    used_.assign(s, false);
    for (std::size_t j = s; j-- > 0;) {
      bool needed = tableau_.b[j] != 0;
      for (std::size_t l = j + 1; l < s && !needed; ++l)
        needed = used_[l] && tableau_.a_at(l, j) != 0;
      used_[j] = needed;
    }
    const std::size_t n = field_.state_size();
    tape_.stage_inputs.assign(s * n, 0.0);
    tape_.stages.assign(s * n, 0.0);
    tape_.next.assign(n, 0.0);
    nu_.assign(s * n, 0.0);
    mu_.assign(n, 0.0);
    input_of_.reserve(s);
  }

  /// The stage inputs Y_j, stage values K_j and y_{i+1} of one step.
  struct Tape {
    std::vector<double> stage_inputs;
    std::vector<double> stages;
    std::vector<double> next;
  };

  /// What the transpose of one step reads: the inputs of the used stages, in stage order.
  struct AdjointData {
    std::vector<double> stage_inputs;
  };

  /// The size of one step's AdjointData in states (the stages some later stage or the update
  /// reads: 4 for rk4, 6 of dopri5's 7): the `adjoint_units` of a MixedRevolve for this stepper.
  std::int64_t adjoint_data_states() const noexcept {
    std::int64_t count = 0;
    for (const bool used : used_) count += used ? 1 : 0;
    return count;
  }

  /// y_i -> y_{i+1} in place, keeping step i's adjoint data in `data` (resized on first use).
  void record(std::int64_t i, std::vector<double>& y, AdjointData& data) const {
    tape(i, y);
    const std::size_t n = field_.state_size();
    data.stage_inputs.resize(static_cast<std::size_t>(adjoint_data_states()) * n);
    double* out = data.stage_inputs.data();
    for (std::size_t j = 0; j < tableau_.stages; ++j) {
      if (!used_[j]) continue;
      const double* in = &tape_.stage_inputs[j * n];
      for (std::size_t k = 0; k < n; ++k) out[k] = in[k];
      out += n;
    }
    y.swap(tape_.next);
    tape_.next.resize(n);
  }

  /// lambda_{i+1} -> lambda_i and grad_theta += ..., from the adjoint data record(i, ...) kept.
  void adjoint_from(std::int64_t i, const AdjointData& data, std::vector<double>& lambda,
                    double* grad_theta) const {
    const std::size_t n = field_.state_size();
    if (data.stage_inputs.size() != static_cast<std::size_t>(adjoint_data_states()) * n) {
      throw std::invalid_argument(
          "cairn::ode::ExplicitRungeKutta::adjoint_from: the data holds " +
          std::to_string(data.stage_inputs.size()) + " doubles, not the " +
          std::to_string(static_cast<std::size_t>(adjoint_data_states()) * n) +
          " that record() keeps");
    }
    reverse_from(i, data.stage_inputs.data(), true, lambda, grad_theta);
  }

  const ButcherTableau& tableau() const noexcept { return tableau_; }
  double time(std::int64_t i) const noexcept { return t0_ + static_cast<double>(i) * h_; }
  double step_size() const noexcept { return h_; }
  void set_parameters(const double* theta) noexcept { theta_ = theta; }

  /// y_i -> y_{i+1} in place.
  void step(std::int64_t i, std::vector<double>& y) const {
    tape(i, y);
    y.swap(tape_.next);
    // Keep the workspace's size for the next call (y had the state's size as well).
    tape_.next.resize(field_.state_size());
  }

  /// Recomputes the stages of step i from y_i; the tape stays valid until the next call.
  const Tape& tape(std::int64_t i, const std::vector<double>& y) const {
    const std::size_t n = field_.state_size(), s = tableau_.stages;
    check_size(y.size(), "y");
    const double t = time(i);
    for (std::size_t j = 0; j < s; ++j) {
      if (!used_[j]) continue;
      double* in = &tape_.stage_inputs[j * n];
      for (std::size_t k = 0; k < n; ++k) in[k] = y[k];
      for (std::size_t l = 0; l < j; ++l) {
        const double w = h_ * tableau_.a_at(j, l);
        if (w == 0 || !used_[l]) continue;
        const double* kl = &tape_.stages[l * n];
        for (std::size_t k = 0; k < n; ++k) in[k] += w * kl[k];
      }
      field_.evaluate(t + tableau_.c[j] * h_, in, theta_, &tape_.stages[j * n]);
    }
    for (std::size_t k = 0; k < n; ++k) tape_.next[k] = y[k];
    for (std::size_t j = 0; j < s; ++j) {
      const double w = h_ * tableau_.b[j];
      if (w == 0) continue;
      const double* kj = &tape_.stages[j * n];
      for (std::size_t k = 0; k < n; ++k) tape_.next[k] += w * kj[k];
    }
    return tape_;
  }

  /// Applies the transpose of step i (whose tape() was the last one taken) to lambda.
  void reverse(std::int64_t i, std::vector<double>& lambda, double* grad_theta) const {
    reverse_from(i, tape_.stage_inputs.data(), false, lambda, grad_theta);
  }

  /// lambda_{i+1} -> lambda_i in place, grad_theta += (dy_{i+1}/dtheta)^T lambda_{i+1}.
  void adjoint_step(std::int64_t i, const std::vector<double>& y, std::vector<double>& lambda,
                    double* grad_theta) const {
    tape(i, y);
    reverse(i, lambda, grad_theta);
  }

 private:
  // The transpose from stage inputs at `inputs`: all s of them (the tape's layout) or only the
  // used ones, one after the other (compact, AdjointData's layout).
  void reverse_from(std::int64_t i, const double* inputs, bool compact, std::vector<double>& lambda,
                    double* grad_theta) const {
    const std::size_t n = field_.state_size(), s = tableau_.stages;
    std::vector<const double*>& input_of = input_of_;
    input_of.assign(s, nullptr);
    for (std::size_t j = 0, packed = 0; j < s; ++j) {
      if (compact && !used_[j]) continue;
      input_of[j] = inputs + (compact ? packed++ : j) * n;
    }
    check_size(lambda.size(), "lambda");
    const double t = time(i);
    for (std::size_t j = s; j-- > 0;) {
      double* nu = &nu_[j * n];
      if (!used_[j]) {
        for (std::size_t k = 0; k < n; ++k) nu[k] = 0;
        continue;
      }
      const double wb = h_ * tableau_.b[j];
      for (std::size_t k = 0; k < n; ++k) mu_[k] = wb * lambda[k];
      for (std::size_t l = j + 1; l < s; ++l) {
        const double w = h_ * tableau_.a_at(l, j);
        if (w == 0 || !used_[l]) continue;
        const double* nl = &nu_[l * n];
        for (std::size_t k = 0; k < n; ++k) mu_[k] += w * nl[k];
      }
      field_.vjp(t + tableau_.c[j] * h_, input_of[j], theta_, mu_.data(), nu, grad_theta);
    }
    for (std::size_t j = 0; j < s; ++j) {
      if (!used_[j]) continue;
      const double* nu = &nu_[j * n];
      for (std::size_t k = 0; k < n; ++k) lambda[k] += nu[k];
    }
  }

  void check_size(std::size_t got, const char* what) const {
    if (got != field_.state_size()) {
      throw std::invalid_argument(std::string("cairn::ode::ExplicitRungeKutta: ") + what + " has " +
                                  std::to_string(got) + " entries, the field's state " +
                                  std::to_string(field_.state_size()));
    }
  }

  const VectorField& field_;
  ButcherTableau tableau_;
  double t0_;
  double h_;
  const double* theta_;
  std::vector<bool> used_;
  mutable Tape tape_;
  mutable std::vector<double> nu_;
  mutable std::vector<double> mu_;
  mutable std::vector<const double*> input_of_;
};

}  // namespace cairn::ode
