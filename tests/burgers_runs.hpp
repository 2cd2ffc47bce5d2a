// Test helpers for Driver runs of the Burgers model (examples/burgers1d): a gradient through a
// schedule, bitwise comparison of states, and the stopping condition of the online tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/schedule.hpp"

namespace burgers_runs {

using State = std::vector<double>;

struct Outcome {
  State gradient;
  double J = 0;
  cairn::DriverStatistics statistics;
};

// The gradient of J(x_T) through `schedule`, with the Burgers model.
inline Outcome burgers_gradient(const burgers::Problem& problem, cairn::Schedule& schedule,
                                std::int64_t slots) {
  const State x0 = problem.initial_state();
  cairn::MemoryStorage storage(slots, x0.size() * sizeof(double));
  cairn::Driver<State> driver(
      schedule, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
  Outcome out;
  out.gradient = driver.run(x0, [&](const State& xT) {
    out.J = problem.objective(xT);
    return problem.objective_gradient(xT);
  });
  out.statistics = driver.statistics();
  return out;
}

inline bool bitwise_equal(const State& a, const State& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// The energy of the wave around its conserved mean 0.5: a quantity the program does not know in
// steps, for online runs that stop on a condition.
inline double wave_energy(const State& x) {
  double e = 0;
  for (const double v : x) e += (v - 0.5) * (v - 0.5);
  return e;
}

// Steps an online Driver, started at x0, until the wave energy falls below `fraction` of x0's
// (or `max_steps` steps are made); returns the steps made.
inline std::int64_t step_until_energy_below(cairn::Driver<State>& driver, const State& x0,
                                            double fraction, std::int64_t max_steps = 100000) {
  const double stop_below = fraction * wave_energy(x0);
  while (wave_energy(driver.state()) >= stop_below && driver.steps() < max_steps) driver.step();
  return driver.steps();
}

}  // namespace burgers_runs
