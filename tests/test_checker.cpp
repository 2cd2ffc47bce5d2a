#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "cairn/check.hpp"

using cairn::Action;
using cairn::CheckResult;
using cairn::ScheduleChecker;

namespace {

CheckResult run(std::int64_t T, std::vector<std::int64_t> slots,
                const std::vector<Action>& stream) {
  ScheduleChecker checker(T, std::move(slots));
  for (const Action& a : stream) {
    if (!checker.feed(a)) break;
  }
  return checker.finish();
}

// x_0 stored, advance to x_2, reverse 2, restore and recompute x_1, reverse 1, restore, reverse 0.
const std::vector<Action> kLegalThreeSteps = {
    Action::make_store(0, 0),   Action::make_advance(0, 2), Action::make_reverse(2),
    Action::make_restore(0, 0), Action::make_advance(0, 1), Action::make_reverse(1),
    Action::make_restore(0, 0), Action::make_reverse(0),    Action::make_end()};

void require_illegal_at(const CheckResult& result, std::int64_t index, const std::string& why) {
  INFO(result.reason);
  REQUIRE_FALSE(result.legal);
  REQUIRE(result.first_illegal_index == index);
  REQUIRE(result.reason.find(why) != std::string::npos);
}

}  // namespace

TEST_CASE("checker accepts a legal stream and counts its costs", "[checker]") {
  const CheckResult result = run(3, {1}, kLegalThreeSteps);
  REQUIRE(result.legal);
  REQUIRE(result.first_illegal_index == -1);
  REQUIRE(result.reason.empty());
  REQUIRE(result.costs.actions == 9);
  REQUIRE(result.costs.advances == 2);
  REQUIRE(result.costs.forward_steps == 3);
  REQUIRE(result.costs.max_advances_per_step == 2);  // step 0 is advanced twice
  REQUIRE(result.costs.reverses == 3);
  REQUIRE(result.costs.stores() == 1);
  REQUIRE(result.costs.restores() == 2);
  REQUIRE(result.costs.levels[0].peak_slots == 1);
}

TEST_CASE("checker: no action may name a state outside x_0..x_T, -1 (undefined) included",
          "[checker]") {
  using A = Action;
  // The stream of the bug report: after reverse 0 the working state is undefined, which the
  // checker holds as -1, and "advance from -1" used to match it (then index its counts at -1).
  require_illegal_at(run(1, {1}, {A::make_reverse(0), A::make_advance(-1, 0)}), 1,
                     "an advance needs 0 <= from < to <= T = 1");
  // An empty slot holds -1 too: restoring "x_-1" from it used to be legal.
  require_illegal_at(
      run(2, {1}, {A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, -1)}), 2,
      "x_-1 does not exist; the states are x_0..x_2");
  // Storing "x_-1" when the working state is undefined, likewise.
  require_illegal_at(run(2, {2}, {A::make_advance(0, 1), A::make_reverse(1), A::make_store(1, -1)}),
                     2, "x_-1 does not exist");
  require_illegal_at(run(2, {1}, {A::make_store(0, 3)}), 0, "x_3 does not exist");
  require_illegal_at(run(2, {1}, {A::make_restore(0, std::numeric_limits<std::int64_t>::min())}), 0,
                     "does not exist");
  require_illegal_at(run(1, {1}, {A::make_reverse(0), A::make_reverse(-1)}), 1,
                     "steps are 0..0, not -1");
  require_illegal_at(run(3, {1}, {A::make_reverse(5)}), 0, "steps are 0..2, not 5");
  require_illegal_at(run(3, {1}, {A::make_advance(-2, 1)}), 0, "0 <= from < to <= T");
  // x_T itself is a state: an online run stores it.
  const CheckResult stores_final =
      run(1, {2}, {A::make_advance(0, 1), A::make_store(1, 1), A::make_free(1), A::make_end()});
  REQUIRE(stores_final.reason.find("steps 0..0 are not reversed") != std::string::npos);
}

TEST_CASE("checker: memory follows the stream, not T", "[checker]") {
  using A = Action;
  // 8 (T + 1) bytes up front would be 7.4 EB here: construction and a short stream must work.
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max() - 1;
  ScheduleChecker checker(huge, {3});
  REQUIRE(checker.feed(A::make_store(0, 0)));
  REQUIRE(checker.feed(A::make_advance(0, 1000)));
  REQUIRE(checker.feed(A::make_restore(0, 0)));
  REQUIRE(checker.feed(A::make_advance(0, 10)));
  const CheckResult partial = checker.finish();
  REQUIRE_FALSE(partial.legal);
  REQUIRE(partial.costs.forward_steps == 1010);
  REQUIRE(partial.costs.max_advances_per_step == 2);
  // One advance across 2^62 states cannot be counted per step: a clear error, not bad_alloc.
  ScheduleChecker far(huge, {1});
  REQUIRE_THROWS_WITH(far.feed(A::make_advance(0, std::int64_t{1} << 62)),
                      Catch::Contains("count_advances_per_step = false"));
  ScheduleChecker uncounted(huge, {1}, false);
  REQUIRE(uncounted.feed(A::make_advance(0, std::int64_t{1} << 62)));
  REQUIRE(uncounted.finish().costs.forward_steps == std::int64_t{1} << 62);
}

