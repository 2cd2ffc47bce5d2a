// Fuzz target B: the C API's schedule constructors (include/cairn/cairn.h) with arguments decoded
// from the input bytes, extreme ones included (INT64_MAX, negative, 0, 1e308, NaN, inf). A
// schedule that is created is queried, and up to kMaxActions of its actions go through a
// ScheduleChecker: an illegal stream from a schedule the API accepted is a bug, and so is a
// failure without a message naming the function, CAIRN_ERROR_INTERNAL, a crash or a sanitizer
// report. Every input's work is bounded: the planners (multilevel, heterogeneous) only see small
// T, or sizes their table limit must refuse.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/cairn.h"
#include "cairn/check.hpp"
#include "fuzz_assert.hpp"

namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxActions = 10000;
// The planners are O(T^2) to O(T^3) in time; above these T only arguments they must refuse are
// tried.
constexpr std::int64_t kMaxPlannedSteps = 60;
constexpr std::int64_t kMaxChainSteps = 64;
constexpr std::int64_t kMaxOnlineSteps = 2000;
// Schedules whose memory is documented as O(c) get at most this many slots, or more than 2^60
// (which std::vector refuses without allocating).
constexpr std::int64_t kMaxKeptStates = std::int64_t{1} << 16;

// The input as a stream of choices; past its end every read gives zeros, so that every input
// decodes to some call.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return position_ < size_ ? data_[position_++] : 0; }
  std::uint64_t raw64() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | byte();
    return value;
  }

  // Mostly small numbers, with the edges of int64 and a few round large values.
  std::int64_t count() {
    static constexpr std::int64_t special[] = {0,
                                               1,
                                               2,
                                               -1,
                                               kInt64Min,
                                               kInt64Max,
                                               kInt64Max - 1,
                                               kInt64Max / 2,
                                               kInt64Max / 2 + 1,
                                               kInt64Max / 3 + 1,
                                               (std::int64_t{1} << 31) - 1,
                                               std::int64_t{1} << 31,
                                               std::int64_t{1} << 32,
                                               std::int64_t{1} << 53,
                                               1000000,
                                               1000000000,
                                               1000000000000,
                                               1000000000000000000};
    const std::uint8_t mode = byte() % 16;
    if (mode < 8) return byte();
    if (mode == 8) return -static_cast<std::int64_t>(byte());
    if (mode < 11) return special[byte() % (sizeof special / sizeof special[0])];
    if (mode == 11) return static_cast<std::int64_t>(raw64());
    return u16();
  }

  // Two bytes, high first (in two statements: the order of operands' evaluation is unspecified,
  // and the corpus must decode the same under every compiler).
  std::int64_t u16() {
    const std::int64_t high = byte();
    return high << 8 | byte();
  }

  // Mostly small dyadic costs (sums of them are exact), with the edges of double.
  double cost() {
    static constexpr double special[] = {0.0,
                                         -0.0,
                                         1.0,
                                         0.5,
                                         -1.0,
                                         1e308,
                                         -1e308,
                                         std::numeric_limits<double>::max(),
                                         std::numeric_limits<double>::infinity(),
                                         -std::numeric_limits<double>::infinity(),
                                         std::numeric_limits<double>::quiet_NaN(),
                                         std::numeric_limits<double>::min(),
                                         std::numeric_limits<double>::denorm_min(),
                                         1e-300,
                                         1e300,
                                         9007199254740992.0};
    const std::uint8_t mode = byte() % 10;
    if (mode < 8) return byte() / 4.0;
    if (mode == 8) return special[byte() % (sizeof special / sizeof special[0])];
    double value = 0;
    const std::uint64_t bits = raw64();
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

// A status from `function`: CAIRN_OK, or a documented error with a message that names the
// function. CAIRN_ERROR_INTERNAL is "a bug in Cairn" (cairn.h), so it fails the target too.
bool ok(int status, const char* function) {
  if (status == CAIRN_OK) return true;
  const std::string message = cairn_last_error();
  if (status < CAIRN_ERROR_INVALID_ARGUMENT || status >= CAIRN_ERROR_INTERNAL ||
      message.compare(0, std::strlen(function) + 1, std::string(function) + ":") != 0) {
    std::fprintf(stderr, "%s returned %d (%s) with the message \"%s\"\n", function, status,
                 cairn_status_name(status), message.c_str());
    std::abort();
  }
  return false;
}

cairn::Action from_c(const cairn_action& a) {
  FUZZ_ASSERT(a.kind >= CAIRN_ACTION_ADVANCE && a.kind <= CAIRN_ACTION_END);
  cairn::Action action;
  action.kind = static_cast<cairn::ActionKind>(a.kind);
  action.level = a.level;
  action.slot = a.slot;
  action.step = a.step;
  action.to = a.to;
  return action;
}

// What the checker is told about a created schedule, and what its queries promised.
struct Expected {
  std::int64_t steps = 0;
  int levels = 1;
  std::int64_t forward_steps = -1;  // -1: not known in advance
  std::int64_t repetitions = -1;    // -1: not a Revolve schedule
  std::int64_t budget_bytes = -1;   // heterogeneous only
};

// The queries every handle answers, and those that only some kinds do.
Expected query(cairn_schedule* s, int kind, std::int64_t requested_steps, bool skip_forward) {
  Expected e;
  int got_kind = -1;
  FUZZ_ASSERT(ok(cairn_schedule_kind(s, &got_kind), "cairn_schedule_kind"));
  FUZZ_ASSERT(got_kind == kind);
  const char* name = nullptr;
  FUZZ_ASSERT(ok(cairn_schedule_name(s, &name), "cairn_schedule_name"));
  FUZZ_ASSERT(name != nullptr && name[0] != '\0');
  FUZZ_ASSERT(ok(cairn_schedule_steps(s, &e.steps), "cairn_schedule_steps"));
  if (kind != CAIRN_SCHEDULE_ONLINE) FUZZ_ASSERT(e.steps == requested_steps);
  FUZZ_ASSERT(ok(cairn_schedule_levels(s, &e.levels), "cairn_schedule_levels"));
  FUZZ_ASSERT(e.levels >= 1 && e.levels <= 3);
  for (int level = 0; level < e.levels; ++level) {
    std::int64_t slots = -1;
    FUZZ_ASSERT(ok(cairn_schedule_slots(s, level, &slots), "cairn_schedule_slots"));
    FUZZ_ASSERT(slots >= 0);
  }
  std::int64_t ignored = 0;
  FUZZ_ASSERT(!ok(cairn_schedule_slots(s, e.levels, &ignored), "cairn_schedule_slots"));
  FUZZ_ASSERT(!ok(cairn_schedule_slots(s, -1, &ignored), "cairn_schedule_slots"));

  if (!skip_forward) {
    std::int64_t forward = -1;
    if (ok(cairn_schedule_forward_steps(s, &forward), "cairn_schedule_forward_steps")) {
      FUZZ_ASSERT(forward >= 0);
      e.forward_steps = forward;
    }
  }
  std::int64_t repetitions = -1;
  if (ok(cairn_schedule_repetitions(s, &repetitions), "cairn_schedule_repetitions")) {
    FUZZ_ASSERT(kind == CAIRN_SCHEDULE_REVOLVE && repetitions >= 0);  // r(1, c) = 0
    e.repetitions = repetitions;
  }
  double cost = -1;
  if (ok(cairn_multilevel_optimal_cost(s, &cost), "cairn_multilevel_optimal_cost")) {
    FUZZ_ASSERT((kind == CAIRN_SCHEDULE_MULTILEVEL || kind == CAIRN_SCHEDULE_TWO_LEVEL) &&
                std::isfinite(cost) && cost >= 0);
  }
  if (ok(cairn_heterogeneous_optimal_cost(s, &cost), "cairn_heterogeneous_optimal_cost")) {
    FUZZ_ASSERT(kind == CAIRN_SCHEDULE_HETEROGENEOUS && std::isfinite(cost) && cost >= 0);
  }
  std::int64_t peak = -1;
  if (ok(cairn_heterogeneous_peak_bytes(s, &peak), "cairn_heterogeneous_peak_bytes")) {
    FUZZ_ASSERT(kind == CAIRN_SCHEDULE_HETEROGENEOUS && peak >= 1);
  }
  return e;
}

std::vector<std::int64_t> slot_budget(cairn_schedule* s, int levels) {
  std::vector<std::int64_t> slots;
  for (int level = 0; level < levels; ++level) {
    std::int64_t n = 0;
    FUZZ_ASSERT(ok(cairn_schedule_slots(s, level, &n), "cairn_schedule_slots"));
    slots.push_back(n);
  }
  return slots;
}

// Reads the stream (after the online forward sweep, if any, already fed to `checker`) until
// `end` or the cap, then holds the verdict to what the queries promised.
void read_and_check(cairn_schedule* s, cairn::ScheduleChecker& checker, const Expected& e,
                    std::int64_t budget, bool one_at_a_time, bool check_reset) {
  std::vector<cairn_action> first;
  cairn_action batch[256];
  std::int64_t read = 0;
  bool ended = false;
  while (read < budget && !ended && !checker.failed()) {
    std::size_t got = 0;
    if (one_at_a_time) {
      FUZZ_ASSERT(ok(cairn_schedule_next(s, &batch[0]), "cairn_schedule_next"));
      got = 1;
    } else {
      const std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(256, budget - read));
      FUZZ_ASSERT(
          ok(cairn_schedule_next_actions(s, batch, want, &got), "cairn_schedule_next_actions"));
      FUZZ_ASSERT(got >= 1 && got <= want);
    }
    for (std::size_t i = 0; i < got && !checker.failed(); ++i) {
      if (first.size() < 64) first.push_back(batch[i]);
      checker.feed(from_c(batch[i]));
      ended = batch[i].kind == CAIRN_ACTION_END;
      FUZZ_ASSERT(!ended || i + 1 == got);  // a batch stops at end
    }
    read += static_cast<std::int64_t>(got);
  }
  const cairn::CheckResult result = checker.finish();
  if (checker.failed()) {
    std::fprintf(stderr, "illegal stream from a created schedule: %s\n", result.reason.c_str());
    std::abort();
  }
  if (ended) {
    FUZZ_ASSERT(result.legal);
    if (e.forward_steps >= 0) FUZZ_ASSERT(result.costs.forward_steps == e.forward_steps);
    if (e.repetitions >= 0 && result.costs.max_advances_per_step >= 0) {
      FUZZ_ASSERT(result.costs.max_advances_per_step == e.repetitions);
    }
  }
  // reset() restarts the same stream.
  if (check_reset && !first.empty()) {
    FUZZ_ASSERT(ok(cairn_schedule_reset(s), "cairn_schedule_reset"));
    for (const cairn_action& expected : first) {
      cairn_action again{};
      FUZZ_ASSERT(ok(cairn_schedule_next(s, &again), "cairn_schedule_next"));
      FUZZ_ASSERT(std::memcmp(&again, &expected, sizeof again) == 0);
    }
  }
}

