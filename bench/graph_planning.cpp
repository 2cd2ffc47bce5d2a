// Plans for U-Net (4 and 5 levels) and DenseNet-121: store-all, sqrt(n) segments, the
// structure-aware cut, and plan_milp at each baseline's peak (equal memory) and at half of
// store-all's, with planning time, CBC's bound and the optimality gap.
//
// Usage: cairn_bench_graph_planning [time limit in seconds per MILP, default 10] [shape: all,
// unet4, unet5, densenet]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cairn/graph.hpp"
#include "cairn/graph_milp.hpp"
#include "cairn/graph_planners.hpp"
#include "cairn/graph_shapes.hpp"

namespace {

double mib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

template <class F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void row(const char* name, double time, const cairn::GraphPlan& p, const std::string& extra = "") {
  std::printf("| %-22s | %8.3f | %10.3f | %10.2f | %s\n", name, time, p.cost, mib(p.peak_bytes),
              extra.c_str());
}

void bench(const char* title, const cairn::Graph& g, double limit) {
  std::printf("\n## %s: %lld nodes\n\n", title, static_cast<long long>(g.size()));
  std::printf("| %-22s | %8s | %10s | %10s | MILP: bound, gap, proven\n", "plan", "time s",
              "cost GFLOP", "peak MiB");
  std::printf("|%s|%s|%s|%s|---\n", std::string(24, '-').c_str(), std::string(10, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str());
  cairn::GraphPlan store_all, segments, structure;
  const double t_store = seconds([&] { store_all = cairn::plan_store_all(g); });
  const double t_seg = seconds([&] { segments = cairn::plan_segments(g); });
  const double t_struct = seconds([&] { structure = cairn::plan_structure_aware(g); });
  row("store-all", t_store, store_all);
  row("segments (sqrt n)", t_seg, segments);
  row("structure-aware", t_struct, structure);
  struct Budget {
    std::string name;
    std::uint64_t bytes;
    double baseline_cost;
  };
  std::vector<Budget> budgets = {{"milp @ structure-aware", structure.peak_bytes, structure.cost},
                                 {"milp @ segments", segments.peak_bytes, segments.cost},
                                 {"milp @ store-all / 2", store_all.peak_bytes / 2, 0}};
  cairn::MilpOptions options;
  options.time_limit_seconds = limit;
  for (const Budget& b : budgets) {
    try {
      const cairn::MilpReport r = cairn::plan_milp_report(g, b.bytes, options);
      char extra[200];
      std::snprintf(extra, sizeof extra, "%.3f, %.2f%%, %s%s", r.best_bound, 100 * r.gap,
                    r.proven_optimal ? "yes" : "no",
                    b.baseline_cost > 0
                        ? (" (baseline cost / milp cost " +
                           std::to_string(b.baseline_cost / r.plan.cost).substr(0, 5) + ")")
                              .c_str()
                        : "");
      row(b.name.c_str(), r.seconds, r.plan, extra);
    } catch (const std::exception& e) {
      std::printf("| %-22s | budget %.2f MiB: %s\n", b.name.c_str(), mib(b.bytes), e.what());
    }
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const double limit = argc > 1 ? std::atof(argv[1]) : 10;
  const std::string shape = argc > 2 ? argv[2] : "all";
  std::printf("# Graph planning (MILP time limit %.0f s; sizes: fp32, batch 1)\n", limit);
  if (shape == "all" || shape == "unet4") {
    bench("U-Net, 4 levels, 64 channels, 256x256", cairn::unet({4, 64, 256, 3, 2, 1}), limit);
  }
  if (shape == "all" || shape == "unet5") {
    bench("U-Net, 5 levels, 64 channels, 256x256", cairn::unet({5, 64, 256, 3, 2, 1}), limit);
  }
  if (shape == "all" || shape == "densenet") {
    bench("DenseNet-121, 224x224", cairn::densenet(), limit);
  }
  return 0;
}
