// Revolve::next() must not allocate, nor may the driver's reverse sweep: count every global
// allocation while they run.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "counting_allocator.hpp"

#include "burgers1d/burgers.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/revolve.hpp"

using cairn_test::allocations;

int main() {
  struct Case {
    std::int64_t T, c;
    std::size_t table_bytes;
  };
  for (const Case& k : {Case{100000, 10, cairn::Revolve::default_table_bytes}, Case{100000, 10, 0},
                        Case{50000, 1, 0}, Case{30000, 2, 0}}) {
    cairn::Revolve schedule(k.T, k.c, k.table_bytes);
    const long before = allocations.load();
    long actions = 0;
    while (schedule.next().kind != cairn::ActionKind::end) ++actions;
    const long during = allocations.load() - before;
    std::printf("Revolve(%lld, %lld, table %zu bytes): %ld actions, %ld allocations\n",
                static_cast<long long>(k.T), static_cast<long long>(k.c), k.table_bytes, actions,
                during);
    if (during != 0) return 1;
  }

  // Driver, layer style: everything is allocated by the end of forward(); backward() allocates
  // nothing (lambda is moved in and out).
  using State = std::vector<double>;
  const burgers::Problem problem(64);
  cairn::Revolve schedule(5000, 8);
  cairn::MemoryStorage storage(8, 64 * sizeof(double));
  cairn::Driver<State> driver(
      schedule, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
  const State xT = driver.forward(problem.initial_state());
  State lambda = problem.objective_gradient(xT);
  const long before = allocations.load();
  lambda = driver.backward(std::move(lambda));
  const long during = allocations.load() - before;
  std::printf("Driver backward over T = 5000 (%lld actions): %ld allocations\n",
              static_cast<long long>(driver.statistics().actions), during);
  return during == 0 ? 0 : 1;
}
