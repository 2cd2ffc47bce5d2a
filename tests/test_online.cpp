// OnlineRevolve: legal streams with the offline-optimal repetition number for every run length,
// decisions that cannot depend on T, and clear errors.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/online.hpp"

namespace {

using cairn::OnlineRevolve;
using cairn::SimulatedOnlineRun;

cairn::CheckResult check_online(std::int64_t steps, std::int64_t slots) {
  SimulatedOnlineRun run(steps, slots);
  return cairn::check(run, steps, {slots});
}

}  // namespace

// A run that learns T only at its end has computed x_T by then: offline, that is Revolve on T + 1
// steps (reach x_T, reverse T - 1 .. 0), and no schedule with c slots advances every step fewer
// than r(T + 1, c) times. OnlineRevolve reaches that bound for every T. (Three test cases so that
// ctest can run them side by side.)
namespace {

void check_every_run(std::int64_t first_slots, std::int64_t last_slots) {
  for (std::int64_t slots = first_slots; slots <= last_slots; ++slots) {
    for (std::int64_t steps = 1; steps <= 5000; ++steps) {
      const cairn::CheckResult result = check_online(steps, slots);
      const std::int64_t optimum = cairn::repetitions(steps + 1, slots);
      if (!result.legal || result.costs.max_advances_per_step != optimum ||
          result.costs.levels[0].peak_slots > slots) {
        INFO("T = " << steps << ", c = " << slots << ": " << result.reason << ", repetitions "
                    << result.costs.max_advances_per_step << " against r(T + 1, c) = " << optimum
                    << ", peak slots " << result.costs.levels[0].peak_slots);
        REQUIRE(result.legal);
        REQUIRE(result.costs.max_advances_per_step == optimum);
        REQUIRE(result.costs.levels[0].peak_slots <= slots);
      }
    }
  }
}

}  // namespace

TEST_CASE("online: every T up to 5000 with c from 1 to 10 has repetition r(T + 1 c)", "[online]") {
  check_every_run(1, 10);
}
TEST_CASE("online: every T up to 5000 with c from 11 to 20 has repetition r(T + 1 c)", "[online]") {
  check_every_run(11, 20);
}
TEST_CASE("online: every T up to 5000 with c from 21 to 30 has repetition r(T + 1 c)", "[online]") {
  check_every_run(21, 30);
}

TEST_CASE("online: a random sample of long runs up to T = 10^6 reaches r(T + 1 c)", "[online]") {
  std::mt19937_64 engine(2026);
  std::uniform_int_distribution<std::int64_t> length(5001, 1000000);
  std::uniform_int_distribution<std::int64_t> slot_count(2, 100);
  for (int sample = 0; sample < 12; ++sample) {
    const std::int64_t steps = length(engine);
    const std::int64_t slots = slot_count(engine);
    const cairn::CheckResult result = check_online(steps, slots);
    INFO("T = " << steps << ", c = " << slots << ": " << result.reason);
    REQUIRE(result.legal);
    REQUIRE(result.costs.max_advances_per_step == cairn::repetitions(steps + 1, slots));
  }
}

TEST_CASE("online: the forward decisions do not depend on when the run ends", "[online]") {
  // The decisions for the first steps of a long run are those of every shorter run: T is never
  // used before finish().
  for (const std::int64_t slots : {2, 3, 7, 20}) {
    OnlineRevolve long_run(slots);
    long_run.start();
    std::vector<std::vector<cairn::Action>> decisions;
    for (int i = 0; i < 3000; ++i) decisions.push_back(long_run.advanced());
    for (const std::int64_t steps : {1, 2, 17, 100, 2999}) {
      OnlineRevolve run(slots);
      REQUIRE(run.start() == cairn::Action::make_store(0, 0));
      for (std::int64_t i = 0; i < steps; ++i) {
        REQUIRE(run.advanced() == decisions[static_cast<std::size_t>(i)]);
        REQUIRE(run.layout_valid());
      }
      run.finish();
      REQUIRE(run.steps() == steps);
    }
  }
}

