#include "cairn/online_multilevel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "cairn/binomial.hpp"

namespace cairn {

namespace {

constexpr std::int64_t saturated = std::numeric_limits<std::int64_t>::max();
constexpr Level ram_level = 0;
constexpr Level disk_level = 1;
// The shared mode's limits on disk write + read, in forward steps, with c >= 2 RAM slots and with
// c <= 1 (`cairn_bench_online_multilevel shared` measured both designs for w = r = 0.25..10:
// docs/online.md, "Shared mode").
constexpr double shared_io_limit = 2;
constexpr double shared_io_limit_few_ram_slots = 10;

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  return a > saturated - b ? saturated : a + b;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void check_price(const char* what, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw std::invalid_argument(std::string("OnlineMultilevelRevolve: ") + what + " = " +
                                number(value) + " is not allowed; prices must be finite and >= 0");
  }
}

}  // namespace

OnlineMultilevelRevolve::OnlineMultilevelRevolve(StorageLevel ram, StorageLevel disk,
                                                 StepCosts step_costs, std::int64_t first_spacing)
    : ram_(ram), disk_(disk), step_costs_(step_costs) {
  const std::int64_t c = ram.slots;
  const std::int64_t d = disk.slots;
  if (c < 0 || d < 0 || (c == 0 && d == 0)) {
    throw std::invalid_argument(
        "OnlineMultilevelRevolve: RAM slots = " + std::to_string(c) +
        ", disk slots = " + std::to_string(d) +
        " is not allowed; give RAM slots >= 1 (x_0's included), or 0 when disk slots >= 1, and "
        "disk slots >= 0 or cairn::unlimited_slots");
  }
  check_price("RAM write cost", ram.write_cost);
  check_price("RAM read cost", ram.read_cost);
  check_price("disk write cost", disk.write_cost);
  check_price("disk read cost", disk.read_cost);
  check_price("backward step cost", step_costs.backward);
  if (!std::isfinite(step_costs.forward) || step_costs.forward <= 0) {
    throw std::invalid_argument(
        "OnlineMultilevelRevolve: forward step cost = " + std::to_string(step_costs.forward) +
        " is not allowed; it must be finite and > 0");
  }
  if (first_spacing < 0) {
    throw std::invalid_argument(
        "OnlineMultilevelRevolve: first spacing = " + std::to_string(first_spacing) +
        " is not allowed; give >= 1, or 0 for the automatic choice");
  }
  disk_unlimited_ = d == unlimited_slots;
  // Cheap disk I/O: the disk slots are nearly as good as RAM ones, and one OnlineRevolve over all
  // c + d slots (RAM ones first) beats the disk spacing design (docs/online.md, "Shared mode", and
  // `bench/online_multilevel_ratio.cpp shared` for the measurements behind the limits).
  shared_ = first_spacing == 0 && !disk_unlimited_ && d >= 1 &&
            disk.write_cost + disk.read_cost <=
                (c <= 1 ? shared_io_limit_few_ram_slots : shared_io_limit) * step_costs.forward;
  // With one RAM slot, x_0 on disk leaves that slot to the copies of the segments' bases; worth
  // it only when disk I/O is free (else short runs pay a write and reads for nothing).
  x0_on_disk_ = c == 0 || (!shared_ && c == 1 && d >= 2 && disk.write_cost + disk.read_cost == 0);
  usable_disk_ = disk_unlimited_ ? unlimited_slots : d - (x0_on_disk_ ? 1 : 0);
  segment_ram_ = x0_on_disk_ ? c : c - 1;
  first_ram_ = x0_on_disk_ ? 0 : 1;
  // A RAM copy of a disk checkpoint saves a disk read at every later restore of it, for one RAM
  // slot: worth it when disk reads cost anything and the segment keeps another RAM slot (with
  // one, the copy would leave Revolve a single slot: quadratic recomputation).
  use_copy_ = segment_ram_ >= 2 && disk.read_cost > 0;

  if (first_spacing > 0) {
    first_spacing_ = first_spacing;
  } else {
    // A segment of L steps reversed in RAM with c' slots costs about r(L, c') L forward steps; its
    // disk checkpoint costs w1 + r1 (plus a RAM copy) once. Below beta(c', 2) steps Revolve needs
    // at most two repetitions anyway, and a checkpoint whose I/O is a sizeable part of the steps
    // it saves is not worth writing: the first one is at least 4 (w1 + r1) / uf steps away.
    const std::int64_t inner =
        std::max<std::int64_t>(use_copy_ ? segment_ram_ : segment_ram_ + 1, 1);
    std::int64_t by_slots = saturated;
    try {
      by_slots = beta(inner, 2);
    } catch (const std::overflow_error&) {
    }
    double io = disk.write_cost + disk.read_cost;
    if (use_copy_) io += ram.write_cost + ram.read_cost;
    const double by_prices = std::ceil(4 * io / step_costs.forward);
    const std::int64_t prices =
        by_prices >= 9.0e18 ? saturated : static_cast<std::int64_t>(by_prices);
    first_spacing_ = std::max<std::int64_t>({by_slots, prices, 1});
  }
  spacing_ = first_spacing_;

  if (shared_) {
    all_ = std::make_unique<OnlineRevolve>(saturating_add(c, d));  // d is finite here
    shared_disk_steps_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(d, 4096)));
  } else if (!x0_on_disk_) {
    first_ = std::make_unique<OnlineRevolve>(c);
  }
  if (!shared_ && (usable_disk_ > 0 || x0_on_disk_)) {
    if (segment_ram_ >= 1) copied_ = std::make_unique<OnlineRevolve>(segment_ram_);
    direct_ = std::make_unique<OnlineRevolve>(saturating_add(segment_ram_, 1));
  }
  const auto reserved = static_cast<std::size_t>(
      std::min<std::int64_t>({saturating_add(usable_disk_, 2), std::int64_t{4096}}));
  segments_.reserve(reserved);
  free_disk_.reserve(reserved);
  ram_held_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(c + 1, 4096)));
  decision_.reserve(std::min<std::size_t>(max_advanced_actions(), 4096 + 3));
}

