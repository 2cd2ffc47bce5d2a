// Butcher tableaus of explicit Runge-Kutta methods.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::ode {

/// An explicit Runge-Kutta method: stages K_j = f(t + c_j h, y + h sum_{l<j} a_jl K_l),
/// y_next = y + h sum_j b_j K_j. `a` is s x s, row-major, strictly lower triangular.
struct ButcherTableau {
  std::string name;
  std::size_t stages = 0;
  std::vector<double> a;
  std::vector<double> b;
  std::vector<double> c;

  double a_at(std::size_t j, std::size_t l) const noexcept { return a[j * stages + l]; }
};

/// Forward Euler (order 1).
inline ButcherTableau euler() {
  return {"euler", 1, {0.0}, {1.0}, {0.0}};
}

/// Heun's method, the explicit trapezoidal rule (order 2).
inline ButcherTableau heun() {
  return {"heun", 2, {0, 0, 1, 0}, {0.5, 0.5}, {0, 1}};
}

/// The classic fourth-order method.
inline ButcherTableau rk4() {
  return {"rk4",
          4,
          {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0},
          {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
          {0, 0.5, 0.5, 1}};
}

/// Kutta's 3/8 rule (order 4).
inline ButcherTableau rk4_38() {
  return {"rk4_38",
          4,
          {0, 0, 0, 0, 1.0 / 3, 0, 0, 0, -1.0 / 3, 1, 0, 0, 1, -1, 1, 0},
          {1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8},
          {0, 1.0 / 3, 2.0 / 3, 1}};
}

/// Dormand-Prince 5(4) used with a fixed step: the fifth-order solution, 7 stages (the last one
/// is first-same-as-last; with a fixed step it is still evaluated, as its b is 0).
inline ButcherTableau dopri5() {
  // clang-format off
  return {"dopri5", 7,
          {0, 0, 0, 0, 0, 0, 0,
           1.0 / 5, 0, 0, 0, 0, 0, 0,
           3.0 / 40, 9.0 / 40, 0, 0, 0, 0, 0,
           44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0, 0,
           19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0, 0,
           9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0, 0,
           35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0},
          {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0},
          {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}};
  // clang-format on
}

/// The tableau called `name` (euler, heun, rk4, rk4_38, dopri5); throws std::invalid_argument
/// naming the allowed ones otherwise.
inline ButcherTableau tableau_named(const std::string& name) {
  for (const ButcherTableau& t : {euler(), heun(), rk4(), rk4_38(), dopri5()}) {
    if (t.name == name) return t;
  }
  throw std::invalid_argument("cairn::ode: unknown Runge-Kutta method '" + name +
                              "'; allowed: euler, heun, rk4, rk4_38, dopri5");
}

}  // namespace cairn::ode