// Offline schedules: the whole stream from the first action. The per-step counters of the
// checker grow with the highest state reached, so they are only kept for moderate T.
void check_offline(cairn_schedule* s, int kind, std::int64_t steps, bool skip_forward,
                   bool one_at_a_time) {
  const Expected e = query(s, kind, steps, skip_forward);
  cairn::ScheduleChecker checker(e.steps, slot_budget(s, e.levels), e.steps <= 1000000);
  read_and_check(s, checker, e, kMaxActions, one_at_a_time, true);
}

void fuzz_revolve(Bytes& in) {
  const std::int64_t steps = in.count();
  const std::int64_t slots = in.count();
  // Revolve keeps O(min(c, T)) integers (documented): between these bounds that is a real
  // allocation of gigabytes, which is no bug; above them the vector refuses it outright.
  const std::int64_t kept = std::min(steps, slots);
  if (kept > kMaxKeptStates && kept < (std::int64_t{1} << 60)) return;
  cairn_schedule* s = nullptr;
  if (ok(cairn_revolve_create(steps, slots, &s), "cairn_revolve_create")) {
    FUZZ_ASSERT(steps >= 1 && slots >= 1);
    std::int64_t t = -1;
    std::int64_t r = -1;
    if (ok(cairn_forward_cost(steps, slots, &t), "cairn_forward_cost")) {
      std::int64_t forward = -1;
      FUZZ_ASSERT(ok(cairn_schedule_forward_steps(s, &forward), "cairn_schedule_forward_steps"));
      FUZZ_ASSERT(forward == t);
    }
    FUZZ_ASSERT(ok(cairn_repetitions(steps, slots, &r), "cairn_repetitions"));
    check_offline(s, CAIRN_SCHEDULE_REVOLVE, steps, false, in.byte() % 8 == 0);
  } else {
    FUZZ_ASSERT(s == nullptr);
  }
  cairn_schedule_destroy(s);
}

