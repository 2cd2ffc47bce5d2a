// Full-waveform-inversion gradient of a 2-D acoustic wave run: the gradient of the receiver misfit
// J(c) = 1/2 sum_n sum_r (u^n_r(c) - d_obs^n_r)^2 with respect to the velocity model c, at the
// background model, by the exact discrete adjoint, with checkpoints chosen by Cairn
// (docs/wave2d.md).
//
//   wave2d [--nx NX] [--ny NY | --grid N] [--steps T] [--dt DT] [--frequency F] [--sponge W]
//          [--schedule revolve|store-all|multilevel] [--slots C] [--write-cost W --read-cost R]
//          [--gradient FILE] [--taylor] [--quiet]
//
// Prints a short summary (not with --quiet), then one JSON line with J and the run's counts and
// timings. Exit status 2 for bad options (the CFL condition included), 1 for other failures.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "wave2d.hpp"

namespace {

using wave2d::State;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

// Level-1 slots the multilevel stream uses (its highest slot index + 1): an unlimited level is
// allocated only as large as the plan needs.
std::int64_t slots_used(cairn::Schedule& schedule, std::int64_t level) {
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Velocity gradient of a 2-D acoustic wave misfit (full-waveform inversion) by the exact "
      "discrete adjoint through a Cairn checkpointing schedule"};
  wave2d::Config cfg;
  std::int64_t grid = 0;
  std::int64_t slots = 20;
  std::string schedule_name = "revolve";
  std::string gradient_file;
  double write_cost = 1;
  double read_cost = 1;
  bool taylor = false;
  bool quiet = false;
  const auto at_least = [](std::int64_t lo) {
    return CLI::Range(lo, std::numeric_limits<std::int64_t>::max());
  };
  auto* nx_option =
      app.add_option("--nx", cfg.nx, "grid points in x (default 128)")->check(at_least(8));
  auto* ny_option =
      app.add_option("--ny", cfg.ny, "grid points in y (default 128)")->check(at_least(8));
  app.add_option("--grid,-N", grid, "grid points in x and in y (sets --nx and --ny)")
      ->check(at_least(8))
      ->excludes(nx_option)
      ->excludes(ny_option);
  app.add_option("--steps,-T", cfg.steps, "time steps T (default 600)")->check(CLI::PositiveNumber);
  app.add_option(
         "--dt", cfg.dt,
         "time step in s (default: half the CFL limit h / (c_max sqrt 2) of the true model)")
      ->check(CLI::PositiveNumber);
  app.add_option("--spacing", cfg.h, "grid spacing h in m (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--frequency", cfg.frequency, "Ricker peak frequency in Hz (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sponge", cfg.sponge, "width of the absorbing band in points (default 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--schedule", schedule_name, "revolve (default), store-all or multilevel")
      ->check(CLI::IsMember({"revolve", "store-all", "multilevel"}));
  app.add_option("--slots,-c", slots,
                 "checkpoint slots c in RAM (revolve; multilevel's first level); default 20")
      ->check(CLI::PositiveNumber);
  auto* write_option =
      app.add_option("--write-cost", write_cost,
                     "multilevel: price of one store on the unlimited second level, in forward "
                     "steps (default 1)")
          ->check(CLI::NonNegativeNumber);
  auto* read_option =
      app.add_option("--read-cost", read_cost,
                     "multilevel: price of one restore from the second level, in forward steps "
                     "(default 1)")
          ->check(CLI::NonNegativeNumber);
  app.add_option("--gradient", gradient_file, "write dJ/dc here, one value per line (%.17g)");
  app.add_flag(
      "--taylor", taylor,
      "Taylor test: print |J(c + e dc) - J(c) - e <g, dc>| and its rate for 5 halvings of e");
  app.add_flag("--quiet,-q", quiet, "print the JSON line only");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (schedule_name != "multilevel" && (write_option->count() > 0 || read_option->count() > 0)) {
    std::fprintf(stderr, "wave2d: --write-cost and --read-cost need --schedule multilevel\n");
    return 2;
  }
  if (grid > 0) cfg.nx = cfg.ny = grid;

