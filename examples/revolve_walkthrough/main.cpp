// Reverse a scalar recurrence with Revolve, acting on each Action by hand, and compare the
// gradient with the one from storing every state. (The driver of a later release does this for
// you; here the translation from Actions to calls is spelled out.)
//
//   x_{i+1} = F(x_i) = x_i + h sin(x_i),  J = x_T^2 / 2,  dJ/dx_0 = x_T * prod F'(x_i)
//
// Usage: revolve_walkthrough [T] [c]   (default T = 1000, c = 5)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cairn/revolve.hpp"

namespace {

constexpr double h = 0.01;
double step(double x) {
  return x + h * std::sin(x);
}
double adjoint_step(double x, double lambda) {
  return lambda * (1.0 + h * std::cos(x));
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t T = argc > 1 ? std::atoll(argv[1]) : 1000;
  const std::int64_t c = argc > 2 ? std::atoll(argv[2]) : 5;
  if (T < 1 || c < 1) {
    std::fprintf(stderr, "usage: revolve_walkthrough [T >= 1] [c >= 1]\n");
    return 2;
  }
  const double x0 = 0.5;

  // Reference: keep all T states.
  std::vector<double> all(static_cast<std::size_t>(T) + 1);
  all[0] = x0;
  for (std::int64_t i = 0; i < T; ++i)
    all[static_cast<std::size_t>(i + 1)] = step(all[static_cast<std::size_t>(i)]);
  double reference = all[static_cast<std::size_t>(T)];  // dJ/dx_T
  for (std::int64_t i = T - 1; i >= 0; --i)
    reference = adjoint_step(all[static_cast<std::size_t>(i)], reference);

  // Revolve: c slots, the working state, and the adjoint.
  cairn::Revolve schedule(T, c);
  std::vector<double> slots(static_cast<std::size_t>(c));
  double working = x0;
  double lambda = 0.0;
  bool first_reverse = true;
  std::int64_t forward_steps = 0;
  for (cairn::Action a = schedule.next(); a.kind != cairn::ActionKind::end; a = schedule.next()) {
    switch (a.kind) {
      case cairn::ActionKind::advance:
        for (std::int64_t i = a.from(); i < a.to; ++i) working = step(working);
        forward_steps += a.to - a.from();
        break;
      case cairn::ActionKind::store:
        slots[static_cast<std::size_t>(a.slot)] = working;
        break;
      case cairn::ActionKind::restore:
        working = slots[static_cast<std::size_t>(a.slot)];
        break;
      case cairn::ActionKind::reverse:
        if (first_reverse) {  // x_T is needed once, for the terminal adjoint
          lambda = step(working);
          first_reverse = false;
        }
        lambda = adjoint_step(working, lambda);
        break;
      default:
        break;
    }
  }
  std::printf("T = %lld, c = %lld: %lld forward steps (t(T,c) = %lld, r = %lld)\n",
              static_cast<long long>(T), static_cast<long long>(c),
              static_cast<long long>(forward_steps),
              static_cast<long long>(schedule.forward_steps()),
              static_cast<long long>(schedule.repetitions()));
  std::printf("dJ/dx0 with Revolve   = %.17g\ndJ/dx0 storing all    = %.17g\n%s\n", lambda,
              reference, lambda == reference ? "bitwise equal" : "DIFFERENT");
  return lambda == reference ? 0 : 1;
}
