#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "cairn/mixed.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/two_level.hpp"
#include "cairn/uniform.hpp"
#include "integer_argument.hpp"
#include "report.hpp"

namespace cairn::cli {

void Problem::parse() {
  try {
    steps = parse_integer_argument("--steps", steps_text, 1);
    if (!max_table_text.empty()) {
      max_table_bytes =
          static_cast<std::size_t>(parse_integer_argument("--max-table-bytes", max_table_text, 0));
    }
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
      if (schedule != "revolve") {
        throw BadInput(
            "--online takes --steps, --slots and optionally a disk level (--disk-slots and the "
            "cost options); no --schedule");
      }
      // With a disk level (or prices): OnlineMultilevelRevolve, RAM then disk.
      schedule = disk_slots >= 0 || prices.given ? "online-multilevel" : "online";
      if (schedule == "online-multilevel" && disk_slots < 0) disk_slots = 0;
      if (schedule == "online-multilevel") {
        (void)online_multilevel();  // its argument errors, now
      }
      return;
    }
    if (!adjoint_units_text.empty()) {
      adjoint_units = parse_integer_argument("--adjoint-units", adjoint_units_text, 1);
    }
    if (schedule == "mixed") {
      if (disk_slots >= 0) {
        throw BadInput("--schedule mixed keeps everything on one level; no --disk-slots");
      }
    } else if (schedule == "two-level") {
      if (disk_slots < 0) {
        throw BadInput(
            "--schedule two-level needs --disk-slots (an integer >= 0, or unlimited) and "
            "optionally the cost options");
      }
    } else if (disk_slots >= 0 || prices.given) {
      schedule = "multilevel";
    }
  } catch (const std::invalid_argument& e) {
    throw BadInput(e.what());
  }
}

std::vector<cairn::StorageLevel> Problem::levels() const {
  std::vector<cairn::StorageLevel> result{cairn::StorageLevel{slots, 0, 0}};
  if (disk_slots >= 0) {
    result.push_back(cairn::StorageLevel{disk_slots, prices.write, prices.read});
  }
  return result;
}

std::unique_ptr<cairn::Schedule> Problem::make_schedule() const {
  if (schedule == "revolve") return std::make_unique<cairn::Revolve>(steps, slots);
  if (schedule == "online") return std::make_unique<cairn::SimulatedOnlineRun>(steps, slots);
  if (schedule == "online-multilevel") {
    return std::make_unique<cairn::SimulatedOnlineRun>(steps, online_multilevel());
  }
  if (schedule == "uniform") return std::make_unique<cairn::Uniform>(steps, interval);
  if (schedule == "multilevel") {
    try {
      return std::make_unique<cairn::MultilevelRevolve>(
          steps, levels(), cairn::StepCosts{prices.forward, prices.backward}, max_table_bytes);
    } catch (const std::length_error& e) {
      throw std::length_error(std::string(e.what()) + " (the option --max-table-bytes)");
    }
  }
  if (schedule == "two-level") {
    try {
      return std::make_unique<cairn::TwoLevelRevolve>(
          steps, cairn::StorageLevel{slots, 0, 0},
          cairn::StorageLevel{disk_slots, prices.write, prices.read},
          cairn::StepCosts{prices.forward, prices.backward}, 1, max_table_bytes);
    } catch (const std::length_error& e) {
      throw std::length_error(std::string(e.what()) + " (the option --max-table-bytes)");
    }
  }
  if (schedule == "mixed") {
    try {
      return std::make_unique<cairn::MixedRevolve>(
          steps, slots, adjoint_units,
          cairn::MixedPrices{prices.forward, prices.taped < 0 ? prices.forward : prices.taped,
                             prices.backward},
          max_table_bytes);
    } catch (const std::length_error& e) {
      throw std::length_error(std::string(e.what()) + " (the option --max-table-bytes)");
    }
  }
  return std::make_unique<cairn::StoreAll>(steps);
}

