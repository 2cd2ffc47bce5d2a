#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/revolve.hpp"
#include "schedule_oracles.hpp"

using cairn::Action;
using cairn::ActionKind;
using cairn::Revolve;

namespace {

// Everything the issue guarantees for one (T, c), judged by the independent checker.
void require_revolve_guarantees(std::int64_t T, std::int64_t c) {
  Revolve schedule(T, c);
  const cairn::CheckResult result = cairn::check(schedule, T, {c});
  INFO("T = " << T << ", c = " << c << ": " << result.reason);
  REQUIRE(result.legal);
  REQUIRE(result.costs.forward_steps == cairn::forward_cost(T, c));
  REQUIRE(result.costs.max_advances_per_step == cairn::repetitions(T, c));
  REQUIRE(result.costs.levels[0].peak_slots <= std::min(c, T));
  REQUIRE(result.costs.stores() == Revolve::store_count(T, c));
  REQUIRE(result.costs.restores() == T - 1);
  REQUIRE(result.costs.reverses == T);
}

}  // namespace

TEST_CASE(
    "Revolve is legal with t(T c) forward steps and r(T c) repetitions exhaustively for T <= 3000",
    "[revolve][exhaustive]") {
  for (std::int64_t T = 1; T <= 3000; ++T) {
    for (std::int64_t c = 1; c <= std::min<std::int64_t>(T, 25); ++c) {
      require_revolve_guarantees(T, c);
    }
  }
}

