// Planning time and table size of HeterogeneousRevolve: T steps with random costs in [0.5, 2] and
// sizes of 1 to 3 units, a budget of M units. Usage: cairn_bench_heterogeneous
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/heterogeneous.hpp"

int main() {
  std::printf("%6s %6s %12s %12s %14s %16s\n", "T", "M", "seconds", "table MiB", "cost",
              "equal-size check");
  for (const auto& [T, M] : std::vector<std::pair<int, int>>{{100, 10},
                                                             {100, 30},
                                                             {300, 10},
                                                             {300, 30},
                                                             {500, 30},
                                                             {1000, 10},
                                                             {1000, 30},
                                                             {2000, 10},
                                                             {2000, 100}}) {
    std::mt19937_64 random(1);
    std::uniform_real_distribution<double> cost(0.5, 2.0);
    std::uniform_int_distribution<int> size(1, 3);
    std::vector<cairn::ChainStep> chain(static_cast<std::size_t>(T));
    for (auto& s : chain)
      s = cairn::ChainStep{cost(random), 1.0, static_cast<std::uint64_t>(size(random))};
    chain.front().state_bytes = 1;
    const auto start = std::chrono::steady_clock::now();
    try {
      cairn::HeterogeneousRevolve plan(chain, static_cast<std::uint64_t>(M), 1,
                                       std::size_t{3} << 30);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // Equal costs and sizes for the same T and M: must give Revolve's t(T, M).
      std::vector<cairn::ChainStep> equal(static_cast<std::size_t>(T), cairn::ChainStep{1, 0, 1});
      const bool revolve =
          T > 1000 ||
          cairn::HeterogeneousRevolve(equal, static_cast<std::uint64_t>(M)).optimal_cost() ==
              static_cast<double>(cairn::forward_cost(T, M));
      std::printf("%6d %6d %12.3f %12.1f %14.2f %16s\n", T, M, seconds,
                  static_cast<double>(plan.table_bytes()) / (1 << 20), plan.optimal_cost(),
                  T > 1000  ? "(skipped)"
                  : revolve ? "= t(T, M)"
                            : "DIFFERS");
    } catch (const std::length_error& e) {
      std::printf("%6d %6d %12s %12s  %s\n", T, M, "-", "-", "tables over 3 GiB");
    }
  }
  return 0;
}