std::unique_ptr<cairn::OnlineMultilevelRevolve> Problem::online_multilevel() const {
  return std::make_unique<cairn::OnlineMultilevelRevolve>(
      cairn::StorageLevel{slots, 0, 0},
      cairn::StorageLevel{std::max<std::int64_t>(disk_slots, 0), prices.write, prices.read},
      cairn::StepCosts{prices.forward, prices.backward});
}

std::vector<std::int64_t> Problem::slot_budget() const {
  if (schedule == "store-all") return {cairn::StoreAll(steps).slots()};
  if (schedule == "online-multilevel") return online_multilevel()->slots_per_level(steps);
  std::vector<std::int64_t> budget{slots};
  if (disk_slots >= 0) budget.push_back(disk_slots == cairn::unlimited_slots ? steps : disk_slots);
  return budget;
}

namespace {

// A CLI11 check: the text is a finite number >= minimum (> minimum when `strictly_above`); the
// message says what is allowed (CLI11's own checks accept nan and print a 309-digit bound).
CLI::Validator finite_number(double minimum, bool strictly_above) {
  const std::string bound = std::string(strictly_above ? "> " : ">= ") + format_cost(minimum);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) {
          return "'" + text + "' is not a number; give a finite number " + bound;
        }
        const bool in_range = strictly_above ? value > minimum : value >= minimum;
        if (!std::isfinite(value) || !in_range) {
          return "'" + text + "' is not allowed; give a finite number " + bound;
        }
        return {};
      },
      "NUMBER " + bound);
}

}  // namespace

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
      ->check(finite_number(0, false));
  price("--read-cost", &Prices::read, "cost of one restore from the disk level (default 0)")
      ->check(finite_number(0, false));
  price("--forward-cost", &Prices::forward, "cost uf of one forward step (default 1)")
      ->check(finite_number(0, true));
  price("--backward-cost", &Prices::backward, "cost ub of one adjoint step (default 0)")
      ->check(finite_number(0, false));
  price("--taped-cost", &Prices::taped,
        "cost ut of one taped step (store_adjoint, or the re-run inside a reverse); default: the "
        "forward cost for --schedule mixed, 0 (not priced) otherwise")
      ->check(finite_number(0, false));
}

void add_problem_options(CLI::App& command, Problem& problem, bool with_schedule) {
  command.add_option("--steps,-T", problem.steps_text, "number of time steps T (>= 1)")->required();
  auto* slots = command.add_option(
      "--slots,-c", problem.slots_text,
      "checkpoint slots c (>= 1, or >= 0 with --disk-slots), the slot of x_0 included");
  if (with_schedule) {
    command.add_option("--schedule", problem.schedule, "which schedule")
        ->check(
            CLI::IsMember({"revolve", "store-all", "multilevel", "two-level", "uniform", "mixed"}))
        ->default_str("revolve");
    command.add_option("--interval", problem.interval_text,
                       "--schedule uniform: a checkpoint every K steps (default: the K with the "
                       "fewest forward steps that fits --slots)");
    command.add_flag("--online", problem.online,
                     "simulate an online run: OnlineRevolve learns T only after the last step; "
                     "the stream advances to x_T. With --disk-slots (and the cost options): "
                     "OnlineMultilevelRevolve over RAM and disk");
    command.add_option("--disk-slots", problem.disk_slots_text,
                       "slots on a disk level (level 1), an integer or \"unlimited\"; implies "
                       "--schedule multilevel (or, with --online, the online one over RAM and "
                       "disk)");
    add_cost_options(command, problem);
    command.add_option("--max-table-bytes", problem.max_table_text,
                       "the most memory the multilevel planner may take for its tables (default "
                       "2^30 = 1073741824)");
  } else {
    slots->required();
  }
  command.add_option("--adjoint-units", problem.adjoint_units_text,
                     "the size of one step's adjoint data (store_adjoint; --schedule mixed) in "
                     "units of a state (default 1; e.g. 4 for rk4's stage inputs); --slots then "
                     "counts units");
}

void add_format_option(CLI::App& command, std::string& format,
                       std::initializer_list<std::string> allowed, const std::string& help) {
  format = *allowed.begin();
  command.add_option("--format,-f", format, help)
      ->check(CLI::IsMember(std::vector<std::string>(allowed)));
}

}  // namespace cairn::cli
