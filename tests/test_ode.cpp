// The explicit Runge-Kutta stepper's discrete adjoint (cairn/ode/) and the neural ODE gradient of
// examples/neural_ode: exact transposes, Taylor rates, and checkpointed = store-all to the bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "cairn/memory_storage.hpp"
#include "cairn/ode/butcher.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "neural_ode/spiral.hpp"

namespace {

using cairn::ode::ButcherTableau;
using cairn::ode::ExplicitRungeKutta;

std::vector<double> random_vector(std::size_t n, std::mt19937_64& random) {
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double& x : v) x = normal(random);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

// f(t, y, theta) = A y + B theta (+ sin(t) on the first entry when forced): the step is then
// affine in (y, theta), and without forcing at theta = 0 (or y = 0) it is exactly its own
// linearisation, so J v is one step of v.
class LinearField final : public cairn::ode::VectorField {
 public:
  LinearField(std::size_t n, std::size_t p, std::mt19937_64& random, bool forced)
      : n_(n),
        p_(p),
        a_(random_vector(n * n, random)),
        b_(random_vector(n * p, random)),
        forced_(forced) {}
  std::size_t state_size() const override { return n_; }
  std::size_t parameter_count() const override { return p_; }
  void evaluate(double t, const double* y, const double* theta, double* out) const override {
    for (std::size_t r = 0; r < n_; ++r) {
      double s = forced_ && r == 0 ? std::sin(t) : 0.0;
      for (std::size_t k = 0; k < n_; ++k) s += a_[r * n_ + k] * y[k];
      for (std::size_t k = 0; k < p_; ++k) s += b_[r * p_ + k] * theta[k];
      out[r] = s;
    }
  }
  void vjp(double, const double*, const double*, const double* v, double* vjp_y,
           double* grad_theta) const override {
    for (std::size_t k = 0; k < n_; ++k) {
      double s = 0;
      for (std::size_t r = 0; r < n_; ++r) s += a_[r * n_ + k] * v[r];
      vjp_y[k] = s;
    }
    for (std::size_t k = 0; k < p_; ++k) {
      for (std::size_t r = 0; r < n_; ++r) grad_theta[k] += b_[r * p_ + k] * v[r];
    }
  }
  LinearField unforced() const {
    LinearField copy = *this;
    copy.forced_ = false;
    return copy;
  }

 private:
  std::size_t n_, p_;
  std::vector<double> a_, b_;
  bool forced_;
};

}  // namespace

TEST_CASE("ode: every tableau's adjoint step is the exact transpose of its step", "[ode]") {
  std::mt19937_64 random(42);
  for (const ButcherTableau& tableau : {cairn::ode::euler(), cairn::ode::heun(), cairn::ode::rk4(),
                                        cairn::ode::rk4_38(), cairn::ode::dopri5()}) {
    for (std::int64_t i : {0, 7}) {
      CAPTURE(tableau.name, i);
      const std::size_t n = 6, p = 4;
      LinearField field(n, p, random, true);
      const LinearField linear = field.unforced();
      const std::vector<double> theta = random_vector(p, random);
      const std::vector<double> zeros_p(p, 0.0);
      const std::vector<double> y = random_vector(n, random), v = random_vector(n, random);
      const std::vector<double> u = random_vector(p, random), w = random_vector(n, random);

      // J_y v and J_theta u, exactly: the unforced step at theta = 0, resp. at y = 0.
      ExplicitRungeKutta jy(linear, tableau, 0.3, 0.1, zeros_p.data());
      std::vector<double> Jv = v;
      jy.step(i, Jv);
      ExplicitRungeKutta jt(linear, tableau, 0.3, 0.1, u.data());
      std::vector<double> Ju(n, 0.0);
      jt.step(i, Ju);

      // J^T w from the adjoint step at an arbitrary point of the forced, parametrised field.
      ExplicitRungeKutta rk(field, tableau, 0.3, 0.1, theta.data());
      std::vector<double> lambda = w, grad(p, 0.0);
      rk.adjoint_step(i, y, lambda, grad.data());

      const double lhs_y = dot(Jv, w), rhs_y = dot(v, lambda);
      const double lhs_t = dot(Ju, w), rhs_t = dot(u, grad);
      CHECK(std::abs(lhs_y - rhs_y) <= 1e-14 * (std::abs(lhs_y) + dot(v, v)));
      CHECK(std::abs(lhs_t - rhs_t) <= 1e-14 * (std::abs(lhs_t) + dot(u, u)));
    }
  }
}

