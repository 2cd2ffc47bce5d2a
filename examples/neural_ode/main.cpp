// Neural ODE training on the spiral task of torchdiffeq's examples/ode_demo.py, with the whole
// backward pass through a Cairn checkpointing schedule (docs/neural_ode.md).
//
//   true dynamics dy/dt = (y^3) A, A = [[-0.1, 2.0], [-2.0, -0.1]], y0 = (2, 0); 1000 points on
//   [0, 25]; model f(y) = MLP(y^3), 2 -> 50 -> 2 with tanh; RMSprop (lr 1e-3, alpha 0.99,
//   eps 1e-8); loss mean |pred - true| over batches of 20 random starts and 10 consecutive points;
//   every 20 iterations the test loss: mean |pred - true| of the whole trajectory from y0.
//
// The solver is fixed-step RK4 with --substeps steps per interval; the gradient is the exact
// gradient of that discrete solve, computed with Revolve (--slots C) or by keeping every state
// (--schedule store-all). --mode full trains on the whole 1000-point trajectory at once.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cairn/memory_storage.hpp"
#include "cairn/ode/butcher.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "spiral.hpp"

namespace {

constexpr std::size_t points = 1000;
constexpr double t_end = 25.0;

// PyTorch's RMSprop without momentum or centring: v = alpha v + (1 - alpha) g^2,
// theta -= lr g / (sqrt(v) + eps).
struct RmsProp {
  double lr, alpha, eps;
  std::vector<double> square_average;
  void update(std::vector<double>& theta, const std::vector<double>& gradient) {
    square_average.resize(theta.size(), 0.0);
    for (std::size_t k = 0; k < theta.size(); ++k) {
      const double g = gradient[k];
      square_average[k] = alpha * square_average[k] + (1 - alpha) * g * g;
      theta[k] -= lr * g / (std::sqrt(square_average[k]) + eps);
    }
  }
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

// The model's trajectory from (2, 0) at the 1000 points, and its mean |pred - true|.
double test_loss(const cairn::ode::Mlp& mlp, const std::vector<double>& theta,
                 const std::vector<std::vector<double>>& truth, std::int64_t substeps,
                 const cairn::ode::ButcherTableau& tableau,
                 std::vector<std::vector<double>>* trajectory) {
  const cairn::ode::CubedMlpField field(mlp, 1);
  const double dt = t_end / static_cast<double>(points - 1);
  const cairn::ode::ExplicitRungeKutta rk(field, tableau, 0.0, dt / static_cast<double>(substeps),
                                          theta.data());
  std::vector<double> y = truth.front();
  double sum = 0;
  std::int64_t i = 0;
  if (trajectory) trajectory->assign(1, y);
  for (std::size_t p = 1; p < points; ++p) {
    for (std::int64_t s = 0; s < substeps; ++s) rk.step(i++, y);
    sum += std::abs(y[0] - truth[p][0]) + std::abs(y[1] - truth[p][1]);
    if (trajectory) trajectory->push_back(y);
  }
  return sum / static_cast<double>(2 * points);  // the first point matches exactly
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Neural ODE on the spiral task, trained through a Cairn checkpointing schedule"};
  std::int64_t iterations = 2000;
  std::size_t batch = 20;
  std::size_t batch_time = 10;
  std::int64_t substeps = 2;
  std::int64_t slots = 4;
  std::string schedule_name = "revolve";
  std::string mode = "batches";
  std::string method = "rk4";
  std::uint64_t seed = 0;
  std::int64_t test_every = 20;
  RmsProp optimiser{1e-3, 0.99, 1e-8, {}};
  std::string csv_path, png_path, trajectory_path;
  std::size_t hidden = 50;
  bool quiet = false;
  app.add_option("--iterations", iterations, "training iterations")->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "random start points per batch")->check(CLI::PositiveNumber);
  app.add_option("--batch-time", batch_time, "consecutive time points per batch (>= 2)")
      ->check(CLI::Range(std::size_t{2}, points));
  app.add_option("--substeps", substeps, "solver steps per interval between time points")
      ->check(CLI::PositiveNumber);
  app.add_option("--method", method, "Runge-Kutta method: euler, heun, rk4, rk4_38, dopri5")
      ->check(CLI::IsMember({"euler", "heun", "rk4", "rk4_38", "dopri5"}));
  app.add_option("--slots,-c", slots, "checkpoint slots for Revolve (>= 1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--schedule", schedule_name, "revolve or store-all")
      ->check(CLI::IsMember({"revolve", "store-all"}));
  app.add_option("--mode", mode,
                 "batches (the demo's random batches) or full (the whole 1000-point trajectory "
                 "from y0 in each iteration: T = 999 x substeps steps)")
      ->check(CLI::IsMember({"batches", "full"}));
  app.add_option("--seed", seed, "seed of the initial weights and of the batches");
  app.add_option("--test-every", test_every, "iterations between test losses")
      ->check(CLI::PositiveNumber);
  app.add_option("--lr", optimiser.lr, "RMSprop learning rate")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "hidden width of the MLP")->check(CLI::PositiveNumber);
  app.add_option("--csv", csv_path, "write iteration,train_loss,test_loss here");
  app.add_option("--trajectory", trajectory_path,
                 "write t,true_y1,true_y2,pred_y1,pred_y2 of the final model here");
  app.add_option("--png", png_path,
                 "draw the loss curve and the phase plane here (runs plot.py with python3 and "
                 "matplotlib; needs --csv)");
  app.add_flag("--quiet", quiet, "print only the JSON summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!png_path.empty() && csv_path.empty()) {
    std::cerr << "neural_ode: --png needs --csv (the plot is drawn from it)\n";
    return 2;
  }

