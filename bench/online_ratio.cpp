// OnlineRevolve against the offline optimum, in the same run.
//
// Usage: cairn_bench_online [max_T]   (default 10^6)
// For T = 10^3 .. max_T and c = 5 .. 100 it replays a whole online run (T learnt at the end)
// through the ScheduleChecker and prints its forward steps over Revolve's t(T + 1, c), the
// offline optimum for a run that also computes x_T with the same c slots, and over t(T, c) + 1,
// the step calls of the offline Driver (which holds x_T in a buffer of its own); with the
// repetition numbers. Then the time per forward-step decision (advanced()) for c = 10 and 100.
// Targets (issue 5): the table goes to docs/benchmarks.md; a decision in amortised O(1).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/online.hpp"

namespace {

volatile std::size_t sink = 0;

double ns_per_decision(std::int64_t slots, std::int64_t steps) {
  double best = 1e300;
  for (int repeat = 0; repeat < 5; ++repeat) {
    cairn::OnlineRevolve online(slots);
    online.start();
    std::size_t actions = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < steps; ++i) actions += online.advanced().size();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink = sink + actions;
    best = std::min(best, seconds);
  }
  return best * 1e9 / static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t max_steps = argc > 1 ? std::atoll(argv[1]) : 1000000;
  std::printf("%9s %5s %14s %14s %10s %12s %6s %6s\n", "T", "c", "online steps", "t(T+1,c)",
              "ratio", "vs t(T,c)+1", "r_on", "r(T+1)");
  double worst = 0;
  std::int64_t worst_steps = 0, worst_slots = 0;
  for (std::int64_t steps = 1000; steps <= max_steps; steps *= 10) {
    for (const std::int64_t slots : {5, 10, 20, 50, 100}) {
      cairn::SimulatedOnlineRun run(steps, slots);
      const cairn::CheckResult result = cairn::check(run, steps, {slots});
      if (!result.legal) {
        std::printf("ILLEGAL: %s\n", result.reason.c_str());
        return 1;
      }
      const auto offline = static_cast<double>(cairn::forward_cost(steps + 1, slots));
      const auto driver = static_cast<double>(cairn::forward_cost(steps, slots) + 1);
      const auto online = static_cast<double>(result.costs.forward_steps);
      const double ratio = online / offline;
      if (ratio > worst) {
        worst = ratio;
        worst_steps = steps;
        worst_slots = slots;
      }
      std::printf("%9lld %5lld %14.0f %14.0f %10.3f %12.3f %6lld %6lld\n",
                  static_cast<long long>(steps), static_cast<long long>(slots), online, offline,
                  ratio, online / driver,
                  static_cast<long long>(result.costs.max_advances_per_step),
                  static_cast<long long>(cairn::repetitions(steps + 1, slots)));
    }
  }
  std::printf("worst ratio online / t(T+1,c): %.3f at T = %lld, c = %lld\n", worst,
              static_cast<long long>(worst_steps), static_cast<long long>(worst_slots));
  for (const std::int64_t slots : {10, 100}) {
    std::printf("advanced(): %.1f ns per step for c = %lld (10^7 steps, fastest of 5)\n",
                ns_per_decision(slots, 10000000), static_cast<long long>(slots));
  }
  return 0;
}