TEST_CASE("ode: tableaus are consistent and bad input is refused", "[ode]") {
  for (const ButcherTableau& t : {cairn::ode::euler(), cairn::ode::heun(), cairn::ode::rk4(),
                                  cairn::ode::rk4_38(), cairn::ode::dopri5()}) {
    CAPTURE(t.name);
    double sum_b = 0;
    for (double b : t.b) sum_b += b;
    CHECK(std::abs(sum_b - 1) < 1e-15);
    for (std::size_t j = 0; j < t.stages; ++j) {
      double row = 0;
      for (std::size_t l = 0; l < t.stages; ++l) row += t.a_at(j, l);
      CHECK(std::abs(row - t.c[j]) < 1e-14);  // c_j = sum_l a_jl
    }
    CHECK(cairn::ode::tableau_named(t.name).stages == t.stages);
  }
  CHECK_THROWS_WITH(cairn::ode::tableau_named("rk45"),
                    Catch::Contains("unknown Runge-Kutta method 'rk45'") &&
                        Catch::Contains("euler, heun, rk4, rk4_38, dopri5"));
  std::mt19937_64 random(1);
  LinearField field(2, 1, random, false);
  const double theta = 0;
  ButcherTableau implicit = cairn::ode::heun();
  implicit.a[1] = 0.5;  // a_01: not strictly lower triangular
  CHECK_THROWS_WITH(ExplicitRungeKutta(field, implicit, 0, 0.1, &theta),
                    Catch::Contains("not explicit"));
  CHECK_THROWS_WITH(ExplicitRungeKutta(field, cairn::ode::rk4(), 0, 0.0, &theta),
                    Catch::Contains("h must be non-zero"));
  ExplicitRungeKutta rk(field, cairn::ode::rk4(), 0, 0.1, &theta);
  std::vector<double> wrong(3, 0.0);
  CHECK_THROWS_WITH(rk.step(0, wrong), Catch::Contains("y has 3 entries, the field's state 2"));
}

TEST_CASE("ode: the neural field's vector-Jacobian products match finite differences", "[ode]") {
  std::mt19937_64 random(3);
  const cairn::ode::Mlp mlp({2, 7, 5, 2});
  std::vector<double> theta;
  mlp.initialize(theta, 11, 0.5);
  const cairn::ode::CubedMlpField field(mlp, 3);
  const std::vector<double> y = random_vector(6, random), v = random_vector(6, random);
  const std::vector<double> dy = random_vector(6, random), dt = random_vector(theta.size(), random);
  std::vector<double> vjp_y(6), grad(theta.size(), 0.0);
  field.vjp(0, y.data(), theta.data(), v.data(), vjp_y.data(), grad.data());

  const double eps = 1e-6;
  auto f_dot_v = [&](const std::vector<double>& yy, const std::vector<double>& th) {
    std::vector<double> out(6);
    field.evaluate(0, yy.data(), th.data(), out.data());
    return dot(out, v);
  };
  std::vector<double> yp = y, ym = y, tp = theta, tm = theta;
  for (std::size_t k = 0; k < 6; ++k) yp[k] += eps * dy[k], ym[k] -= eps * dy[k];
  for (std::size_t k = 0; k < theta.size(); ++k) tp[k] += eps * dt[k], tm[k] -= eps * dt[k];
  const double fd_y = (f_dot_v(yp, theta) - f_dot_v(ym, theta)) / (2 * eps);
  const double fd_t = (f_dot_v(y, tp) - f_dot_v(y, tm)) / (2 * eps);
  CHECK(std::abs(fd_y - dot(vjp_y, dy)) <= 1e-7 * std::abs(fd_y));
  CHECK(std::abs(fd_t - dot(grad, dt)) <= 1e-7 * std::abs(fd_t));
}

namespace {

struct SpiralProblem {
  cairn::ode::Mlp mlp{{2, 50, 2}};
  std::vector<double> theta;
  std::vector<double> y0;
  spiral::Observations obs;
  std::size_t batch;

  SpiralProblem(std::size_t batch_size, std::size_t length, std::int64_t substeps,
                spiral::Loss loss, std::uint64_t seed)
      : batch(batch_size) {
    static const auto truth = spiral::true_trajectory(1000, 25.0, 20);
    std::mt19937_64 random(seed);
    mlp.initialize(theta, seed);
    auto b = spiral::random_batch(truth, batch_size, length, substeps, random);
    y0 = b.first;
    obs = b.second;
    obs.loss = loss;
  }

