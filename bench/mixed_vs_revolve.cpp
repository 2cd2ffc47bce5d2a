// MixedRevolve against Revolve at equal storage (issue 24), in two parts:
//
//  1. Counts: forward evaluations (untaped + taped steps) of both for T = 10..10^4 and 2..50 units,
//     equal sizes (w = 1, Maddison's setting) and Runge-Kutta adjoint data (w = 4: rk4's stage
//     inputs; w = 5: CAMS's state + 4 stages). Every mixed stream is replayed through the checker.
//  2. Time: a neural ODE (cairn/ode, rk4, f = MLP(y^3)) reversed through the Driver with Revolve
//     (stages recomputed) and with MixedRevolve (stage inputs kept), at the same memory in states;
//     the gradients must be bitwise equal and the ratio of wall-clock times is printed.
//
// Exits non-zero if a stream is illegal, a mixed count exceeds Revolve's or the gradients differ.
// Timings decide nothing. --quick: T <= 1000 in part 1, a short run in part 2.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/mixed.hpp"
#include "cairn/ode/butcher.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/revolve.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using State = std::vector<double>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool counts(bool quick) {
  bool ok = true;
  std::printf("Part 1: forward evaluations (untaped + taped) at equal storage\n");
  // Total cost with a taped step 1.5 and an adjoint step 2 forward steps: Revolve pays
  // t(T, c) uf + T (ut + ub), the mixed plan optimises the same prices.
  const cairn::MixedPrices priced{1, 1.5, 2};
  std::printf("%6s %6s %3s %10s %10s %8s %9s %12s %12s %8s\n", "T", "units", "w", "revolve",
              "mixed", "ratio", "plan (s)", "rev. cost", "mixed cost", "ratio");
  const std::vector<std::int64_t> lengths =
      quick ? std::vector<std::int64_t>{10, 30, 100, 300, 1000}
            : std::vector<std::int64_t>{10, 30, 100, 300, 1000, 3000, 10000};
  double worst = 0;
  std::int64_t instances = 0;
  for (const std::int64_t w : {1, 4, 5}) {
    for (const std::int64_t T : lengths) {
      for (const std::int64_t units : {2, 3, 5, 10, 20, 50}) {
        if (units >= T) continue;
        const auto start = Clock::now();
        cairn::MixedRevolve mixed(T, units, w);
        const double plan = seconds_since(start);
        const cairn::CheckResult r = cairn::check(mixed, T, {units});
        const std::int64_t revolve = cairn::forward_cost(T, units) + T;
        const std::int64_t evaluations = r.costs.forward_evaluations();
        const double ratio = static_cast<double>(evaluations) / static_cast<double>(revolve);
        worst = std::max(worst, ratio);
        ++instances;
        cairn::MixedRevolve dear(T, units, w, priced);
        const cairn::CheckResult rd = cairn::check(dear, T, {units});
        const double revolve_cost =
            static_cast<double>(cairn::forward_cost(T, units)) * priced.forward +
            static_cast<double>(T) * (priced.taped + priced.backward);
        const double mixed_cost = cairn::cost(rd.costs, dear.cost_model());
        std::printf("%6lld %6lld %3lld %10lld %10lld %8.4f %9.4f %12.1f %12.1f %8.4f\n",
                    static_cast<long long>(T), static_cast<long long>(units),
                    static_cast<long long>(w), static_cast<long long>(revolve),
                    static_cast<long long>(evaluations), ratio, plan, revolve_cost, mixed_cost,
                    mixed_cost / revolve_cost);
        if (!rd.legal || mixed_cost > revolve_cost || mixed_cost != dear.optimal_cost()) {
          std::printf("  FAILED: priced plan %s\n",
                      rd.legal ? "above Revolve or off plan" : rd.reason.c_str());
          ok = false;
        }
        if (!r.legal || evaluations > revolve || r.costs.levels[0].peak_units > units ||
            static_cast<double>(evaluations) != mixed.optimal_cost()) {
          std::printf("  FAILED: %s\n",
                      r.legal ? "count above Revolve's or off plan" : r.reason.c_str());
          ok = false;
        }
      }
    }
  }
  std::printf("worst ratio mixed / revolve over %lld instances: %.4f\n\n",
              static_cast<long long>(instances), worst);
  return ok;
}

struct Run {
  State y0, theta;
  double seconds;
  cairn::DriverStatistics statistics;
};

