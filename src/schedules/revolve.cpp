#include "cairn/revolve.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>

#include "cairn/binomial.hpp"
#include "core/exact_arithmetic.hpp"

// How the schedule works (docs/theory.md has the derivation).
//
// Reversing the range [capo, fine) from a stored x_capo with s slots (the one of x_capo included)
// is a recursion: advance m steps, store x_{capo+m}, reverse [capo+m, fine) with s - 1 slots,
// restore x_capo and reverse [capo, capo+m) with s slots. With r = r(l, s), l = fine - capo, the
// split m gives the minimal t(l, s) forward steps exactly when
//     beta(s, r-2) <= m <= beta(s, r-1)   and   beta(s-1, r-1) <= l - m <= beta(s-1, r).
// Within that range the number of stores is smallest for
//     m = min(beta(s, r-1), l - beta(s-1, r-1), max(beta(s, r-2), l - K)),
//     K = beta(s-1, r-1) + beta(s-2, r-1),
// i.e. the right part is made as long as it can be without costing an extra store. Every
// binomial read here is below T, so nothing overflows.
//
// The recursion runs as a state machine over a stack of stored states (position_, one entry per
// slot), which is what keeps memory O(c) and each action O(1): the repetition bound of each stack
// entry only decreases while its range shrinks, so it is cached in reps_ and walked down.

namespace cairn {

Revolve::Revolve(std::int64_t steps, std::int64_t slots, std::size_t table_bytes)
    : steps_(steps), slots_(slots), repetitions_(0) {
  if (steps < 1 || slots < 1) {
    throw std::invalid_argument("Revolve: steps = " + std::to_string(steps) +
                                ", slots = " + std::to_string(slots) +
                                " is not allowed; both must be integers >= 1");
  }
  repetitions_ = cairn::repetitions(steps, slots);
  // At most min(c, T) states are ever held at once (x_{T-1} is never stored).
  const std::int64_t depth = std::min(slots, steps);
  try {
    position_.assign(static_cast<std::size_t>(depth), 0);
    reps_.assign(static_cast<std::size_t>(depth), 0);
  } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
    throw std::length_error("Revolve: T = " + std::to_string(steps) +
                            ", c = " + std::to_string(slots) +
                            " needs 16 bytes for each of min(c, T) = " + std::to_string(depth) +
                            " checkpoints it may hold, which cannot be allocated; give fewer "
                            "slots (they must fit in memory as states too)");
  }

  // Splits only need beta(s, j) for s <= c and j <= r - 1, all below T. With r <= 1 no split
  // ever reads it.
  if (repetitions_ >= 2 && slots < steps) {
    const auto columns = static_cast<std::uint64_t>(slots) + 1;
    const auto rows = static_cast<std::uint64_t>(repetitions_);
    if (rows <= table_bytes / sizeof(std::int64_t) / columns) {
      columns_ = static_cast<std::int64_t>(columns);
      table_.resize(static_cast<std::size_t>(rows * columns));
      // Pascal's rule: beta(s, j) = beta(s-1, j) + beta(s, j-1), with beta(s, 0) = beta(0, j) = 1.
      for (std::uint64_t s = 0; s < columns; ++s) table_[s] = 1;
      for (std::uint64_t j = 1; j < rows; ++j) {
        table_[j * columns] = 1;
        for (std::uint64_t s = 1; s < columns; ++s) {
          table_[j * columns + s] = table_[j * columns + s - 1] + table_[(j - 1) * columns + s];
        }
      }
    }
  }
  reset();
}

void Revolve::reset() {
  cursor_ = Cursor{-1, -1, 0, steps_};
}

std::int64_t Revolve::forward_steps() const {
  return forward_cost(steps_, slots_);
}

std::int64_t Revolve::computed_binomial(std::int64_t s, std::int64_t j) noexcept {
  // Callers only ask for values below T, so the saturation cap is never reached.
  return static_cast<std::int64_t>(
      detail::binomial_saturated(static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(j),
                                 static_cast<std::uint64_t>(detail::kInt64Max)));
}

inline std::int64_t Revolve::binomial(std::int64_t s, std::int64_t j) const noexcept {
  if (!table_.empty()) return table_[static_cast<std::size_t>(j * columns_ + s)];
  return computed_binomial(s, j);
}