OnlineMultilevelRevolve::~OnlineMultilevelRevolve() = default;

std::size_t OnlineMultilevelRevolve::max_advanced_actions() const noexcept {
  // A new segment: frees of the RAM the last one held (<= c), frees of thinned disk checkpoints
  // (<= the disk slots), a disk store and a RAM copy. Otherwise: the thinning frees and the
  // inner OnlineRevolve's (<= its slots + 1 <= c + 2).
  const std::int64_t thinned = disk_unlimited_ ? 0 : usable_disk_;
  const std::int64_t bound = saturating_add(saturating_add(ram_.slots, thinned), 3);
  const auto most = static_cast<std::uint64_t>(std::numeric_limits<std::size_t>::max());
  return static_cast<std::uint64_t>(bound) > most ? std::numeric_limits<std::size_t>::max()
                                                  : static_cast<std::size_t>(bound);
}

std::vector<std::int64_t> OnlineMultilevelRevolve::slots_per_level(std::int64_t steps) const {
  return {ram_.slots, disk_unlimited_ ? saturating_add(steps, 1) : disk_.slots};
}

CostModel OnlineMultilevelRevolve::cost_model() const {
  return CostModel{step_costs_.forward,
                   step_costs_.backward,
                   {ram_.write_cost, disk_.write_cost},
                   {ram_.read_cost, disk_.read_cost}};
}

std::vector<std::int64_t> OnlineMultilevelRevolve::disk_checkpoint_steps() const {
  std::vector<std::int64_t> steps;
  if (shared_) {
    for (const std::int64_t step : shared_disk_steps_) {
      if (step >= 0) steps.push_back(step);
    }
    std::sort(steps.begin(), steps.end());
    return steps;
  }
  for (const Segment& s : segments_) {
    if (s.disk_slot >= 0) steps.push_back(s.step);
  }
  return steps;
}

