#include "planner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <unistd.h>

#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/uniform.hpp"

namespace {

void require_positive(double value, const char* name) {
  if (!(std::isfinite(value) && value > 0)) {
    throw std::invalid_argument(std::string(name) + " must be a number > 0");
  }
}

// Counts of a stream by the checker, priced.
void count_and_price(PlanCandidate& c, cairn::Schedule& schedule, std::int64_t steps,
                     std::vector<std::int64_t> slots, bool extra_final_step, const PlanInput& in) {
  const cairn::CheckResult r = cairn::check(schedule, steps, std::move(slots));
  if (!r.legal)
    throw std::logic_error("plan: the " + c.schedule + " stream is illegal: " + r.reason);
  // The Driver makes one more step call than the stream's advances (x_{T-1} -> x_T for the
  // terminal adjoint) except online, whose stream already advances to x_T.
  c.step_calls = r.costs.forward_steps + (extra_final_step ? 1 : 0);
  c.adjoint_calls = r.costs.reverses;
  c.ram_copies = r.costs.levels[0].stores + r.costs.levels[0].restores;
  if (r.costs.levels.size() > 1) {
    c.disk_writes = r.costs.levels[1].stores;
    c.disk_reads = r.costs.levels[1].restores;
  }
  const double S = in.state_bytes;
  const double bandwidth = static_cast<double>(c.ram_slots) * S <= in.cache_bytes
                               ? in.copy_bandwidth
                               : in.memory_bandwidth;
  c.predicted_seconds = static_cast<double>(c.step_calls) * in.step_seconds +
                        static_cast<double>(c.adjoint_calls) * in.adjoint_seconds +
                        static_cast<double>(c.ram_copies) * S / bandwidth;
  if (c.disk_writes + c.disk_reads > 0) {
    c.predicted_seconds += static_cast<double>(c.disk_writes) * S / in.disk_write_bandwidth +
                           static_cast<double>(c.disk_reads) * S / in.disk_read_bandwidth;
  }
}

PlanCandidate candidate(std::string schedule, std::string detail) {
  PlanCandidate c;
  c.schedule = std::move(schedule);
  c.detail = std::move(detail);
  return c;
}

}  // namespace

