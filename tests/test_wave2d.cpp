// The wave scheme of examples/wave2d: its one-step adjoint against its tangent (dot-product tests),
// its gradient through the Driver (bitwise equal across schedules, Taylor rate 2, exact counts),
// and the CFL refusal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "wave2d/wave2d.hpp"

namespace {

using wave2d::State;

wave2d::Config small_config(std::int64_t nx, std::int64_t ny, std::int64_t steps) {
  wave2d::Config cfg;
  cfg.nx = nx;
  cfg.ny = ny;
  cfg.steps = steps;
  cfg.sponge = 4;
  cfg.frequency = 25;
  cfg.dt = 0.5 * wave2d::cfl_limit(cfg.h, cfg.c0 + cfg.anomaly);
  return cfg;
}

std::vector<double> random_vector(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> v(n);
  for (double& e : v) e = uniform(rng);
  return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

double abs_dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += std::abs(a[k] * b[k]);
  return s;
}

struct Gradient {
  std::vector<double> g;
  double J = 0;
  cairn::DriverStatistics statistics;
};

Gradient gradient(const wave2d::Wave2d& problem, const wave2d::Misfit& misfit,
                  cairn::Schedule& schedule, std::vector<cairn::Storage*> levels) {
  Gradient out;
  out.g.assign(problem.points(), 0.0);
  std::vector<double> scratch;
  cairn::Driver<State> driver(
      schedule, std::move(levels), [&](std::int64_t i, State& x) { problem.step(i, x); },
      [&](std::int64_t i, const State& x, State& lambda) {
        problem.adjoint_step(i, x, lambda, out.g, scratch);
        if (i >= 1) misfit.add_residual(i, x, lambda, out.J);
      });
  driver.run(problem.initial_state(), [&](const State& xT) { return misfit.terminal(xT, out.J); });
  out.statistics = driver.statistics();
  return out;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("wave2d: one step's adjoint is the transpose of its Jacobian (dot-product test)",
          "[wave2d]") {
  // <J_x v + J_c dc, w> = <v, J_x^T w> + <dc, J_c^T w> for random positive v, dc, w at a random
  // state, on an even and an odd step (the fields swap halves), a square and an oblong grid.
  std::mt19937_64 rng(19);
  for (const auto& shape : {std::pair<std::int64_t, std::int64_t>{16, 16}, {23, 17}}) {
    const wave2d::Config cfg = small_config(shape.first, shape.second, 10);
    const wave2d::Wave2d problem(cfg, wave2d::true_velocity(cfg));
    const std::size_t n = problem.points();
    for (const std::int64_t i : {std::int64_t{4}, std::int64_t{7}}) {
      INFO("grid " << cfg.nx << " x " << cfg.ny << ", step " << i);
      const State x = random_vector(2 * n, rng);
      const State v = random_vector(2 * n, rng);
      const std::vector<double> dc = random_vector(n, rng);
      const State w = random_vector(2 * n, rng);

      State jv = v;
      problem.tangent_step(i, jv);
      const State jc = problem.velocity_tangent(i, x, dc);
      State lambda = w;
      std::vector<double> g(n, 0.0), scratch;
      problem.adjoint_step(i, x, lambda, g, scratch);
      // The state part and the velocity part, each on its own (the second is some 1e-4 of the
      // first with these scales, so a sum would hide it).
      const double state_lhs = dot(jv, w), state_rhs = dot(v, lambda);
      const double velocity_lhs = dot(jc, w), velocity_rhs = dot(dc, g);
      CAPTURE(state_lhs, state_rhs, velocity_lhs, velocity_rhs);
      // Relative to the sum of |terms|, the scale of a dot product's rounding: the velocity part
      // sums Laplacians of a random field, which cancel to some 1e-6 of that sum.
      REQUIRE(std::abs(state_lhs - state_rhs) <= 1e-14 * abs_dot(jv, w));
      REQUIRE(std::abs(velocity_lhs - velocity_rhs) <= 1e-14 * abs_dot(jc, w));
      REQUIRE(velocity_lhs != 0);
    }
  }
}

TEST_CASE("wave2d: the step is the tangent step plus the source, and the source fires",
          "[wave2d]") {
  const wave2d::Config cfg = small_config(20, 20, 60);
  const wave2d::Wave2d problem(cfg, wave2d::background_velocity(cfg));
  State x = problem.initial_state();
  for (std::int64_t i = 0; i < cfg.steps; ++i) problem.step(i, x);
  double energy = 0;
  for (const double u : x) energy += u * u;
  REQUIRE(energy > 0);
  const std::vector<double> d = problem.traces();
  REQUIRE(d.size() == static_cast<std::size_t>(cfg.steps) * problem.receivers().size());
  REQUIRE(std::any_of(d.begin(), d.end(), [](double e) { return e != 0; }));
}

TEST_CASE(
    "wave2d: gradients through Revolve, multilevel and store-all are bitwise equal, with "
    "exact call counts",
    "[wave2d]") {
  const std::int64_t T = 120;
  const wave2d::Config cfg = small_config(24, 20, T);
  const wave2d::Wave2d truth(cfg, wave2d::true_velocity(cfg));
  const wave2d::Wave2d problem(cfg, wave2d::background_velocity(cfg));
  const wave2d::Misfit misfit(problem, truth.traces());
  const std::size_t bytes = 2 * problem.points() * sizeof(double);

  cairn::StoreAll all(T);
  cairn::MemoryStorage all_ram(all.slots(), bytes);
  const Gradient reference = gradient(problem, misfit, all, {&all_ram});
  REQUIRE(reference.statistics.step_calls == T);
  REQUIRE(reference.statistics.adjoint_calls == T);
  REQUIRE(reference.J > 0);

  for (const std::int64_t c : {1, 2, 5, 13}) {
    INFO("c = " << c);
    cairn::Revolve revolve(T, c);
    cairn::MemoryStorage ram(c, bytes);
    const Gradient out = gradient(problem, misfit, revolve, {&ram});
    REQUIRE(out.statistics.step_calls == cairn::forward_cost(T, c) + 1);
    REQUIRE(out.statistics.adjoint_calls == T);
    REQUIRE(out.statistics.peak_slots <= c);
    REQUIRE(bitwise_equal(out.g, reference.g));
    REQUIRE(std::memcmp(&out.J, &reference.J, sizeof(double)) == 0);
  }

  cairn::MultilevelRevolve multilevel(
      T, {cairn::StorageLevel{3, 0, 0}, cairn::StorageLevel{cairn::unlimited_slots, 2, 1}});
  cairn::MemoryStorage ram(3, bytes), host(T, bytes);
  const Gradient out = gradient(problem, misfit, multilevel, {&ram, &host});
  REQUIRE(out.statistics.adjoint_calls == T);
  REQUIRE(bitwise_equal(out.g, reference.g));
}

TEST_CASE("wave2d: Taylor test of the velocity gradient converges at rate 2", "[wave2d]") {
  const std::int64_t T = 150;
  const wave2d::Config cfg = small_config(28, 28, T);
  const wave2d::Wave2d truth(cfg, wave2d::true_velocity(cfg));
  const std::vector<double> observed = truth.traces();
  const std::vector<double> c = wave2d::background_velocity(cfg);
  const wave2d::Wave2d problem(cfg, c);
  const wave2d::Misfit misfit(problem, observed);
  cairn::Revolve revolve(T, 4);
  cairn::MemoryStorage ram(4, 2 * problem.points() * sizeof(double));
  const Gradient out = gradient(problem, misfit, revolve, {&ram});
  const double J0 = misfit.value();
  REQUIRE(std::abs(J0 - out.J) <= 1e-12 * J0);  // forward and reverse sums agree

  const std::vector<double> dc = wave2d::taylor_direction(cfg);
  const double slope = dot(out.g, dc);
  std::vector<double> remainders;
  for (int k = 0; k < 5; ++k) {
    const double e = 0.1 / std::pow(2.0, k);
    std::vector<double> ce = c;
    for (std::size_t p = 0; p < ce.size(); ++p) ce[p] += e * dc[p];
    const wave2d::Wave2d perturbed(cfg, ce);
    remainders.push_back(std::abs(wave2d::Misfit(perturbed, observed).value() - J0 - e * slope));
  }
  for (std::size_t k = 1; k < remainders.size(); ++k) {
    const double rate = std::log2(remainders[k - 1] / remainders[k]);
    INFO("rate " << k << " = " << rate);
    REQUIRE(std::abs(rate - 2.0) < 0.1);
  }
}

TEST_CASE("wave2d: a time step above the CFL limit and bad grids are refused", "[wave2d]") {
  wave2d::Config cfg = small_config(16, 16, 10);
  const std::vector<double> c = wave2d::true_velocity(cfg);
  const double c_max = *std::max_element(c.begin(), c.end());
  cfg.dt = wave2d::cfl_limit(cfg.h, c_max);
  REQUIRE_NOTHROW(wave2d::Wave2d(cfg, c));
  cfg.dt *= 1.0 + 1e-12;
  REQUIRE_THROWS_WITH(wave2d::Wave2d(cfg, c), Catch::Contains("violates the CFL condition"));
  cfg = small_config(11, 16, 10);  // sponge 4 needs 16 points
  REQUIRE_THROWS_WITH(wave2d::Wave2d(cfg, wave2d::background_velocity(cfg)),
                      Catch::Contains("must be >= 16"));
  cfg = small_config(16, 16, 10);
  REQUIRE_THROWS_AS(wave2d::Wave2d(cfg, std::vector<double>(10, 2000.0)), std::invalid_argument);
  std::vector<double> negative = wave2d::background_velocity(cfg);
  negative[5] = -1;
  REQUIRE_THROWS_WITH(wave2d::Wave2d(cfg, negative), Catch::Contains("> 0"));
}
