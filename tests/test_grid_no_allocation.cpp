// GridDriver allocates everything before its first user call: count every global allocation
// between the first and the last callback of a run, forward and reverse sweeps included.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "counting_allocator.hpp"

#include "cairn/grid_driver.hpp"
#include "cairn/grid_schedules.hpp"
#include "stacked_rnn/stacked_rnn.hpp"

using cairn_test::allocations;

int main() {
  using State = stacked_rnn::State;
  stacked_rnn::Model model(40, {3, 5, 4, 6}, 2);
  const cairn::GridShape shape = model.shape();
  int failures = 0;
  struct Case {
    const char* name;
    std::vector<cairn::GridAction> stream;
  };
  const std::vector<Case> cases{
      {"store-all", cairn::grid_store_all(shape)},
      {"blocked 7x2", cairn::grid_blocked(shape, 7, 2)},
      {"nested time-outer 4/2", cairn::grid_nested(shape, cairn::GridNesting::time_outer, 4, 2)},
      {"nested depth-outer 2/5", cairn::grid_nested(shape, cairn::GridNesting::depth_outer, 2, 5)}};
  for (const Case& c : cases) {
    std::vector<double> gradient(model.params().size(), 0.0);
    cairn::GridProblem<State> p = model.problem(gradient);
    long first = -1, last = -1;
    auto cell = p.cell;
    auto cell_adjoint = p.cell_adjoint;
    p.cell = [&, cell](std::int64_t t, std::int64_t l, const State& a, const State& b, State& out) {
      if (first < 0) first = allocations.load();
      cell(t, l, a, b, out);
      last = allocations.load();
    };
    p.cell_adjoint = [&, cell_adjoint](std::int64_t t, std::int64_t l, const State& a,
                                       const State& b, const State& oa, State& la, State& ba) {
      cell_adjoint(t, l, a, b, oa, la, ba);
      last = allocations.load();
    };
    cairn::GridDriver<State> driver(shape, std::move(p));
    driver.run(c.stream);
    const long during = last - first;
    std::printf("GridDriver %s (%zu actions, %lld cell calls): %ld allocations during the sweeps\n",
                c.name, c.stream.size(), static_cast<long long>(driver.statistics().cell_calls),
                during);
    if (first < 0 || during != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}
