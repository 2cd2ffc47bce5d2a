// Measured time of GridDriver under the grid schedules at equal state memory, against the
// model's prediction (docs/grid.md): a stacked tanh RNN (examples/stacked_rnn), each layer's
// cell and cell_adjoint timed alone first, the prediction being the sum of those times over
// the stream's computes and reverses (plus the driver's one extra cell for the seed).
// Usage: cairn_bench_grid_driver_time [--full]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_driver.hpp"
#include "cairn/grid_schedules.hpp"
#include "stacked_rnn/stacked_rnn.hpp"

namespace {

using State = stacked_rnn::State;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds per call of cell() and cell_adjoint() of every layer, each timed alone.
struct CallTimes {
  std::vector<double> cell, adjoint;
};

CallTimes time_calls(stacked_rnn::Model& model, cairn::GridProblem<State>& p) {
  CallTimes times;
  const std::int64_t L = model.shape().depth();
  for (std::int64_t l = 0; l < L; ++l) {
    const State& proto = p.prototypes[static_cast<std::size_t>(l)];
    const State below = l == 0 ? p.inputs[0] : p.prototypes[static_cast<std::size_t>(l) - 1];
    State left = proto, out = proto, out_adjoint = proto, left_adjoint = proto,
          below_adjoint = below;
    for (double& v : left) v = 0.1;
    for (double& v : out_adjoint) v = 0.01;
    const int reps = 2000;
    Clock::time_point start = Clock::now();
    for (int k = 0; k < reps; ++k) p.cell(k % model.steps(), l, left, below, out);
    times.cell.push_back(seconds_since(start) / reps);
    start = Clock::now();
    for (int k = 0; k < reps; ++k) {
      p.cell_adjoint(k % model.steps(), l, left, below, out_adjoint, left_adjoint, below_adjoint);
    }
    times.adjoint.push_back(seconds_since(start) / reps);
  }
  return times;
}

double predicted(const std::vector<cairn::GridAction>& stream, const CallTimes& times) {
  double s = times.cell.back();  // the seed's extra evaluation of the last cell
  for (const cairn::GridAction& a : stream) {
    const auto l = static_cast<std::size_t>(a.layer);
    if (a.kind == cairn::GridActionKind::compute) s += times.cell[l];
    if (a.kind == cairn::GridActionKind::reverse) s += times.adjoint[l];
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const bool full = argc > 1 && std::strcmp(argv[1], "--full") == 0;
  struct Config {
    std::int64_t T, L, width;
  };
  std::vector<Config> configs = {{1000, 4, 32}, {1000, 16, 16}, {4000, 4, 16}};
  if (full) configs.insert(configs.end(), {{10000, 4, 32}, {10000, 64, 8}, {2000, 64, 32}});
  std::printf("%6s %3s %3s %-26s %9s %9s %9s %9s %9s\n", "T", "L", "n", "schedule", "peak MB",
              "computes", "time s", "vs s-all", "meas/pred");
  for (const Config& k : configs) {
    std::vector<std::int64_t> widths(static_cast<std::size_t>(k.L) + 1, k.width);
    stacked_rnn::Model model(k.T, widths, 7);
    const cairn::GridShape shape = model.shape();
    std::vector<double> gradient(model.params().size(), 0.0);
    cairn::GridProblem<State> problem = model.problem(gradient);
    const CallTimes times = time_calls(model, problem);
    cairn::GridDriver<State> driver(shape, problem);

    // Equal memory: 1.5 times the least peak of the blocked scheme over power-of-two sizes.
    std::uint64_t least_blocked = ~std::uint64_t{0};
    for (std::int64_t b : {1, 2, 4, 8, 16, 32, 64, 128, 256}) {
      for (std::int64_t bl = 1; bl <= shape.depth(); bl *= 2) {
        if (b <= k.T) {
          least_blocked =
              std::min(least_blocked, cairn::blocked_costs(shape, b, bl).peak_state_bytes);
        }
      }
    }
    const std::uint64_t budget = least_blocked + least_blocked / 2;

    struct Entry {
      std::string name;
      std::vector<cairn::GridAction> stream;
    };
    std::vector<Entry> entries;
    entries.push_back({"store-all", cairn::grid_store_all(shape)});
    const cairn::BlockedCosts b = cairn::optimal_block_sizes(shape, budget);
    entries.push_back(
        {"blocked " + std::to_string(b.block_steps) + "x" + std::to_string(b.block_layers),
         cairn::grid_blocked(shape, b.block_steps, b.block_layers)});
    for (const cairn::GridNesting nesting :
         {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
      try {
        const cairn::NestedCosts c = cairn::optimal_nested_slots(shape, nesting, budget);
        entries.push_back({std::string(nesting == cairn::GridNesting::time_outer ? "nested t-o "
                                                                                 : "nested d-o ") +
                               std::to_string(c.outer_slots) + "/" + std::to_string(c.inner_slots),
                           cairn::grid_nested(shape, nesting, c.outer_slots, c.inner_slots)});
      } catch (const std::invalid_argument&) {
      }
    }
    double store_all_time = 0;
    for (const Entry& e : entries) {
      const cairn::GridCosts costs = cairn::check_grid(shape, e.stream);
      double best = 1e300;
      for (int rep = 0; rep < 3; ++rep) {
        std::fill(gradient.begin(), gradient.end(), 0.0);
        driver.run(e.stream);
        best = std::min(best, driver.statistics().seconds);
      }
      if (e.name == "store-all") store_all_time = best;
      std::printf(
          "%6lld %3lld %3lld %-26s %9.3f %9lld %9.4f %9.3f %9.3f\n", static_cast<long long>(k.T),
          static_cast<long long>(k.L), static_cast<long long>(k.width), e.name.c_str(),
          static_cast<double>(costs.peak_state_bytes) / 1e6, static_cast<long long>(costs.computes),
          best, best / store_all_time, best / predicted(e.stream, times));
    }
  }
  return 0;
}
