// `cairn check`: reads a JSON-lines action stream from stdin, proves it legal or names the first
// illegal action, and counts and prices what it costs.
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "action_parser.hpp"
#include "cairn/action.hpp"
#include "cairn/check.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "report.hpp"

namespace cairn::cli {
namespace {

int run_check(Problem& problem, const std::string& format) {
  problem.parse();
  cairn::ScheduleChecker checker(problem.steps, problem.slot_budget(), true, 1,
                                 problem.adjoint_units);
  std::string line;
  std::int64_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!checker.feed(parse_action_line(line, line_number))) break;
  }
  // std::cin reads through C's stdin (synchronised with stdio), whose error flag tells a read
  // error from the end of the stream: a stream that could not be read is not an illegal one.
  if (std::ferror(stdin)) {
    throw BadInput("cannot read the stream from standard input after line " +
                   std::to_string(line_number) + ": " + std::strerror(errno));
  }
  const cairn::CheckResult result = checker.finish();
  if (format == "json") {
    nlohmann::ordered_json j;
    j["legal"] = result.legal;
    if (!result.legal) {
      j["first_illegal_index"] = result.first_illegal_index;
      j["reason"] = result.reason;
    }
    add_costs(j, result.costs);
    j["cost"] = cairn::cost(result.costs, problem.prices.model());
    std::cout << j.dump() << '\n';
  } else {
    if (result.legal) {
      std::cout << "legal\n";
    } else {
      std::cout << "illegal: " << result.reason << '\n';
    }
    nlohmann::ordered_json costs;
    add_costs(costs, result.costs);
    costs["cost"] = cairn::cost(result.costs, problem.prices.model());
    std::cout << costs.dump(2) << '\n';
  }
  return result.legal ? 0 : kExitIllegal;
}

}  // namespace

Command add_check_command(CLI::App& app) {
  auto options = std::make_shared<ProblemOptions>();
  CLI::App* command =
      app.add_subcommand("check", "check a JSON-lines action stream read from stdin");
  Problem& problem = options->problem;
  add_problem_options(*command, problem, false);
  command->add_option(
      "--disk-slots", problem.disk_slots_text,
      "slots on level 1 (\"disk\"), an integer or \"unlimited\"; default: no level 1");
  add_cost_options(*command, problem);
  add_format_option(*command, options->format, {"text", "json"}, "text (default) or json");
  return {command, [options] { return run_check(options->problem, options->format); }};
}

}  // namespace cairn::cli
