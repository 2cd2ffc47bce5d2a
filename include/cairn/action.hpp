// The Action vocabulary that every Cairn layer speaks (see docs/theory.md).
//
// States are x_0..x_T; step i maps x_i to x_{i+1}. A schedule is a stream of Actions that a driver
// translates into calls of the user's step, adjoint step and storage. Actions carry plain integers
// only, so that they are cheap to produce (a few nanoseconds each) and trivial to serialise.
#pragma once

#include <cstdint>

namespace cairn {

/// What an Action asks the driver to do.
enum class ActionKind : std::uint8_t {
  advance,  ///< run steps from..to-1 on the working state: x_from -> x_to
  store,    ///< copy the working state x_step into `slot` on `level`
  restore,  ///< make the working state x_step, read from `slot` on `level`
  reverse,  ///< adjoint of step `step` (x_step -> x_{step+1} taped and reversed)
  free,     ///< `slot` on `level` will not be read again (a hint to storage)
  end,      ///< every step has been reversed
  /// run step `step` taped (x_step -> x_{step+1}) and keep what its adjoint needs in `slot` on
  /// `level` (mixed schedules, mixed.hpp)
  store_adjoint,
  /// adjoint of step `step` from the adjoint data in `slot` on `level`, without re-running the
  /// step; the slot is empty afterwards
  reverse_stored,
};

/// Index of a storage level, 0 being the fastest (RAM on a CPU run).
using Level = std::int32_t;

/// One instruction of a checkpointing schedule. Field meaning depends on `kind`:
///
/// | kind    | fields used          |
/// |---------|----------------------|
/// | advance | from, to             |
/// | store   | slot, step, level    |
/// | restore | slot, step, level    |
/// | reverse | step                 |
/// | free    | slot, level          |
/// | end     | none                 |
/// | store_adjoint  | slot, step, level |
/// | reverse_stored | slot, step, level |
///
/// Unused fields are zero, so two equal actions compare equal field by field.
struct Action {
  ActionKind kind = ActionKind::end;
  Level level = 0;
  std::int64_t slot = 0;
  std::int64_t step = 0;  ///< store/restore/reverse: the state index; advance: `from`
  std::int64_t to = 0;    ///< advance only: the state index reached

  /// First state of an advance (the same field as `step`, named for readability).
  constexpr std::int64_t from() const noexcept { return step; }

  static constexpr Action make_advance(std::int64_t from, std::int64_t to) noexcept {
    return Action{ActionKind::advance, 0, 0, from, to};
  }
  static constexpr Action make_store(std::int64_t slot, std::int64_t step,
                                     Level level = 0) noexcept {
    return Action{ActionKind::store, level, slot, step, 0};
  }
  static constexpr Action make_restore(std::int64_t slot, std::int64_t step,
                                       Level level = 0) noexcept {
    return Action{ActionKind::restore, level, slot, step, 0};
  }
  static constexpr Action make_reverse(std::int64_t step) noexcept {
    return Action{ActionKind::reverse, 0, 0, step, 0};
  }
  static constexpr Action make_free(std::int64_t slot, Level level = 0) noexcept {
    return Action{ActionKind::free, level, slot, 0, 0};
  }
  static constexpr Action make_end() noexcept { return Action{}; }
  static constexpr Action make_store_adjoint(std::int64_t slot, std::int64_t step,
                                             Level level = 0) noexcept {
    return Action{ActionKind::store_adjoint, level, slot, step, 0};
  }
  static constexpr Action make_reverse_stored(std::int64_t slot, std::int64_t step,
                                              Level level = 0) noexcept {
    return Action{ActionKind::reverse_stored, level, slot, step, 0};
  }
};

constexpr bool operator==(const Action& a, const Action& b) noexcept {
  return a.kind == b.kind && a.level == b.level && a.slot == b.slot && a.step == b.step &&
         a.to == b.to;
}
constexpr bool operator!=(const Action& a, const Action& b) noexcept {
  return !(a == b);
}

/// The lower-case name used in the JSON-lines format ("advance", "store", ...).
const char* to_string(ActionKind kind) noexcept;

}  // namespace cairn
