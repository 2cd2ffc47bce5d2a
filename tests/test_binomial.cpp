#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "int128.hpp"

using cairn::beta;
using cairn::forward_cost;
using cairn::repetitions;
using cairn_test::i128;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// The closed form evaluated in 128 bits: an oracle independent of the 64-bit implementation.
i128 forward_cost_wide(std::int64_t T, std::int64_t c) {
  const std::int64_t r = repetitions(T, c);
  return static_cast<i128>(r) * T - cairn_test::binomial_wide(static_cast<i128>(c) + r, r - 1);
}

template <typename F>
void require_overflow(F&& f) {
  try {
    f();
    FAIL("expected std::overflow_error");
  } catch (const std::overflow_error& e) {
    REQUIRE(std::string(e.what()).find("overflow") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("beta equals Pascal's triangle wherever it fits and reports overflow elsewhere",
          "[binomial]") {
  for (int c = 0; c <= 100; ++c) {
    for (int r = 0; c + r <= 120; ++r) {
      const i128 expected = cairn_test::pascal(c + r, c);
      if (expected <= kMax) {
        REQUIRE(beta(c, r) == static_cast<std::int64_t>(expected));
      } else {
        require_overflow([&] { beta(c, r); });
      }
    }
  }
}

TEST_CASE("beta at the edges of 64 bits", "[binomial]") {
  REQUIRE(beta(0, kMax) == 1);
  REQUIRE(beta(kMax, 0) == 1);
  REQUIRE(beta(kMax - 1, 1) == kMax);
  REQUIRE(beta(1, kMax - 1) == kMax);
  require_overflow([] { beta(kMax, 1); });
  require_overflow([] { beta(1, kMax); });
  require_overflow([] { beta(kMax, kMax); });
  // C(67, 33) = 14226520737620288370 > 2^63 - 1 > C(66, 33) = 7219428434016265740.
  REQUIRE(beta(33, 33) == 7219428434016265740LL);
  require_overflow([] { beta(33, 34); });
  // C(4294967296, 2) = 2^63 - 2^31 fits; one more overflows.
  REQUIRE(beta(2, 4294967294LL) == 9223372034707292160LL);
  require_overflow([] { beta(2, 4294967295LL); });
}

TEST_CASE("repetitions is the smallest r with beta(c r) >= T (exhaustive)", "[binomial]") {
  for (std::int64_t c = 1; c <= 40; ++c) {
    std::int64_t r = 0;
    for (std::int64_t T = 1; T <= 5000; ++T) {
      while (cairn_test::binomial_wide(c + r, c) < T) ++r;
      REQUIRE(repetitions(T, c) == r);
    }
  }
}

TEST_CASE("repetitions for huge T brackets T between consecutive binomials", "[binomial]") {
  std::mt19937_64 rng(20261128);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::int64_t T = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(kMax));
    const std::int64_t c = 1 + static_cast<std::int64_t>(rng() % (trial % 2 ? 64 : 100000));
    const std::int64_t r = repetitions(T, c);
    REQUIRE(r >= 1);
    REQUIRE(cairn_test::binomial_wide(static_cast<i128>(c) + r - 1, r - 1) < T);
    // beta(c, r) may exceed 64 bits; beta(c, r) = beta(c, r-1) * (c+r) / r in 128 bits.
    const i128 below = cairn_test::binomial_wide(static_cast<i128>(c) + r - 1, r - 1);
    REQUIRE(below * (c + r) / r >= T);
  }
  REQUIRE(repetitions(1, 1) == 0);
  REQUIRE(repetitions(1, kMax) == 0);
  REQUIRE(repetitions(kMax, 1) == kMax - 1);
  REQUIRE(repetitions(std::int64_t{1} << 62, 1) == (std::int64_t{1} << 62) - 1);
  REQUIRE(repetitions(kMax, kMax) == 1);
  REQUIRE(repetitions(100, 3) == 7);
}

TEST_CASE("forward_cost matches the worked examples", "[binomial]") {
  REQUIRE(forward_cost(100, 3) == 490);
  REQUIRE(forward_cost(50, 7) == 105);
  REQUIRE(forward_cost(1000, 10) == 3636);
  REQUIRE(forward_cost(1000000, 20) == 6815960);
  REQUIRE(forward_cost(1, 1) == 0);
  REQUIRE(forward_cost(2, 1) == 1);
  REQUIRE(forward_cost(10, 1) == 45);
  REQUIRE(forward_cost(10, 9) == 9);
  REQUIRE(forward_cost(10, 1000) == 9);
}

TEST_CASE("forward_cost equals the 128-bit closed form for random and huge inputs", "[binomial]") {
  std::mt19937_64 rng(7);
  int exact = 0;
  int overflowed = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    const int bits = 1 + static_cast<int>(rng() % 62);
    const std::int64_t T =
        1 + static_cast<std::int64_t>(rng() % (std::uint64_t{1} << static_cast<unsigned>(bits)));
    const std::int64_t c = 1 + static_cast<std::int64_t>(rng() % (trial % 3 == 0 ? 4 : 200));
    const i128 expected = forward_cost_wide(T, c);
    if (expected <= kMax) {
      REQUIRE(forward_cost(T, c) == static_cast<std::int64_t>(expected));
      ++exact;
    } else {
      require_overflow([&] { forward_cost(T, c); });
      ++overflowed;
    }
  }
  REQUIRE(exact > 1000);
  REQUIRE(overflowed > 100);
}

