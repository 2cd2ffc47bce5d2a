// The mixed schedule driving cairn/ode: the adjoint from stored stage inputs gives bitwise the
// gradient of the adjoint from recomputed stages, with the Driver's call counts those the checker
// predicts and fewer evaluations of f than Revolve at the same memory.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/mixed.hpp"
#include "cairn/ode/butcher.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/revolve.hpp"

namespace {

using State = std::vector<double>;

struct Gradient {
  State y0;
  State theta;
  cairn::DriverStatistics statistics;
};

// dJ/dy0 and dJ/dtheta of J = |y_T|^2 / 2 through `schedule`, with `slots` state slots; with
// `records` the steps whose adjoint data the schedule keeps are reversed from it.
Gradient gradient(const cairn::ode::ExplicitRungeKutta& rk, cairn::Schedule& schedule,
                  std::int64_t slots, const State& y0, std::size_t parameters, bool records) {
  cairn::MemoryStorage storage(slots, y0.size() * sizeof(double));
  Gradient g;
  g.theta.assign(parameters, 0.0);
  cairn::Driver<State> driver(
      schedule, storage, [&](std::int64_t i, State& y) { rk.step(i, y); },
      [&](std::int64_t i, const State& y, State& lambda) {
        rk.adjoint_step(i, y, lambda, g.theta.data());
      });
  std::vector<cairn::ode::ExplicitRungeKutta::AdjointData> kept(static_cast<std::size_t>(slots));
  if (records) {
    driver.keep_adjoint_data(
        [&](std::int64_t i, State& y, std::int64_t slot) {
          rk.record(i, y, kept[static_cast<std::size_t>(slot)]);
        },
        [&](std::int64_t i, std::int64_t slot, State& lambda) {
          rk.adjoint_from(i, kept[static_cast<std::size_t>(slot)], lambda, g.theta.data());
        });
  }
  g.y0 = driver.run(y0, [](const State& yT) { return yT; });
  g.statistics = driver.statistics();
  return g;
}

bool bitwise_equal(const State& a, const State& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("mixed: ode adjoint from stored stages is bitwise that of recomputed stages",
          "[mixed][ode]") {
  const cairn::ode::Mlp mlp({2, 8, 2});
  const cairn::ode::CubedMlpField field(mlp, 3);
  std::mt19937_64 random(7);
  std::normal_distribution<double> normal(0.0, 0.5);
  State theta(mlp.parameter_count());
  for (double& v : theta) v = normal(random);
  State y0(field.state_size());
  for (double& v : y0) v = normal(random);

  for (const char* method : {"rk4", "dopri5", "heun"}) {
    const cairn::ode::ExplicitRungeKutta rk(field, cairn::ode::tableau_named(method), 0.0, 0.05,
                                            theta.data());
    const std::int64_t w = rk.adjoint_data_states();
    for (std::int64_t steps : {1, 2, 7, 40}) {
      for (std::int64_t slots : {1, 3, 8}) {
        CAPTURE(method, steps, slots);
        cairn::Revolve revolve(steps, slots);
        const Gradient recomputed = gradient(rk, revolve, slots, y0, theta.size(), false);
        // The same memory as Revolve's: `slots` states, adjoint data taking w of them.
        cairn::MixedRevolve mixed(steps, slots, w);
        const Gradient stored = gradient(rk, mixed, slots, y0, theta.size(), true);
        REQUIRE(bitwise_equal(recomputed.y0, stored.y0));
        REQUIRE(bitwise_equal(recomputed.theta, stored.theta));
        // Calls as counted by the checker: advances + 1 (x_T), records, both kinds of reverse.
        const cairn::ScheduleCosts& c = mixed.expected_costs();
        CHECK(stored.statistics.step_calls == c.forward_steps + 1);
        CHECK(stored.statistics.record_calls == c.adjoint_stores);
        CHECK(stored.statistics.adjoint_calls == c.reverses - c.stored_reverses);
        CHECK(stored.statistics.recorded_adjoint_calls == c.stored_reverses);
        // Steps evaluated (f: stages times this): never more than Revolve's.
        const std::int64_t revolve_evaluations = revolve.forward_steps() + steps + 1;
        CHECK(c.forward_evaluations() + 1 <= revolve_evaluations);
      }
    }
    // Memory enough for every step's data: each step evaluated once, then reversed from data.
    cairn::MixedRevolve roomy(40, 39 * w, w);
    const Gradient all = gradient(rk, roomy, 39 * w, y0, theta.size(), true);
    cairn::Revolve reference(40, 3);
    REQUIRE(bitwise_equal(all.theta, gradient(rk, reference, 3, y0, theta.size(), false).theta));
    CHECK(all.statistics.record_calls == 39);
    CHECK(all.statistics.adjoint_calls == 1);
    CHECK(all.statistics.step_calls == 1);
  }
}

TEST_CASE("mixed: a driver without keep_adjoint_data says what is missing", "[mixed]") {
  cairn::MixedRevolve mixed(5, 4);
  cairn::MemoryStorage storage(4, sizeof(double));
  cairn::Driver<double> driver(
      mixed, storage, [](std::int64_t, double& x) { x *= 2; },
      [](std::int64_t, const double&, double& l) { l *= 2; });
  CHECK_THROWS_WITH(driver.run(1.0, [](const double& x) { return x; }),
                    Catch::Contains("keep_adjoint_data"));
}