TEST_CASE("Revolve: more slots than steps", "[revolve]") {
  for (std::int64_t T = 1; T <= 60; ++T) {
    for (std::int64_t c : {T + 1, 2 * T, T + 1000}) require_revolve_guarantees(T, c);
  }
  require_revolve_guarantees(5, std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("Revolve: a random sample of larger (T c)", "[revolve]") {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 40; ++trial) {
    const std::int64_t T = 3000 + static_cast<std::int64_t>(rng() % 400000);
    const std::int64_t c = 1 + static_cast<std::int64_t>(rng() % (trial % 4 == 0 ? 4 : 300));
    require_revolve_guarantees(T, c);
  }
  require_revolve_guarantees(1000000, 20);
  require_revolve_guarantees(2000000, 3);
  require_revolve_guarantees(100000, 1);
}

TEST_CASE("Revolve reproduces the original revolve's counts", "[revolve]") {
  struct Reference {
    std::int64_t T, c, forward_steps, stores;
  };
  for (const Reference& ref : {Reference{50, 7, 105, 28}, Reference{1000, 10, 3636, 714},
                               Reference{1000000, 20, 6815960, 657800}}) {
    Revolve schedule(ref.T, ref.c);
    const auto result = cairn::check(schedule, ref.T, {ref.c});
    REQUIRE(result.legal);
    CHECK(result.costs.forward_steps == ref.forward_steps);
    CHECK(result.costs.stores() == ref.stores);
    CHECK(Revolve::store_count(ref.T, ref.c) == ref.stores);
    CHECK(result.costs.restores() == ref.T - 1);
  }
  // (50, 7) also: 49 restores, as the original.
  Revolve fifty(50, 7);
  REQUIRE(cairn::check(fifty, 50, {7}).costs.restores() == 49);
}

TEST_CASE("Revolve makes the fewest stores of any time-optimal binomial splitting", "[revolve]") {
  constexpr int L = 260;
  constexpr int S = 12;
  const cairn_test::MinimalStores oracle(L, S);
  for (int T = 1; T <= L; ++T) {
    for (int c = 1; c <= S; ++c) {
      const std::int64_t expected = (T >= 2 ? 1 : 0) + oracle.at(T, c);  // + the store of x_0
      INFO("T = " << T << ", c = " << c);
      REQUIRE(Revolve::store_count(T, c) == expected);
    }
  }
}

TEST_CASE("Revolve: the lookup table and direct computation give the same stream", "[revolve]") {
  for (std::int64_t T : {2, 7, 100, 1001, 4567}) {
    for (std::int64_t c : {1, 2, 3, 5, 9, 40}) {
      Revolve with_table(T, c);
      Revolve without_table(T, c, 0);
      REQUIRE(!without_table.uses_lookup_table());
      for (;;) {
        const Action a = with_table.next();
        REQUIRE(a == without_table.next());
        if (a.kind == ActionKind::end) break;
      }
    }
  }
  REQUIRE(Revolve(100, 3).uses_lookup_table());
}

TEST_CASE("Revolve: end repeats and reset replays the same stream", "[revolve]") {
  Revolve schedule(37, 4);
  std::vector<Action> first;
  for (;;) {
    first.push_back(schedule.next());
    if (first.back().kind == ActionKind::end) break;
  }
  REQUIRE(schedule.next().kind == ActionKind::end);
  REQUIRE(schedule.next().kind == ActionKind::end);
  schedule.reset();
  for (const Action& a : first) REQUIRE(schedule.next() == a);
}

TEST_CASE("Revolve: the T = 100 c = 3 example opens as the theory says", "[revolve]") {
  Revolve schedule(100, 3);
  REQUIRE(schedule.repetitions() == 7);
  REQUIRE(schedule.forward_steps() == 490);
  REQUIRE(schedule.next() == Action::make_store(0, 0));
  const Action first = schedule.next();
  REQUIRE(first.kind == ActionKind::advance);
  // The first split m lies in [beta(3, 5), beta(3, 6)] = [56, 84] and leaves l - m for 2 slots
  // in [beta(2, 6), beta(2, 7)] = [28, 36].
  REQUIRE(first.to >= 64);
  REQUIRE(first.to <= 72);
  REQUIRE(schedule.next() == Action::make_store(1, first.to));
}

TEST_CASE("Revolve: T up to 2^63 - 1 without overflow or hidden caps", "[revolve][huge]") {
  const std::int64_t huge[] = {std::int64_t{1} << 62, std::numeric_limits<std::int64_t>::max(),
                               1000000000000000LL};
  for (const std::int64_t T : huge) {
    for (const std::int64_t c : {1, 2, 3, 30, 1000, 1000000}) {
      Revolve schedule(T, c);
      REQUIRE(schedule.repetitions() == cairn::repetitions(T, c));
      // A prefix of the stream must be legal; counting per step would need 8 T bytes.
      cairn::ScheduleChecker checker(T, {c}, false);
      std::int64_t reverses = 0;
      // x_0..x_(depth) are stored before the first reverse: run past them.
      const std::int64_t prefix = 200000 + 3 * std::min<std::int64_t>(c, 1000000);
      for (std::int64_t i = 0; i < prefix; ++i) {
        const Action a = schedule.next();
        INFO("T = " << T << ", c = " << c << ", action " << i);
        REQUIRE(checker.feed(a));
        if (a.kind == ActionKind::reverse) ++reverses;
      }
      REQUIRE(reverses > 0);
      REQUIRE(checker.finish().costs.levels[0].peak_slots <= c);
    }
  }
  REQUIRE(Revolve::store_count(std::numeric_limits<std::int64_t>::max(), 2) > 0);
}

TEST_CASE("Revolve refuses invalid arguments with a clear message", "[revolve]") {
  REQUIRE_THROWS_AS(Revolve(0, 3), std::invalid_argument);
  REQUIRE_THROWS_AS(Revolve(10, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(Revolve(-1, -1), std::invalid_argument);
  REQUIRE_THROWS_WITH(Revolve(0, 3), Catch::Contains("steps = 0") && Catch::Contains(">= 1"));
  REQUIRE_THROWS_AS(Revolve::store_count(0, 1), std::invalid_argument);
}

TEST_CASE("Revolve: batches from next_actions equal the one-by-one stream", "[revolve]") {
  for (std::int64_t T : {1, 2, 50, 1000}) {
    for (std::int64_t c : {1, 3, 7}) {
      Revolve single(T, c);
      Revolve batched(T, c);
      Action buffer[7];
      std::size_t batch_number = 0;
      for (bool ended = false; !ended; ++batch_number) {
        // Mix batch sizes 1..7 with single next() calls on the same object.
        const std::size_t wanted = 1 + batch_number % 7;
        const std::size_t got = batched.next_actions(buffer, wanted);
        REQUIRE(got >= 1);
        REQUIRE(got <= wanted);
        for (std::size_t i = 0; i < got; ++i) REQUIRE(buffer[i] == single.next());
        ended = buffer[got - 1].kind == ActionKind::end;
        REQUIRE((ended || got == wanted));
        if (!ended && batch_number % 3 == 0) {
          const Action a = batched.next();
          REQUIRE(a == single.next());
          ended = a.kind == ActionKind::end;
        }
      }
      REQUIRE(batched.next_actions(buffer, 7) == 1);  // after end: one more end
      REQUIRE(buffer[0].kind == ActionKind::end);
    }
  }
}

TEST_CASE("Revolve: the first splits of T near 2^63 with up to 300 slots do not overflow",
          "[revolve][huge]") {
  // Found by the C API fuzzer (T = 2^63 - 1, c = 243): a sum of two binomials, each below T,
  // overflowed in the split rule (UBSan in the sanitizer pass). The first 2000 actions of every
  // such stream are legal.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const std::int64_t T : {kMax, kMax - 1, kMax / 2 + 1}) {
    for (std::int64_t c = 2; c <= 300; ++c) {
      INFO("T = " << T << ", c = " << c);
      cairn::Revolve revolve(T, c);
      cairn::ScheduleChecker checker(T, {c}, false);
      for (int i = 0; i < 2000; ++i) REQUIRE(checker.feed(revolve.next()));
    }
  }
}

TEST_CASE("Revolve: more slots than memory can count are refused with the size, not bad_alloc",
          "[revolve][huge]") {
  // min(c, T) = 2^61 positions cannot be held: a length_error that says why (the C API gives
  // CAIRN_ERROR_OUT_OF_MEMORY with this message).
  REQUIRE_THROWS_WITH(
      cairn::Revolve(std::int64_t{1} << 62, std::int64_t{1} << 61),
      Catch::Contains("needs 16 bytes for each of min(c, T) = 2305843009213693952"));
}
