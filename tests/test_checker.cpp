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
