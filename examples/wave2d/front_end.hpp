// What the CPU (main.cpp) and CUDA (wave2d_cuda.cu) builds of wave2d share outside the scheme:
// their common options, the checks that refuse bad ones, the models, the schedule with its slot
// counts, the predicted time ratio, and the parts of the report both print. Host code only.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/driver.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "wave2d.hpp"

namespace wave2d {

/// The options both builds take.
struct CommonOptions {
  Config cfg;
  std::int64_t grid = 0;
  std::int64_t slots = 20;
  std::string schedule = "revolve";
  std::string gradient_file;
  double write_cost = 1;
  double read_cost = 1;
  bool quiet = false;
  CLI::Option* write_option = nullptr;
  CLI::Option* read_option = nullptr;
};

/// The help texts that differ between the builds: where the first level's slots live, and the
/// second level's prices.
struct LevelHelp {
  const char* slots;
  const char* write_cost;
  const char* read_cost;
};

/// The grid, time and schedule options (up to --slots).
inline void add_problem_options(CLI::App& app, CommonOptions& o, const LevelHelp& help) {
  const auto at_least = [](std::int64_t lo) {
    return CLI::Range(lo, std::numeric_limits<std::int64_t>::max());
  };
  auto* nx_option =
      app.add_option("--nx", o.cfg.nx, "grid points in x (default 128)")->check(at_least(8));
  auto* ny_option =
      app.add_option("--ny", o.cfg.ny, "grid points in y (default 128)")->check(at_least(8));
  app.add_option("--grid,-N", o.grid, "grid points in x and in y (sets --nx and --ny)")
      ->check(at_least(8))
      ->excludes(nx_option)
      ->excludes(ny_option);
  app.add_option("--steps,-T", o.cfg.steps, "time steps T (default 600)")
      ->check(CLI::PositiveNumber);
  app.add_option(
         "--dt", o.cfg.dt,
         "time step in s (default: half the CFL limit h / (c_max sqrt 2) of the true model)")
      ->check(CLI::PositiveNumber);
  app.add_option("--spacing", o.cfg.h, "grid spacing h in m (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--frequency", o.cfg.frequency, "Ricker peak frequency in Hz (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sponge", o.cfg.sponge, "width of the absorbing band in points (default 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--schedule", o.schedule, "revolve (default), store-all or multilevel")
      ->check(CLI::IsMember({"revolve", "store-all", "multilevel"}));
  app.add_option("--slots,-c", o.slots, help.slots)->check(CLI::PositiveNumber);
}

/// The second level's prices, --gradient and --quiet.
inline void add_output_options(CLI::App& app, CommonOptions& o, const LevelHelp& help) {
  o.write_option =
      app.add_option("--write-cost", o.write_cost, help.write_cost)->check(CLI::NonNegativeNumber);
  o.read_option =
      app.add_option("--read-cost", o.read_cost, help.read_cost)->check(CLI::NonNegativeNumber);
  app.add_option("--gradient", o.gradient_file, "write dJ/dc here, one value per line (%.17g)");
  app.add_flag("--quiet,-q", o.quiet, "print the JSON line only");
}

/// The true model (for the observed data) and the background model (where the gradient is
/// taken), after the checks that refuse bad options; fills cfg.dt when it was not given.
struct Models {
  std::unique_ptr<Wave2d> truth;
  std::unique_ptr<Wave2d> problem;
  std::vector<double> background;
};

/// Throws std::invalid_argument for a grid too small for the sponge, a grid above `max_extent`
/// points per axis (`max_text` says the bound), or a time step beyond the CFL limit.
inline Models make_models(Config& cfg,
                          std::int64_t max_extent = std::numeric_limits<std::int64_t>::max(),
                          const char* max_text = "") {
  if (cfg.nx < 2 * cfg.sponge + 8 || cfg.ny < 2 * cfg.sponge + 8) {
    throw std::invalid_argument("--nx and --ny must be >= 2 --sponge + 8 = " +
                                std::to_string(2 * cfg.sponge + 8));
  }
  if (cfg.nx > max_extent || cfg.ny > max_extent) {
    throw std::invalid_argument(std::string("--nx and --ny must be below ") + max_text);
  }
  std::vector<double> c_true = true_velocity(cfg);
  if (cfg.dt == 0) cfg.dt = 0.5 * cfl_limit(cfg.h, *std::max_element(c_true.begin(), c_true.end()));
  Models m;
  m.truth = std::make_unique<Wave2d>(cfg, std::move(c_true));
  m.background = background_velocity(cfg);
  m.problem = std::make_unique<Wave2d>(cfg, m.background);
  return m;
}

/// Prints a refused option as "<program>: <why>" (without wave2d.hpp's own "wave2d: " prefix);
/// returns the exit status for bad options, 2.
inline int refuse(const char* program, const std::invalid_argument& e) {
  const std::string message = e.what();
  const std::string prefix = "wave2d: ";
  std::fprintf(
      stderr, "%s: %s\n", program,
      (message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message)
          .c_str());
  return 2;
}

// Level-1 slots the multilevel stream uses (its highest slot index + 1): an unlimited level is
// allocated only as large as the plan needs.
inline std::int64_t slots_used(cairn::Schedule& schedule, std::int64_t level) {
  std::int64_t used = 0;
  std::vector<cairn::Action> batch(256);
  for (bool done = false; !done;) {
    const std::size_t n = schedule.next_actions(batch.data(), batch.size());
    for (std::size_t k = 0; k < n; ++k) {
      const cairn::Action& a = batch[k];
      if (a.kind == cairn::ActionKind::end) done = true;
      if (a.kind == cairn::ActionKind::store && a.level == level) used = std::max(used, a.slot + 1);
    }
    if (n == 0) done = true;
  }
  schedule.reset();
  return used;
}

/// The schedule named by --schedule and the slots each level needs (level 1 only for
/// multilevel, at least 1).
struct Plan {
  std::unique_ptr<cairn::Schedule> schedule;
  std::int64_t level0_slots = 0;
  std::int64_t level1_slots = 0;
};

/// `level1_limit`: the second level's slot count (unlimited_slots: as many as the plan wants).
inline Plan make_plan(const CommonOptions& o, std::int64_t level1_limit = cairn::unlimited_slots) {
  const std::int64_t T = o.cfg.steps;
  Plan p;
  if (o.schedule == "revolve") {
    p.schedule = std::make_unique<cairn::Revolve>(T, o.slots);
    p.level0_slots = std::min(o.slots, T);
  } else if (o.schedule == "store-all") {
    auto all = std::make_unique<cairn::StoreAll>(T);
    p.level0_slots = all->slots();
    p.schedule = std::move(all);
  } else {
    p.schedule = std::make_unique<cairn::MultilevelRevolve>(
        T, std::vector<cairn::StorageLevel>{
               cairn::StorageLevel{o.slots, 0, 0},
               cairn::StorageLevel{level1_limit, o.write_cost, o.read_cost}});
    p.level0_slots = std::min(o.slots, T);
    p.level1_slots = std::max<std::int64_t>(slots_used(*p.schedule, 1), 1);
  }
  return p;
}

/// The schedule's time against store-all's, predicted from the mean step time f and adjoint time
/// a: ((t + 1) f + T a) / (T (f + a)), t + 1 the step calls.
inline double predicted_ratio(const cairn::DriverStatistics& s, std::int64_t T, double f,
                              double a) {
  return (static_cast<double>(s.step_calls) * f + static_cast<double>(T) * a) /
         (static_cast<double>(T) * (f + a));
}

/// Writes the gradient, one %.17g value per line; false (and a message) if it cannot.
inline bool write_gradient(const char* program, const std::string& path,
                           const std::vector<double>& gradient) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "%s: cannot write %s\n", program, path.c_str());
    return false;
  }
  for (const double g : gradient) std::fprintf(out, "%.17g\n", g);
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "%s: writing %s failed\n", program, path.c_str());
    return false;
  }
  return true;
}

