// cairn: print, summarise and check checkpointing schedules from the command line (docs/cli.md).
//
// Exit status: 0 success; 1 a checked stream is illegal; 2 bad input (arguments or stream).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/action_io.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/version.hpp"
#include "integer_argument.hpp"

namespace {

using cairn::cli::parse_integer_argument;

constexpr int kExitIllegal = 1;
constexpr int kExitBadInput = 2;

// The timed pass folds every action into a sum written here, so that no work can be skipped.
volatile std::int64_t sink = 0;

/// A problem with what the user gave us: reported on stderr with exit status 2.
struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Problem {
  std::string steps_text;
  std::string slots_text;
  std::string schedule = "revolve";
  std::int64_t steps = 0;
  std::int64_t slots = 0;

  void parse() {
    try {
      steps = parse_integer_argument("--steps", steps_text, 1);
      if (schedule == "store-all") {
        if (!slots_text.empty()) {
          throw BadInput(
              "--slots does not apply to --schedule store-all, which always uses T - 1 slots");
        }
        slots = steps;
      } else if (slots_text.empty()) {
        throw BadInput("--slots is required: give the number of checkpoint slots c >= 1");
      } else {
        slots = parse_integer_argument("--slots", slots_text, 1);
      }
    } catch (const std::invalid_argument& e) {
      throw BadInput(e.what());
    }
  }

  std::unique_ptr<cairn::Schedule> make_schedule() const {
    if (schedule == "revolve") return std::make_unique<cairn::Revolve>(steps, slots);
    return std::make_unique<cairn::StoreAll>(steps);
  }

  /// Slots the schedule may use on level 0, as the checker should enforce them.
  std::int64_t slot_budget() const {
    return schedule == "revolve" ? slots : cairn::StoreAll(steps).slots();
  }
};

void add_problem_options(CLI::App& command, Problem& problem, bool with_schedule) {
  command.add_option("--steps,-T", problem.steps_text, "number of time steps T (>= 1)")->required();
  auto* slots = command.add_option("--slots,-c", problem.slots_text,
                                   "checkpoint slots c (>= 1), the slot of x_0 included");
  if (with_schedule) {
    command.add_option("--schedule", problem.schedule, "which schedule")
        ->check(CLI::IsMember({"revolve", "store-all"}))
        ->default_str("revolve");
  } else {
    slots->required();
  }
}

/// Writes through a large buffer: printing tens of millions of actions must not be I/O-bound.
class BufferedOutput {
 public:
  std::string& buffer() { return buffer_; }
  void line_done() {
    buffer_ += '\n';
    if (buffer_.size() >= (1u << 16)) flush();
  }
  void flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size()) {
      throw std::runtime_error("cannot write to standard output");
    }
    buffer_.clear();
  }
  ~BufferedOutput() {
    if (!buffer_.empty()) std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
  }

 private:
  std::string buffer_;
};

/// Adds the checker's counts to `j`, after whatever fields it already has.
void add_costs(nlohmann::ordered_json& j, const cairn::ScheduleCosts& costs) {
  j["actions"] = costs.actions;
  j["advances"] = costs.advances;
  j["forward_steps"] = costs.forward_steps;
  j["max_advances_per_step"] = costs.max_advances_per_step;
  j["reverses"] = costs.reverses;
  j["stores"] = costs.stores();
  j["restores"] = costs.restores();
  std::int64_t peak = 0;
  for (const auto& level : costs.levels) peak += level.peak_slots;
  j["peak_slots"] = peak;
  nlohmann::ordered_json levels = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < costs.levels.size(); ++k) {
    const auto& level = costs.levels[k];
    levels[cairn::level_name(static_cast<cairn::Level>(k))] = {{"stores", level.stores},
                                                               {"restores", level.restores},
                                                               {"frees", level.frees},
                                                               {"peak_slots", level.peak_slots}};
  }
  j["levels"] = levels;
}