OnlineMultilevelRevolve::Slot OnlineMultilevelRevolve::map_slot(const Segment& segment,
                                                                std::int64_t inner) const {
  if (segment.disk_slot < 0) return Slot{ram_level, inner};  // x_0 in RAM slot 0: c slots
  if (segment.copy) return Slot{ram_level, first_ram_ + inner};
  if (inner == 0) return Slot{disk_level, segment.disk_slot};
  return Slot{ram_level, first_ram_ + inner - 1};
}

Action OnlineMultilevelRevolve::translate(const Segment& segment, const Action& a) const {
  switch (a.kind) {
    case ActionKind::advance:
      return Action::make_advance(a.from() + segment.step, a.to + segment.step);
    case ActionKind::reverse:
      return Action::make_reverse(a.step + segment.step);
    case ActionKind::store: {
      const Slot s = map_slot(segment, a.slot);
      return Action::make_store(s.slot, a.step + segment.step, s.level);
    }
    case ActionKind::restore: {
      const Slot s = map_slot(segment, a.slot);
      return Action::make_restore(s.slot, a.step + segment.step, s.level);
    }
    case ActionKind::free: {
      const Slot s = map_slot(segment, a.slot);
      return Action::make_free(s.slot, s.level);
    }
    case ActionKind::end:
      break;
    case ActionKind::store_adjoint:
    case ActionKind::reverse_stored:
      throw std::logic_error(
          "OnlineMultilevelRevolve: a segment's stream holds adjoint data, which Revolve never "
          "stores");
  }
  return a;
}

void OnlineMultilevelRevolve::emit_forward(const Segment& segment, const Action& inner) {
  const Action a = translate(segment, inner);
  if (a.level == ram_level) {
    if (a.kind == ActionKind::store) {
      ram_held_.push_back(a.slot);
    } else if (a.kind == ActionKind::free) {
      const auto it = std::find(ram_held_.begin(), ram_held_.end(), a.slot);
      if (it != ram_held_.end()) {
        *it = ram_held_.back();
        ram_held_.pop_back();
      }
    }
  }
  decision_.push_back(a);
}

bool OnlineMultilevelRevolve::disk_slot_available() const noexcept {
  return !free_disk_.empty() || disk_unlimited_ || fresh_disk_ < disk_.slots;
}

std::int64_t OnlineMultilevelRevolve::take_disk_slot() {
  if (!free_disk_.empty()) {
    const std::int64_t slot = free_disk_.back();
    free_disk_.pop_back();
    return slot;
  }
  return fresh_disk_++;
}

Action OnlineMultilevelRevolve::shared_action(const Action& a) {
  if (a.kind != ActionKind::store && a.kind != ActionKind::restore && a.kind != ActionKind::free) {
    return a;
  }
  Action out = a;
  if (a.slot < ram_.slots) {
    out.level = ram_level;
    return out;
  }
  out.level = disk_level;
  out.slot = a.slot - ram_.slots;
  if (!finished_) {  // the forward sweep: which disk slot holds which step
    const auto k = static_cast<std::size_t>(out.slot);
    if (k >= shared_disk_steps_.size()) shared_disk_steps_.resize(k + 1, -1);
    shared_disk_steps_[k] = a.kind == ActionKind::store ? a.step : -1;
  }
  return out;
}

Action OnlineMultilevelRevolve::start() {
  steps_ = 0;
  started_ = true;
  finished_ = false;
  segments_.clear();
  free_disk_.clear();
  fresh_disk_ = 0;
  ram_held_.clear();
  decision_.clear();
  spacing_ = first_spacing_;
  prelude_.clear();
  prelude_next_ = 0;
  has_inner_ = false;
  inner_active_ = false;
  reverse_segment_ = -1;
  completed_ = 0;
  revolve_.reset();
  if (shared_) {
    shared_disk_steps_.clear();
    return shared_action(all_->start());
  }
  if (!x0_on_disk_) {
    segments_.push_back(Segment{0, -1, false});
    inner_ = first_.get();
  } else {
    segments_.push_back(Segment{0, take_disk_slot(), false});
    inner_ = direct_.get();
  }
  return translate(segments_.back(), inner_->start());
}

