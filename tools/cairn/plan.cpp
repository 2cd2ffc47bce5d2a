// `cairn plan`: the schedules that fit a memory budget, side by side with what each will cost,
// and the one to use (the model is planner.hpp's).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "integer_argument.hpp"
#include "options.hpp"
#include "planner.hpp"

namespace cairn::cli {
namespace {

struct PlanOptions {
  PlanInput input;
  std::string steps;  // an integer or "unknown"
  std::string format;
};

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
  std::printf("cairn plan: T = %s, state %s, step %.3g s, adjoint %.3g s, RAM %s (%.6g states)",
              input.steps < 0 ? "unknown" : std::to_string(input.steps).c_str(),
              human_bytes(input.state_bytes).c_str(), input.step_seconds, input.adjoint_seconds,
              human_bytes(input.ram_bytes).c_str(),
              std::floor(input.ram_bytes / input.state_bytes));
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

}  // namespace

Command add_plan_command(CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* command = app.add_subcommand(
      "plan", "compare the schedules for a memory budget and predict what each costs");
  PlanInput& input = options->input;
  command->add_option("--steps,-T", options->steps, "number of time steps T, or \"unknown\"")
      ->required();
  command->add_option("--state-bytes", input.state_bytes, "bytes of one state")->required();
  command->add_option("--step-seconds", input.step_seconds, "seconds of one forward step")
      ->required();
  command
      ->add_option("--adjoint-seconds", input.adjoint_seconds,
                   "seconds of one adjoint step (its taped forward step included)")
      ->required();
  command->add_option("--ram-bytes", input.ram_bytes, "RAM for checkpoints, in bytes")->required();
  command->add_option("--disk-bytes", input.disk_bytes, "disk for checkpoints, in bytes");
  command->add_option("--disk-write-bandwidth", input.disk_write_bandwidth,
                      "disk write bandwidth, bytes per second");
  command->add_option("--disk-read-bandwidth", input.disk_read_bandwidth,
                      "disk read bandwidth, bytes per second");
  command->add_option(
      "--copy-bandwidth", input.copy_bandwidth,
      "bytes per second of a checkpoint copy while the checkpoints fit in the cache "
      "(default 2e10)");
  command->add_option(
      "--memory-bandwidth", input.memory_bandwidth,
      "bytes per second of a checkpoint copy beyond the cache, first touch of fresh "
      "pages included (default 3e9)");
  command->add_option("--cache-bytes", input.cache_bytes,
                      "the cache the checkpoints must fit in for --copy-bandwidth (default: the "
                      "last-level cache the system reports, at most 32 MiB)");
  add_format_option(*command, options->format, {"text", "json"}, "text (default) or json");

  return {command, [options] { return run_plan(options->input, options->steps, options->format); }};
}

}  // namespace cairn::cli