TEST_CASE("online: the checkpoints follow the band targets", "[online]") {
  // c = 3: bands of T + 1 in (beta(3, r - 1), beta(3, r)] = (4, 10], (10, 20], ...; in the band
  // r = 3 the targets are 0, 10, 16 (beta(3, 2) = 10, beta(2, 2) = 6).
  OnlineRevolve run(3);
  run.start();
  for (int i = 0; i < 18; ++i) run.advanced();
  CHECK(run.checkpoint_steps() == std::vector<std::int64_t>{0, 10, 16});
  for (int i = 18; i < 19; ++i) run.advanced();
  // T + 1 = 21 starts the band r = 4 (targets 0, 20, 30): the run reaching x_19 keeps 10 and 16
  // until a target needs a slot.
  CHECK(run.checkpoint_steps() == std::vector<std::int64_t>{0, 10, 16});
  run.advanced();  // x_20: a target
  CHECK(run.checkpoint_steps().back() == 20);
  CHECK(run.layout_valid());
}

TEST_CASE("online: reset replays the reverse sweep and a new start begins a new run", "[online]") {
  OnlineRevolve run(4);
  run.start();
  for (int i = 0; i < 123; ++i) run.advanced();
  run.finish();
  std::vector<cairn::Action> first;
  for (cairn::Action a = run.next(); a.kind != cairn::ActionKind::end; a = run.next()) {
    first.push_back(a);
  }
  run.reset();
  std::vector<cairn::Action> second;
  cairn::Action buffer[7];
  for (bool ended = false; !ended;) {
    const std::size_t n = run.next_actions(buffer, 7);
    for (std::size_t i = 0; i < n; ++i) {
      if (buffer[i].kind == cairn::ActionKind::end) {
        ended = true;
      } else {
        second.push_back(buffer[i]);
      }
    }
  }
  CHECK(first == second);
  CHECK(run.next().kind == cairn::ActionKind::end);
  REQUIRE(run.start() == cairn::Action::make_store(0, 0));
  CHECK(run.steps() == 0);
  CHECK_FALSE(run.finished());
}

TEST_CASE("online: misuse is refused with a clear message", "[online]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(OnlineRevolve(0), Contains("slots = 0 is not allowed"));
  CHECK_THROWS_WITH(SimulatedOnlineRun(0, 3), Contains("steps = 0 is not allowed"));
  CHECK_THROWS_WITH(SimulatedOnlineRun(5, std::unique_ptr<cairn::OnlineSchedule>()),
                    Contains("the online schedule is null"));
  OnlineRevolve run(3);
  CHECK_THROWS_WITH(run.advanced(), Contains("call start() first"));
  CHECK_THROWS_WITH(run.next(), Contains("after finish()"));
  run.start();
  CHECK_THROWS_WITH(run.finish(), Contains("made no step"));
  run.advanced();
  run.finish();
  CHECK_THROWS_WITH(run.finish(), Contains("no run in progress"));
  CHECK_THROWS_WITH(run.advanced(), Contains("no run in progress"));
}

TEST_CASE("online: memory follows the checkpoints a run holds, not c", "[online]") {
  // c = 10^12 reserved 4 lists of c entries up front (bad_alloc). A run of T steps holds at most
  // T + 1 states, and with c >= T + 1 its stream is the one for c = T + 1: every state kept.
  const std::int64_t huge = 1000000000000;
  for (const std::int64_t T : {1, 2, 17, 500}) {
    INFO("T = " << T);
    SimulatedOnlineRun wide(T, huge), exact(T, T + 1);
    for (;;) {
      const cairn::Action a = wide.next();
      REQUIRE(a == exact.next());
      if (a.kind == cairn::ActionKind::end) break;
    }
    wide.reset();
    const cairn::CheckResult checked = cairn::check(wide, T, {huge});
    REQUIRE(checked.legal);
    REQUIRE(checked.costs.max_advances_per_step == 1);
    REQUIRE(checked.costs.levels[0].peak_slots <= T + 1);
  }
  OnlineRevolve online(std::numeric_limits<std::int64_t>::max());
  online.start();
  for (int i = 0; i < 1000; ++i) online.advanced();
  REQUIRE(online.checkpoint_steps().size() == 1001);
  REQUIRE(online.layout_valid());
}
