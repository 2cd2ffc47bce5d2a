// 1-D viscous Burgers equation u_t + (u^2/2)_x = nu u_xx on a periodic grid, explicit finite
// differences, and the exact discrete adjoint of one step. Used by examples/burgers1d, the driver
// tests and the driver benchmarks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace burgers {

/// One time step, for every grid point i (indices mod N):
///   u_i <- u_i - a (u_{i+1}^2 - u_{i-1}^2) + b (u_{i+1} - 2 u_i + u_{i-1}),
///   a = dt / (4 dx), b = nu dt / dx^2,
/// i.e. central differences of the flux u^2/2 and of the diffusion, forward Euler in time.
/// dt = 0.5 min(dx^2 / (2 nu), 2 nu / u_max^2) keeps it stable (u_max = 1.5 bounds the initial
/// state u_i = 0.5 + sin(2 pi i / N), and viscous Burgers never exceeds its initial maximum).
/// Objective: J = 0.5 * sum_i u_i(T)^2 * dx.
class Problem {
 public:
  explicit Problem(std::int64_t grid, double viscosity = 0.05) : grid_(grid), nu_(viscosity) {
    if (grid < 3) {
      throw std::invalid_argument("burgers: grid = " + std::to_string(grid) +
                                  " is too small; a periodic stencil needs at least 3 points");
    }
    if (!(viscosity > 0)) throw std::invalid_argument("burgers: viscosity must be > 0");
    dx_ = 2.0 * kPi / static_cast<double>(grid);
    const double u_max = 1.5;
    dt_ = 0.5 * std::min(dx_ * dx_ / (2.0 * nu_), 2.0 * nu_ / (u_max * u_max));
    a_ = dt_ / (4.0 * dx_);
    b_ = nu_ * dt_ / (dx_ * dx_);
  }

  std::int64_t grid() const noexcept { return grid_; }
  double dx() const noexcept { return dx_; }
  double dt() const noexcept { return dt_; }

  std::vector<double> initial_state() const {
    std::vector<double> u(static_cast<std::size_t>(grid_));
    for (std::int64_t i = 0; i < grid_; ++i) {
      u[static_cast<std::size_t>(i)] =
          0.5 + std::sin(2.0 * kPi * static_cast<double>(i) / static_cast<double>(grid_));
    }
    return u;
  }

  /// A time step adapted to the state: 0.5 min(dx^2 / (2 nu), 2 nu / max|u|^2), the stability
  /// bound above with the state's own maximum. It grows as the wave decays, so a run to a given
  /// end time has a number of steps that is known only when it gets there.
  double adaptive_dt(const std::vector<double>& u) const {
    double u_max = 0.0;
    for (const double v : u) u_max = std::max(u_max, std::abs(v));
    const double convective = u_max > 0 ? 2.0 * nu_ / (u_max * u_max) : dx_ * dx_ / (2.0 * nu_);
    return 0.5 * std::min(dx_ * dx_ / (2.0 * nu_), convective);
  }

  /// x_i -> x_{i+1} in place, without allocating: the two old values that the sweep overwrites
  /// before it reads them (u_{i-1} and, for the last point, u_0) are kept aside.
  void step(std::vector<double>& u) const { step_with(u, a_, b_); }

  /// The same with time step `dt` (e.g. adaptive_dt(u) of the state being stepped).
  void step(std::vector<double>& u, double dt) const {
    step_with(u, dt / (4.0 * dx_), nu_ * dt / (dx_ * dx_));
  }

  /// lambda_{i+1} -> lambda_i in place, given x_i: the transpose of the step's Jacobian,
  ///   lambda_j <- (1 - 2b) lambda_j + b (lambda_{j-1} + lambda_{j+1})
  ///               + 2 a u_j (lambda_{j+1} - lambda_{j-1}).
  /// The step's Jacobian depends on x_i only, so nothing of the step needs recomputing.
  void adjoint_step(const std::vector<double>& u, std::vector<double>& lambda) const {
    adjoint_with(u, lambda, a_, b_);
  }

  /// The same for a step of size `dt`, held fixed (the time steps are not differentiated).
  void adjoint_step(const std::vector<double>& u, std::vector<double>& lambda, double dt) const {
    adjoint_with(u, lambda, dt / (4.0 * dx_), nu_ * dt / (dx_ * dx_));
  }

  double objective(const std::vector<double>& u) const {
    double sum = 0.0;
    for (const double v : u) sum += v * v;
    return 0.5 * sum * dx_;
  }

  /// dJ/dx_T.
  std::vector<double> objective_gradient(const std::vector<double>& u) const {
    std::vector<double> g(u.size());
    for (std::size_t i = 0; i < u.size(); ++i) g[i] = u[i] * dx_;
    return g;
  }

  /// J after T steps from `u0`, with no checkpointing (for Taylor tests).
  double objective_after(std::vector<double> u, std::int64_t steps) const {
    for (std::int64_t i = 0; i < steps; ++i) step(u);
    return objective(u);
  }

 private:
  static void step_with(std::vector<double>& u, double a, double b) {
    const std::size_t n = u.size();
    const double first = u[0];
    double left = u[n - 1];
    for (std::size_t i = 0; i < n; ++i) {
      const double centre = u[i];
      const double right = i + 1 < n ? u[i + 1] : first;
      u[i] = centre - a * (right * right - left * left) + b * (right - 2.0 * centre + left);
      left = centre;
    }
  }

  static void adjoint_with(const std::vector<double>& u, std::vector<double>& lambda, double a,
                           double b) {
    const std::size_t n = lambda.size();
    const double first = lambda[0];
    double left = lambda[n - 1];
    for (std::size_t j = 0; j < n; ++j) {
      const double centre = lambda[j];
      const double right = j + 1 < n ? lambda[j + 1] : first;
      lambda[j] = (1.0 - 2.0 * b) * centre + b * (left + right) + 2.0 * a * u[j] * (right - left);
      left = centre;
    }
  }

  static constexpr double kPi = 3.14159265358979323846;
  std::int64_t grid_;
  double nu_;
  double dx_ = 0, dt_ = 0, a_ = 0, b_ = 0;
};

}  // namespace burgers
