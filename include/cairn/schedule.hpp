// The interface every schedule implements: a source of Actions, one at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cairn/action.hpp"

namespace cairn {

/// A checkpointing schedule. Schedules decide; they never touch data. Drivers, the checker and the
/// CLI consume any schedule through this interface, so a new schedule needs no change elsewhere.
///
/// `next()` returns the next Action; after the `end` action it keeps returning `end`. Concrete
/// schedules are `final`, so code that holds one by its own type pays no virtual call.
class Schedule {
 public:
  virtual ~Schedule() = default;

  /// The next action of the stream.
  virtual Action next() = 0;

  /// Writes the next actions into out[0..capacity) and returns how many it wrote: `capacity`, or
  /// fewer when the stream reaches `end` (which is written and counted). One virtual call per
  /// batch instead of per action; schedules override it with a loop the compiler can inline.
  virtual std::size_t next_actions(Action* out, std::size_t capacity) {
    for (std::size_t i = 0; i < capacity; ++i) {
      out[i] = next();
      if (out[i].kind == ActionKind::end) return i + 1;
    }
    return capacity;
  }

  /// Restart the stream from its first action.
  virtual void reset() = 0;

  /// A short human-readable name, e.g. "revolve".
  virtual const char* name() const noexcept = 0;
  /// How many reverse sweeps the stream holds: 1, or more for a schedule that gives several
  /// adjoints from one forward run (each sweep reverses T-1..0; ScheduleChecker and the Driver
  /// take the count from here).
  virtual std::int64_t sweeps() const noexcept { return 1; }
  /// The size of one step's adjoint data (store_adjoint) in units of a state: what a checker of
  /// the stream needs to count its storage (check.hpp). 1 unless the schedule says otherwise.
  virtual std::int64_t adjoint_data_units() const noexcept { return 1; }

 protected:
  Schedule() = default;
  Schedule(const Schedule&) = default;
  Schedule& operator=(const Schedule&) = default;
  Schedule(Schedule&&) = default;
  Schedule& operator=(Schedule&&) = default;
};

}  // namespace cairn