std::vector<PlanCandidate> plan_candidates(const PlanInput& input) {
  PlanInput in = input;
  if (in.cache_bytes <= 0) {
    // One core's share is what a copy loop sees; virtual machines often report the whole
    // socket's L3 (320 MiB on the development VM), so the default is capped at 32 MiB.
    const long reported = sysconf(_SC_LEVEL3_CACHE_SIZE);
    const double cap = 32.0 * 1024 * 1024;
    in.cache_bytes = reported > 0 ? std::min(static_cast<double>(reported), cap) : cap;
  }
  if (!(std::isfinite(in.state_bytes) && in.state_bytes >= 1 &&
        std::floor(in.state_bytes) == in.state_bytes)) {
    throw std::invalid_argument(
        "--state-bytes must be a whole number > 0 (the bytes of one state)");
  }
  require_positive(in.step_seconds, "--step-seconds");
  if (!(std::isfinite(in.adjoint_seconds) && in.adjoint_seconds >= 0)) {
    throw std::invalid_argument("--adjoint-seconds must be a number >= 0");
  }
  require_positive(in.ram_bytes, "--ram-bytes");
  require_positive(in.copy_bandwidth, "--copy-bandwidth");
  require_positive(in.memory_bandwidth, "--memory-bandwidth");
  if (!(std::isfinite(in.disk_bytes) && in.disk_bytes >= 0)) {
    throw std::invalid_argument("--disk-bytes must be a number >= 0 (0 or absent: no disk level)");
  }
  const bool disk = in.disk_bytes > 0;
  if (disk) {
    require_positive(in.disk_write_bandwidth, "--disk-write-bandwidth");
    require_positive(in.disk_read_bandwidth, "--disk-read-bandwidth");
  }
  const double S = in.state_bytes;
  const std::int64_t T = in.steps;
  // No schedule of T steps holds more than T + 1 states at once (and no unknown T more than
  // 2^62 with any memory there is): more room is not more slots, and a budget such as 1e300
  // bytes must not overflow the count.
  const double most_useful = T >= 1 ? static_cast<double>(T) + 1 : 4.611686018427387904e18;
  const auto states_in = [&](double bytes) {
    return static_cast<std::int64_t>(std::min(std::floor(bytes / S), most_useful));
  };
  const std::int64_t c = states_in(in.ram_bytes);
  const std::int64_t d = disk ? states_in(in.disk_bytes) : 0;
  std::vector<PlanCandidate> out;
  const auto peak = [&](std::int64_t ram_slots) { return static_cast<double>(ram_slots + 2) * S; };

  if (T < 0) {  // unknown length: only the online schedule applies
    PlanCandidate online = candidate("online", "c = " + std::to_string(c));
    online.ram_slots = c;
    online.peak_bytes = peak(c);
    if (c < 1) {
      online.fits = false;
      online.why_not = "the RAM budget holds no state";
    }
    out.push_back(online);
    return out;
  }
  if (T < 1) throw std::invalid_argument("--steps must be >= 1 or \"unknown\"");

  {
    PlanCandidate all =
        candidate("store-all", "T - 1 = " + std::to_string(T > 1 ? T - 1 : 1) + " slots");
    cairn::StoreAll schedule(T);
    all.ram_slots = schedule.slots();
    all.peak_bytes = peak(all.ram_slots);
    if (all.ram_slots > c) {
      all.fits = false;
      all.why_not =
          "needs " + std::to_string(all.ram_slots) + " slots, the RAM holds " + std::to_string(c);
    } else {
      count_and_price(all, schedule, T, {all.ram_slots}, true, in);
    }
    out.push_back(all);
  }
  {
    PlanCandidate uniform = candidate("uniform", "");
    try {
      const std::int64_t k = cairn::Uniform::best_interval_for_slots(T, c);
      cairn::Uniform schedule(T, k);
      uniform.detail = "k = " + std::to_string(k);
      uniform.ram_slots = schedule.slots();
      uniform.peak_bytes = peak(uniform.ram_slots);
      count_and_price(uniform, schedule, T, {uniform.ram_slots}, true, in);
    } catch (const std::invalid_argument& e) {
      uniform.fits = false;
      uniform.why_not = e.what();
    }
    out.push_back(uniform);
  }
  {
    PlanCandidate revolve = candidate("revolve", "c = " + std::to_string(std::min(c, T)));
    if (c < 1) {
      revolve.fits = false;
      revolve.why_not = "the RAM budget holds no state";
    } else {
      cairn::Revolve schedule(T, std::min(c, T));
      revolve.ram_slots = std::min(c, T);
      revolve.peak_bytes = peak(revolve.ram_slots);
      count_and_price(revolve, schedule, T, {revolve.ram_slots}, true, in);
    }
    out.push_back(revolve);
  }
  if (disk) {
    PlanCandidate multilevel = candidate(
        "multilevel", "c = " + std::to_string(c) + " RAM + " + std::to_string(d) + " disk");
    multilevel.ram_slots = c;
    multilevel.disk_slots = d;
    multilevel.peak_bytes = peak(c);
    const double ram_bandwidth =
        static_cast<double>(c) * S <= in.cache_bytes ? in.copy_bandwidth : in.memory_bandwidth;
    try {
      cairn::MultilevelRevolve schedule(
          T,
          {cairn::StorageLevel{c, S / ram_bandwidth, S / ram_bandwidth},
           cairn::StorageLevel{d, S / in.disk_write_bandwidth, S / in.disk_read_bandwidth}},
          cairn::StepCosts{in.step_seconds, in.adjoint_seconds});
      count_and_price(multilevel, schedule, T, schedule.slots_per_level(), true, in);
    } catch (const std::exception& e) {
      multilevel.fits = false;
      multilevel.why_not = e.what();
    }
    out.push_back(multilevel);
  }
  {
    PlanCandidate online =
        candidate("online", "c = " + std::to_string(c) + " (T learnt at the end)");
    if (c < 1) {
      online.fits = false;
      online.why_not = "the RAM budget holds no state";
    } else {
      cairn::SimulatedOnlineRun schedule(T, c);
      online.ram_slots = c;
      online.peak_bytes = peak(c);
      count_and_price(online, schedule, T, {c}, false, in);
    }
    out.push_back(online);
  }
  return out;
}

std::size_t recommend(const std::vector<PlanCandidate>& candidates) {
  std::size_t best = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const PlanCandidate& c = candidates[i];
    if (!c.fits) continue;
    if (c.predicted_seconds < 0) return i;  // unknown T: the online schedule
    if (best == candidates.size() || c.predicted_seconds < candidates[best].predicted_seconds)
      best = i;
  }
  return best;
}
