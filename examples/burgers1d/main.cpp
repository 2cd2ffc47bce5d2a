// The gradient of J = 0.5 * sum(x_T^2) * dx with respect to the initial state of a 1-D viscous
// Burgers run, by the discrete adjoint, with checkpoints chosen by Cairn (README, docs/driver.md).
//
//   burgers1d [--steps T] [--grid N] [--slots C] [--schedule revolve|store-all] [--gradient FILE]
//             [--disk-slots D [--disk-path P] [--write-cost W] [--read-cost R] [--disk-in-ram]
//              [--sync-disk] [--staging-buffers K]] [--step-delay-us U]
//             [--adaptive-dt] [--online --end-time E]
//
// With --disk-slots, checkpoints spill to an HDF5 file (level 1) behind an AsyncStorage, and the
// schedule is MultilevelRevolve over C RAM and D disk slots (docs/multilevel.md).
//
// Prints a short summary, then one JSON line with J and the run's counts and timings.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "burgers.hpp"
#include "cairn/async_storage.hpp"
#include "cairn/binomial.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#if CAIRN_EXAMPLE_HAS_HDF5
#include "cairn/hdf5_storage.hpp"
#endif

namespace {

using State = std::vector<double>;

void draw_progress(const cairn::DriverProgress& p) {
  const double done = p.steps > 0 ? static_cast<double>(p.steps_reversed) / p.steps : 1.0;
  const int width = 40;
  const int filled = static_cast<int>(done * width + 0.5);
  std::fprintf(stderr, "\r  adjoint [%.*s%*s] %3d%%", filled,
               "########################################", width - filled, "",
               static_cast<int>(done * 100 + 0.5));
  if (p.phase == cairn::DriverProgress::Phase::done) std::fputc('\n', stderr);
  std::fflush(stderr);
}

// Busy work standing in for a costlier solver step (a sleep would free the core for the I/O
// thread and flatter the overlap).
void spin_for(double microseconds) {
  if (microseconds <= 0) return;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double, std::micro>(microseconds));
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Discrete adjoint of 1-D viscous Burgers through a Cairn checkpointing schedule"};
  std::int64_t steps = 20000;
  std::int64_t grid = 4000;
  std::int64_t slots = 30;
  std::string schedule_name = "revolve";
  std::string gradient_file;
  app.add_option("--steps,-T", steps, "time steps T (>= 1)")->check(CLI::PositiveNumber);
  app.add_option("--grid,-N", grid, "grid points N (>= 3)")
      ->check(CLI::Range(std::int64_t{3}, std::numeric_limits<std::int64_t>::max()));
  app.add_option("--slots,-c", slots, "checkpoint slots c (>= 1; Revolve only)")
      ->check(CLI::PositiveNumber);
  app.add_option("--schedule", schedule_name, "revolve or store-all")
      ->check(CLI::IsMember({"revolve", "store-all"}));
  app.add_option("--gradient", gradient_file, "write dJ/dx_0 here, one value per line");
  std::int64_t disk_slots = -1;
  std::string disk_path;
  double write_cost = 0;
  double read_cost = 0;
  bool disk_in_ram = false;
  bool sync_disk = false;
  double step_delay_us = 0;
  auto* disk_option =
      app.add_option("--disk-slots", disk_slots,
                     "add a disk level (HDF5) with D slots: MultilevelRevolve over C RAM "
                     "and D disk slots")
          ->check(CLI::NonNegativeNumber);
  app.add_option("--disk-path", disk_path,
                 "the HDF5 checkpoint file (default: a fresh file in the temp directory); removed "
                 "at the end")
      ->needs(disk_option);
  app.add_option("--write-cost", write_cost,
                 "planner's price of one disk write, in forward steps (default 0: the stream "
                 "is Revolve with C + D slots)")
      ->check(CLI::NonNegativeNumber)
      ->needs(disk_option);
  app.add_option("--read-cost", read_cost, "planner's price of one disk read, in forward steps")
      ->check(CLI::NonNegativeNumber)
      ->needs(disk_option);
  app.add_flag("--disk-in-ram", disk_in_ram,
               "back the disk level with RAM instead (the same stream; a baseline)")
      ->needs(disk_option);
  app.add_flag("--sync-disk", sync_disk, "write to HDF5 on the solver's thread (no AsyncStorage)")
      ->needs(disk_option);
  std::size_t staging_buffers = cairn::AsyncStorageOptions{}.staging_buffers;
  app.add_option("--staging-buffers", staging_buffers,
                 "AsyncStorage staging buffers, each one state (default 2)")
      ->check(CLI::PositiveNumber)
      ->needs(disk_option);
  app.add_option("--step-delay-us", step_delay_us,
                 "busy-wait this long in every step, emulating a costlier solver")
      ->check(CLI::NonNegativeNumber);
  bool adaptive = false;
  bool online = false;
  double end_time = 0;
  app.add_flag("--adaptive-dt", adaptive,
               "time step from the state's own CFL bound (held fixed in the adjoint)");
  auto* end_option =
      app.add_option("--end-time", end_time,
                     "with --online: run until this time; the steps it takes are not known in "
                     "advance (adaptive dt)")
          ->check(CLI::PositiveNumber);
  app.add_flag("--online", online,
               "OnlineRevolve with C slots: T is learnt when the end time is reached (implies "
               "--adaptive-dt; --steps is ignored)")
      ->needs(end_option);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    const burgers::Problem problem(grid);
    const State x0 = problem.initial_state();
    const std::size_t state_bytes = x0.size() * sizeof(double);
    std::unique_ptr<cairn::Schedule> schedule;
    std::int64_t storage_slots = 0;
    // Declared in this order so that the asynchronous wrapper goes before the file it writes to.
    std::unique_ptr<cairn::Storage> ram, disk, async_disk;
    std::vector<cairn::Storage*> levels;
    std::string disk_file;
    if (online) adaptive = true;
    if (online && (disk_slots >= 0 || schedule_name != "revolve")) {
      throw std::invalid_argument(
          "--online works with --slots only (no --disk-slots, no --schedule); compare with "
          "--adaptive-dt --steps T --schedule store-all");
    }
    if (online) {
      schedule = std::make_unique<cairn::OnlineRevolve>(slots);
      storage_slots = slots;
      ram = std::make_unique<cairn::MemoryStorage>(slots, state_bytes);
      levels = {ram.get()};
    } else if (disk_slots >= 0) {
      if (schedule_name != "revolve") {
        throw std::invalid_argument("--disk-slots works with the default schedule only");
      }
      schedule = std::make_unique<cairn::MultilevelRevolve>(
          steps,
          std::vector<cairn::StorageLevel>{cairn::StorageLevel{slots, 0, 0},
                                           cairn::StorageLevel{disk_slots, write_cost, read_cost}});
      storage_slots = slots + disk_slots;
      ram = std::make_unique<cairn::MemoryStorage>(slots, state_bytes);
      if (disk_in_ram) {
        disk = std::make_unique<cairn::MemoryStorage>(disk_slots, state_bytes);
      } else {
#if CAIRN_EXAMPLE_HAS_HDF5
        cairn::Hdf5StorageOptions hdf5_options;
        hdf5_options.path = disk_path;
        auto hdf5 = std::make_unique<cairn::Hdf5Storage>(disk_slots, state_bytes, hdf5_options);
        disk_file = hdf5->path();
        disk = std::move(hdf5);
        if (!sync_disk) {
          cairn::AsyncStorageOptions async_options;
          async_options.staging_buffers = staging_buffers;
          async_disk = std::make_unique<cairn::AsyncStorage>(*disk, async_options);
        }
#else
        throw std::invalid_argument(
            "this burgers1d was built without HDF5 (cairn::hdf5); use --disk-in-ram, or install "
            "libhdf5-openmpi-dev and rebuild");
#endif
      }
      levels = {ram.get(), async_disk ? async_disk.get() : disk.get()};
    } else {
      if (schedule_name == "revolve") {
        schedule = std::make_unique<cairn::Revolve>(steps, slots);
        storage_slots = std::min(slots, steps);
      } else {
        schedule = std::make_unique<cairn::StoreAll>(steps);
        storage_slots = cairn::StoreAll(steps).slots();
      }
      ram = std::make_unique<cairn::MemoryStorage>(storage_slots, state_bytes);
      levels = {ram.get()};
    }