void OnlineMultilevelRevolve::thin() {
  if (spacing_ > saturated / 2) {
    spacing_ = saturated;  // no run reaches the next multiple
  } else {
    spacing_ *= 2;
  }
  // The checkpoints other than x_0 are the consecutive multiples L, 2L, ..., mL of the old
  // spacing and the run is at (m + 1) L: the current segment's base survives unless the run
  // itself is at a multiple of the new spacing (and then a new segment begins here).
  std::size_t kept = 0;
  for (std::size_t k = 0; k < segments_.size(); ++k) {
    const Segment& s = segments_[k];
    if (s.disk_slot >= 0 && s.step != 0 && s.step % spacing_ != 0) {
      if (k + 1 == segments_.size() && steps_ % spacing_ != 0) {
        throw std::logic_error(
            "OnlineMultilevelRevolve: internal error: thinning would free the current segment");
      }
      decision_.push_back(Action::make_free(s.disk_slot, disk_level));
      free_disk_.push_back(s.disk_slot);
    } else {
      segments_[kept++] = s;
    }
  }
  segments_.resize(kept);
}

void OnlineMultilevelRevolve::begin_segment(std::int64_t step) {
  // The last segment's RAM checkpoints are no longer needed: it is reversed offline from its
  // base. x_0's RAM slot stays.
  const bool x0_in_ram = !x0_on_disk_;
  for (const std::int64_t slot : ram_held_) {
    if (!(x0_in_ram && slot == 0)) decision_.push_back(Action::make_free(slot, ram_level));
  }
  ram_held_.clear();
  const std::int64_t slot = take_disk_slot();
  decision_.push_back(Action::make_store(slot, step, disk_level));
  segments_.push_back(Segment{step, slot, use_copy_});
  inner_ = use_copy_ ? copied_.get() : direct_.get();
  const Action first = inner_->start();
  if (use_copy_) emit_forward(segments_.back(), first);  // the RAM copy of the base
}

const std::vector<Action>& OnlineMultilevelRevolve::advanced() {
  if (!started_ || finished_) {
    throw std::logic_error(
        "OnlineMultilevelRevolve::advanced: no run in progress; call start() first (again after "
        "finish())");
  }
  decision_.clear();
  const std::int64_t step = ++steps_;
  if (shared_) {
    for (const Action& a : all_->advanced()) decision_.push_back(shared_action(a));
    return decision_;
  }
  bool new_segment = false;
  if (usable_disk_ > 0 && step % spacing_ == 0) {
    if (!disk_slot_available()) thin();
    new_segment = step % spacing_ == 0 && disk_slot_available();
  }
  if (new_segment) {
    begin_segment(step);
  } else {
    const std::vector<Action>& inner = inner_->advanced();
    const Segment current = segments_.back();
    for (const Action& a : inner) emit_forward(current, a);
  }
  return decision_;
}

void OnlineMultilevelRevolve::finish() {
  if (!started_ || finished_) {
    throw std::logic_error(
        "OnlineMultilevelRevolve::finish: no run in progress (call start() first)");
  }
  if (steps_ < 1) {
    throw std::logic_error(
        "OnlineMultilevelRevolve::finish: the run made no step; there is nothing to reverse");
  }
  if (shared_) {
    all_->finish();
    finished_ = true;
    return;
  }
  finished_ = true;
  prelude_.clear();
  const Segment last = segments_.back();
  if (last.step == steps_) {
    // A segment begun at x_T holds nothing that the reverse sweep needs.
    for (const std::int64_t slot : ram_held_)
      prelude_.push_back(Action::make_free(slot, ram_level));
    prelude_.push_back(Action::make_free(last.disk_slot, disk_level));
    segments_.pop_back();
    has_inner_ = false;
  } else {
    inner_->finish();
    has_inner_ = true;
  }
  reset();
}

