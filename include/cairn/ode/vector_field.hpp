// The right-hand side f(t, y, theta) of an ODE, with its vector-Jacobian products.
#pragma once

#include <cstddef>

namespace cairn::ode {

/// What an explicit Runge-Kutta stepper and its discrete adjoint need from f. States and
/// parameters are flat arrays of doubles (a batch of states is one longer array).
class VectorField {
 public:
  virtual ~VectorField() = default;

  virtual std::size_t state_size() const = 0;
  virtual std::size_t parameter_count() const = 0;

  /// out = f(t, y, theta); out has state_size() entries and does not alias y.
  virtual void evaluate(double t, const double* y, const double* theta, double* out) const = 0;

  /// For the cotangent v: vjp_y = (df/dy)^T v (overwritten), grad_theta += (df/dtheta)^T v.
  /// vjp_y does not alias y or v.
  virtual void vjp(double t, const double* y, const double* theta, const double* v, double* vjp_y,
                   double* grad_theta) const = 0;

 protected:
  VectorField() = default;
  VectorField(const VectorField&) = default;
  VectorField& operator=(const VectorField&) = default;
};

}  // namespace cairn::ode
