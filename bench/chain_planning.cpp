// Planning time and table size of plan_chain: L layers with random unequal costs and sizes
// (outputs of 1..4 units, tapes of 0..8, forward costs in [0.5, 2], backward twice that), at
// budgets of M units, planned as plan_chain does by default (the full split search while
// L^3 M / 6 <= 1e8, the bounded one above); L = 1000, M = 500 again by one thread, for what the
// threads gain. Usage: cairn_bench_chain_planning [--full | --full-all]
// (--full: where the default was the bounded search and L <= 300, also time the full search and
// compare the costs; --full-all: for L = 1000 too, about a minute more per case)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/chain_plan.hpp"
#include "random_layer_chain.hpp"

namespace {

struct ChainPlanReportCopy {
  bool bounded;
  std::size_t table_bytes;
  unsigned threads;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const bool full_all = argc > 1 && std::strcmp(argv[1], "--full-all") == 0;
  const bool full = full_all || (argc > 1 && std::strcmp(argv[1], "--full") == 0);
  double target_row = -1;  // L = 1000, M = 500: the case (under 1 s)
  double one_thread_row = -1;
  std::printf("%6s %6s %-8s %7s %10s %11s %12s %10s %s\n", "L", "M", "search", "threads", "seconds",
              "table MiB", "cost", "actions", "check");
  for (const int L : {100, 300, 1000}) {
    const cairn::Graph chain = cairn::bench::random_layer_chain(L);
    for (const int M : {50, 200, 500}) {
      cairn::ChainPlanOptions options;
      options.memory_unit = 1;
      options.max_table_bytes = std::size_t{3} << 30;
      cairn::ChainPlanReport report;
      options.report = &report;
      const auto start = std::chrono::steady_clock::now();
      try {
        const cairn::GraphPlan plan =
            cairn::plan_chain(chain, static_cast<std::uint64_t>(M), options);
        const double seconds = seconds_since(start);
        if (L == 1000 && M == 500) {
          target_row = seconds;
          // The same plan by one thread: what the pipeline over memory planes gains.
          cairn::ChainPlanOptions one = options;
          one.threads = 1;
          one.report = nullptr;
          const auto one_start = std::chrono::steady_clock::now();
          const cairn::GraphPlan single =
              cairn::plan_chain(chain, static_cast<std::uint64_t>(M), one);
          one_thread_row = seconds_since(one_start);
          if (single.actions != plan.actions) std::printf("one thread: a DIFFERENT plan\n");
        }
        const ChainPlanReportCopy planned{report.bounded_search, report.table_bytes,
                                          report.threads};
        std::string check = "-";
        if (full && (L <= 300 || full_all) && report.bounded_search) {
          options.exhaustive_splits = true;
          options.report = nullptr;
          const auto full_start = std::chrono::steady_clock::now();
          const cairn::GraphPlan exact =
              cairn::plan_chain(chain, static_cast<std::uint64_t>(M), options);
          const double full_seconds = seconds_since(full_start);
          char line[128];
          std::snprintf(line, sizeof line, "full search %.3f s, cost %.2f (%+.3f%%)", full_seconds,
                        exact.cost, 100 * (plan.cost / exact.cost - 1));
          check = line;
        }
        std::printf("%6d %6d %-8s %7u %10.3f %11.1f %12.2f %10zu %s\n", L, M,
                    planned.bounded ? "bounded" : "full", planned.threads, seconds,
                    static_cast<double>(planned.table_bytes) / (1 << 20), plan.cost,
                    plan.actions.size(), check.c_str());
      } catch (const std::invalid_argument& e) {
        std::printf("%6d %6d %10s %11s  below the least budget\n", L, M, "-", "-");
      } catch (const std::length_error&) {
        std::printf("%6d %6d %10s %11s  tables over 3 GiB\n", L, M, "-", "-");
      }
    }
  }
  if (target_row >= 0) {
    std::printf(
        "L = 1000, M = 500: %.3f s, %.2f of the 1 s target (%s); one thread %.3f s, %.2fx\n",
        target_row, target_row / 1.0, target_row < 1.0 ? "met" : "NOT met", one_thread_row,
        one_thread_row / target_row);
  }
  return 0;
}
