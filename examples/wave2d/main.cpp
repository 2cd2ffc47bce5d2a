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

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "front_end.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Velocity gradient of a 2-D acoustic wave misfit (full-waveform inversion) by the exact "
      "discrete adjoint through a Cairn checkpointing schedule"};
  wave2d::CommonOptions o;
  bool taylor = false;
  const wave2d::LevelHelp help{
      "checkpoint slots c in RAM (revolve; multilevel's first level); default 20",
      "multilevel: price of one store on the unlimited second level, in forward steps (default "
      "1)",
      "multilevel: price of one restore from the second level, in forward steps (default 1)"};
  wave2d::add_problem_options(app, o, help);
  wave2d::add_output_options(app, o, help);
  app.add_flag(
      "--taylor", taylor,
      "Taylor test: print |J(c + e dc) - J(c) - e <g, dc>| and its rate for 5 halvings of e");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.schedule != "multilevel" && (o.write_option->count() > 0 || o.read_option->count() > 0)) {
    std::fprintf(stderr, "wave2d: --write-cost and --read-cost need --schedule multilevel\n");
    return 2;
  }
  if (o.grid > 0) o.cfg.nx = o.cfg.ny = o.grid;
  wave2d::Config& cfg = o.cfg;

  // Everything that can be refused because of the options (the grid, the CFL condition) is
  // checked here, before any work: an std::invalid_argument from it exits with status 2.
  wave2d::Models models;
  try {
    models = wave2d::make_models(cfg);
  } catch (const std::invalid_argument& e) {
    return wave2d::refuse("wave2d", e);
  }
  wave2d::Wave2d* const problem = models.problem.get();
  const std::vector<double>& background = models.background;

  try {
    const std::int64_t T = cfg.steps;
    const std::size_t n = problem->points();
    const std::size_t state_bytes = 2 * n * sizeof(double);
    const std::vector<double> observed = models.truth->traces();
    const wave2d::Misfit misfit(*problem, observed);

    const wave2d::Plan plan = wave2d::make_plan(o);
    cairn::Schedule* const schedule = plan.schedule.get();
    const std::int64_t ram_slots = plan.level0_slots;
    cairn::MemoryStorage ram(ram_slots, state_bytes);
    std::vector<cairn::Storage*> levels{&ram};
    std::unique_ptr<cairn::MemoryStorage> second;
    if (plan.level1_slots > 0) {
      // Level 1 stands in for pinned host memory below a device (the GPU build): here RAM too.
      second = std::make_unique<cairn::MemoryStorage>(plan.level1_slots, state_bytes);
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

    if (!o.gradient_file.empty() && !wave2d::write_gradient("wave2d", o.gradient_file, gradient)) {
      return 1;
    }

    const double f = seconds_step / static_cast<double>(s.step_calls);
    const double a = seconds_adjoint / static_cast<double>(s.adjoint_calls);
    const double predicted = wave2d::predicted_ratio(s, T, f, a);

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
    if (!o.quiet) {
      std::printf(
          "wave2d: %lld x %lld points, h = %g m, T = %lld steps, dt = %.4g s (CFL limit %.4g s), "
          "%zu receivers, schedule %s with %lld slots%s\n",
          static_cast<long long>(cfg.nx), static_cast<long long>(cfg.ny), cfg.h,
          static_cast<long long>(T), cfg.dt, wave2d::cfl_limit(cfg.h, cfg.c0 + cfg.anomaly),
          problem->receivers().size(), schedule->name(), static_cast<long long>(ram_slots),
          second ? (" + " + std::to_string(second->slots()) + " on level 1").c_str() : "");
      std::printf("J = %.17g, |dJ/dc| = %.17g\n", J, std::sqrt(dot(gradient, gradient)));
      wave2d::print_counts(s, T, checkpoint_slots, state_bytes);
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
      j["write_cost"] = o.write_cost;
      j["read_cost"] = o.read_cost;
    }
    j["J"] = J;
    wave2d::add_counts(j, s, checkpoint_slots, state_bytes);
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