Run reverse(const cairn::ode::ExplicitRungeKutta& rk, cairn::Schedule& schedule, std::int64_t slots,
            const State& y0, std::size_t parameters, bool keep) {
  cairn::MemoryStorage storage(slots, y0.size() * sizeof(double));
  Run run;
  run.theta.assign(parameters, 0.0);
  cairn::Driver<State> driver(
      schedule, storage, [&](std::int64_t i, State& y) { rk.step(i, y); },
      [&](std::int64_t i, const State& y, State& l) {
        rk.adjoint_step(i, y, l, run.theta.data());
      });
  std::vector<cairn::ode::ExplicitRungeKutta::AdjointData> kept(static_cast<std::size_t>(slots));
  if (keep) {
    driver.keep_adjoint_data(
        [&](std::int64_t i, State& y, std::int64_t s) {
          rk.record(i, y, kept[static_cast<std::size_t>(s)]);
        },
        [&](std::int64_t i, std::int64_t s, State& l) {
          rk.adjoint_from(i, kept[static_cast<std::size_t>(s)], l, run.theta.data());
        });
  }
  const auto start = Clock::now();
  run.y0 = driver.run(y0, [](const State& yT) { return yT; });
  run.seconds = seconds_since(start);
  run.statistics = driver.statistics();
  return run;
}

bool timing(bool quick) {
  const cairn::ode::Mlp mlp({2, 50, 2});
  const cairn::ode::CubedMlpField field(mlp, 20);
  std::mt19937_64 random(3);
  std::normal_distribution<double> normal(0.0, 0.3);
  State theta(mlp.parameter_count()), y0(field.state_size());
  for (double& v : theta) v = normal(random);
  for (double& v : y0) v = normal(random);
  const cairn::ode::ExplicitRungeKutta rk(field, cairn::ode::rk4(), 0.0, 0.01, theta.data());
  const std::int64_t w = rk.adjoint_data_states();
  std::printf("Part 2: neural ODE (rk4, 2-50-2 MLP, batch 20), wall-clock at equal memory\n");
  std::printf("%6s %6s %12s %12s %10s %10s %7s %8s\n", "T", "states", "revolve (s)", "mixed (s)",
              "rev. f-st.", "mix. f-st.", "ratio", "bitwise");
  bool ok = true;
  const std::vector<std::int64_t> lengths =
      quick ? std::vector<std::int64_t>{200} : std::vector<std::int64_t>{1000, 5000};
  for (const std::int64_t T : lengths) {
    for (const std::int64_t units : {10, 20, 50}) {
      double best_revolve = 1e300, best_mixed = 1e300;
      bool equal = true;
      std::int64_t revolve_steps = 0, mixed_steps = 0;
      for (int repeat = 0; repeat < (quick ? 1 : 3); ++repeat) {
        cairn::Revolve revolve(T, units);
        const Run a = reverse(rk, revolve, units, y0, theta.size(), false);
        cairn::MixedRevolve mixed(T, units, w);
        const Run b = reverse(rk, mixed, units, y0, theta.size(), true);
        best_revolve = std::min(best_revolve, a.seconds);
        best_mixed = std::min(best_mixed, b.seconds);
        equal = equal && a.theta.size() == b.theta.size() &&
                std::memcmp(a.theta.data(), b.theta.data(), a.theta.size() * sizeof(double)) == 0 &&
                std::memcmp(a.y0.data(), b.y0.data(), a.y0.size() * sizeof(double)) == 0;
        // Step evaluations (each is 4 evaluations of f): steps + taped re-runs / records.
        revolve_steps = a.statistics.step_calls + a.statistics.adjoint_calls;
        mixed_steps =
            b.statistics.step_calls + b.statistics.record_calls + b.statistics.adjoint_calls;
      }
      std::printf("%6lld %6lld %12.4f %12.4f %10lld %10lld %7.3f %8s\n", static_cast<long long>(T),
                  static_cast<long long>(units), best_revolve, best_mixed,
                  static_cast<long long>(revolve_steps), static_cast<long long>(mixed_steps),
                  best_mixed / best_revolve, equal ? "yes" : "NO");
      ok = ok && equal;
    }
  }
  std::printf("(ratio = mixed / revolve time, best of %d; the mixed plan is included)\n",
              quick ? 1 : 3);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const bool ok = counts(quick) & timing(quick);
  return ok ? 0 : 1;
}
