// cairn: print, summarise and check checkpointing schedules from the command line (docs/cli.md).
//
// Exit status: 0 success; 1 a checked stream is illegal; 2 bad input (arguments or stream).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/action_io.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/uniform.hpp"
#include "cairn/version.hpp"
#include "integer_argument.hpp"
#include "planner.hpp"
#include "schedule_svg.hpp"

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

/// The cost model of multilevel checkpointing (docs/multilevel.md), from the command line.
struct Prices {
  double write = 0;     // one store on the disk level
  double read = 0;      // one restore from the disk level
  double forward = 1;   // one forward step
  double backward = 0;  // one adjoint step
  bool given = false;   // any of them given on the command line

  cairn::CostModel model() const {
    return cairn::CostModel{forward, backward, {0, write}, {0, read}};
  }
};

struct Problem {
  std::string steps_text;
  std::string slots_text;
  std::string disk_slots_text;
  std::string interval_text;
  std::string schedule = "revolve";
  bool online = false;  // simulate a run that learns T only at its end
  Prices prices;
  std::int64_t steps = 0;
  std::int64_t slots = 0;
  std::int64_t disk_slots = -1;  // -1: no disk level
  std::int64_t interval = 0;     // Uniform's k

  void parse() {
    try {
      steps = parse_integer_argument("--steps", steps_text, 1);
      if (!disk_slots_text.empty()) {
        disk_slots = disk_slots_text == "unlimited"
                         ? cairn::unlimited_slots
                         : parse_integer_argument("--disk-slots", disk_slots_text, 0);
      }
      if (!interval_text.empty() && schedule != "uniform") {
        throw BadInput("--interval applies to --schedule uniform only");
      }
      if (schedule == "uniform") {
        if (disk_slots >= 0 || prices.given || online) {
          throw BadInput(
              "--schedule uniform takes --steps and --interval K (or --slots C to pick the best "
              "K for C slots); no disk level, costs or --online");
        }
        if (!interval_text.empty()) {
          interval = parse_integer_argument("--interval", interval_text, 1);
        } else if (!slots_text.empty()) {
          interval = cairn::Uniform::best_interval_for_slots(
              steps, parse_integer_argument("--slots", slots_text, 1));
        } else {
          throw BadInput(
              "--schedule uniform needs --interval K (a checkpoint every K steps) or --slots C");
        }
        slots = cairn::Uniform::slots_needed(steps, interval);
        return;
      }
      if (schedule == "store-all") {
        if (!slots_text.empty()) {
          throw BadInput(
              "--slots does not apply to --schedule store-all, which always uses T - 1 slots");
        }
        if (disk_slots >= 0 || prices.given) {
          throw BadInput(
              "--disk-slots and the cost options do not apply to --schedule store-all; use "
              "--schedule multilevel");
        }
        slots = steps;
      } else if (slots_text.empty()) {
        throw BadInput("--slots is required: give the number of checkpoint slots c >= 1");
      } else {
        // With a disk level, RAM may have no slot at all.
        slots = parse_integer_argument("--slots", slots_text, disk_slots >= 0 ? 0 : 1);
      }
      if (online) {
        if (disk_slots >= 0 || prices.given || schedule != "revolve") {
          throw BadInput(
              "--online takes only --steps and --slots (one level, no costs, no --schedule)");
        }
        schedule = "online";
      }
      if (disk_slots >= 0 || prices.given) schedule = "multilevel";
    } catch (const std::invalid_argument& e) {
      throw BadInput(e.what());
    }
  }

  std::vector<cairn::StorageLevel> levels() const {
    std::vector<cairn::StorageLevel> result{cairn::StorageLevel{slots, 0, 0}};
    if (disk_slots >= 0) {
      result.push_back(cairn::StorageLevel{disk_slots, prices.write, prices.read});
    }
    return result;
  }

  std::unique_ptr<cairn::Schedule> make_schedule() const {
    if (schedule == "revolve") return std::make_unique<cairn::Revolve>(steps, slots);
    if (schedule == "online") return std::make_unique<cairn::SimulatedOnlineRun>(steps, slots);
    if (schedule == "uniform") return std::make_unique<cairn::Uniform>(steps, interval);
    if (schedule == "multilevel") {
      return std::make_unique<cairn::MultilevelRevolve>(
          steps, levels(), cairn::StepCosts{prices.forward, prices.backward});
    }
    return std::make_unique<cairn::StoreAll>(steps);
  }

  /// Slots the schedule may use per level, as the checker should enforce them.
  std::vector<std::int64_t> slot_budget() const {
    if (schedule == "store-all") return {cairn::StoreAll(steps).slots()};
    std::vector<std::int64_t> budget{slots};
    if (disk_slots >= 0)
      budget.push_back(disk_slots == cairn::unlimited_slots ? steps : disk_slots);
    return budget;
  }
};

