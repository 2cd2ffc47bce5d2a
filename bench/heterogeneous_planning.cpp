// Planning time and table size of HeterogeneousRevolve: T steps with random forward costs in
// [0.5, 2] and a budget of M units. Equal sizes (the split search is bounded) and sizes of 1 to 3
// units (the full cubic search). Usage: cairn_bench_heterogeneous
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/heterogeneous.hpp"

namespace {

std::vector<cairn::ChainStep> random_chain(int steps, bool equal_sizes) {
  std::mt19937_64 random(1);
  std::uniform_real_distribution<double> cost(0.5, 2.0);
  std::uniform_int_distribution<int> size(1, 3);
  std::vector<cairn::ChainStep> chain(static_cast<std::size_t>(steps));
  for (auto& s : chain) {
    s = cairn::ChainStep{cost(random), 1.0,
                         equal_sizes ? 1u : static_cast<std::uint64_t>(size(random))};
  }
  chain.front().state_bytes = 1;
  return chain;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  double target_row = -1;  // T = 2000, M = 100, equal sizes: the case (under 2 s)
  std::printf("%6s %6s %-8s %10s %11s %12s %s\n", "T", "M", "sizes", "seconds", "table MiB", "cost",
              "check");
  for (const auto& [T, M] :
       std::vector<std::pair<int, int>>{{300, 30}, {1000, 30}, {2000, 10}, {2000, 100}}) {
    for (bool equal : {true, false}) {
      if (!equal && T > 1000) continue;  // the cubic search: minutes (184 s for 2000 x 100)
      const auto chain = random_chain(T, equal);
      const auto start = std::chrono::steady_clock::now();
      try {
        cairn::HeterogeneousRevolve plan(chain, static_cast<std::uint64_t>(M), 1,
                                         std::size_t{3} << 30);
        const double seconds = seconds_since(start);
        if (equal && T == 2000 && M == 100) target_row = seconds;
        std::string check = "-";
        if (equal && T <= 1000) {  // the bounded search against the full one, timed as a baseline
          const auto full_start = std::chrono::steady_clock::now();
          cairn::HeterogeneousRevolve full(chain, static_cast<std::uint64_t>(M), 1,
                                           std::size_t{3} << 30, true);
          const double full_seconds = seconds_since(full_start);
          char line[96];
          std::snprintf(line, sizeof line, "%s full search (%.3f s: %.0fx slower)",
                        full.optimal_cost() == plan.optimal_cost() ? "=" : "DIFFERS from",
                        full_seconds, full_seconds / seconds);
          check = line;
        }
        std::printf("%6d %6d %-8s %10.3f %11.1f %12.2f %s\n", T, M, equal ? "equal" : "1..3",
                    seconds, static_cast<double>(plan.table_bytes()) / (1 << 20),
                    plan.optimal_cost(), check.c_str());
      } catch (const std::length_error&) {
        std::printf("%6d %6d %-8s %10s %11s  tables over 3 GiB\n", T, M, equal ? "equal" : "1..3",
                    "-", "-");
      }
    }
  }
  if (target_row >= 0) {
    std::printf("T = 2000, M = 100, equal sizes: %.3f s, %.2f of the 2 s target (%s)\n", target_row,
                target_row / 2.0, target_row < 2.0 ? "met" : "NOT met");
  }
  return 0;
}