TEST_CASE("forward_cost for T = 10^15 with c = 30 is exact", "[binomial]") {
  const std::int64_t T = 1000000000000000LL;
  const i128 expected = forward_cost_wide(T, 30);
  REQUIRE(expected > 0);
  REQUIRE(forward_cost(T, 30) == static_cast<std::int64_t>(expected));
  REQUIRE(repetitions(T, 30) == 24);
  REQUIRE(forward_cost(T, 30) == 22914070016840160LL);
  // r = 24: C(53, 30) < 10^15 <= C(54, 30), checked against Pascal's triangle.
  const std::int64_t r = repetitions(T, 30);
  REQUIRE(cairn_test::pascal(static_cast<int>(30 + r - 1), 30) < T);
  REQUIRE(cairn_test::pascal(static_cast<int>(30 + r), 30) >= T);
  REQUIRE(forward_cost(T, 30) ==
          r * T - static_cast<std::int64_t>(cairn_test::pascal(static_cast<int>(30 + r), 31)));
}

TEST_CASE("forward_cost detects overflow exactly at the boundary", "[binomial]") {
  // c = 1: t = T (T - 1) / 2. T = 2^32 gives 2^63 - 2^31 (fits); T = 2^32 + 1 gives 2^63 + 2^31.
  REQUIRE(forward_cost(std::int64_t{1} << 32, 1) == kMax - ((std::int64_t{1} << 31) - 1));
  require_overflow([] { forward_cost((std::int64_t{1} << 32) + 1, 1); });
  require_overflow([] { forward_cost(std::int64_t{1} << 62, 1); });
  require_overflow([] { forward_cost(kMax, 2); });
  REQUIRE(forward_cost(kMax, kMax) == kMax - 1);
}

TEST_CASE("the closed form equals the dynamic-programming recursion of Griewank and Walther",
          "[binomial]") {
  // t(l, s) = min_{1 <= i < l} [ i + t(i, s) + t(l - i, s - 1) ], t(1, s) = 0, t(l, 1) = l(l-1)/2
  constexpr int L = 300;
  constexpr int S = 40;
  std::vector<std::vector<std::int64_t>> t(S + 1, std::vector<std::int64_t>(L + 1, 0));
  for (int l = 1; l <= L; ++l) t[1][l] = static_cast<std::int64_t>(l) * (l - 1) / 2;
  for (int s = 2; s <= S; ++s) {
    for (int l = 2; l <= L; ++l) {
      std::int64_t best = std::numeric_limits<std::int64_t>::max();
      for (int i = 1; i < l; ++i) best = std::min(best, i + t[s][i] + t[s - 1][l - i]);
      t[s][l] = best;
    }
  }
  for (int s = 1; s <= S; ++s) {
    for (int l = 1; l <= L; ++l) REQUIRE(forward_cost(l, s) == t[s][l]);
  }
}

TEST_CASE("binomial functions refuse arguments outside their domain", "[binomial]") {
  REQUIRE_THROWS_AS(beta(-1, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(beta(0, -1), std::invalid_argument);
  REQUIRE_THROWS_AS(repetitions(0, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(repetitions(1, 0), std::invalid_argument);
  REQUIRE_THROWS_AS(forward_cost(-5, 3), std::invalid_argument);
  REQUIRE_THROWS_AS(forward_cost(5, -3), std::invalid_argument);
  REQUIRE_THROWS_WITH(repetitions(0, 1), Catch::Contains("steps = 0") && Catch::Contains(">= 1"));
  REQUIRE_THROWS_WITH(forward_cost(10, 0), Catch::Contains("slots = 0"));
}
