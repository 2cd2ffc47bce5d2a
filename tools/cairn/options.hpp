// The options the cairn subcommands share: the problem (T, slots, schedule, disk level, prices),
// how it is read from the command line, and the exit statuses every subcommand keeps to.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/schedule.hpp"

namespace cairn::cli {

/// Exit statuses (docs/cli.md): 0 success; 1 a checked stream is illegal (or an internal error);
/// 2 bad input, in the arguments or in a stream read.
constexpr int kExitIllegal = 1;
constexpr int kExitBadInput = 2;

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
  double taped = -1;    // one taped step (store_adjoint, the re-run of a reverse); -1: not given
  bool given = false;   // any of them given on the command line

  cairn::CostModel model() const {
    return cairn::CostModel{forward, backward, {0, write}, {0, read}, taped < 0 ? 0 : taped};
  }
};

/// A schedule problem as the command line states it. The *_text fields are what the user typed;
/// parse() checks them together and fills in the numbers and the schedule's name.
struct Problem {
  std::string steps_text;
  std::string slots_text;
  std::string disk_slots_text;
  std::string interval_text;
  std::string max_table_text;
  std::string adjoint_units_text;
  std::string schedule = "revolve";
  bool online = false;  // simulate a run that learns T only at its end
  Prices prices;
  std::int64_t steps = 0;
  std::int64_t slots = 0;
  std::int64_t disk_slots = -1;    // -1: no disk level
  std::int64_t interval = 0;       // Uniform's k
  std::int64_t adjoint_units = 1;  // the size of one step's adjoint data, in states
  std::size_t max_table_bytes = cairn::MultilevelRevolve::default_max_table_bytes;

  /// Throws BadInput naming the option and what is allowed.
  void parse();
  /// RAM, then the disk level if there is one, with the disk's prices.
  std::vector<cairn::StorageLevel> levels() const;
  std::unique_ptr<cairn::Schedule> make_schedule() const;
  /// Slots the schedule may use per level, as the checker should enforce them.
  std::vector<std::int64_t> slot_budget() const;
  /// The online schedule over RAM (--slots) and disk (--disk-slots, prices) of --online.
  std::unique_ptr<cairn::OnlineMultilevelRevolve> online_multilevel() const;
};

/// What the subcommands over a Problem (schedule, info, check, plot) read from their command line.
struct ProblemOptions {
  Problem problem;
  std::string format;  // the --format chosen, if the subcommand has one
};

/// --write-cost, --read-cost, --forward-cost, --backward-cost; any of them selects multilevel.
void add_cost_options(CLI::App& command, Problem& problem);

/// --steps and --slots; with `with_schedule` also --schedule, --interval, --online, --disk-slots
/// and the cost options (otherwise --slots is required).
void add_problem_options(CLI::App& command, Problem& problem, bool with_schedule);

/// --format/-f, one of `allowed`; the first is the default, which `help` should name.
void add_format_option(CLI::App& command, std::string& format,
                       std::initializer_list<std::string> allowed, const std::string& help);

}  // namespace cairn::cli
