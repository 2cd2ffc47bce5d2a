// The ScheduleChecker against a second, deliberately simple implementation of the same rules
// (docs/theory.md, "What the checker verifies"), written here from the table of rules and
// sharing no code with src/core/check.cpp: a map of slots per level, a plain per-step count of
// advances, and a flag for the undefined working state. Legal streams of Revolve, StoreAll, a
// simulated online run and MultilevelRevolve are mutated at random (seeded, so every run sees the
// same cases) and both verdicts must agree: legality, the index of the first illegal action, and
// every count, which covers the accepted actions before it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/action_io.hpp"
#include "cairn/check.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/schedule.hpp"
#include "cairn/store_all.hpp"

using cairn::Action;
using cairn::ActionKind;

namespace {

struct LevelCounts {
  std::int64_t stores = 0;
  std::int64_t restores = 0;
  std::int64_t frees = 0;
  std::int64_t peak_slots = 0;
};

struct Verdict {
  bool legal = false;
  std::int64_t first_illegal_index = -1;
  std::int64_t actions = 0;
  std::int64_t advances = 0;
  std::int64_t forward_steps = 0;
  std::int64_t max_advances_per_step = 0;
  std::int64_t reverses = 0;
  std::vector<LevelCounts> levels;
};

// The rules, one action at a time, as the table states them.
class ReferenceChecker {
 public:
  ReferenceChecker(std::int64_t steps, std::vector<std::int64_t> slots)
      : steps_(steps),
        slots_(std::move(slots)),
        held_(slots_.size()),
        advanced_(static_cast<std::size_t>(steps)) {
    verdict_.levels.resize(slots_.size());
  }

  // Whether `action` is legal now; if so, applies it.
  bool accept(const Action& a) {
    if (ended_) return false;
    switch (a.kind) {
      case ActionKind::advance:
        if (a.step < 0 || a.step >= a.to || a.to > steps_) return false;
        if (undefined_ || working_ != a.step) return false;
        for (std::int64_t s = a.step; s < a.to; ++s) ++advanced_[static_cast<std::size_t>(s)];
        working_ = a.to;
        ++verdict_.advances;
        verdict_.forward_steps += a.to - a.step;
        break;
      case ActionKind::store: {
        if (!slot_exists(a) || a.step < 0 || a.step > steps_) return false;
        if (undefined_ || working_ != a.step) return false;
        auto& level = held_[static_cast<std::size_t>(a.level)];
        level[a.slot] = a.step;
        LevelCounts& counts = verdict_.levels[static_cast<std::size_t>(a.level)];
        ++counts.stores;
        counts.peak_slots =
            std::max<std::int64_t>(counts.peak_slots, static_cast<std::int64_t>(level.size()));
        break;
      }
      case ActionKind::restore: {
        if (!slot_exists(a) || a.step < 0 || a.step > steps_) return false;
        const auto& level = held_[static_cast<std::size_t>(a.level)];
        const auto held = level.find(a.slot);
        if (held == level.end() || held->second != a.step) return false;
        working_ = a.step;
        undefined_ = false;
        ++verdict_.levels[static_cast<std::size_t>(a.level)].restores;
        break;
      }
      case ActionKind::reverse:
        if (a.step < 0 || a.step >= steps_) return false;
        if (a.step != steps_ - 1 - verdict_.reverses) return false;  // the highest not reversed
        if (undefined_ || working_ != a.step) return false;
        undefined_ = true;
        ++verdict_.reverses;
        break;
      case ActionKind::free: {
        if (!slot_exists(a)) return false;
        auto& level = held_[static_cast<std::size_t>(a.level)];
        if (level.erase(a.slot) == 0) return false;
        ++verdict_.levels[static_cast<std::size_t>(a.level)].frees;
        break;
      }
      case ActionKind::end:
        if (verdict_.reverses != steps_) return false;
        ended_ = true;
        break;
      default:
        return false;
    }
    ++verdict_.actions;
    return true;
  }

  Verdict verdict(const std::vector<Action>& stream) {
    std::size_t i = 0;
    while (i < stream.size() && accept(stream[i])) ++i;
    verdict_.legal = ended_ && i == stream.size();
    verdict_.first_illegal_index = verdict_.legal ? -1 : static_cast<std::int64_t>(i);
    for (const std::int64_t count : advanced_) {
      verdict_.max_advances_per_step = std::max(verdict_.max_advances_per_step, count);
    }
    return verdict_;
  }

 private:
  bool slot_exists(const Action& a) const {
    return a.level >= 0 && static_cast<std::size_t>(a.level) < slots_.size() && a.slot >= 0 &&
           a.slot < slots_[static_cast<std::size_t>(a.level)];
  }