void add_cost_options(CLI::App& command, Problem& problem) {
  // Each price option sets its field and records that a price was given (which selects the
  // multilevel schedule).
  const auto price = [&](const char* name, double Prices::*field, const char* help) {
    return command.add_option_function<double>(
        name,
        [&problem, field](double value) {
          problem.prices.*field = value;
          problem.prices.given = true;
        },
        help);
  };
  price("--write-cost", &Prices::write,
        "cost of one store on the disk level, in the unit of --forward-cost (default 0)")
      ->check(CLI::NonNegativeNumber);
  price("--read-cost", &Prices::read, "cost of one restore from the disk level (default 0)")
      ->check(CLI::NonNegativeNumber);
  price("--forward-cost", &Prices::forward, "cost uf of one forward step (default 1)")
      ->check(CLI::PositiveNumber);
  price("--backward-cost", &Prices::backward, "cost ub of one adjoint step (default 0)")
      ->check(CLI::NonNegativeNumber);
}

void add_problem_options(CLI::App& command, Problem& problem, bool with_schedule) {
  command.add_option("--steps,-T", problem.steps_text, "number of time steps T (>= 1)")->required();
  auto* slots = command.add_option(
      "--slots,-c", problem.slots_text,
      "checkpoint slots c (>= 1, or >= 0 with --disk-slots), the slot of x_0 included");
  if (with_schedule) {
    command.add_option("--schedule", problem.schedule, "which schedule")
        ->check(CLI::IsMember({"revolve", "store-all", "multilevel", "uniform"}))
        ->default_str("revolve");
    command.add_option("--interval", problem.interval_text,
                       "--schedule uniform: a checkpoint every K steps (default: the K with the "
                       "fewest forward steps that fits --slots)");
    command.add_flag("--online", problem.online,
                     "simulate an online run: OnlineRevolve learns T only after the last step; "
                     "the stream advances to x_T");
    command.add_option("--disk-slots", problem.disk_slots_text,
                       "slots on a disk level (level 1), an integer or \"unlimited\"; implies "
                       "--schedule multilevel");
    add_cost_options(command, problem);
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

nlohmann::ordered_json disk_slots_json(std::int64_t disk_slots) {
  if (disk_slots == cairn::unlimited_slots) return "unlimited";
  return disk_slots;
}

std::string format_cost(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// ", D disk slots (write W, read R), uf F, ub B, cost X" for a multilevel schedule.
std::string multilevel_summary(const Problem& problem, const cairn::Schedule& schedule) {
  const auto& multilevel = static_cast<const cairn::MultilevelRevolve&>(schedule);
  std::string text;
  if (problem.disk_slots >= 0) {
    text += ", " +
            (problem.disk_slots == cairn::unlimited_slots ? std::string("unlimited")
                                                          : std::to_string(problem.disk_slots)) +
            " disk slots (write " + format_cost(problem.prices.write) + ", read " +
            format_cost(problem.prices.read) + ")";
  }
  text += ", forward " + format_cost(problem.prices.forward) + ", backward " +
          format_cost(problem.prices.backward) + ", cost " +
          format_cost(multilevel.optimal_cost()) +
          " (forward * forward steps + backward * T + writes + reads)";
  return text;
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
    const cairn::CheckResult result = cairn::check(*schedule, problem.steps, problem.slot_budget());
    nlohmann::ordered_json j;
    j["schedule"] = schedule->name();
    j["steps"] = problem.steps;
    j["slots"] = problem.slots;
    if (problem.disk_slots >= 0) j["disk_slots"] = disk_slots_json(problem.disk_slots);
    j["legal"] = result.legal;
    if (!result.legal) j["reason"] = result.reason;
    add_costs(j, result.costs);
    if (problem.schedule == "multilevel") {
      j["cost"] = cairn::cost(result.costs, problem.prices.model());
      j["optimal_cost"] = static_cast<const cairn::MultilevelRevolve&>(*schedule).optimal_cost();
    }
    if (problem.schedule == "online") {
      // The offline optimum for the same run (it computes x_T): Revolve on T + 1 steps.
      j["offline_repetitions"] = cairn::repetitions(problem.steps + 1, problem.slots);
      j["offline_forward_steps"] = cairn::forward_cost(problem.steps + 1, problem.slots);
    }
    j["ns_per_action"] = seconds * 1e9 / static_cast<double>(actions);
    sink = checksum;
    std::cout << j.dump() << '\n';
    return result.legal ? 0 : kExitIllegal;
  }

  BufferedOutput out;
  if (format == "text") {
    auto& b = out.buffer();
    b += "# " + std::string(schedule->name()) + " schedule: T = " + std::to_string(problem.steps) +
         " steps, c = " + std::to_string(problem.slot_budget()[0]) + " slots";
    if (problem.schedule == "revolve") {
      b += ", r = " + std::to_string(cairn::repetitions(problem.steps, problem.slots)) +
           ", t = " + std::to_string(cairn::forward_cost(problem.steps, problem.slots)) +
           " forward steps";
    }
    if (problem.schedule == "online") {
      b += " (T learnt at the end; offline bound for a run that computes x_T: r(T+1, c) = " +
           std::to_string(cairn::repetitions(problem.steps + 1, problem.slots)) + ", t(T+1, c) = " +
           std::to_string(cairn::forward_cost(problem.steps + 1, problem.slots)) + ")";
    }
    if (problem.schedule == "multilevel") b += multilevel_summary(problem, *schedule);
    out.line_done();
  } else if (problem.schedule == "multilevel") {
    // stdout stays a pure action stream that `cairn check` reads back; the cost goes to stderr.
    std::fprintf(stderr, "# multilevel schedule: T = %lld steps, c = %lld RAM slots%s\n",
                 static_cast<long long>(problem.steps), static_cast<long long>(problem.slots),
                 multilevel_summary(problem, *schedule).c_str());
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

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3g %s", bytes, units[u]);
  return text;
}

int run_plan(PlanInput& input, const std::string& steps_text, const std::string& format) {
  if (steps_text == "unknown") {
    input.steps = -1;
  } else {
    input.steps = parse_integer_argument("--steps", steps_text, 1);
  }
  const std::vector<PlanCandidate> candidates = plan_candidates(input);
  const std::size_t best = recommend(candidates);
  if (format == "json") {
    nlohmann::ordered_json j;
    j["steps"] =
        input.steps < 0 ? nlohmann::ordered_json("unknown") : nlohmann::ordered_json(input.steps);
    j["state_bytes"] = input.state_bytes;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const PlanCandidate& c : candidates) {
      nlohmann::ordered_json e;
      e["schedule"] = c.schedule;
      e["detail"] = c.detail;
      e["fits"] = c.fits;
      if (!c.fits) e["why_not"] = c.why_not;
      e["ram_slots"] = c.ram_slots;
      e["disk_slots"] = c.disk_slots;
      e["peak_bytes"] = c.peak_bytes;
      e["step_calls"] = c.step_calls;
      e["adjoint_calls"] = c.adjoint_calls;
      e["ram_copies"] = c.ram_copies;
      e["disk_writes"] = c.disk_writes;
      e["disk_reads"] = c.disk_reads;
      e["predicted_seconds"] = c.predicted_seconds;
      list.push_back(e);
    }
    j["candidates"] = list;
    j["recommended"] = best < candidates.size() ? nlohmann::ordered_json(candidates[best].schedule)
                                                : nlohmann::ordered_json(nullptr);
    std::printf("%s\n", j.dump().c_str());
    return best < candidates.size() ? 0 : kExitBadInput;
  }
  std::printf("cairn plan: T = %s, state %s, step %.3g s, adjoint %.3g s, RAM %s (%lld states)",
              input.steps < 0 ? "unknown" : std::to_string(input.steps).c_str(),
              human_bytes(input.state_bytes).c_str(), input.step_seconds, input.adjoint_seconds,
              human_bytes(input.ram_bytes).c_str(),
              static_cast<long long>(input.ram_bytes / input.state_bytes));
  if (input.disk_bytes > 0) std::printf(", disk %s", human_bytes(input.disk_bytes).c_str());
  std::printf("\n%-11s %-28s %9s %11s %13s %13s %13s\n", "schedule", "", "slots", "peak memory",
              "step calls", "adjoint calls", "predicted s");
  for (const PlanCandidate& c : candidates) {
    if (!c.fits) {
      std::printf("%-11s %-28s does not fit: %s\n", c.schedule.c_str(), c.detail.c_str(),
                  c.why_not.c_str());
      continue;
    }
    const std::string slots = c.disk_slots > 0
                                  ? std::to_string(c.ram_slots) + "+" + std::to_string(c.disk_slots)
                                  : std::to_string(c.ram_slots);
    if (c.predicted_seconds < 0) {
      std::printf("%-11s %-28s %9s %11s %13s %13s %13s\n", c.schedule.c_str(), c.detail.c_str(),
                  slots.c_str(), human_bytes(c.peak_bytes).c_str(), "T + recomp.", "T", "-");
    } else {
      std::printf("%-11s %-28s %9s %11s %13lld %13lld %13.4g\n", c.schedule.c_str(),
                  c.detail.c_str(), slots.c_str(), human_bytes(c.peak_bytes).c_str(),
                  static_cast<long long>(c.step_calls), static_cast<long long>(c.adjoint_calls),
                  c.predicted_seconds);
    }
  }
  if (best >= candidates.size()) {
    std::printf("nothing fits: give more RAM (at least one state) or a disk level\n");
    return kExitBadInput;
  }
  const PlanCandidate& r = candidates[best];
  if (r.predicted_seconds < 0) {
    std::printf(
        "recommended: %s (%s): the only schedule for an unknown T; it advances no step "
        "more than r(T + 1, c) times (docs/online.md)\n",
        r.schedule.c_str(), r.detail.c_str());
  } else {
    std::printf("recommended: %s (%s): %.4g s predicted\n", r.schedule.c_str(), r.detail.c_str(),
                r.predicted_seconds);
  }
  return 0;
}

int run_plot(Problem& problem, const std::string& svg_path, const std::string& png_path) {
  problem.parse();
  const auto schedule = problem.make_schedule();
  std::string title = problem.schedule + " schedule, T = " + std::to_string(problem.steps);
  if (problem.schedule == "uniform") {
    title += ", interval k = " + std::to_string(problem.interval);
  } else if (problem.schedule != "store-all") {
    title += ", c = " + std::to_string(problem.slots);
  }
  if (problem.disk_slots >= 0) {
    title += " RAM + " +
             (problem.disk_slots == cairn::unlimited_slots ? std::string("unlimited")
                                                           : std::to_string(problem.disk_slots)) +
             " disk";
  }
  const std::string svg = schedule_svg(*schedule, problem.steps, title);
  std::FILE* out = std::fopen(svg_path.c_str(), "w");
  if (out == nullptr) throw BadInput("cannot write '" + svg_path + "'");
  const bool written = std::fwrite(svg.data(), 1, svg.size(), out) == svg.size();
  if (std::fclose(out) != 0 || !written)
    throw std::runtime_error("writing '" + svg_path + "' failed");
  if (!png_path.empty()) {
    const std::string command = "rsvg-convert -o '" + png_path + "' '" + svg_path + "'";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("converting to PNG failed (" + command +
                               "); install librsvg2-bin for rsvg-convert, or use the SVG");
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"cairn " CAIRN_VERSION_STRING
               ": optimal checkpointing schedules for adjoint time stepping"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CAIRN_VERSION_STRING);

  Problem problem;
  std::string format;

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
  check->add_option(
      "--disk-slots", problem.disk_slots_text,
      "slots on level 1 (\"disk\"), an integer or \"unlimited\"; default: no level 1");
  add_cost_options(*check, problem);
  check->add_option("--format,-f", format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));

  auto* plot = app.add_subcommand("plot", "draw a schedule as an SVG picture (and PNG)");
  add_problem_options(*plot, problem, true);
  std::string svg_path, png_path;
  plot->add_option("--output,-o", svg_path, "the SVG file to write")->required();
  plot->add_option("--png", png_path,
                   "also write a PNG (needs rsvg-convert, from Debian's librsvg2-bin)");

  auto* plan = app.add_subcommand(
      "plan", "compare the schedules for a memory budget and predict what each costs");
  PlanInput plan_input;
  std::string plan_steps;
  plan->add_option("--steps,-T", plan_steps, "number of time steps T, or \"unknown\"")->required();
  plan->add_option("--state-bytes", plan_input.state_bytes, "bytes of one state")->required();
  plan->add_option("--step-seconds", plan_input.step_seconds, "seconds of one forward step")
      ->required();
  plan->add_option("--adjoint-seconds", plan_input.adjoint_seconds,
                   "seconds of one adjoint step (its taped forward step included)")
      ->required();
  plan->add_option("--ram-bytes", plan_input.ram_bytes, "RAM for checkpoints, in bytes")
      ->required();
  plan->add_option("--disk-bytes", plan_input.disk_bytes, "disk for checkpoints, in bytes");
  plan->add_option("--disk-write-bandwidth", plan_input.disk_write_bandwidth,
                   "disk write bandwidth, bytes per second");
  plan->add_option("--disk-read-bandwidth", plan_input.disk_read_bandwidth,
                   "disk read bandwidth, bytes per second");
  plan->add_option("--copy-bandwidth", plan_input.copy_bandwidth,
                   "bytes per second of a checkpoint copy while the checkpoints fit in the cache "
                   "(default 2e10)");
  plan->add_option("--memory-bandwidth", plan_input.memory_bandwidth,
                   "bytes per second of a checkpoint copy beyond the cache, first touch of fresh "
                   "pages included (default 3e9)");
  plan->add_option("--cache-bytes", plan_input.cache_bytes,
                   "the cache the checkpoints must fit in for --copy-bandwidth (default: the "
                   "last-level cache the system reports, at most 32 MiB)");
  plan->add_option("--format,-f", format, "text (default) or json")
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
    if (plot->parsed()) return run_plot(problem, svg_path, png_path);
    if (plan->parsed()) return run_plan(plan_input, plan_steps, format.empty() ? "text" : format);
    return run_check(problem, format.empty() ? "text" : format);
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
