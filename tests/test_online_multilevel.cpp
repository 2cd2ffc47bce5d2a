// OnlineMultilevelRevolve: legal streams within each level's slots for every run length of a grid,
// exactly OnlineRevolve without a disk or before the first disk checkpoint, exact disk counts with
// an unlimited disk, restarts, errors, long runs in bounded memory, and a Driver run over two
// MemoryStorage levels with store-all's gradient bit for bit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "burgers_runs.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/store_all.hpp"

namespace {

using cairn::OnlineMultilevelRevolve;
using cairn::SimulatedOnlineRun;
using cairn::StorageLevel;

std::unique_ptr<OnlineMultilevelRevolve> make(std::int64_t c, std::int64_t d, double price,
                                              std::int64_t first_spacing = 0) {
  return std::make_unique<OnlineMultilevelRevolve>(
      StorageLevel{c, 0, 0}, StorageLevel{d, price, price}, cairn::StepCosts{1, 0}, first_spacing);
}

// Replays a whole run of T steps through the checker with the schedule's slot counts.
cairn::CheckResult check_run(std::int64_t steps, std::unique_ptr<OnlineMultilevelRevolve> online) {
  const std::vector<std::int64_t> slots = online->slots_per_level(steps);
  SimulatedOnlineRun run(steps, std::move(online));
  return cairn::check(run, steps, slots);
}

void check_grid(const std::vector<std::int64_t>& ram, const std::vector<std::int64_t>& disk,
                std::int64_t max_steps, std::int64_t first_spacing) {
  for (const std::int64_t c : ram) {
    for (const std::int64_t d : disk) {
      if (c == 0 && d == 0) continue;
      for (const double price : {0.0, 1.0, 5.0, 20.0}) {
        for (std::int64_t steps = 1; steps <= max_steps; ++steps) {
          const cairn::CheckResult r = check_run(steps, make(c, d, price, first_spacing));
          const std::int64_t disk_slots = d == cairn::unlimited_slots ? steps + 1 : d;
          if (!r.legal || r.costs.levels[0].peak_slots > c ||
              r.costs.levels[1].peak_slots > disk_slots || r.costs.reverses != steps) {
            INFO("T = " << steps << ", c = " << c << ", d = " << d << ", price " << price
                        << ", first spacing " << first_spacing << ": " << r.reason << "; peaks "
                        << r.costs.levels[0].peak_slots << " / " << r.costs.levels[1].peak_slots);
            REQUIRE(r.legal);
            REQUIRE(r.costs.levels[0].peak_slots <= c);
            REQUIRE(r.costs.levels[1].peak_slots <= disk_slots);
            REQUIRE(r.costs.reverses == steps);
          }
        }
      }
    }
  }
}

std::vector<cairn::Action> whole_stream(cairn::Schedule& s) {
  std::vector<cairn::Action> out;
  for (;;) {
    const cairn::Action a = s.next();
    out.push_back(a);
    if (a.kind == cairn::ActionKind::end) return out;
  }
}

}  // namespace

// Every run of the grid, replayed through the checker: legal (so every step is reversed, in
// order), and no level holds more than its slots. Small first spacings make the disk and its
// thinning take part even in short runs. (Several test cases, so that ctest runs them side by
// side.)
TEST_CASE("online multilevel: every T up to 600, RAM 0-3, disk 0-3 or unlimited, is legal",
          "[online_multilevel]") {
  check_grid({0, 1, 2, 3}, {0, 1, 2, 3, cairn::unlimited_slots}, 600, 0);
}
TEST_CASE("online multilevel: every T up to 600, RAM 5 and 10, disk 1-20, is legal",
          "[online_multilevel]") {
  check_grid({5, 10}, {1, 2, 7, 20}, 600, 0);
}
TEST_CASE("online multilevel: every T up to 300 with first spacings 1, 2 and 3 is legal",
          "[online_multilevel]") {
  for (const std::int64_t spacing : {1, 2, 3}) {
    check_grid({0, 1, 2, 4}, {1, 2, 3, 5, cairn::unlimited_slots}, 300, spacing);
  }
}

