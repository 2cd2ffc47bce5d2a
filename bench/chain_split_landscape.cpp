// How flat plan_chain's split costs are: over every state (s, t, m) of the full search, how far
// each split's cost lies above the state's least (the record option's included). An exact search
// can skip a split only by evaluating it or by a lower bound above the least, so the share of
// splits within a few time units of the least is what no cheap bound can prune (issue 21: the
// exact plan of 1000 layers at 500 units in under 1 s). The chain is bench/chain_planning.cpp's
// (forward costs 0.5..2, mean 1.25), one thread.
// Usage: cairn_bench_chain_split_landscape [L [M]]   (default 300 500)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>

#include "graph/chain_tables.hpp"
#include "random_layer_chain.hpp"

namespace {

// A whole number of at least `least`, else -1.
long argument(const char* text, long least) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value >= least && value <= 65535 ? value : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const long L = argc > 1 ? argument(argv[1], 2) : 300;
  const long M = argc > 2 ? argument(argv[2], 1) : 500;
  if (argc > 3 || L < 0 || M < 0) {
    std::fprintf(stderr,
                 "usage: cairn_bench_chain_split_landscape [L [M]]: L layers (2..65535, default "
                 "300), M memory units (1..65535, default 500)\n");
    return 2;
  }
  const cairn::detail::ChainUnits chain =
      cairn::detail::chain_units(cairn::bench::random_layer_chain(static_cast<int>(L)), 1);
  const std::int64_t memory = std::min<std::int64_t>(M, cairn::detail::store_all_memory(chain));
  constexpr std::array<double, 7> margins{0, 0.5, 1, 2, 5, 20, 60};
  std::array<std::uint64_t, margins.size()> within{};
  std::uint64_t states = 0, splits = 0, finite_states = 0;
  std::unique_ptr<cairn::detail::ChainTables> made;
  try {
    made = std::make_unique<cairn::detail::ChainTables>(chain, memory, std::size_t{4} << 30,
                                                        /*bounded=*/false, /*threads=*/1);
  } catch (const std::length_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  cairn::detail::ChainTables& tables = *made;
  tables.observe([&](const cairn::detail::SplitCosts& state) {
    ++states;
    if (state.best == std::numeric_limits<double>::infinity()) return;
    ++finite_states;
    for (std::int64_t k = state.lo; k <= state.hi; ++k) {
      const double excess = state.cost(k) - state.best;
      ++splits;
      for (std::size_t i = 0; i < margins.size(); ++i) within[i] += excess <= margins[i];
    }
  });
  const auto start = std::chrono::steady_clock::now();
  tables.fill();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "L = %ld, M = %lld: Opt = %.4f; %llu states with splits, %llu of them feasible, "
      "%llu splits (%.1f per feasible state), %.1f s with the count\n",
      L, static_cast<long long>(memory), tables.optimum(), static_cast<unsigned long long>(states),
      static_cast<unsigned long long>(finite_states), static_cast<unsigned long long>(splits),
      static_cast<double>(splits) / static_cast<double>(finite_states), seconds);
  std::printf("%26s %14s %10s %16s\n", "cost - least <= (time)", "splits", "share", "per state");
  for (std::size_t i = 0; i < margins.size(); ++i) {
    std::printf("%26.1f %14llu %9.2f%% %16.2f\n", margins[i],
                static_cast<unsigned long long>(within[i]),
                100.0 * static_cast<double>(within[i]) / static_cast<double>(splits),
                static_cast<double>(within[i]) / static_cast<double>(finite_states));
  }
  return 0;
}