    cairn::DriverOptions options;
    options.measure_time = true;  // the summary shows where the time went
    if (isatty(fileno(stderr))) options.progress = draw_progress;
    cairn::Driver<State> driver(
        *schedule, levels,
        [&](std::int64_t, State& x) {
          spin_for(step_delay_us);
          if (adaptive) {
            problem.step(x, problem.adaptive_dt(x));
          } else {
            problem.step(x);
          }
        },
        [&](std::int64_t, const State& x, State& lambda) {
          if (adaptive) {
            problem.adjoint_step(x, lambda, problem.adaptive_dt(x));
          } else {
            problem.adjoint_step(x, lambda);
          }
        },
        options);

    double J = 0;
    const auto terminal = [&](const State& xT) {
      J = problem.objective(xT);
      return problem.objective_gradient(xT);
    };
    State gradient;
    if (online) {
      // Our own loop, ending on a condition in time: the number of steps shows only at the end.
      double t = 0;
      driver.start(x0);
      while (t < end_time) {
        t += problem.adaptive_dt(driver.state());
        driver.step();
      }
      steps = driver.steps();
      gradient = driver.finish(terminal);
    } else {
      gradient = driver.run(x0, terminal);
    }
    const cairn::DriverStatistics& s = driver.statistics();

    if (!gradient_file.empty()) {
      std::FILE* out = std::fopen(gradient_file.c_str(), "w");
      if (out == nullptr) {
        std::fprintf(stderr, "burgers1d: cannot write %s\n", gradient_file.c_str());
        return 1;
      }
      for (const double g : gradient) std::fprintf(out, "%.17g\n", g);
      if (std::fclose(out) != 0) {
        std::fprintf(stderr, "burgers1d: writing %s failed\n", gradient_file.c_str());
        return 1;
      }
    }

