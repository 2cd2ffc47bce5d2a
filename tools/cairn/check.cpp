// `cairn check`: reads a JSON-lines action stream from stdin, proves it legal or names the first
// illegal action, and counts and prices what it costs.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "cairn/action.hpp"
#include "cairn/action_io.hpp"
#include "cairn/check.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "report.hpp"

namespace cairn::cli {
namespace {

cairn::Level parse_level(const nlohmann::json& value, std::int64_t line_number) {
  if (value.is_number_integer()) return value.get<cairn::Level>();
  if (value.is_string()) {
    const auto& names = cairn::default_level_names();
    const std::string name = value.get<std::string>();
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (names[k] == name) return static_cast<cairn::Level>(k);
    }
  }
  throw BadInput("line " + std::to_string(line_number) + ": level " + value.dump() +
                 " is unknown; use \"ram\", \"disk\" or a level number");
}

cairn::Action parse_action(const std::string& line, std::int64_t line_number) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw BadInput("line " + std::to_string(line_number) + ": not valid JSON (" + e.what() + ")");
  }
  const auto where = "line " + std::to_string(line_number) + ": ";
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    throw BadInput(where + "expected an object with a string field \"op\", e.g. " +
                   "{\"op\":\"advance\",\"from\":0,\"to\":6}");
  }
  const std::string op = j["op"].get<std::string>();
  const auto field = [&](const char* name) -> std::int64_t {
    if (!j.contains(name) || !j[name].is_number_integer()) {
      throw BadInput(where + "\"" + op + "\" needs an integer field \"" + name + "\"");
    }
    return j[name].get<std::int64_t>();
  };
  const auto level = [&]() -> cairn::Level {
    return j.contains("level") ? parse_level(j["level"], line_number) : 0;
  };
  if (op == "advance") return cairn::Action::make_advance(field("from"), field("to"));
  if (op == "store") return cairn::Action::make_store(field("slot"), field("step"), level());
  if (op == "restore") return cairn::Action::make_restore(field("slot"), field("step"), level());
  if (op == "reverse") return cairn::Action::make_reverse(field("step"));
  if (op == "free") return cairn::Action::make_free(field("slot"), level());
  if (op == "end") return cairn::Action::make_end();
  throw BadInput(where + "unknown op \"" + op +
                 "\"; allowed: advance, store, restore, reverse, free, end");
}

int run_check(Problem& problem, const std::string& format) {
  problem.parse();
  cairn::ScheduleChecker checker(problem.steps, problem.slot_budget());
  std::string line;
  std::int64_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!checker.feed(parse_action(line, line_number))) break;
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