inline std::int64_t Revolve::split(std::int64_t length, std::int64_t free_slots,
                                   std::int64_t& reps) const noexcept {
  // Walk the cached bound down to r(length, s): beta(s, r-1) < length <= beta(s, r).
  while (binomial(free_slots, reps - 1) >= length) --reps;
  if (reps == 1) return 1;  // length <= s + 1: store every state
  const std::int64_t r1 = reps - 1;
  const std::int64_t right_min = binomial(free_slots - 1, r1);
  // Each term is below `length`, their sum may not fit (T near 2^63, found by the C API fuzzer);
  // saturated, it is still above `length`, so `lower` below is unchanged.
  const std::int64_t extra = binomial(free_slots - 2, r1);
  const std::int64_t longest_right_without_extra_store =
      right_min > detail::kInt64Max - extra ? detail::kInt64Max : right_min + extra;
  const std::int64_t upper = std::min(binomial(free_slots, r1), length - right_min);
  const std::int64_t lower =
      std::max(binomial(free_slots, r1 - 1), length - longest_right_without_extra_store);
  return std::min(upper, lower);
}

namespace {

// Two ways to hand out an action. A batch writes every field in place: building an Action in a
// temporary and copying it costs a failed store-to-load forwarding per action (the temporary is
// written in pieces and read back whole), which tripled the time per action. A single action is
// returned by value, built directly in the caller's return slot.
struct WriteInPlace {
  Action& out;
  void operator()(ActionKind kind, std::int64_t slot, std::int64_t step,
                  std::int64_t to) const noexcept {
    out.kind = kind;
    out.level = 0;
    out.slot = slot;
    out.step = step;
    out.to = to;
  }
};

struct ReturnByValue {
  Action operator()(ActionKind kind, std::int64_t slot, std::int64_t step,
                    std::int64_t to) const noexcept {
    return Action{kind, 0, slot, step, to};
  }
};

}  // namespace

template <typename Emit>
inline auto Revolve::produce(Cursor& k, const Emit& emit) noexcept {
  if (k.current < 0) {  // the last reverse consumed the working state
    if (k.unreversed == 0) return emit(ActionKind::end, 0, 0, 0);
    k.current = k.top_state;
    return emit(ActionKind::restore, k.top, k.current, 0);
  }

  if (k.current == k.unreversed - 1) {
    const std::int64_t step = k.current;
    k.unreversed = step;
    k.current = -1;
    if (k.top_state == step) {  // that checkpoint has served its last range
      --k.top;
      k.top_state = k.top >= 0 ? position_[static_cast<std::size_t>(k.top)] : -1;
    }
    return emit(ActionKind::reverse, 0, step, 0);
  }

  if (k.top_state != k.current) {
    // A fresh split point (or x_0): keep it. The new range inherits its parent's bound.
    const std::int64_t inherited =
        k.top < 0 ? repetitions_ : reps_[static_cast<std::size_t>(k.top)];
    ++k.top;
    position_[static_cast<std::size_t>(k.top)] = k.current;
    reps_[static_cast<std::size_t>(k.top)] = inherited;
    k.top_state = k.current;
    return emit(ActionKind::store, k.top, k.current, 0);
  }

  const std::int64_t from = k.current;
  const std::int64_t free_slots = slots_ - k.top;
  if (free_slots == 1) {
    k.current = k.unreversed - 1;  // no slot left: recompute from x_from every time
  } else {
    k.current =
        from + split(k.unreversed - from, free_slots, reps_[static_cast<std::size_t>(k.top)]);
  }
  return emit(ActionKind::advance, 0, from, k.current);
}

Action Revolve::next() {
  return produce(cursor_, ReturnByValue{});
}

std::size_t Revolve::next_actions(Action* out, std::size_t capacity) {
  // A local cursor: stores into position_ cannot alias it, so it stays in registers.
  Cursor k = cursor_;
  std::size_t written = capacity;
  for (std::size_t i = 0; i < capacity; ++i) {
    produce(k, WriteInPlace{out[i]});
    if (out[i].kind == ActionKind::end) {
      written = i + 1;
      break;
    }
  }
  cursor_ = k;
  return written;
}

std::int64_t Revolve::store_count(std::int64_t steps, std::int64_t slots) {
  if (steps < 1 || slots < 1) {
    throw std::invalid_argument("Revolve::store_count: steps = " + std::to_string(steps) +
                                ", slots = " + std::to_string(slots) +
                                " is not allowed; both must be integers >= 1");
  }
  if (steps == 1) return 0;
  if (slots == 1) return 1;
  const std::int64_t r = cairn::repetitions(steps, slots);
  // beta(c-1, r-1) stores while T <= K(c, r) = beta(c, r-1) + beta(c-1, r-1), plus one per step
  // beyond K. All three binomials are below T; subtract one at a time so nothing overflows.
  const std::int64_t base = beta(slots - 1, r - 1);
  const std::int64_t beyond = steps - beta(slots, r - 1) - base;
  return base + std::max<std::int64_t>(0, beyond);
}

}  // namespace cairn