void fuzz_uniform(Bytes& in) {
  const std::int64_t steps = in.count();
  const std::int64_t interval = in.count();
  cairn_schedule* s = nullptr;
  if (ok(cairn_uniform_create(steps, interval, &s), "cairn_uniform_create")) {
    FUZZ_ASSERT(steps >= 1 && interval >= 1);
    check_offline(s, CAIRN_SCHEDULE_UNIFORM, steps, false, in.byte() % 8 == 0);
  }
  cairn_schedule_destroy(s);
}

void fuzz_store_all(Bytes& in) {
  const std::int64_t steps = in.count();
  cairn_schedule* s = nullptr;
  if (ok(cairn_store_all_create(steps, &s), "cairn_store_all_create")) {
    FUZZ_ASSERT(steps >= 1);
    check_offline(s, CAIRN_SCHEDULE_STORE_ALL, steps, false, in.byte() % 8 == 0);
  }
  cairn_schedule_destroy(s);
}

// T - 2 .. T + 2, without overflowing at the edges of int64.
std::int64_t near(std::int64_t steps, int offset) {
  if (steps > kInt64Max - 2 || steps < kInt64Min + 2) return steps;
  return steps + offset - 2;
}

void fuzz_multilevel(Bytes& in) {
  const std::int64_t steps = in.count();
  static constexpr int counts[] = {1, 2, 1, 2, 0, 3, -1};
  const int level_count = counts[in.byte() % 7];
  cairn_storage_level levels[3];
  for (cairn_storage_level& level : levels) {
    const std::uint8_t pick = in.byte() % 8;
    level.slots = pick == 0   ? CAIRN_UNLIMITED_SLOTS
                  : pick == 1 ? near(steps, in.byte() % 5)
                  : pick == 2 ? in.count()
                              : in.byte() % 12;
    level.write_cost = in.cost();
    level.read_cost = in.cost();
  }
  const double forward = in.byte() % 4 == 0 ? in.cost() : 1.0;
  const double backward = in.cost();
  const bool null_levels = in.byte() % 16 == 0;
  // Only T the planner does quickly, or T so large that its table limit refuses it.
  if (steps > kMaxPlannedSteps && steps < (std::int64_t{1} << 31)) return;
  cairn_schedule* s = nullptr;
  if (ok(cairn_multilevel_create(steps, null_levels ? nullptr : levels, level_count, forward,
                                 backward, &s),
         "cairn_multilevel_create")) {
    FUZZ_ASSERT(steps >= 1 && steps <= kMaxPlannedSteps && !null_levels);
    check_offline(s, CAIRN_SCHEDULE_MULTILEVEL, steps, false, in.byte() % 8 == 0);
    // Two levels: TwoLevelRevolve plans the same instance within the narrower disk-first class,
    // so it is legal and never cheaper than the exact nested optimum (up to rounding).
    cairn_schedule* two = nullptr;
    if (level_count == 2 &&
        ok(cairn_two_level_create(steps, levels[0], levels[1], forward, backward, &two),
           "cairn_two_level_create")) {
      check_offline(two, CAIRN_SCHEDULE_TWO_LEVEL, steps, false, false);
      double exact = 0, planned = 0;
      FUZZ_ASSERT(ok(cairn_multilevel_optimal_cost(s, &exact), "cairn_multilevel_optimal_cost"));
      FUZZ_ASSERT(
          ok(cairn_multilevel_optimal_cost(two, &planned), "cairn_multilevel_optimal_cost"));
      FUZZ_ASSERT(planned >= exact - 1e-9 * std::max(1.0, exact));
    }
    cairn_schedule_destroy(two);
  }
  cairn_schedule_destroy(s);
}

