// What the driver costs on top of the user's own work, measured against that work in the same run.
//
// 1. Time ratio (target <= 1.05): Burgers with N = 20000 points, T = 5000 steps, c = 20 slots.
//    The prediction is (step calls) x (mean cost of one step) + (adjoint calls) x (mean cost of
//    one adjoint step), the means taken from plain loops of the same calls just before; the ratio
//    is the driver's measured wall time over that prediction. What is left is checkpoint copying
//    (which the schedule asks for) and the driver itself, so a second ratio adds the copies,
//    priced by a plain loop of state-sized copies between the working state and c buffers.
// 2. Overhead per action (target < 50 ns): the same with a trivially cheap step (N = 16,
//    T = 200000, c = 50): (measured - predicted) / actions, with DriverOptions::measure_time off
//    (the default) and on (two clock reads per action more).
//
// Usage: cairn_bench_driver [repeats]   (default 3; the fastest repeat of each timing is used)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/revolve.hpp"

namespace {

using State = std::vector<double>;
using Clock = std::chrono::steady_clock;

template <typename F>
double fastest_seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int k = 0; k < repeats; ++k) {
    const auto start = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

struct Measurement {
  double step_seconds;     // mean cost of one step() call
  double adjoint_seconds;  // mean cost of one adjoint_step() call
  double copy_seconds;     // mean cost of copying one state between a slot and the working state
  double run_seconds;      // the driver's whole run
  cairn::DriverStatistics statistics;
  double predicted() const {
    return static_cast<double>(statistics.step_calls) * step_seconds +
           static_cast<double>(statistics.adjoint_calls) * adjoint_seconds;
  }
  double predicted_with_copies() const {
    return predicted() +
           static_cast<double>(statistics.stores + statistics.restores) * copy_seconds;
  }
};

volatile double sink = 0;

Measurement measure(std::int64_t N, std::int64_t T, std::int64_t c, bool measure_time,
                    int repeats) {
  const burgers::Problem problem(N);
  const State x0 = problem.initial_state();
  // Mean call costs from plain loops of the same calls on the same data sizes.
  const std::int64_t calls = std::max<std::int64_t>(1000, 20000000 / N);
  State x = x0;
  const double steps = fastest_seconds(repeats, [&] {
    for (std::int64_t i = 0; i < calls; ++i) problem.step(x);
  });
  State lambda = problem.objective_gradient(x0);
  const double adjoints = fastest_seconds(repeats, [&] {
    for (std::int64_t i = 0; i < calls; ++i) problem.adjoint_step(x0, lambda);
  });
  sink = x[0] + lambda[0];
  // Mean cost of one checkpoint copy: the working state to and from c slots in turn, as the
  // schedule's stores and restores do.
  std::vector<State> slots(static_cast<std::size_t>(c), x0);
  const double copies = fastest_seconds(repeats, [&] {
    for (std::int64_t i = 0; i < calls; ++i) {
      State& slot = slots[static_cast<std::size_t>(i % c)];
      if (i % 2 == 0) {
        std::copy(x.begin(), x.end(), slot.begin());
      } else {
        std::copy(slot.begin(), slot.end(), x.begin());
      }
    }
  });

  cairn::Revolve schedule(T, c);
  cairn::MemoryStorage storage(c, x0.size() * sizeof(double));
  cairn::DriverOptions options;
  options.measure_time = measure_time;
  cairn::Driver<State> driver(
      schedule, storage, [&](std::int64_t, State& s) { problem.step(s); },
      [&](std::int64_t, const State& s, State& l) { problem.adjoint_step(s, l); }, options);
  const double run = fastest_seconds(repeats, [&] {
    const State g = driver.run(x0, [&](const State& xT) { return problem.objective_gradient(xT); });
    sink = g[0];
  });
  return Measurement{steps / static_cast<double>(calls), adjoints / static_cast<double>(calls),
                     copies / static_cast<double>(calls), run, driver.statistics()};
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  std::printf("Driver overhead against the user's own calls, fastest of %d runs each\n\n", repeats);

  {
    const Measurement m = measure(20000, 5000, 20, false, repeats);
    const double ratio = m.run_seconds / m.predicted();
    std::printf("1. Burgers N = 20000, T = 5000, c = 20 (measure_time off)\n");
    std::printf(
        "   step %.2f us, adjoint %.2f us; %lld step + %lld adjoint calls, %lld stores, "
        "%lld restores\n",
        m.step_seconds * 1e6, m.adjoint_seconds * 1e6,
        static_cast<long long>(m.statistics.step_calls),
        static_cast<long long>(m.statistics.adjoint_calls),
        static_cast<long long>(m.statistics.stores), static_cast<long long>(m.statistics.restores));
    std::printf(
        "   measured %.3f s, predicted from calls %.3f s, ratio %.3f  (target <= 1.05: %s)\n",
        m.run_seconds, m.predicted(), ratio, ratio <= 1.05 ? "met" : "NOT met");
    std::printf(
        "   with the schedule's %lld checkpoint copies at %.2f us each: predicted %.3f s, "
        "ratio %.3f\n\n",
        static_cast<long long>(m.statistics.stores + m.statistics.restores), m.copy_seconds * 1e6,
        m.predicted_with_copies(), m.run_seconds / m.predicted_with_copies());
  }
  for (const bool timed : {false, true}) {
    const Measurement m = measure(16, 200000, 50, timed, repeats);
    const double overhead_ns =
        (m.run_seconds - m.predicted()) * 1e9 / static_cast<double>(m.statistics.actions);
    std::printf("2. Burgers N = 16, T = 200000, c = 50, measure_time %s\n", timed ? "on" : "off");
    std::printf(
        "   step %.1f ns, adjoint %.1f ns; %lld actions, measured %.4f s, predicted %.4f s\n",
        m.step_seconds * 1e9, m.adjoint_seconds * 1e9, static_cast<long long>(m.statistics.actions),
        m.run_seconds, m.predicted());
    std::printf("   driver + storage overhead %.1f ns per action  (target < 50 ns: %s)\n",
                overhead_ns, overhead_ns < 50 ? "met" : "NOT met");
  }
  return 0;
}
