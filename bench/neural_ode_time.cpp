// Time of one neural ODE gradient (the spiral model, one trajectory of T steps from y0) through
// Revolve with c slots, divided by the time with every state stored, against what the step costs
// predict. Usage: cairn_bench_neural_ode [c]   (default c = 20)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cairn/binomial.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/ode/explicit_rk.hpp"
#include "cairn/ode/mlp.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "neural_ode/spiral.hpp"

namespace {

template <typename F>
double best_of(int runs, F&& f) {
  double best = 1e300;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t c = argc > 1 ? std::atoll(argv[1]) : 20;
  const auto truth = spiral::true_trajectory(1000, 25.0, 50);
  const cairn::ode::Mlp mlp({2, 50, 2});
  std::vector<double> theta;
  mlp.initialize(theta, 0);
  const cairn::ode::CubedMlpField field(mlp, 1);
  std::printf(
      "spiral model 2 -> 50 -> 2, one trajectory from y0 = (2, 0), RK4, Revolve with c = %lld\n",
      static_cast<long long>(c));
  std::printf("%8s %10s %10s %9s %9s %11s %11s %10s\n", "T", "f (us)", "a (us)", "a / f",
              "measured", "predicted", "(T + t)/T", "t(T, c)");
  for (std::int64_t substeps : {1, 10, 100}) {
    spiral::Observations obs;
    obs.substeps = substeps;
    obs.targets = truth;
    const std::int64_t T = obs.steps();
    const int runs = T > 50000 ? 3 : 7;
    const cairn::ode::ExplicitRungeKutta rk(
        field, cairn::ode::rk4(), 0.0, (25.0 / 999) / static_cast<double>(substeps), theta.data());
    // The two costs on their own: T forward steps; T adjoint steps (taped step + transpose).
    std::vector<double> y = truth.front(), lambda(2, 1e-3), grad(theta.size(), 0.0);
    const double forward = best_of(runs, [&] {
      y = truth.front();
      for (std::int64_t i = 0; i < T; ++i) rk.step(i, y);
    });
    const double adjoint = best_of(runs, [&] {
      for (std::int64_t i = T; i-- > 0;) rk.adjoint_step(i, y, lambda, grad.data());
    });
    const double f = forward / static_cast<double>(T), a = adjoint / static_cast<double>(T);

    cairn::StoreAll all(T);
    cairn::MemoryStorage all_storage(all.slots(), 2 * sizeof(double));
    cairn::Revolve revolve(T, c);
    cairn::MemoryStorage revolve_storage(std::min(c, T), 2 * sizeof(double));
    const double t_all = best_of(runs, [&] {
      spiral::loss_and_gradient(rk, theta.size(), all, all_storage, truth.front(), obs);
    });
    const double t_revolve = best_of(runs, [&] {
      spiral::loss_and_gradient(rk, theta.size(), revolve, revolve_storage, truth.front(), obs);
    });
    const std::int64_t t = revolve.forward_steps();
    // Driver: store-all makes T step calls, Revolve t + 1; both T adjoint calls.
    const double predicted = (static_cast<double>(t + 1) * f + static_cast<double>(T) * a) /
                             (static_cast<double>(T) * (f + a));
    std::printf("%8lld %10.3f %10.3f %9.2f %9.3f %11.3f %11.3f %10lld\n", static_cast<long long>(T),
                f * 1e6, a * 1e6, a / f, t_revolve / t_all, predicted,
                static_cast<double>(T + t) / static_cast<double>(T), static_cast<long long>(t));
  }
  std::printf(
      "measured = gradient time with Revolve / with store-all (best of 7, or 3 for T = 99900);\n"
      "predicted = ((t + 1) f + T a) / (T (f + a)) from the costs of one step (f) and one\n"
      "adjoint step (a) timed alone; (T + t)/T counts forward work only.\n");
  return 0;
}