TEST_CASE("checker rejects each broken rule at the right action", "[checker]") {
  using A = Action;
  SECTION("advance from the wrong state") {
    require_illegal_at(run(3, {1}, {A::make_advance(1, 2)}), 0, "working state is x_0");
  }
  SECTION("advance backwards or past T") {
    require_illegal_at(run(3, {1}, {A::make_advance(0, 0)}), 0, "from < to <= T");
    require_illegal_at(run(3, {1}, {A::make_advance(0, 4)}), 0, "from < to <= T");
  }
  SECTION("store of a state that is not the working state") {
    require_illegal_at(run(3, {1}, {A::make_store(0, 1)}), 0, "working state is x_0, not x_1");
  }
  SECTION("store into a slot or level that does not exist") {
    require_illegal_at(run(3, {2}, {A::make_store(2, 0)}), 0, "slot 2 does not exist");
    require_illegal_at(run(3, {2}, {A::make_store(-1, 0)}), 0, "slot -1 does not exist");
    require_illegal_at(run(3, {2}, {A::make_store(0, 0, 1)}), 0, "level 1 does not exist");
  }
  SECTION("restore of a slot that holds another state or nothing") {
    require_illegal_at(run(3, {2}, {A::make_restore(0, 0)}), 0, "holds nothing");
    require_illegal_at(
        run(3, {2}, {A::make_store(0, 0), A::make_advance(0, 1), A::make_restore(0, 1)}), 2,
        "holds x_0, not x_1");
  }
  SECTION("reverse out of order or without the state") {
    require_illegal_at(run(3, {1}, {A::make_reverse(0)}), 0, "next step to reverse is 2");
    require_illegal_at(
        run(3, {1},
            {A::make_advance(0, 1), A::make_advance(1, 2), A::make_reverse(2), A::make_reverse(1)}),
        3, "working state is undefined");
  }
  SECTION("free of an empty slot") {
    require_illegal_at(run(3, {1}, {A::make_free(0)}), 0, "already empty");
  }
  SECTION("end before every step is reversed") {
    require_illegal_at(run(3, {1}, {A::make_end()}), 0, "steps 0..2 are not reversed");
  }
  SECTION("anything after end") {
    std::vector<Action> stream = kLegalThreeSteps;
    stream.push_back(A::make_end());
    require_illegal_at(run(3, {1}, stream), 9, "no action may follow end");
  }
  SECTION("a stream that stops before end") {
    std::vector<Action> stream(kLegalThreeSteps.begin(), kLegalThreeSteps.end() - 2);
    require_illegal_at(run(3, {1}, stream), 7, "ended before its end action");
  }
  SECTION("counts stop at the first illegal action") {
    const CheckResult result = run(
        3, {1},
        {A::make_store(0, 0), A::make_advance(0, 2), A::make_advance(0, 1), A::make_store(0, 0)});
    REQUIRE(result.first_illegal_index == 2);
    REQUIRE(result.costs.actions == 2);
    REQUIRE(result.costs.stores() == 1);
  }
}

TEST_CASE("checker: overwriting and freeing and peak slots per level", "[checker]") {
  using A = Action;
  const CheckResult result =
      run(4, {2, 3},
          {A::make_store(0, 0), A::make_store(1, 0, 1), A::make_advance(0, 1),
           A::make_store(0, 1),  // overwrite: occupancy stays 1 on level 0
           A::make_store(2, 1, 1), A::make_free(1, 1), A::make_advance(1, 3), A::make_reverse(3),
           A::make_restore(0, 1), A::make_advance(1, 2), A::make_reverse(2), A::make_restore(0, 1),
           A::make_reverse(1), A::make_restore(2, 1, 1), A::make_free(2, 1),
           A::make_free(0),  // the working state x_1 is still there after freeing its slot
           A::make_store(1, 1), A::make_free(1), A::make_end()});
  INFO(result.reason);
  REQUIRE_FALSE(result.legal);  // step 0 was never reversed
  REQUIRE(result.first_illegal_index == 18);
  REQUIRE(result.costs.levels[0].stores == 3);
  REQUIRE(result.costs.levels[0].peak_slots == 1);
  REQUIRE(result.costs.levels[0].frees == 2);
  REQUIRE(result.costs.levels[1].stores == 2);
  REQUIRE(result.costs.levels[1].restores == 1);
  REQUIRE(result.costs.levels[1].peak_slots == 2);
  REQUIRE(result.costs.levels[1].frees == 2);
  REQUIRE(result.costs.restores() == 3);
}

TEST_CASE("checker refuses an impossible configuration", "[checker]") {
  REQUIRE_THROWS_AS(ScheduleChecker(0, {1}), std::invalid_argument);
  REQUIRE_THROWS_AS(ScheduleChecker(5, {}), std::invalid_argument);
  REQUIRE_THROWS_AS(ScheduleChecker(5, {1, -1}), std::invalid_argument);
  // Zero slots is allowed: T = 1 needs none.
  REQUIRE(run(1, {0}, {Action::make_reverse(0), Action::make_end()}).legal);
}

TEST_CASE("checker without per-step counts reports -1 for the repetition number", "[checker]") {
  ScheduleChecker checker(3, {1}, false);
  for (const Action& a : kLegalThreeSteps) REQUIRE(checker.feed(a));
  const CheckResult result = checker.finish();
  REQUIRE(result.legal);
  REQUIRE(result.costs.max_advances_per_step == -1);
  REQUIRE(result.costs.forward_steps == 3);
}

TEST_CASE("checker: the forward-step count saturates instead of overflowing", "[checker]") {
  const std::int64_t T = std::numeric_limits<std::int64_t>::max();
  ScheduleChecker checker(T, {1}, false);
  for (const Action& a :
       {Action::make_store(0, 0), Action::make_advance(0, T - 1), Action::make_reverse(T - 1),
        Action::make_restore(0, 0), Action::make_advance(0, T - 2)}) {
    REQUIRE(checker.feed(a));
  }
  REQUIRE(checker.finish().costs.forward_steps == T);
}