TEST_CASE("online multilevel: without disk slots the stream is exactly OnlineRevolve's",
          "[online_multilevel]") {
  for (std::int64_t c = 1; c <= 10; ++c) {
    for (std::int64_t steps = 1; steps <= 400; ++steps) {
      SimulatedOnlineRun ours(steps, make(c, 0, 5));
      SimulatedOnlineRun reference(steps, c);
      INFO("T = " << steps << ", c = " << c);
      REQUIRE(whole_stream(ours) == whole_stream(reference));
    }
  }
}

TEST_CASE("online multilevel: runs shorter than the first spacing never touch the disk",
          "[online_multilevel]") {
  // Before the first disk checkpoint the RAM placement is OnlineRevolve's with all c slots (x_0
  // in RAM slot 0), so a run that ends before it is exactly OnlineRevolve(c).
  // (Prices above the shared mode's limit: with w + r <= 2 forward steps the whole run is the
  // shared mode's OnlineRevolve over c + d slots, tested below.)
  for (const std::int64_t c : {2, 3, 5, 10}) {
    for (const double price : {1.5, 5.0, 20.0}) {
      const std::int64_t first = make(c, 4, price)->first_spacing();
      REQUIRE(first == std::max(cairn::beta(price > 0 && c >= 3 ? c - 1 : c, 2),
                                static_cast<std::int64_t>(std::ceil(8 * price))));
      for (std::int64_t steps = 1; steps < first; ++steps) {
        SimulatedOnlineRun ours(steps, make(c, 4, price));
        SimulatedOnlineRun reference(steps, c);
        INFO("T = " << steps << ", c = " << c << ", price " << price);
        REQUIRE(whole_stream(ours) == whole_stream(reference));
      }
    }
  }
}

