// Fuzz target A: the JSON-lines parser of `cairn check` (tools/cairn/action_parser.cpp) and the
// ScheduleChecker behind it. The input is text: a header line "T c0 [c1]" that picks a small
// problem (T in 1..1000, one or two levels of 0..1100 slots, so that c > T is reached too), then
// one action per line, each parsed and fed to the checker as `cairn check` does.
//
// A bad line must come back as BadInput naming its line; anything else thrown, any crash or
// sanitizer report, or a verdict that breaks one of the invariants below is a bug. The checker's
// std::length_error (it could not allocate its counters) is documented and tolerated.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "action_parser.hpp"
#include "cairn/check.hpp"
#include "fuzz_assert.hpp"
#include "options.hpp"

namespace {

// Reads up to three decimal numbers from the header; digits beyond 9 per number are ignored so
// that the value stays small and the parse cannot overflow.
std::vector<std::int64_t> header_numbers(const std::string& header) {
  std::vector<std::int64_t> numbers;
  std::size_t i = 0;
  while (i < header.size() && numbers.size() < 3) {
    if (header[i] < '0' || header[i] > '9') {
      ++i;
      continue;
    }
    std::int64_t value = 0;
    int digits = 0;
    for (; i < header.size() && header[i] >= '0' && header[i] <= '9'; ++i) {
      if (digits++ < 9) value = value * 10 + (header[i] - '0');
    }
    numbers.push_back(value);
  }
  return numbers;
}

std::int64_t clamp(std::int64_t value, std::int64_t low, std::int64_t high) {
  return value < low ? low : value > high ? high : value;
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

void check_invariants(const cairn::CheckResult& result, std::int64_t steps,
                      const std::vector<std::int64_t>& slots, std::int64_t accepted,
                      bool checker_failed) {
  const cairn::ScheduleCosts& costs = result.costs;
  FUZZ_ASSERT(costs.levels.size() == slots.size());
  FUZZ_ASSERT(costs.actions == accepted);
  FUZZ_ASSERT(costs.reverses >= 0 && costs.reverses <= steps);
  FUZZ_ASSERT(costs.advances >= 0 && costs.forward_steps >= costs.advances);
  FUZZ_ASSERT(costs.max_advances_per_step >= 0 && costs.max_advances_per_step <= costs.advances);
  FUZZ_ASSERT((costs.advances == 0) == (costs.max_advances_per_step == 0));
  for (std::size_t level = 0; level < slots.size(); ++level) {
    const cairn::LevelCosts& l = costs.levels[level];
    FUZZ_ASSERT(l.peak_slots >= 0 && l.peak_slots <= slots[level]);
    FUZZ_ASSERT(l.peak_slots <= l.stores);
    FUZZ_ASSERT(l.frees <= l.stores);  // only a slot that holds a state can be freed
    FUZZ_ASSERT(l.restores >= 0);
  }
  if (result.legal) {
    FUZZ_ASSERT(!checker_failed);
    FUZZ_ASSERT(result.first_illegal_index == -1);
    FUZZ_ASSERT(result.reason.empty());
    FUZZ_ASSERT(costs.reverses == steps);  // end is accepted only when every step is reversed
  } else {
    FUZZ_ASSERT(!result.reason.empty());
    // The index names the first action not accepted: every one before it was.
    FUZZ_ASSERT(result.first_illegal_index == accepted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t start = text.find('\n');
  const std::string header = text.substr(0, start);
  start = start == std::string::npos ? text.size() : start + 1;

  const std::vector<std::int64_t> numbers = header_numbers(header);
  const std::int64_t steps = clamp(numbers.size() > 0 ? numbers[0] : 1, 1, 1000);
  std::vector<std::int64_t> slots{clamp(numbers.size() > 1 ? numbers[1] : 1, 0, 1100)};
  if (numbers.size() > 2) slots.push_back(clamp(numbers[2], 0, 1100));

  cairn::ScheduleChecker checker(steps, slots);
  std::int64_t line_number = 1;
  std::int64_t accepted = 0;
  bool was_failed = false;
  try {
    while (start < text.size()) {
      std::size_t stop = text.find('\n', start);
      if (stop == std::string::npos) stop = text.size();
      const std::string line = text.substr(start, stop - start);
      start = stop + 1;
      ++line_number;
      if (blank(line)) continue;
      cairn::Action action;
      try {
        action = cairn::cli::parse_action_line(line, line_number);
      } catch (const cairn::cli::BadInput& bad) {
        // A bad line is refused with a message that names it; the stream goes on without it.
        const std::string prefix = "line " + std::to_string(line_number) + ": ";
        FUZZ_ASSERT(std::string(bad.what()).compare(0, prefix.size(), prefix) == 0);
        continue;
      }
      const bool ok = checker.feed(action);
      FUZZ_ASSERT(ok == !checker.failed());
      FUZZ_ASSERT(!(was_failed && ok));  // once illegal, always illegal
      was_failed = checker.failed();
      if (ok) ++accepted;
    }
  } catch (const std::length_error&) {
    return 0;  // documented: the checker's counters could not be allocated
  }
  check_invariants(checker.finish(), steps, slots, accepted, checker.failed());
  return 0;
}
