// Built against an installed Cairn: checks a Revolve stream and runs the driver with RAM storage.
#include <cstdio>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/revolve.hpp"
#include "cairn/version.hpp"

int main() {
  cairn::Revolve schedule(100, 3);
  const cairn::CheckResult result = cairn::check(schedule, 100, {3});

  // x_{i+1} = 2 x_i, J = x_T: dJ/dx_0 = 2^T, exact in floating point.
  using State = std::vector<double>;
  cairn::MemoryStorage storage(3, sizeof(double));
  cairn::Driver<State> driver(
      schedule, storage, [](std::int64_t, State& x) { x[0] *= 2; },
      [](std::int64_t, const State&, State& lambda) { lambda[0] *= 2; });
  const State gradient = driver.run(State{1.0}, [](const State&) { return State{1.0}; });

  std::printf("cairn %s: r = %lld, t = %lld, legal = %d, forward steps = %lld, gradient = %g\n",
              CAIRN_VERSION_STRING, static_cast<long long>(cairn::repetitions(100, 3)),
              static_cast<long long>(cairn::forward_cost(100, 3)), result.legal ? 1 : 0,
              static_cast<long long>(result.costs.forward_steps), gradient[0]);
  const bool ok = result.legal && result.costs.forward_steps == 490 &&
                  gradient[0] == 1267650600228229401496703205376.0 &&  // 2^100
                  driver.statistics().step_calls == 491;
  return ok ? 0 : 1;
}
