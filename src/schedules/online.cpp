#include "cairn/online.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "cairn/binomial.hpp"

namespace cairn {

namespace {

constexpr std::int64_t saturated = std::numeric_limits<std::int64_t>::max();

// beta(c, r), or saturated when it does not fit in 64 bits (no run is that long).
std::int64_t beta_or_saturated(std::int64_t c, std::int64_t r) {
  try {
    return beta(c, r);
  } catch (const std::overflow_error&) {
    return saturated;
  }
}

}  // namespace

OnlineRevolve::OnlineRevolve(std::int64_t slots) : slots_(slots) {
  if (slots < 1) {
    throw std::invalid_argument("OnlineRevolve: slots = " + std::to_string(slots) +
                                " is not allowed; give at least 1 (the slot of x_0)");
  }
  // A run holds at most min(c, steps + 1) checkpoints, and the lists grow with what it holds, so
  // c = 10^9 costs nothing up front. Up to kReserved checkpoints nothing is allocated after
  // start().
  const auto reserved = static_cast<std::size_t>(std::min(slots, kReserved));
  checkpoints_.reserve(reserved);
  decision_.reserve(reserved + 1);
  free_slots_.reserve(reserved);
}

OnlineRevolve::~OnlineRevolve() = default;

const OnlineRevolve::LimitCache& OnlineRevolve::limits(std::int64_t end) const {
  const std::int64_t length = end + 1;  // Revolve on end + 1 steps
  for (const LimitCache& c : cache_) {
    if (c.r >= 0 && length > c.band_low && length <= c.band_high) return c;
  }
  LimitCache& c = cache_[cache_next_];
  cache_next_ = 1 - cache_next_;
  c.r = repetitions(length, slots_);
  c.band_low = c.r == 0 ? 0 : beta_or_saturated(slots_, c.r - 1);
  c.band_high = beta_or_saturated(slots_, c.r);
  c.limits.clear();
  return c;
}

std::int64_t OnlineRevolve::limit(const LimitCache& band, std::size_t k) const {
  if (k < band.limits.size()) return band.limits[k];
  // Filled on first use: a run reads the limits of as many segments as it has checkpoints, far
  // fewer than c when c is large.
  while (band.limits.size() <= k) {
    const auto j = static_cast<std::int64_t>(band.limits.size());
    band.limits.push_back(band.r == 0 ? 1 : beta_or_saturated(slots_ - j, band.r - 1));
  }
  return band.limits[k];
}

bool OnlineRevolve::valid(const std::vector<Checkpoint>& layout, std::int64_t end) const {
  const LimitCache& band = limits(end);
  for (std::size_t k = 0; k < layout.size(); ++k) {
    const std::int64_t next = k + 1 < layout.size() ? layout[k + 1].step : end;
    if (next - layout[k].step > limit(band, k)) return false;
  }
  return true;
}

Action OnlineRevolve::start() {
  steps_ = 0;
  started_ = true;
  finished_ = false;
  checkpoints_.assign(1, Checkpoint{0, 0});
  free_slots_.clear();
  fresh_slot_ = 1;
  segments_.clear();
  segment_ = -1;
  revolve_.reset();
  final_state_freed_ = true;
  return Action::make_store(0, 0);
}

const std::vector<std::int64_t>& OnlineRevolve::targets(std::int64_t end,
                                                        std::int64_t reach) const {
  const std::int64_t length = end + 1;
  if (!(target_r_ >= 0 && length > target_low_ && length <= target_high_)) {
    target_r_ = repetitions(length, slots_);
    target_low_ = target_r_ == 0 ? 0 : beta_or_saturated(slots_, target_r_ - 1);
    target_high_ = beta_or_saturated(slots_, target_r_);
    targets_.assign(1, 0);
  }
  // p_0 = 0, p_{k+1} = p_k + beta(c - k, r - 1): the layout that is valid throughout the band.
  // Extended as the run gets further, not all c at once.
  if (targets_.back() >= reach || static_cast<std::int64_t>(targets_.size()) == slots_) {
    return targets_;  // the common case: nothing to extend, no band lookup
  }
  const LimitCache& band = limits(end);
  while (targets_.back() < reach && static_cast<std::int64_t>(targets_.size()) < slots_) {
    const std::int64_t previous = targets_.back();
    const std::int64_t step = limit(band, targets_.size() - 1);
    targets_.push_back(previous > saturated - step ? saturated : previous + step);
  }
  return targets_;
}

const std::vector<Action>& OnlineRevolve::advanced() {
  if (!started_ || finished_) {
    throw std::logic_error(
        "OnlineRevolve::advanced: no run in progress; call start() first (again after finish())");
  }
  decision_.clear();
  const std::int64_t step = ++steps_;
  if (slots_ == 1) return decision_;  // only x_0: everything is recomputed from it

  // The band of runs that would end after the next step, and its target positions.
  const std::vector<std::int64_t>& target = targets(step + 1, step);
  const std::int64_t first_target = target.size() > 1 ? target[1] : saturated;
  // Checkpoints before the band's first target are left from earlier bands: they stay while they
  // do no harm and are given up, earliest first, when a slot or validity needs it.
  const auto drop_earliest_old = [&]() -> bool {
    if (checkpoints_.size() < 2 || checkpoints_[1].step >= first_target) return false;
    const std::int64_t slot = checkpoints_[1].slot;
    checkpoints_.erase(checkpoints_.begin() + 1);
    free_slots_.push_back(slot);
    decision_.push_back(Action::make_free(slot));
    return true;
  };

  if (std::binary_search(target.begin() + 1, target.end(), step)) {
    // A target of the band: it must be a checkpoint from now on.
    if (free_slots_.empty() && fresh_slot_ == slots_ && !drop_earliest_old()) {
      throw std::logic_error("OnlineRevolve: internal error: no slot for a target checkpoint");
    }
    // The slot given up last, else the lowest never used (the order of one stack c-1..1).
    std::int64_t slot = fresh_slot_;
    if (free_slots_.empty()) {
      ++fresh_slot_;
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    checkpoints_.push_back(Checkpoint{step, slot});
    decision_.push_back(Action::make_store(slot, step));
  }
  // Old checkpoints push later segments to higher indices, where the limits are smaller: give
  // them up until the layout is valid for a run that ends after the next step. Without any, the
  // layout is the band's targets reached so far, which is valid.
  // Only the last segment can have become too long: the others were valid, the limits only grow
  // with T, and giving up an old checkpoint merges segments below the first target (at most
  // beta(c, r - 1) long, segment 0's limit) and moves the later ones to larger limits.
  const auto last_segment_fits = [&] {
    const std::int64_t length = step + 1 - checkpoints_.back().step;
    return length <= limit(limits(step + 1), checkpoints_.size() - 1);
  };
  while (!last_segment_fits() && drop_earliest_old()) {
  }
  return decision_;
}

std::vector<std::int64_t> OnlineRevolve::checkpoint_steps() const {
  std::vector<std::int64_t> steps;
  for (const Checkpoint& c : checkpoints_) steps.push_back(c.step);
  return steps;
}

bool OnlineRevolve::layout_valid() const {
  if (!started_ || steps_ < 1) return true;
  std::vector<Checkpoint> layout;
  for (const Checkpoint& c : checkpoints_) {
    if (c.step < steps_) layout.push_back(c);
  }
  return valid(layout, steps_);
}

void OnlineRevolve::finish() {
  if (!started_ || finished_) {
    throw std::logic_error("OnlineRevolve::finish: no run in progress (call start() first)");
  }
  if (steps_ < 1) {
    throw std::logic_error(
        "OnlineRevolve::finish: the run made no step; there is nothing to reverse");
  }
  finished_ = true;
  reset();
}

void OnlineRevolve::reset() {
  if (!finished_) return;  // the reverse sweep does not exist yet
  segments_.clear();
  final_state_slot_ = -1;
  for (const Checkpoint& c : checkpoints_) {
    if (c.step < steps_) {
      segments_.push_back(c);
    } else {
      final_state_slot_ = c.slot;  // x_T is not needed backwards
    }
  }
  final_state_freed_ = final_state_slot_ < 0;
  segment_ = static_cast<std::int64_t>(segments_.size()) - 1;
  begin_segment();
}

void OnlineRevolve::begin_segment() {
  const auto k = static_cast<std::size_t>(segment_);
  const std::int64_t start = segments_[k].step;
  const std::int64_t end = k + 1 < segments_.size() ? segments_[k + 1].step : steps_;
  // Revolve's slot 0 is this checkpoint's; its others are the slots no earlier checkpoint holds,
  // lowest first. Revolve(L, s) uses slots below min(s, L) only, so that many are mapped.
  const std::int64_t revolve_slots = slots_ - segment_;
  const auto mapped = static_cast<std::size_t>(std::min(revolve_slots, end - start));
  std::vector<std::int64_t> held;
  held.reserve(k + 1);
  for (std::size_t j = 0; j <= k; ++j) held.push_back(segments_[j].slot);
  std::sort(held.begin(), held.end());
  slot_map_.assign(1, segments_[k].slot);
  for (std::int64_t slot = 0; slot_map_.size() < mapped; ++slot) {
    if (!std::binary_search(held.begin(), held.end(), slot)) slot_map_.push_back(slot);
  }
  revolve_ = std::make_unique<Revolve>(end - start, revolve_slots);
  need_restore_ = true;
}

Action OnlineRevolve::next() {
  if (!finished_) {
    throw std::logic_error(
        "OnlineRevolve::next: the reverse sweep starts after finish(); during the forward sweep "
        "use advanced()");
  }
  if (!final_state_freed_) {
    final_state_freed_ = true;
    return Action::make_free(final_state_slot_);
  }
  for (;;) {
    if (segment_ < 0) return Action::make_end();
    const Checkpoint base = segments_[static_cast<std::size_t>(segment_)];
    if (need_restore_) {
      need_restore_ = false;
      return Action::make_restore(base.slot, base.step);
    }
    const Action a = revolve_->next();
    switch (a.kind) {
      case ActionKind::end:
        --segment_;
        if (segment_ >= 0) begin_segment();
        return Action::make_free(base.slot);
      case ActionKind::store:
        if (a.slot == 0) continue;  // Revolve's x_0 is this checkpoint, already in its slot
        return Action::make_store(slot_map_[static_cast<std::size_t>(a.slot)], a.step + base.step);
      case ActionKind::restore:
        return Action::make_restore(slot_map_[static_cast<std::size_t>(a.slot)],
                                    a.step + base.step);
      case ActionKind::advance:
        return Action::make_advance(a.from() + base.step, a.to + base.step);
      case ActionKind::reverse:
        return Action::make_reverse(a.step + base.step);
      default:
        continue;  // Revolve emits no free
    }
  }
}

}  // namespace cairn