/// The summary's line of counts.
inline void print_counts(const cairn::DriverStatistics& s, std::int64_t T,
                         std::int64_t checkpoint_slots, std::size_t state_bytes) {
  std::printf(
      "%lld step calls (%.2f per step), %lld adjoint calls, %lld stores, %lld restores, "
      "%.1f MB of checkpoints\n",
      static_cast<long long>(s.step_calls),
      static_cast<double>(s.step_calls) / static_cast<double>(T),
      static_cast<long long>(s.adjoint_calls), static_cast<long long>(s.stores),
      static_cast<long long>(s.restores),
      static_cast<double>(checkpoint_slots) * static_cast<double>(state_bytes) / 1e6);
}

/// The JSON line's counts, after J: calls, copies, slots and bytes.
inline void add_counts(nlohmann::ordered_json& j, const cairn::DriverStatistics& s,
                       std::int64_t checkpoint_slots, std::size_t state_bytes) {
  j["step_calls"] = s.step_calls;
  j["adjoint_calls"] = s.adjoint_calls;
  j["stores"] = s.stores;
  j["restores"] = s.restores;
  j["peak_slots"] = s.peak_slots;
  j["state_bytes"] = state_bytes;
  j["checkpoint_bytes"] =
      static_cast<std::int64_t>(checkpoint_slots) * static_cast<std::int64_t>(state_bytes);
  j["bytes_moved"] = s.bytes_moved();
}

}  // namespace wave2d