  // Everything that can be refused because of the options (the grid, the CFL condition) is
  // checked here, before any work: an std::invalid_argument from it exits with status 2.
  std::unique_ptr<wave2d::Wave2d> truth, problem;
  std::vector<double> background;
  try {
    if (cfg.nx < 2 * cfg.sponge + 8 || cfg.ny < 2 * cfg.sponge + 8) {
      throw std::invalid_argument("--nx and --ny must be >= 2 --sponge + 8 = " +
                                  std::to_string(2 * cfg.sponge + 8));
    }
    std::vector<double> c_true = wave2d::true_velocity(cfg);
    if (cfg.dt == 0) {
      cfg.dt = 0.5 * wave2d::cfl_limit(cfg.h, *std::max_element(c_true.begin(), c_true.end()));
    }
    truth = std::make_unique<wave2d::Wave2d>(cfg, std::move(c_true));
    background = wave2d::background_velocity(cfg);
    problem = std::make_unique<wave2d::Wave2d>(cfg, background);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    const std::string prefix = "wave2d: ";
    std::fprintf(
        stderr, "wave2d: %s\n",
        (message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message)
            .c_str());
    return 2;
  }

  try {
    const std::int64_t T = cfg.steps;
    const std::size_t n = problem->points();
    const std::size_t state_bytes = 2 * n * sizeof(double);
    const std::vector<double> observed = truth->traces();
    const wave2d::Misfit misfit(*problem, observed);

    std::unique_ptr<cairn::Schedule> schedule;
    std::unique_ptr<cairn::MemoryStorage> ram, second;
    std::vector<cairn::Storage*> levels;
    std::int64_t ram_slots = 0, second_slots = 0;
    if (schedule_name == "revolve") {
      schedule = std::make_unique<cairn::Revolve>(T, slots);
      ram_slots = std::min(slots, T);
    } else if (schedule_name == "store-all") {
      auto all = std::make_unique<cairn::StoreAll>(T);
      ram_slots = all->slots();
      schedule = std::move(all);
    } else {
      schedule = std::make_unique<cairn::MultilevelRevolve>(
          T, std::vector<cairn::StorageLevel>{
                 cairn::StorageLevel{slots, 0, 0},
                 cairn::StorageLevel{cairn::unlimited_slots, write_cost, read_cost}});
      ram_slots = std::min(slots, T);
      second_slots = slots_used(*schedule, 1);
    }
    ram = std::make_unique<cairn::MemoryStorage>(ram_slots, state_bytes);
    levels.push_back(ram.get());
    if (schedule_name == "multilevel") {
      // Level 1 stands in for pinned host memory below a device (the GPU build): here RAM too.
      second = std::make_unique<cairn::MemoryStorage>(std::max<std::int64_t>(second_slots, 1),
                                                      state_bytes);
      levels.push_back(second.get());
    }

    std::vector<double> gradient(n, 0.0);
    std::vector<double> scratch(n, 0.0);
    double J = 0;
    double seconds_step = 0, seconds_adjoint = 0;
    cairn::DriverOptions options;
    options.measure_time = true;
    cairn::Driver<State> driver(
        *schedule, levels,
        [&](std::int64_t i, State& x) {
          const auto start = Clock::now();
          problem->step(i, x);
          seconds_step += seconds_since(start);
        },
        [&](std::int64_t i, const State& x, State& lambda) {
          const auto start = Clock::now();
          problem->adjoint_step(i, x, lambda, gradient, scratch);
          if (i >= 1) misfit.add_residual(i, x, lambda, J);
          seconds_adjoint += seconds_since(start);
        },
        options);
    driver.run(problem->initial_state(), [&](const State& xT) { return misfit.terminal(xT, J); });
    const cairn::DriverStatistics& s = driver.statistics();

    if (!gradient_file.empty()) {
      std::FILE* out = std::fopen(gradient_file.c_str(), "w");
      if (out == nullptr) {
        std::fprintf(stderr, "wave2d: cannot write %s\n", gradient_file.c_str());
        return 1;
      }
      for (const double g : gradient) std::fprintf(out, "%.17g\n", g);
      if (std::fclose(out) != 0) {
        std::fprintf(stderr, "wave2d: writing %s failed\n", gradient_file.c_str());
        return 1;
      }
    }

    // The schedule's time against store-all's, predicted from this run's mean step time f and
    // adjoint time a: ((t + 1) f + T a) / (T (f + a)), t + 1 the step calls.
    const double f = seconds_step / static_cast<double>(s.step_calls);
    const double a = seconds_adjoint / static_cast<double>(s.adjoint_calls);
    const double predicted = (static_cast<double>(s.step_calls) * f + static_cast<double>(T) * a) /
                             (static_cast<double>(T) * (f + a));

    std::vector<double> eps, remainders, rates;
    double J_plain = 0;
    if (taylor) {
      // J by plain forward runs at c + e dc, against the first-order model J(c) + e <g, dc>.
      const std::vector<double> dc = wave2d::taylor_direction(cfg);
      J_plain = misfit.value();
      const double slope = dot(gradient, dc);
      for (int k = 0; k < 5; ++k) {
        const double e = 0.1 / std::pow(2.0, k);
        std::vector<double> c = background;
        for (std::size_t p = 0; p < n; ++p) c[p] += e * dc[p];
        const wave2d::Wave2d perturbed(cfg, std::move(c));
        const double Je = wave2d::Misfit(perturbed, observed).value();
        eps.push_back(e);
        remainders.push_back(std::abs(Je - J_plain - e * slope));
        if (k > 0) rates.push_back(std::log2(remainders[k - 1] / remainders[k]));
      }
    }

    const std::int64_t checkpoint_slots = ram_slots + (second ? second->slots() : 0);
    if (!quiet) {
      std::printf(
          "wave2d: %lld x %lld points, h = %g m, T = %lld steps, dt = %.4g s (CFL limit %.4g s), "
          "%zu receivers, schedule %s with %lld slots%s\n",
          static_cast<long long>(cfg.nx), static_cast<long long>(cfg.ny), cfg.h,
          static_cast<long long>(T), cfg.dt, wave2d::cfl_limit(cfg.h, cfg.c0 + cfg.anomaly),
          problem->receivers().size(), schedule->name(), static_cast<long long>(ram_slots),
          second ? (" + " + std::to_string(second->slots()) + " on level 1").c_str() : "");
      std::printf("J = %.17g, |dJ/dc| = %.17g\n", J, std::sqrt(dot(gradient, gradient)));
      std::printf(
          "%lld step calls (%.2f per step), %lld adjoint calls, %lld stores, %lld restores, "
          "%.1f MB of checkpoints\n",
          static_cast<long long>(s.step_calls),
          static_cast<double>(s.step_calls) / static_cast<double>(T),
          static_cast<long long>(s.adjoint_calls), static_cast<long long>(s.stores),
          static_cast<long long>(s.restores),
          static_cast<double>(checkpoint_slots) * static_cast<double>(state_bytes) / 1e6);
      std::printf(
          "%.3f s: step %.3g ms, adjoint %.3g ms each; predicted time against store-all %.3f\n",
          s.seconds_total, f * 1e3, a * 1e3, predicted);
      if (taylor) {
        std::printf("Taylor test, J(c) = %.17g by a plain forward run:\n", J_plain);
        for (std::size_t k = 0; k < eps.size(); ++k) {
          std::printf("  e = %-8g |J(c + e dc) - J(c) - e <g, dc>| = %.6e", eps[k], remainders[k]);
          if (k > 0) std::printf("  rate %.4f", rates[k - 1]);
          std::printf("\n");
        }
      }
    }

    nlohmann::ordered_json j;
    j["schedule"] = schedule->name();
    j["nx"] = cfg.nx;
    j["ny"] = cfg.ny;
    j["steps"] = T;
    j["dt"] = cfg.dt;
    j["receivers"] = problem->receivers().size();
    j["slots"] = ram_slots;
    if (second) {
      j["level1_slots"] = second->slots();
      j["write_cost"] = write_cost;
      j["read_cost"] = read_cost;
    }
    j["J"] = J;
    j["step_calls"] = s.step_calls;
    j["adjoint_calls"] = s.adjoint_calls;
    j["stores"] = s.stores;
    j["restores"] = s.restores;
    j["peak_slots"] = s.peak_slots;
    j["state_bytes"] = state_bytes;
    j["checkpoint_bytes"] =
        static_cast<std::int64_t>(checkpoint_slots) * static_cast<std::int64_t>(state_bytes);
    j["bytes_moved"] = s.bytes_moved();
    j["seconds"] = s.seconds_total;
    j["seconds_step"] = f;
    j["seconds_adjoint"] = a;
    j["seconds_storage"] = s.seconds_storage;
    j["predicted_ratio_to_store_all"] = predicted;
    if (taylor) {
      j["taylor"] = {
          {"J_plain", J_plain}, {"eps", eps}, {"remainders", remainders}, {"rates", rates}};
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wave2d: %s\n", e.what());
    return 1;
  }
}