namespace {

// OnlineRevolve(c + d)'s whole stream for T steps with its slots below c on RAM, the others on
// disk (slot - c).
std::vector<cairn::Action> shared_reference(std::int64_t steps, std::int64_t c, std::int64_t d) {
  SimulatedOnlineRun reference(steps, c + d);
  std::vector<cairn::Action> out = whole_stream(reference);
  for (cairn::Action& a : out) {
    const bool slotted = a.kind == cairn::ActionKind::store ||
                         a.kind == cairn::ActionKind::restore || a.kind == cairn::ActionKind::free;
    if (slotted && a.slot >= c) {
      a.level = 1;
      a.slot -= c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("online multilevel: cheap disk I/O gives OnlineRevolve over c + d slots (shared mode)",
          "[online_multilevel]") {
  // Disk write + read <= 2 forward steps: the stream is exactly OnlineRevolve(c + d)'s, RAM slots
  // first, so it advances no step more than r(T + 1, c + d) times, legal within each level's
  // slots (every T <= 250 of the grid).
  for (const std::int64_t c : {0, 1, 2, 3, 5}) {
    for (const std::int64_t d : {1, 2, 3, 7}) {
      for (const double price : {0.0, 0.5, 1.0}) {
        for (std::int64_t steps = 1; steps <= 250; ++steps) {
          INFO("T = " << steps << ", c = " << c << ", d = " << d << ", price " << price);
          SimulatedOnlineRun ours(steps, make(c, d, price));
          const std::vector<cairn::Action> stream = whole_stream(ours);
          REQUIRE(stream == shared_reference(steps, c, d));
          const cairn::CheckResult r = check_run(steps, make(c, d, price));
          REQUIRE(r.legal);
          REQUIRE(r.costs.levels[0].peak_slots <= c);
          REQUIRE(r.costs.levels[1].peak_slots <= d);
          REQUIRE(r.costs.max_advances_per_step == cairn::repetitions(steps + 1, c + d));
        }
      }
    }
  }
}

TEST_CASE("online multilevel: the shared mode is chosen by prices only, never with a given spacing",
          "[online_multilevel]") {
  const auto is_shared = [](std::int64_t c, std::int64_t d, double w, double r, double uf,
                            std::int64_t first_spacing) {
    // A run long enough that the spacing design would have written a disk checkpoint at its
    // first spacing: the shared mode's stream is OnlineRevolve(c + d)'s.
    const std::int64_t steps = 300;
    SimulatedOnlineRun ours(steps, std::make_unique<OnlineMultilevelRevolve>(
                                       StorageLevel{c, 0, 0}, StorageLevel{d, w, r},
                                       cairn::StepCosts{uf, 0}, first_spacing));
    return whole_stream(ours) == shared_reference(steps, c, d);
  };
  CHECK(is_shared(3, 4, 1, 1, 1, 0));
  CHECK(is_shared(3, 4, 0, 2, 1, 0));
  CHECK(is_shared(3, 4, 4, 4, 4, 0));  // w + r <= 2 forward steps, whatever the unit
  CHECK_FALSE(is_shared(3, 4, 1, 1.5, 1, 0));
  CHECK_FALSE(is_shared(3, 4, 0, 0, 1, 5));  // a given first spacing: the spacing design
  // An unlimited disk keeps the spacing design (tested below: every L0-th state).
  auto unlimited = make(3, cairn::unlimited_slots, 0);
  const cairn::CheckResult r = check_run(100, std::move(unlimited));
  REQUIRE(r.legal);
  CHECK(r.costs.levels[1].stores == 100 / make(3, cairn::unlimited_slots, 0)->first_spacing());
}

TEST_CASE("online multilevel: the shared mode reports the disk checkpoints it holds",
          "[online_multilevel]") {
  for (const std::int64_t c : {0, 1, 4}) {
    auto online = make(c, 5, 0);
    std::vector<std::int64_t> held(5, -1);  // by disk slot, from the actions
    const auto track = [&](const cairn::Action& a) {
      if (a.level != 1) return;
      if (a.kind == cairn::ActionKind::store) held[static_cast<std::size_t>(a.slot)] = a.step;
      if (a.kind == cairn::ActionKind::free) held[static_cast<std::size_t>(a.slot)] = -1;
    };
    track(online->start());
    for (std::int64_t i = 1; i <= 2000; ++i) {
      for (const cairn::Action& a : online->advanced()) track(a);
      std::vector<std::int64_t> expected;
      for (const std::int64_t s : held) {
        if (s >= 0) expected.push_back(s);
      }
      std::sort(expected.begin(), expected.end());
      INFO("c = " << c << ", step " << i);
      REQUIRE(online->disk_checkpoint_steps() == expected);
      REQUIRE(online->x0_on_disk() == (c == 0));
    }
  }
}

TEST_CASE("online multilevel: an unlimited disk writes every L0-th state once and reads it once",
          "[online_multilevel]") {
  // x_0 in RAM, disk checkpoints at L0, 2 L0, ... (never thinned), each read once in the reverse
  // sweep except the last one: the last segment's base has its RAM copy from the forward sweep
  // (or is x_T itself, freed unread), and the first segment starts from x_0 in RAM.
  for (const std::int64_t c : {3, 4, 9}) {
    for (std::int64_t steps = 1; steps <= 500; ++steps) {
      auto online = make(c, cairn::unlimited_slots, 1);
      const std::int64_t L0 = online->first_spacing();
      const cairn::CheckResult r = check_run(steps, std::move(online));
      INFO("T = " << steps << ", c = " << c << ", L0 = " << L0);
      REQUIRE(r.legal);
      const std::int64_t written = steps / L0;
      const std::int64_t read = written - 1;
      REQUIRE(r.costs.levels[1].stores == written);
      REQUIRE(r.costs.levels[1].restores == std::max<std::int64_t>(read, 0));
      REQUIRE(r.costs.levels[1].peak_slots == written);
    }
  }
}

TEST_CASE("online multilevel: the disk keeps multiples of a doubling spacing, at most d of them",
          "[online_multilevel]") {
  for (const std::int64_t d : {1, 2, 3, 8}) {
    auto online = make(3, d, 0, 4);
    online->start();
    for (std::int64_t i = 1; i <= 5000; ++i) {
      online->advanced();
      const std::vector<std::int64_t> held = online->disk_checkpoint_steps();
      REQUIRE(static_cast<std::int64_t>(held.size()) <= d);
      for (const std::int64_t s : held) REQUIRE(s % online->spacing() == 0);
      // Every completed segment is at most one spacing long.
      std::int64_t previous = 0;
      for (const std::int64_t s : held) {
        REQUIRE(s - previous <= online->spacing());
        previous = s;
      }
      REQUIRE(i - previous < 2 * online->spacing());
    }
  }
}

TEST_CASE("online multilevel: start() again mid-run or after finish gives the same stream",
          "[online_multilevel]") {
  for (const std::int64_t c : {0, 1, 3}) {
    auto online = make(c, 3, 1, 2);
    OnlineMultilevelRevolve& s = *online;
    const auto run = [&](std::int64_t steps) {
      std::vector<cairn::Action> out{s.start()};
      for (std::int64_t i = 0; i < steps; ++i) {
        const std::vector<cairn::Action>& d = s.advanced();
        out.insert(out.end(), d.begin(), d.end());
      }
      s.finish();
      for (cairn::Action a = s.next(); a.kind != cairn::ActionKind::end; a = s.next()) {
        out.push_back(a);
      }
      return out;
    };
    const std::vector<cairn::Action> first = run(77);
    s.start();
    for (int i = 0; i < 40; ++i) s.advanced();  // abandoned part way
    REQUIRE(run(77) == first);
    REQUIRE(run(77) == first);
    // reset() replays the reverse sweep.
    s.reset();
    std::vector<cairn::Action> again;
    for (cairn::Action a = s.next(); a.kind != cairn::ActionKind::end; a = s.next()) {
      again.push_back(a);
    }
    REQUIRE(std::vector<cairn::Action>(first.end() - static_cast<std::ptrdiff_t>(again.size()),
                                       first.end()) == again);
    CHECK(s.steps() == 77);
    CHECK(s.finished());
  }
}

TEST_CASE("online multilevel: misuse and bad arguments are refused with a clear message",
          "[online_multilevel]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{0, 0, 0}, StorageLevel{0, 1, 1}),
                    Contains("give RAM slots >= 1 (x_0's included), or 0 when disk slots >= 1"));
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{-1, 0, 0}, StorageLevel{3, 1, 1}),
                    Contains("RAM slots = -1"));
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{2, 0, 0}, StorageLevel{-2, 1, 1}),
                    Contains("disk slots = -2"));
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{2, 0, 0}, StorageLevel{2, -1, 1}),
                    Contains("disk write cost = -1"));
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{2, 0, -3}, StorageLevel{2, 1, 1}),
                    Contains("RAM read cost = -3"));
  CHECK_THROWS_WITH(OnlineMultilevelRevolve(StorageLevel{2, 0, 0}, StorageLevel{2, 1, 1}, {0, 0}),
                    Contains("forward step cost = 0"));
  CHECK_THROWS_WITH(
      OnlineMultilevelRevolve(StorageLevel{2, 0, 0}, StorageLevel{2, 1, 1}, {1, 0}, -1),
      Contains("first spacing = -1"));
  OnlineMultilevelRevolve s(StorageLevel{2, 0, 0}, StorageLevel{2, 1, 1});
  CHECK_THROWS_WITH(s.advanced(), Contains("call start() first"));
  CHECK_THROWS_WITH(s.next(), Contains("after finish()"));
  s.start();
  CHECK_THROWS_WITH(s.finish(), Contains("made no step"));
  s.advanced();
  s.finish();
  CHECK_THROWS_WITH(s.finish(), Contains("no run in progress"));
  CHECK_THROWS_WITH(s.advanced(), Contains("no run in progress"));
  CHECK(std::string(s.name()) == "online-multilevel");
}