  std::int64_t steps_;
  std::vector<std::int64_t> slots_;
  std::vector<std::map<std::int64_t, std::int64_t>> held_;  // per level: slot -> state held
  std::vector<std::int64_t> advanced_;                      // advances over each step
  std::int64_t working_ = 0;
  bool undefined_ = false;
  bool ended_ = false;
  Verdict verdict_;
};

Verdict checker_verdict(std::int64_t steps, const std::vector<std::int64_t>& slots,
                        const std::vector<Action>& stream) {
  cairn::ScheduleChecker checker(steps, slots);
  for (const Action& a : stream) {
    if (!checker.feed(a)) break;
  }
  const cairn::CheckResult result = checker.finish();
  Verdict v;
  v.legal = result.legal;
  v.first_illegal_index = result.first_illegal_index;
  v.actions = result.costs.actions;
  v.advances = result.costs.advances;
  v.forward_steps = result.costs.forward_steps;
  v.max_advances_per_step = result.costs.max_advances_per_step;
  v.reverses = result.costs.reverses;
  for (const cairn::LevelCosts& l : result.costs.levels) {
    v.levels.push_back(LevelCounts{l.stores, l.restores, l.frees, l.peak_slots});
  }
  // The reason is there exactly when the stream is illegal.
  CHECK(result.reason.empty() == result.legal);
  return v;
}

// Deterministic on every platform: the standard distributions are not, the engine is.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(n));
  }
  std::int64_t between(std::int64_t low, std::int64_t high) { return low + below(high - low + 1); }

 private:
  std::mt19937_64 engine_;
};

struct Case {
  std::string source;
  std::int64_t steps;
  std::vector<std::int64_t> slots;
  std::vector<Action> stream;
};

std::vector<Action> whole_stream(cairn::Schedule& schedule) {
  std::vector<Action> stream;
  for (;;) {
    stream.push_back(schedule.next());
    if (stream.back().kind == ActionKind::end) return stream;
  }
}

// Legal streams of four schedules over small (T, c).
std::vector<Case> legal_cases(Random& random) {
  std::vector<Case> cases;
  for (int k = 0; k < 40; ++k) {
    const std::int64_t steps = random.between(1, 40);
    const std::int64_t slots = random.between(1, steps + 2);
    cairn::Revolve revolve(steps, slots);
    cases.push_back({"revolve", steps, {slots}, whole_stream(revolve)});
    cairn::SimulatedOnlineRun online(steps, slots);
    cases.push_back({"online", steps, {slots}, whole_stream(online)});
  }
  for (int k = 0; k < 10; ++k) {
    const std::int64_t steps = random.between(1, 30);
    cairn::StoreAll store_all(steps);
    cases.push_back({"store-all", steps, {store_all.slots()}, whole_stream(store_all)});
  }
  for (int k = 0; k < 20; ++k) {
    const std::int64_t steps = random.between(1, 25);
    std::vector<cairn::StorageLevel> levels{
        {random.between(1, 4), 0, 0},
        {random.below(3) == 0 ? cairn::unlimited_slots : random.between(0, 4),
         static_cast<double>(random.between(0, 4)), static_cast<double>(random.between(0, 4))}};
    if (random.below(3) == 0) levels.pop_back();
    cairn::MultilevelRevolve multilevel(steps, levels, {1, static_cast<double>(random.below(2))});
    cases.push_back({"multilevel", steps, multilevel.slots_per_level(), whole_stream(multilevel)});
  }
  return cases;
}

// Somewhere near the edges of what is legal: a field moved by one, -1, or just past T.
std::int64_t nudge(Random& random, std::int64_t value, std::int64_t steps) {
  switch (random.below(6)) {
    case 0:
      return value + 1;
    case 1:
      return value - 1;
    case 2:
      return -1;
    case 3:
      return steps + 1;
    case 4:
      return steps;
    default:
      return random.between(-1, steps + 1);
  }
}

Action random_action(Random& random, std::int64_t steps, std::size_t levels) {
  Action a;
  // One value past the last kind: the checker must refuse a kind it does not know.
  a.kind = static_cast<ActionKind>(random.below(static_cast<std::int64_t>(ActionKind::end) + 2));
  a.level = static_cast<cairn::Level>(random.between(-1, static_cast<std::int64_t>(levels)));
  a.slot = random.between(-1, 5);
  a.step = random.between(-1, steps + 1);
  a.to = random.between(-1, steps + 1);
  return a;
}