void OnlineMultilevelRevolve::reset() {
  if (!finished_) return;  // the reverse sweep does not exist yet
  if (shared_) {
    all_->reset();
    return;
  }
  prelude_next_ = 0;
  inner_active_ = has_inner_;
  if (has_inner_) inner_->reset();
  completed_ = static_cast<std::int64_t>(segments_.size()) - (has_inner_ ? 1 : 0);
  reverse_segment_ = -1;
  revolve_.reset();
}

std::int64_t OnlineMultilevelRevolve::segment_end(std::size_t k) const {
  return k + 1 < segments_.size() ? segments_[k + 1].step : steps_;
}

void OnlineMultilevelRevolve::begin_reverse_segment() {
  const auto k = static_cast<std::size_t>(reverse_segment_);
  Segment& s = segments_[k];
  const std::int64_t length = segment_end(k) - s.step;
  std::int64_t slots = 0;
  if (s.disk_slot < 0) {
    slots = ram_.slots;
  } else {
    s.copy = use_copy_;  // the reverse sweep's choice, whatever the forward one was
    slots = use_copy_ ? segment_ram_ : saturating_add(segment_ram_, 1);
  }
  revolve_ = std::make_unique<Revolve>(length, slots);
  revolve_phase_ = 0;
}

Action OnlineMultilevelRevolve::next() {
  if (!finished_) {
    throw std::logic_error(
        "OnlineMultilevelRevolve::next: the reverse sweep starts after finish(); during the "
        "forward sweep use advanced()");
  }
  if (shared_) return shared_action(all_->next());
  if (prelude_next_ < prelude_.size()) return prelude_[prelude_next_++];
  if (inner_active_) {
    const Segment& last = segments_.back();
    const Action a = inner_->next();
    if (a.kind != ActionKind::end) return translate(last, a);
    inner_active_ = false;
    // The inner schedule freed its slot 0; a disk base with a RAM copy is still held.
    if (last.disk_slot >= 0 && last.copy) return Action::make_free(last.disk_slot, disk_level);
  }
  for (;;) {
    if (reverse_segment_ < 0) {
      if (completed_ == 0) return Action::make_end();
      reverse_segment_ = --completed_;
      begin_reverse_segment();
    }
    const Segment& s = segments_[static_cast<std::size_t>(reverse_segment_)];
    switch (revolve_phase_) {
      case 0:  // the base becomes the working state
        revolve_phase_ = s.copy ? 1 : 2;
        return s.disk_slot < 0 ? Action::make_restore(0, s.step, ram_level)
                               : Action::make_restore(s.disk_slot, s.step, disk_level);
      case 1:  // its RAM copy
        revolve_phase_ = 2;
        return Action::make_store(first_ram_, s.step, ram_level);
      case 2: {
        const Action a = revolve_->next();
        if (a.kind == ActionKind::end) {
          revolve_phase_ = 3;
          continue;
        }
        if (a.kind == ActionKind::store && a.slot == 0) continue;  // the base, already held
        return translate(s, a);
      }
      case 3:  // the base's slot: RAM (x_0 or the copy) first, then the disk
        if (s.disk_slot < 0) {
          reverse_segment_ = -1;
          return Action::make_free(0, ram_level);
        }
        if (s.copy) {
          revolve_phase_ = 4;
          return Action::make_free(first_ram_, ram_level);
        }
        reverse_segment_ = -1;
        return Action::make_free(s.disk_slot, disk_level);
      default:
        reverse_segment_ = -1;
        return Action::make_free(s.disk_slot, disk_level);
    }
  }
}

}  // namespace cairn