    double norm = 0;
    for (const double g : gradient) norm += g * g;
    std::printf(
        "Burgers 1-D: N = %lld points, T = %lld steps, dt = %.3g, schedule %s with %lld slots\n",
        static_cast<long long>(grid), static_cast<long long>(steps), problem.dt(), schedule->name(),
        static_cast<long long>(storage_slots));
    std::printf("J = %.17g, |dJ/dx0| = %.17g\n", J, std::sqrt(norm));
    std::printf(
        "%lld step calls (%.2f per step; a plain forward run makes %lld), %lld adjoint calls, "
        "%lld stores, %lld restores, %.1f MB moved\n",
        static_cast<long long>(s.step_calls), static_cast<double>(s.step_calls) / steps,
        static_cast<long long>(steps), static_cast<long long>(s.adjoint_calls),
        static_cast<long long>(s.stores), static_cast<long long>(s.restores),
        static_cast<double>(s.bytes_moved()) / 1e6);
    std::printf(
        "%.3f s: %.3f s in step/adjoint, %.3f s copying checkpoints, %.3f s in the driver\n",
        s.seconds_total, s.seconds_user, s.seconds_storage, s.seconds_driver());

    nlohmann::ordered_json j;
    j["schedule"] = schedule->name();
    j["steps"] = steps;
    j["grid"] = grid;
    j["slots"] = storage_slots;
    if (disk_slots >= 0) {
      j["disk_slots"] = disk_slots;
      j["disk"] = disk_in_ram ? "ram" : (sync_disk ? "hdf5" : "hdf5+async");
      if (!disk_file.empty()) j["disk_path"] = disk_file;
      if (async_disk) {
        // Where the disk level's restores were served from: a prefetch or a staged copy means
        // the solver did not wait for the disk.
        const cairn::AsyncStorageCounters c =
            static_cast<const cairn::AsyncStorage&>(*async_disk).counters();
        j["disk_io"] = {{"stores", c.stores},
                        {"store_waits", c.store_waits},
                        {"restores_staged", c.restores_staged},
                        {"restores_prefetched", c.restores_prefetched},
                        {"restores_read", c.restores_read},
                        {"prefetches_dropped", c.prefetches_dropped}};
      }
    }
    if (step_delay_us > 0) j["step_delay_us"] = step_delay_us;
    if (adaptive) j["adaptive_dt"] = true;
    if (online) j["end_time"] = end_time;
    j["J"] = J;
    j["step_calls"] = s.step_calls;
    j["adjoint_calls"] = s.adjoint_calls;
    j["stores"] = s.stores;
    j["restores"] = s.restores;
    j["peak_slots"] = s.peak_slots;
    j["bytes_moved"] = s.bytes_moved();
    j["seconds"] = s.seconds_total;
    j["seconds_user"] = s.seconds_user;
    j["seconds_storage"] = s.seconds_storage;
    j["seconds_driver"] = s.seconds_driver();
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "burgers1d: %s\n", e.what());
    return 1;
  }
}
