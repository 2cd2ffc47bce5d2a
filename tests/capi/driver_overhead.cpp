// What the C API costs per action, against the C++ API in the same run (docs/c_fortran.md):
//  - reading a Revolve stream: cairn_schedule_next / cairn_schedule_next_actions against
//    Revolve::next / next_actions;
//  - driving it: cairn_driver_run with C callbacks against cairn::Driver<double> with a
//    MemoryStorage, for a state of one double (so that the driver, not the solver, is measured).
// Usage: cairn_capi_overhead [T] [c] [repeats]; prints nanoseconds per action (best of repeats).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cairn/cairn.h"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/revolve.hpp"

namespace {

struct Problem {
  double x = 1, lambda = 0;
  std::vector<double> slots;
};

extern "C" int c_step(void* c, std::int64_t) {
  static_cast<Problem*>(c)->x *= 1.0000001;
  return 0;
}
extern "C" int c_adjoint(void* c, std::int64_t) {
  static_cast<Problem*>(c)->lambda *= 1.0000001;
  return 0;
}
extern "C" int c_store(void* c, int, std::int64_t slot, std::int64_t) {
  auto& p = *static_cast<Problem*>(c);
  p.slots[static_cast<std::size_t>(slot)] = p.x;
  return 0;
}
extern "C" int c_restore(void* c, int, std::int64_t slot, std::int64_t) {
  auto& p = *static_cast<Problem*>(c);
  p.x = p.slots[static_cast<std::size_t>(slot)];
  return 0;
}
extern "C" int c_terminal(void* c, std::int64_t, std::int64_t) {
  static_cast<Problem*>(c)->lambda = 1;
  return 0;
}

template <typename F>
double best_seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int k = 0; k < repeats; ++k) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

volatile std::int64_t sink = 0;

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t T = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const std::int64_t c = argc > 2 ? std::atoll(argv[2]) : 50;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  cairn::Revolve revolve(T, c);
  cairn_schedule* handle = nullptr;
  if (cairn_revolve_create(T, c, &handle) != CAIRN_OK) {
    std::fprintf(stderr, "%s\n", cairn_last_error());
    return 1;
  }
  // The number of actions of the stream.
  std::int64_t actions = 0;
  revolve.reset();
  while (revolve.next().kind != cairn::ActionKind::end) ++actions;
  ++actions;

  const double cpp_next = best_seconds(repeats, [&] {
    revolve.reset();
    std::int64_t n = 0;
    while (revolve.next().kind != cairn::ActionKind::end) ++n;
    sink = n;
  });
  const double c_next = best_seconds(repeats, [&] {
    cairn_schedule_reset(handle);
    cairn_action a{};
    std::int64_t n = 0;
    do {
      cairn_schedule_next(handle, &a);
      ++n;
    } while (a.kind != CAIRN_ACTION_END);
    sink = n;
  });
  const double cpp_batch = best_seconds(repeats, [&] {
    revolve.reset();
    std::vector<cairn::Action> buffer(256);
    std::size_t n = 0;
    do n = revolve.next_actions(buffer.data(), buffer.size());
    while (n == buffer.size() && buffer[n - 1].kind != cairn::ActionKind::end);
    sink = static_cast<std::int64_t>(n);
  });
  const double c_batch = best_seconds(repeats, [&] {
    cairn_schedule_reset(handle);
    std::vector<cairn_action> buffer(256);
    std::size_t n = 0;
    do cairn_schedule_next_actions(handle, buffer.data(), buffer.size(), &n);
    while (n == buffer.size() && buffer[n - 1].kind != CAIRN_ACTION_END);
    sink = static_cast<std::int64_t>(n);
  });

  cairn::MemoryStorage storage(c, sizeof(double));
  cairn::Driver<double> driver(
      revolve, storage, [](std::int64_t, double& x) { x *= 1.0000001; },
      [](std::int64_t, const double&, double& lambda) { lambda *= 1.0000001; });
  const double cpp_driver = best_seconds(repeats, [&] {
    sink = static_cast<std::int64_t>(driver.run(1.0, [](const double&) { return 1.0; }));
  });
  Problem p;
  p.slots.assign(static_cast<std::size_t>(c), 0.0);
  const cairn_callbacks callbacks = {c_step, c_adjoint, c_store, c_restore, nullptr, c_terminal};
  const double c_driver = best_seconds(repeats, [&] {
    p.x = 1;
    if (cairn_driver_run(handle, &callbacks, &p, nullptr) != CAIRN_OK) std::abort();
    sink = static_cast<std::int64_t>(p.lambda);
  });
  cairn_schedule_destroy(handle);

  const auto ns = [&](double seconds) { return seconds * 1e9 / static_cast<double>(actions); };
  std::printf("Revolve(T = %lld, c = %lld): %lld actions, best of %d runs, ns per action\n",
              static_cast<long long>(T), static_cast<long long>(c), static_cast<long long>(actions),
              repeats);
  std::printf("  next():          C++ %6.2f   C %6.2f   ratio %.2f\n", ns(cpp_next), ns(c_next),
              c_next / cpp_next);
  std::printf("  next_actions():  C++ %6.2f   C %6.2f   ratio %.2f\n", ns(cpp_batch), ns(c_batch),
              c_batch / cpp_batch);
  std::printf("  driver run:      C++ %6.2f   C %6.2f   ratio %.2f\n", ns(cpp_driver), ns(c_driver),
              c_driver / cpp_driver);
  return 0;
}