  try {
    const auto start = std::chrono::steady_clock::now();
    const auto truth = spiral::true_trajectory(points, t_end);
    const cairn::ode::ButcherTableau tableau = cairn::ode::tableau_named(method);
    const cairn::ode::Mlp mlp({2, hidden, 2});
    std::vector<double> theta;
    mlp.initialize(theta, seed);
    std::mt19937_64 random(seed + 1);

    const bool full = mode == "full";
    const std::size_t states = full ? 1 : batch;
    const std::size_t length = full ? points : batch_time;
    const std::int64_t T = static_cast<std::int64_t>(length - 1) * substeps;
    const cairn::ode::CubedMlpField field(mlp, states);
    const double dt = t_end / static_cast<double>(points - 1);
    cairn::ode::ExplicitRungeKutta rk(field, tableau, 0.0, dt / static_cast<double>(substeps),
                                      theta.data());
    std::unique_ptr<cairn::Schedule> schedule;
    std::int64_t storage_slots = 0;
    if (schedule_name == "revolve") {
      schedule = std::make_unique<cairn::Revolve>(T, slots);
      storage_slots = std::min(slots, T);
    } else {
      auto all = std::make_unique<cairn::StoreAll>(T);
      storage_slots = all->slots();
      schedule = std::move(all);
    }
    cairn::MemoryStorage storage(storage_slots, 2 * states * sizeof(double));

    spiral::Observations full_obs;
    full_obs.substeps = substeps;
    if (full) {
      full_obs.targets.reserve(points);
      for (const auto& y : truth) full_obs.targets.push_back(y);
    }

    std::ofstream csv;
    if (!csv_path.empty()) {
      csv.open(csv_path);
      if (!csv) throw std::runtime_error("cannot write '" + csv_path + "'");
      csv << "iteration,train_loss,test_loss\n";
    }
    double last_test = test_loss(mlp, theta, truth, substeps, tableau, nullptr);
    if (csv) csv << 0 << ",," << last_test << "\n";
    if (!quiet) std::printf("iteration     0: test loss %.6f\n", last_test);
    std::int64_t step_calls = 0, adjoint_calls = 0, peak_slots = 0;
    double train_loss = 0;
    for (std::int64_t it = 1; it <= iterations; ++it) {
      spiral::Gradient g;
      if (full) {
        g = spiral::loss_and_gradient(rk, theta.size(), *schedule, storage, truth.front(),
                                      full_obs);
      } else {
        const auto [y0, obs] = spiral::random_batch(truth, batch, batch_time, substeps, random);
        g = spiral::loss_and_gradient(rk, theta.size(), *schedule, storage, y0, obs);
      }
      optimiser.update(theta, g.theta);
      train_loss = g.loss;
      step_calls += g.statistics.step_calls;
      adjoint_calls += g.statistics.adjoint_calls;
      peak_slots = std::max(peak_slots, g.statistics.peak_slots);
      const bool test_now = it % test_every == 0 || it == iterations;
      if (test_now) last_test = test_loss(mlp, theta, truth, substeps, tableau, nullptr);
      if (csv) {
        csv << it << "," << train_loss << ",";
        if (test_now) csv << last_test;
        csv << "\n";
      }
      if (test_now && !quiet) {
        std::printf("iteration %5lld: train loss %.6f, test loss %.6f\n",
                    static_cast<long long>(it), train_loss, last_test);
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (csv) csv.close();

    if (!trajectory_path.empty() || !png_path.empty()) {
      std::vector<std::vector<double>> predicted;
      test_loss(mlp, theta, truth, substeps, tableau, &predicted);
      const std::string path =
          trajectory_path.empty() ? csv_path + ".trajectory.csv" : trajectory_path;
      std::ofstream out(path);
      if (!out) throw std::runtime_error("cannot write '" + path + "'");
      out << "t,true_y1,true_y2,pred_y1,pred_y2\n";
      for (std::size_t p = 0; p < points; ++p) {
        out << dt * static_cast<double>(p) << "," << truth[p][0] << "," << truth[p][1] << ","
            << predicted[p][0] << "," << predicted[p][1] << "\n";
      }
      out.close();
      if (!png_path.empty()) {
        const std::string command = CAIRN_PLOT_PYTHON " '" CAIRN_NEURAL_ODE_PLOT "' '" + csv_path +
                                    "' '" + path + "' '" + png_path + "'";
        if (std::system(command.c_str()) != 0) {
          throw std::runtime_error("drawing " + png_path + " failed (" + command +
                                   "; it needs python3 with matplotlib)");
        }
        if (trajectory_path.empty()) std::remove(path.c_str());
      }
    }

    nlohmann::json summary = {
        {"mode", mode},
        {"schedule", schedule_name},
        {"slots", schedule_name == "revolve" ? slots : storage_slots},
        {"method", method},
        {"substeps", substeps},
        {"steps_per_gradient", T},
        {"iterations", iterations},
        {"final_train_loss", train_loss},
        {"final_test_loss", last_test},
        {"seconds", seconds},
        {"seconds_per_iteration", iterations > 0 ? seconds / static_cast<double>(iterations) : 0},
        {"peak_slots", peak_slots},
        {"step_calls", step_calls},
        {"adjoint_calls", adjoint_calls},
        {"checkpoint_bytes",
         storage_slots * static_cast<std::int64_t>(2 * states * sizeof(double))},
        {"peak_rss_mib", peak_rss_mib()},
        {"seed", seed}};
    std::cout << summary.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "neural_ode: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