void fuzz_heterogeneous(Bytes& in) {
  std::int64_t steps = in.count();
  if (steps > kMaxChainSteps) steps = 1 + steps % kMaxChainSteps;
  std::vector<cairn_chain_step> chain(static_cast<std::size_t>(std::max<std::int64_t>(steps, 1)));
  const bool equal_sizes = in.byte() % 2 == 0;
  for (cairn_chain_step& step : chain) {
    step.forward_cost = in.cost();
    step.backward_cost = in.cost();
    step.state_bytes = equal_sizes && &step != &chain[0] ? chain[0].state_bytes : in.count();
  }
  const std::int64_t budget = in.count();
  const std::int64_t unit = in.count();
  const bool null_chain = in.byte() % 16 == 0;

  // The planner's memory units: M = budget / unit, unit 0 meaning the sizes' gcd. Its tables hold
  // about T^2 M entries, and its time is up to T^3 M: keep both small, or so large (M >= 2^40)
  // that the 1 GiB table limit must refuse them.
  std::uint64_t gcd = 0;
  bool sizes_valid = true;
  bool costs_finite = true;
  for (const cairn_chain_step& step : chain) {
    costs_finite =
        costs_finite && std::isfinite(step.forward_cost) && std::isfinite(step.backward_cost);
    if (step.state_bytes < 1) sizes_valid = false;
    if (step.state_bytes >= 1) gcd = std::gcd(gcd, static_cast<std::uint64_t>(step.state_bytes));
  }
  if (sizes_valid && steps >= 1 && budget >= 0 && unit >= 0 && !null_chain) {
    const std::uint64_t memory_unit = unit > 0 ? static_cast<std::uint64_t>(unit) : gcd;
    const std::uint64_t units = static_cast<std::uint64_t>(budget) / memory_unit;
    const std::uint64_t t = static_cast<std::uint64_t>(steps);
    if (units < (std::uint64_t{1} << 40) && t * t * t * (units + 1) > 4000000) return;
  }
  cairn_schedule* s = nullptr;
  if (ok(cairn_heterogeneous_create(null_chain ? nullptr : chain.data(), steps, budget, unit, &s),
         "cairn_heterogeneous_create")) {
    FUZZ_ASSERT(steps >= 1 && !null_chain && sizes_valid && budget >= chain[0].state_bytes);
    double total = -1;
    FUZZ_ASSERT(
        ok(cairn_heterogeneous_optimal_cost(s, &total), "cairn_heterogeneous_optimal_cost"));
    // Costs whose sums overflow are refused: a plan's cost is a finite number (D5).
    FUZZ_ASSERT(costs_finite && std::isfinite(total) && total >= 0);
    std::int64_t peak = -1;
    FUZZ_ASSERT(ok(cairn_heterogeneous_peak_bytes(s, &peak), "cairn_heterogeneous_peak_bytes"));
    FUZZ_ASSERT(peak <= budget);
    check_offline(s, CAIRN_SCHEDULE_HETEROGENEOUS, steps, false, in.byte() % 8 == 0);
  }
  cairn_schedule_destroy(s);
}