void mutate(Random& random, Case& c) {
  std::vector<Action>& s = c.stream;
  const auto at = [&] {
    return static_cast<std::size_t>(
        random.below(std::max<std::int64_t>(static_cast<std::int64_t>(s.size()), 1)));
  };
  switch (random.below(10)) {
    case 0:  // drop one action
      if (!s.empty()) s.erase(s.begin() + static_cast<std::ptrdiff_t>(at()));
      break;
    case 1:  // duplicate one
      if (!s.empty()) {
        const std::size_t i = at();
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(i), s[i]);
      }
      break;
    case 2:  // swap two, neighbours or anywhere
      if (s.size() >= 2) {
        const std::size_t i = at();
        const std::size_t j = random.below(2) == 0 ? (i + 1) % s.size() : at();
        std::swap(s[i], s[j]);
      }
      break;
    case 3:
    case 4:
    case 5: {  // change one field
      if (s.empty()) break;
      Action& a = s[at()];
      switch (random.below(4)) {
        case 0:
          a.step = nudge(random, a.step, c.steps);
          break;
        case 1:
          a.to = nudge(random, a.to, c.steps);
          break;
        case 2:
          a.slot = nudge(random, a.slot, c.steps);
          break;
        default:
          a.level = static_cast<cairn::Level>(nudge(random, a.level, 1));
          break;
      }
      break;
    }
    case 6:  // insert a random action
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(
                               random.below(static_cast<std::int64_t>(s.size()) + 1)),
               random_action(random, c.steps, c.slots.size()));
      break;
    case 7:  // change the kind of one, keeping its fields
      if (!s.empty()) {
        s[at()].kind = static_cast<ActionKind>(random.below(static_cast<int>(ActionKind::end) + 1));
      }
      break;
    case 8:  // cut the stream short
      s.resize(static_cast<std::size_t>(random.below(static_cast<std::int64_t>(s.size()) + 1)));
      break;
    default:  // the checker's problem instead: one slot fewer, a level more, T one off
      switch (random.below(3)) {
        case 0:
          c.slots[0] = std::max<std::int64_t>(c.slots[0] - 1, 0);
          break;
        case 1:
          c.slots.push_back(random.below(3));
          break;
        default:
          c.steps = std::max<std::int64_t>(c.steps + (random.below(2) == 0 ? 1 : -1), 1);
          break;
      }
      break;
  }
}

std::string describe(const Case& c) {
  std::string text = c.source + " T = " + std::to_string(c.steps) + ", slots =";
  for (const std::int64_t n : c.slots) text += " " + std::to_string(n);
  text += "\n";
  for (const Action& a : c.stream) text += cairn::to_json(a) + "\n";
  return text;
}

void compare(const Case& c, std::int64_t& legal_seen) {
  const Verdict expected = ReferenceChecker(c.steps, c.slots).verdict(c.stream);
  const Verdict got = checker_verdict(c.steps, c.slots, c.stream);
  INFO(describe(c));
  REQUIRE(got.legal == expected.legal);
  REQUIRE(got.first_illegal_index == expected.first_illegal_index);
  REQUIRE(got.actions == expected.actions);
  REQUIRE(got.advances == expected.advances);
  REQUIRE(got.forward_steps == expected.forward_steps);
  REQUIRE(got.max_advances_per_step == expected.max_advances_per_step);
  REQUIRE(got.reverses == expected.reverses);
  REQUIRE(got.levels.size() == expected.levels.size());
  for (std::size_t level = 0; level < got.levels.size(); ++level) {
    INFO("level " << level);
    REQUIRE(got.levels[level].stores == expected.levels[level].stores);
    REQUIRE(got.levels[level].restores == expected.levels[level].restores);
    REQUIRE(got.levels[level].frees == expected.levels[level].frees);
    REQUIRE(got.levels[level].peak_slots == expected.levels[level].peak_slots);
  }
  if (got.legal) ++legal_seen;
}

}  // namespace

TEST_CASE("checker agrees with a simple reference on legal and mutated streams", "[checker]") {
  Random random(20240917);
  const std::vector<Case> legal = legal_cases(random);
  std::int64_t legal_seen = 0;
  for (const Case& c : legal) {
    compare(c, legal_seen);
  }
  REQUIRE(legal_seen == static_cast<std::int64_t>(legal.size()));  // the sources are legal

  std::int64_t cases = 0;
  legal_seen = 0;
  for (int round = 0; round < 100; ++round) {
    for (const Case& original : legal) {
      Case c = original;
      const std::int64_t mutations = random.between(1, 3);
      for (std::int64_t m = 0; m < mutations; ++m) mutate(random, c);
      compare(c, legal_seen);
      ++cases;
    }
  }
  // Both verdicts occur among the mutants (a swap of two stores, a duplicated store, one slot
  // fewer for a stream that does not use it all leave a stream legal).
  CHECK(cases == 100 * static_cast<std::int64_t>(legal.size()));
  CHECK(legal_seen > 0);
  CHECK(legal_seen < cases);
}
