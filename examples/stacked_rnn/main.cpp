// The gradient of a stacked tanh RNN's loss with respect to all its weights (W_l, U_l, b_l),
// through GridDriver under three grid schedules: store-all, the blocked scheme at the optimal
// block sizes for a memory budget, and nested Revolve in both nestings (docs/grid_driver.md).
//
//   stacked_rnn [--steps T] [--layers L] [--width N | --widths N1,N2,...] [--input-width M]
//               [--budget F] [--seed S]
//
// Exit status 0 only if every schedule's gradient is bitwise store-all's and every Taylor rate
// is within [1.8, 2.2]; 1 otherwise, 2 for bad options.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_driver.hpp"
#include "cairn/grid_schedules.hpp"
#include "stacked_rnn.hpp"

namespace {

struct Run {
  std::string name;
  std::vector<double> gradient;
  cairn::GridDriverStatistics statistics;
};

Run run(stacked_rnn::Model& model, const std::string& name,
        const std::vector<cairn::GridAction>& stream) {
  Run r{name, std::vector<double>(model.params().size(), 0.0), {}};
  cairn::GridDriver<stacked_rnn::State> driver(model.shape(), model.problem(r.gradient));
  driver.run(stream);
  r.statistics = driver.statistics();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Gradient of a stacked tanh RNN's loss through Cairn's grid driver"};
  std::int64_t steps = 60, layers = 5, width = 8, input_width = 4;
  std::vector<std::int64_t> widths;
  double budget = 0.25;
  std::uint64_t seed = 1;
  app.add_option("--steps", steps, "time steps T")->check(CLI::PositiveNumber);
  app.add_option("--layers", layers, "RNN layers L (the loss layer comes on top)")
      ->check(CLI::PositiveNumber);
  app.add_option("--width", width, "width of every layer")->check(CLI::PositiveNumber);
  app.add_option("--widths", widths, "widths of the layers, one each (overrides --width/--layers)")
      ->delimiter(',');
  app.add_option("--input-width", input_width, "width of the input x[t]")
      ->check(CLI::PositiveNumber);
  app.add_option("--budget", budget,
                 "state memory budget of blocked and nested, as a fraction of store-all's peak")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "random weights, inputs and targets");
  CLI11_PARSE(app, argc, argv);
  if (widths.empty()) widths.assign(static_cast<std::size_t>(layers), width);
  for (std::int64_t w : widths) {
    if (w < 1) {
      std::fprintf(stderr, "stacked_rnn: widths must be >= 1\n");
      return 2;
    }
  }
  widths.insert(widths.begin(), input_width);

  try {
    stacked_rnn::Model model(steps, widths, seed);
    const cairn::GridShape shape = model.shape();
    const std::vector<cairn::GridAction> store_all = cairn::grid_store_all(shape);
    const cairn::GridCosts store_all_costs = cairn::check_grid(shape, store_all);
    const auto bytes =
        static_cast<std::uint64_t>(budget * static_cast<double>(store_all_costs.peak_state_bytes));
    std::printf("grid: T = %lld steps, %lld RNN layers + the loss layer, %zu weights\n",
                static_cast<long long>(shape.steps()), static_cast<long long>(shape.depth() - 1),
                model.params().size());
    std::printf("budget: %llu state bytes (%.2f of store-all's peak %llu)\n",
                static_cast<unsigned long long>(bytes), budget,
                static_cast<unsigned long long>(store_all_costs.peak_state_bytes));

    std::vector<Run> runs;
    runs.push_back(run(model, "store-all", store_all));
    const cairn::BlockedCosts blocked = cairn::optimal_block_sizes(shape, bytes);
    runs.push_back(run(model,
                       "blocked " + std::to_string(blocked.block_steps) + "x" +
                           std::to_string(blocked.block_layers),
                       cairn::grid_blocked(shape, blocked.block_steps, blocked.block_layers)));
    for (cairn::GridNesting nesting :
         {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
      const std::string what =
          nesting == cairn::GridNesting::time_outer ? "time-outer" : "depth-outer";
      cairn::NestedCosts nested;
      try {
        nested = cairn::optimal_nested_slots(shape, nesting, bytes);
      } catch (const std::invalid_argument& e) {
        // Nested Revolve's least peak can exceed the blocked scheme's: say so, run the others.
        std::printf("nested %s skipped: %s\n", what.c_str(), e.what());
        continue;
      }
      runs.push_back(
          run(model,
              "nested " + what + " " + std::to_string(nested.outer_slots) + "/" +
                  std::to_string(nested.inner_slots),
              cairn::grid_nested(shape, nesting, nested.outer_slots, nested.inner_slots)));
    }

    bool ok = true;
    std::printf("%-26s %9s %9s %9s %11s %10s %s\n", "schedule", "computes", "recompute", "reverses",
                "peak states", "seconds", "gradient");
    for (const Run& r : runs) {
      const bool same = std::memcmp(r.gradient.data(), runs[0].gradient.data(),
                                    r.gradient.size() * sizeof(double)) == 0;
      ok = ok && same;
      std::printf("%-26s %9lld %9lld %9lld %11lld %10.6f %s\n", r.name.c_str(),
                  static_cast<long long>(r.statistics.computes),
                  static_cast<long long>(r.statistics.computes - (shape.cells() - 1)),
                  static_cast<long long>(r.statistics.reverses),
                  static_cast<long long>(r.statistics.peak_states), r.statistics.seconds,
                  same ? "bitwise equal to store-all's" : "DIFFERS from store-all's");
    }

    // Taylor test along a random direction: the remainder of the first-order expansion is
    // O(eps^2) exactly when the gradient is right.
    const std::vector<double> g = runs[0].gradient;
    std::vector<double>& p = model.params();
    const std::vector<double> p0 = p;
    std::mt19937_64 random(seed + 1);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> d(p.size());
    double gd = 0;
    for (std::size_t k = 0; k < d.size(); ++k) {
      d[k] = uniform(random);
      gd += g[k] * d[k];
    }
    const double J0 = model.loss();
    std::printf("J = %.17g, g.d = %.17g\n", J0, gd);
    double eps = 1e-3, previous = 0;
    for (int k = 0; k < 5; ++k, eps /= 2) {
      for (std::size_t i = 0; i < p.size(); ++i) p[i] = p0[i] + eps * d[i];
      const double remainder = std::fabs(model.loss() - J0 - eps * gd);
      if (k == 0) {
        std::printf("taylor: eps = %.5e  remainder = %.6e\n", eps, remainder);
      } else {
        const double rate = std::log2(previous / remainder);
        const bool good = rate >= 1.8 && rate <= 2.2;
        ok = ok && good;
        std::printf("taylor: eps = %.5e  remainder = %.6e  rate = %.4f%s\n", eps, remainder, rate,
                    good ? "" : "  (outside [1.8, 2.2])");
      }
      previous = remainder;
    }
    p = p0;
    std::printf("%s\n",
                ok ? "OK: gradients bitwise equal, Taylor rates 2" : "FAILED: see the lines above");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stacked_rnn: %s\n", e.what());
    return 1;
  }
}