// The online protocol by hand: start, T steps each followed by advanced(), finish, then the
// reverse sweep; the checker sees the whole run as one stream (advance(i - 1, i) for each step).
void fuzz_online(Bytes& in) {
  const std::int64_t slots = in.count();
  const std::int64_t steps = 1 + in.u16() % kMaxOnlineSteps;
  const std::uint8_t misuse = in.byte();
  // OnlineRevolve's memory grows with the checkpoints a run holds (at most T + 1), so any c works.
  cairn_schedule* s = nullptr;
  if (!ok(cairn_online_create(slots, &s), "cairn_online_create")) {
    FUZZ_ASSERT(slots < 1);
    return;
  }
  FUZZ_ASSERT(slots >= 1);
  cairn_action action{};
  // Out of order: the reverse sweep and finish() before a run must be refused, with a message.
  if (misuse % 4 == 0) {
    FUZZ_ASSERT(!ok(cairn_schedule_next(s, &action), "cairn_schedule_next"));
    FUZZ_ASSERT(!ok(cairn_online_finish(s), "cairn_online_finish"));
  }
  const std::vector<std::int64_t> budget = slot_budget(s, 1);
  cairn::ScheduleChecker checker(steps, budget);
  FUZZ_ASSERT(ok(cairn_online_start(s, &action), "cairn_online_start"));
  checker.feed(from_c(action));
  std::int64_t fed = 1;
  for (std::int64_t i = 1; i <= steps && fed < kMaxActions; ++i) {
    checker.feed(cairn::Action::make_advance(i - 1, i));
    const cairn_action* list = nullptr;
    std::size_t count = 0;
    FUZZ_ASSERT(ok(cairn_online_advanced(s, &list, &count), "cairn_online_advanced"));
    FUZZ_ASSERT(count <= static_cast<std::uint64_t>(slots) + 1);  // cairn.h: n <= slots + 1
    for (std::size_t k = 0; k < count; ++k) checker.feed(from_c(list[k]));
    fed += 1 + static_cast<std::int64_t>(count);
  }
  if (checker.failed()) {
    std::fprintf(stderr, "illegal online forward sweep: %s\n", checker.finish().reason.c_str());
    std::abort();
  }
  if (fed >= kMaxActions) {
    cairn_schedule_destroy(s);
    return;
  }
  FUZZ_ASSERT(ok(cairn_online_finish(s), "cairn_online_finish"));
  const Expected e = query(s, CAIRN_SCHEDULE_ONLINE, steps, false);
  FUZZ_ASSERT(e.steps == steps);
  // (No reset check: an online schedule's stream is its reverse sweep of the run just made.)
  read_and_check(s, checker, e, kMaxActions - fed, misuse % 8 == 1, false);
  cairn_schedule_destroy(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  switch (in.byte() % 6) {
    case 0:
      fuzz_revolve(in);
      break;
    case 1:
      fuzz_online(in);
      break;
    case 2:
      fuzz_multilevel(in);
      break;
    case 3:
      fuzz_uniform(in);
      break;
    case 4:
      fuzz_store_all(in);
      break;
    default:
      fuzz_heterogeneous(in);
      break;
  }
  return 0;
}