int run_schedule(Problem& problem, const std::string& format) {
  problem.parse();
  const auto schedule = problem.make_schedule();
  if (format == "summary") {
    // Pass 1, timed: generation alone, in batches as the checker and drivers read it.
    std::int64_t actions = 0;
    std::int64_t checksum = 0;
    cairn::Action batch[256];
    const auto start = std::chrono::steady_clock::now();
    for (bool ended = false; !ended;) {
      const std::size_t n = schedule->next_actions(batch, 256);
      for (std::size_t i = 0; i < n; ++i) checksum += batch[i].step;
      actions += static_cast<std::int64_t>(n);
      ended = batch[n - 1].kind == cairn::ActionKind::end;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Pass 2: the independent checker proves the stream legal and counts its costs.
    schedule->reset();
    const cairn::CheckResult result =
        cairn::check(*schedule, problem.steps, {problem.slot_budget()});
    nlohmann::ordered_json j;
    j["schedule"] = schedule->name();
    j["steps"] = problem.steps;
    j["slots"] = problem.slots;
    j["legal"] = result.legal;
    if (!result.legal) j["reason"] = result.reason;
    add_costs(j, result.costs);
    j["ns_per_action"] = seconds * 1e9 / static_cast<double>(actions);
    sink = checksum;
    std::cout << j.dump() << '\n';
    return result.legal ? 0 : kExitIllegal;
  }

  BufferedOutput out;
  if (format == "text") {
    auto& b = out.buffer();
    b += "# " + std::string(schedule->name()) + " schedule: T = " + std::to_string(problem.steps) +
         " steps, c = " + std::to_string(problem.slot_budget()) + " slots";
    if (problem.schedule == "revolve") {
      b += ", r = " + std::to_string(cairn::repetitions(problem.steps, problem.slots)) +
           ", t = " + std::to_string(cairn::forward_cost(problem.steps, problem.slots)) +
           " forward steps";
    }
    out.line_done();
  }
  for (;;) {
    const cairn::Action a = schedule->next();
    if (format == "jsonl") {
      cairn::append_json(out.buffer(), a);
    } else {
      cairn::append_text(out.buffer(), a);
    }
    out.line_done();
    if (a.kind == cairn::ActionKind::end) break;
  }
  out.flush();
  return 0;
}

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
    std::printf("   (smallest r with C(c+r, c) >= T; C(%lld+%lld, %lld) = %lld)",
                static_cast<long long>(c), static_cast<long long>(r), static_cast<long long>(c),
                static_cast<long long>(cairn::beta(c, r)));
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

int run_check(Problem& problem, const std::string& disk_slots_text, const std::string& format) {
  problem.parse();
  std::vector<std::int64_t> slots{problem.slots};
  if (!disk_slots_text.empty()) {
    try {
      slots.push_back(parse_integer_argument("--disk-slots", disk_slots_text, 0));
    } catch (const std::invalid_argument& e) {
      throw BadInput(e.what());
    }
  }
  cairn::ScheduleChecker checker(problem.steps, slots);
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
    std::cout << j.dump() << '\n';
  } else {
    if (result.legal) {
      std::cout << "legal\n";
    } else {
      std::cout << "illegal: " << result.reason << '\n';
    }
    nlohmann::ordered_json costs;
    add_costs(costs, result.costs);
    std::cout << costs.dump(2) << '\n';
  }
  return result.legal ? 0 : kExitIllegal;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn " CAIRN_VERSION_STRING
               ": optimal checkpointing schedules for adjoint time stepping"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CAIRN_VERSION_STRING);

  Problem problem;
  std::string format;
  std::string disk_slots;

  auto* schedule = app.add_subcommand("schedule", "print a schedule, one action per line");
  add_problem_options(*schedule, problem, true);
  schedule->add_option("--format,-f", format, "jsonl (default), text or summary")
      ->check(CLI::IsMember({"jsonl", "text", "summary"}));

  auto* info = app.add_subcommand("info", "Revolve's costs in closed form (exact for any T)");
  add_problem_options(*info, problem, false);
  info->add_option("--format,-f", format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));

  auto* check = app.add_subcommand("check", "check a JSON-lines action stream read from stdin");
  add_problem_options(*check, problem, false);
  check->add_option("--disk-slots", disk_slots, "slots on level 1 (\"disk\"); default: no level 1");
  check->add_option("--format,-f", format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints CLI11's explanation and the relevant usage
    return kExitBadInput;
  }

  try {
    if (schedule->parsed()) return run_schedule(problem, format.empty() ? "jsonl" : format);
    if (info->parsed()) return run_info(problem, format.empty() ? "text" : format);
    return run_check(problem, disk_slots, format.empty() ? "text" : format);
  } catch (const BadInput& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::overflow_error& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: error: %s\n", e.what());
    return kExitIllegal;
  }
}