TEST_CASE("online multilevel: T = 10^6 with 10 RAM and 100 disk slots is legal and bounded",
          "[online_multilevel]") {
  const std::int64_t steps = 1000000;
  for (const double price : {0.0, 20.0}) {
    auto online = make(10, 100, price);
    const std::size_t most = online->max_advanced_actions();
    const cairn::CheckResult r = check_run(steps, std::move(online));
    INFO("price " << price << ": " << r.reason);
    REQUIRE(r.legal);
    REQUIRE(r.costs.levels[0].peak_slots <= 10);
    REQUIRE(r.costs.levels[1].peak_slots <= 100);
    CHECK(most == 10 + 100 + 3);
    // The disk is used: at most one write per half segment... and the recomputation stays within
    // a small multiple of T (the measured ratios are in docs/benchmarks.md).
    CHECK(r.costs.forward_steps < 12 * steps);
  }
  // 10^7 forward steps: the schedule's memory is the disk checkpoints (<= 100) and one
  // OnlineRevolve, whatever T.
  auto online = make(10, 100, 1);
  online->start();
  std::size_t most = 0;
  for (std::int64_t i = 0; i < 10000000; ++i) most = std::max(most, online->advanced().size());
  CHECK(online->disk_checkpoint_steps().size() <= 100);
  CHECK(most <= online->max_advanced_actions());
  online->finish();
  CHECK(online->next().kind != cairn::ActionKind::end);
}

