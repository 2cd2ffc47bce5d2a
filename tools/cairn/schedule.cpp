// `cairn schedule`: a schedule as JSON lines (the format `cairn check` reads), as text, or as a
// one-line summary checked by the independent checker, with generation timed.
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "cairn/action_io.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/mixed.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/two_level.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "report.hpp"

namespace cairn::cli {
namespace {

// The timed pass folds every action into a sum written here, so that no work can be skipped.
volatile std::int64_t sink = 0;

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
      throw std::runtime_error(std::string("cannot write to standard output: ") +
                               std::strerror(errno));
    }
    buffer_.clear();
  }
  ~BufferedOutput() {
    if (!buffer_.empty()) std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
  }

 private:
  std::string buffer_;
};

nlohmann::ordered_json disk_slots_json(std::int64_t disk_slots) {
  if (disk_slots == cairn::unlimited_slots) return "unlimited";
  return disk_slots;
}

/// Whether the schedule is planned with prices (multilevel or two-level) and knows its cost.
bool priced(const Problem& problem) {
  return problem.schedule == "multilevel" || problem.schedule == "two-level" ||
         problem.schedule == "mixed";
}

double optimal_cost(const Problem& problem, const cairn::Schedule& schedule) {
  if (problem.schedule == "mixed") {
    return static_cast<const cairn::MixedRevolve&>(schedule).optimal_cost();
  }
  if (problem.schedule == "two-level") {
    return static_cast<const cairn::TwoLevelRevolve&>(schedule).optimal_cost();
  }
  return static_cast<const cairn::MultilevelRevolve&>(schedule).optimal_cost();
}

/// ", D disk slots (write W, read R), uf F, ub B, cost X" for a priced schedule.
std::string multilevel_summary(const Problem& problem, const cairn::Schedule& schedule) {
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
          format_cost(optimal_cost(problem, schedule)) +
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
    if (problem.schedule == "mixed") {
      // Also when the plan keeps no adjoint data (add_costs prints them only when it does).
      j["forward_evaluations"] = result.costs.forward_evaluations();
      j["peak_units"] = result.costs.levels[0].peak_units;
      j["adjoint_units"] = problem.adjoint_units;
      j["cost"] = cairn::cost(result.costs,
                              static_cast<const cairn::MixedRevolve&>(*schedule).cost_model());
      j["optimal_cost"] = optimal_cost(problem, *schedule);
      // Revolve with as many slots: its forward evaluations (advances + taped re-runs).
      if (problem.slots >= 1) {
        j["revolve_forward_evaluations"] =
            cairn::forward_cost(problem.steps, problem.slots) + problem.steps;
      }
    } else if (priced(problem)) {
      j["cost"] = cairn::cost(result.costs, problem.prices.model());
      j["optimal_cost"] = optimal_cost(problem, *schedule);
    }
    if (problem.schedule == "online-multilevel") {
      const auto online = problem.online_multilevel();
      j["cost"] = cairn::cost(result.costs, online->cost_model());
      j["mode"] = online->shared_mode() ? "shared" : "spacing";
      if (!online->shared_mode()) j["first_spacing"] = online->first_spacing();
      // A lower bound for the same run offline (docs/online.md): free I/O, all slots in RAM.
      if (problem.disk_slots != cairn::unlimited_slots) {
        j["offline_free_io_forward_steps"] =
            cairn::forward_cost(problem.steps + 1, problem.slots + problem.disk_slots);
      }
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
    if (priced(problem)) b += multilevel_summary(problem, *schedule);
    if (problem.schedule == "online-multilevel") {
      b += " in RAM, " +
           (problem.disk_slots == cairn::unlimited_slots ? std::string("unlimited")
                                                         : std::to_string(problem.disk_slots)) +
           " disk slots (write " + format_cost(problem.prices.write) + ", read " +
           format_cost(problem.prices.read) + "; T learnt at the end, " +
           (problem.online_multilevel()->shared_mode()
                ? std::string("disk slots shared with RAM as one OnlineRevolve")
                : "first disk checkpoint at " +
                      std::to_string(problem.online_multilevel()->first_spacing())) +
           ")";
    }
    out.line_done();
  } else if (priced(problem)) {
    // stdout stays a pure action stream that `cairn check` reads back; the cost goes to stderr.
    std::fprintf(stderr, "# %s schedule: T = %lld steps, c = %lld RAM slots%s\n", schedule->name(),
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

}  // namespace

Command add_schedule_command(CLI::App& app) {
  auto options = std::make_shared<ProblemOptions>();
  CLI::App* command = app.add_subcommand("schedule", "print a schedule, one action per line");
  add_problem_options(*command, options->problem, true);
  add_format_option(*command, options->format, {"jsonl", "text", "summary"},
                    "jsonl (default), text or summary");
  return {command, [options] { return run_schedule(options->problem, options->format); }};
}

}  // namespace cairn::cli
