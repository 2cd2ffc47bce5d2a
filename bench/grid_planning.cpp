// Which grid schedule wins where, by the model's exact counts (grid_schedules.hpp): at equal
// budgets of state memory, the recomputed cells of the best blocked sizes, of the best nested
// Revolve split in each order, and of 1-D Revolve over time with whole columns as states (each
// column step reversed from all its cells), as multiples of store-all's T L - 1 computes.
// Usage: cairn_bench_grid_planning [--quick]
//        cairn_bench_grid_planning --surface T L FILE.csv   (every (bt, bl): peak and recomputes,
//        for bench/python/grid_surface.py's plot)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_schedules.hpp"

namespace {

std::string ratio(double extra, double base) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", extra / base);
  return text;
}

// 1-D Revolve over time on columns: time_outer with every cell of a column kept inside.
std::string one_dimensional(const cairn::GridShape& shape, std::uint64_t budget, double base) {
  const std::int64_t L = shape.depth();
  std::int64_t good = 0, bad = shape.steps() + 1;
  cairn::NestedCosts best;
  while (bad - good > 1) {
    const std::int64_t mid = good + (bad - good) / 2;
    const cairn::NestedCosts c = cairn::nested_costs(shape, cairn::GridNesting::time_outer, mid, L);
    if (c.peak_state_bytes <= budget) {
      good = mid;
      best = c;
    } else {
      bad = mid;
    }
  }
  if (good == 0) return "-";
  return ratio(best.forward_cost - base, base);
}

}  // namespace

// Every (bt, bl) of a T x L grid of equal layers, priced by the formulas.
int write_surface(std::int64_t T, std::int64_t L, const char* path) {
  std::FILE* out = std::fopen(path, "w");
  if (out == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", path);
    return 1;
  }
  const cairn::GridShape shape = cairn::GridShape::uniform(T, L);
  std::fprintf(out, "bt,bl,peak_cells,recomputes,checkpoint_cells\n");
  for (std::int64_t bt = 1; bt <= T; ++bt) {
    for (std::int64_t bl = 1; bl <= L; ++bl) {
      const cairn::BlockedCosts c = cairn::blocked_costs(shape, bt, bl);
      std::fprintf(out, "%lld,%lld,%llu,%lld,%lld\n", static_cast<long long>(bt),
                   static_cast<long long>(bl), static_cast<unsigned long long>(c.peak_state_bytes),
                   static_cast<long long>(c.recomputes),
                   static_cast<long long>(c.checkpoint_cells));
    }
  }
  const bool ok = std::fclose(out) == 0;
  if (!ok) std::fprintf(stderr, "cannot write %s\n", path);
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--surface") == 0) {
    return write_surface(std::atoll(argv[2]), std::atoll(argv[3]), argv[4]);
  }
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> grids = {{1000, 4}, {1000, 16}, {1000, 64}};
  if (!quick) grids.insert(grids.end(), {{10000, 4}, {10000, 64}});
  std::printf("recomputed forward cost / store-all's, at equal peak state memory (cells)\n");
  std::printf("%7s %4s %9s | %9s %14s %12s %12s %10s\n", "T", "L", "budget", "blocked", "(bt x bl)",
              "nested t-o", "nested d-o", "1-D time");
  for (const auto& [T, L] : grids) {
    const cairn::GridShape shape = cairn::GridShape::uniform(T, L);
    const double base = static_cast<double>(T * L - 1);
    const double unit = std::pow(static_cast<double>(T * L), 2.0 / 3.0);
    for (const double k : {0.5, 1.5, 3.0, 6.0, 12.0}) {
      const auto budget = static_cast<std::uint64_t>(k * unit);
      std::string blocked = "-", sizes = "";
      try {
        const cairn::BlockedCosts b = cairn::optimal_block_sizes(shape, budget);
        blocked = ratio(b.forward_cost - base, base);
        sizes = std::to_string(b.block_steps) + " x " + std::to_string(b.block_layers);
      } catch (const std::invalid_argument&) {
      }
      std::string nested[2] = {"-", "-"};
      int which = 0;
      for (const cairn::GridNesting nesting :
           {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
        try {
          const cairn::NestedCosts c = cairn::optimal_nested_slots(shape, nesting, budget);
          nested[which] = ratio(c.forward_cost - base, base) + " (" +
                          std::to_string(c.outer_slots) + "," + std::to_string(c.inner_slots) + ")";
        } catch (const std::invalid_argument&) {
        }
        ++which;
      }
      std::printf("%7lld %4lld %9llu | %9s %14s %12s %12s %10s\n", static_cast<long long>(T),
                  static_cast<long long>(L), static_cast<unsigned long long>(budget),
                  blocked.c_str(), sizes.c_str(), nested[0].c_str(), nested[1].c_str(),
                  one_dimensional(shape, budget, base).c_str());
    }
  }
  return 0;
}
