// `cairn info`: Revolve's costs in closed form, exact for any T that fits in 64 bits.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "cairn/binomial.hpp"
#include "cairn/revolve.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace cairn::cli {
namespace {

int run_info(Problem& problem, const std::string& format) {
  problem.parse();
  const std::int64_t T = problem.steps;
  const std::int64_t c = problem.slots;
  std::int64_t r = 0, t = 0, stores = 0;
  try {
    r = cairn::repetitions(T, c);
    t = cairn::forward_cost(T, c);
    stores = cairn::Revolve::store_count(T, c);
  } catch (const std::overflow_error& e) {
    throw BadInput(std::string(e.what()) +
                   "; choose fewer steps or more slots so that the count fits in 64 bits");
  }
  const double factor = (static_cast<double>(T) + static_cast<double>(t)) / static_cast<double>(T);
  if (format == "json") {
    nlohmann::ordered_json j;
    j["schedule"] = "revolve";
    j["steps"] = T;
    j["slots"] = c;
    j["repetitions"] = r;
    j["forward_steps"] = t;
    j["recomputation_factor"] = factor;
    j["stores"] = stores;
    j["restores"] = T - 1;
    j["reverses"] = T;
    std::cout << j.dump() << '\n';
    return 0;
  }
  std::printf("Revolve, T = %lld steps, c = %lld slots (the slot of x_0 counted)\n",
              static_cast<long long>(T), static_cast<long long>(c));
  std::printf("  repetitions r          %lld", static_cast<long long>(r));
  if (r >= 1) {
    // C(c + r, c) itself can exceed 64 bits when r and t do not (c near 2^63): say so rather
    // than fail where the JSON form succeeds.
    std::string binomial;
    try {
      binomial = std::to_string(cairn::beta(c, r));
    } catch (const std::overflow_error&) {
      binomial = "more than 2^63 - 1";
    }
    std::printf("   (smallest r with C(c+r, c) >= T; C(%lld+%lld, %lld) = %s)",
                static_cast<long long>(c), static_cast<long long>(r), static_cast<long long>(c),
                binomial.c_str());
  }
  std::printf("\n  forward steps t(T,c)   %lld   (r*T - C(c+r, c+1))\n", static_cast<long long>(t));
  std::printf(
      "  recomputation factor   %.6g   ((T + t) / T: all forward work over one plain run)\n",
      factor);
  std::printf("  stores                 %lld\n", static_cast<long long>(stores));
  std::printf("  restores               %lld\n", static_cast<long long>(T - 1));
  std::printf("  reverses               %lld   (one taped step + adjoint each)\n",
              static_cast<long long>(T));
  return 0;
}

}  // namespace

Command add_info_command(CLI::App& app) {
  auto options = std::make_shared<ProblemOptions>();
  CLI::App* command =
      app.add_subcommand("info", "Revolve's costs in closed form (exact for any T)");
  add_problem_options(*command, options->problem, false);
  add_format_option(*command, options->format, {"text", "json"}, "text (default) or json");
  return {command, [options] { return run_info(options->problem, options->format); }};
}

}  // namespace cairn::cli
