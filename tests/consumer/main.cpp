// Built against an installed Cairn: prints r and t for T = 100, c = 3 and checks a Revolve stream.
#include <cstdio>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/revolve.hpp"
#include "cairn/version.hpp"

int main() {
  cairn::Revolve schedule(100, 3);
  const cairn::CheckResult result = cairn::check(schedule, 100, {3});
  std::printf("cairn %s: r = %lld, t = %lld, legal = %d, forward steps = %lld\n",
              CAIRN_VERSION_STRING, static_cast<long long>(cairn::repetitions(100, 3)),
              static_cast<long long>(cairn::forward_cost(100, 3)), result.legal ? 1 : 0,
              static_cast<long long>(result.costs.forward_steps));
  return result.legal && result.costs.forward_steps == 490 ? 0 : 1;
}