using burgers_runs::State;

TEST_CASE("online multilevel: a Driver over RAM and disk gives the store-all gradient",
          "[online_multilevel][driver]") {
  // A Burgers run that stops on a condition (T unknown up front), checkpointed online over two
  // MemoryStorage levels, against store-all over the same T, bit for bit.
  struct Case {
    std::int64_t N, c, d;
    double price, threshold;
  };
  for (const Case k : {Case{16, 2, 3, 1, 0.9}, Case{32, 3, 2, 0, 0.5}, Case{24, 0, 4, 5, 0.3},
                       Case{20, 1, 3, 1, 0.3}, Case{40, 4, 5, 20, 0.1}}) {
    const burgers::Problem problem(k.N);
    const State x0 = problem.initial_state();
    OnlineMultilevelRevolve online(StorageLevel{k.c, 0, 0}, StorageLevel{k.d, k.price, k.price},
                                   cairn::StepCosts{1, 0}, 3);
    const std::size_t bytes = x0.size() * sizeof(double);
    cairn::MemoryStorage ram(std::max<std::int64_t>(k.c, 1), bytes);
    cairn::MemoryStorage disk(k.d, bytes);
    cairn::Driver<State> driver(
        online, {&ram, &disk}, [&](std::int64_t, State& x) { problem.step(x); },
        [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
    driver.start(x0);
    const std::int64_t T = burgers_runs::step_until_energy_below(driver, x0, k.threshold);
    INFO("N = " << k.N << ", c = " << k.c << ", d = " << k.d << ", T = " << T);
    REQUIRE(T >= 10);
    REQUIRE(T < 100000);
    const State gradient =
        driver.finish([&](const State& xT) { return problem.objective_gradient(xT); });

    cairn::StoreAll all(T);
    REQUIRE(burgers_runs::bitwise_equal(
        gradient, burgers_runs::burgers_gradient(problem, all, all.slots()).gradient));
    CHECK(driver.statistics().adjoint_calls == T);
  }
}