  spiral::Gradient gradient(const std::vector<double>& th, const std::vector<double>& y,
                            cairn::Schedule& schedule, std::int64_t slots) const {
    const cairn::ode::CubedMlpField field(mlp, batch);
    const ExplicitRungeKutta rk(field, cairn::ode::rk4(), 0.0,
                                (25.0 / 999) / static_cast<double>(obs.substeps), th.data());
    cairn::MemoryStorage storage(slots, y.size() * sizeof(double));
    return spiral::loss_and_gradient(rk, th.size(), schedule, storage, y, obs);
  }

  double loss(const std::vector<double>& th, const std::vector<double>& y) const {
    const cairn::ode::CubedMlpField field(mlp, batch);
    const ExplicitRungeKutta rk(field, cairn::ode::rk4(), 0.0,
                                (25.0 / 999) / static_cast<double>(obs.substeps), th.data());
    return spiral::loss_only(rk, y, obs);
  }
};

// log2 of the ratio of successive Taylor remainders |L(x + h d) - L(x) - h <g, d>| as h halves.
std::vector<double> taylor_rates(const std::function<double(double)>& loss_along, double slope,
                                 double h0) {
  const double base = loss_along(0);
  std::vector<double> remainders, rates;
  for (int k = 0; k < 5; ++k) {
    const double h = h0 / std::pow(2.0, k);
    remainders.push_back(std::abs(loss_along(h) - base - h * slope));
  }
  for (std::size_t k = 1; k < remainders.size(); ++k) {
    rates.push_back(std::log2(remainders[k - 1] / remainders[k]));
  }
  return rates;
}

}  // namespace

TEST_CASE("ode: Taylor test of the spiral loss gives rate 2 in theta and in y0", "[ode]") {
  const SpiralProblem p(5, 6, 2, spiral::Loss::mean_square, 7);
  cairn::Revolve schedule(p.obs.steps(), 3);
  const spiral::Gradient g = p.gradient(p.theta, p.y0, schedule, 3);
  CHECK(g.loss == Approx(p.loss(p.theta, p.y0)).epsilon(1e-14));

  std::mt19937_64 random(5);
  const std::vector<double> d_theta = random_vector(p.theta.size(), random);
  const std::vector<double> d_y0 = random_vector(p.y0.size(), random);
  const auto along_theta = [&](double h) {
    std::vector<double> th = p.theta;
    for (std::size_t k = 0; k < th.size(); ++k) th[k] += h * d_theta[k];
    return p.loss(th, p.y0);
  };
  const auto along_y0 = [&](double h) {
    std::vector<double> y = p.y0;
    for (std::size_t k = 0; k < y.size(); ++k) y[k] += h * d_y0[k];
    return p.loss(p.theta, y);
  };
  for (double rate : taylor_rates(along_theta, dot(g.theta, d_theta), 1e-2)) {
    CHECK(rate == Approx(2.0).margin(0.1));
  }
  for (double rate : taylor_rates(along_y0, dot(g.y0, d_y0), 1e-2)) {
    CHECK(rate == Approx(2.0).margin(0.1));
  }
}

TEST_CASE("ode: checkpointed spiral gradients are bitwise those of store-all", "[ode]") {
  struct Case {
    std::size_t length;
    std::int64_t substeps, slots;
  };
  for (const Case& c : {Case{10, 1, 1}, Case{10, 1, 2}, Case{10, 3, 3}, Case{8, 5, 2},
                        Case{30, 2, 4}, Case{12, 4, 60}}) {
    for (spiral::Loss loss : {spiral::Loss::mean_abs, spiral::Loss::mean_square}) {
      const SpiralProblem p(20, c.length, c.substeps, loss, 13);
      const std::int64_t T = p.obs.steps();
      CAPTURE(T, c.slots);
      cairn::Revolve revolve(T, c.slots);
      cairn::StoreAll all(T);
      const spiral::Gradient a = p.gradient(p.theta, p.y0, revolve, c.slots);
      const spiral::Gradient b = p.gradient(p.theta, p.y0, all, all.slots());
      REQUIRE(a.theta.size() == b.theta.size());
      CHECK(std::memcmp(a.theta.data(), b.theta.data(), a.theta.size() * sizeof(double)) == 0);
      CHECK(std::memcmp(a.y0.data(), b.y0.data(), a.y0.size() * sizeof(double)) == 0);
      CHECK(a.loss == b.loss);
      CHECK(a.statistics.step_calls == revolve.forward_steps() + 1);
      CHECK(a.statistics.adjoint_calls == T);
    }
  }
}
