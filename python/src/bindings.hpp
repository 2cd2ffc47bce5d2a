// Shared pieces of the Python module cairn._cairn: the action dtype, the schedule holder every
// Python schedule class derives from, and the functions that bind each concept.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/schedule.hpp"

namespace cairn::python {

namespace py = pybind11;

// cairn.ACTION_DTYPE is a NumPy structured dtype with exactly this layout, so that a batch of
// actions is one memcpy (or none: next_actions writes into the array's buffer).
static_assert(sizeof(Action) == 32, "cairn::Action must be 32 bytes for ACTION_DTYPE");
static_assert(offsetof(Action, kind) == 0 && sizeof(ActionKind) == 1, "Action::kind: u1 @ 0");
static_assert(offsetof(Action, level) == 4 && sizeof(Level) == 4, "Action::level: i4 @ 4");
static_assert(offsetof(Action, slot) == 8, "Action::slot: i8 @ 8");
static_assert(offsetof(Action, step) == 16, "Action::step: i8 @ 16");
static_assert(offsetof(Action, to) == 24, "Action::to: i8 @ 24");

/// The dtype object (created once by bind_actions).
py::dtype action_dtype();
/// A new, uninitialised 1-D array of `count` actions.
py::array new_action_array(std::size_t count);
/// The actions of an array of ACTION_DTYPE (exactly that dtype, C-contiguous, 1-D), or a
/// TypeError/ValueError saying what is wrong.
const Action* action_data(const py::array& array, std::size_t& count);
/// The Python cairn.ActionKind member for a kind.
py::object kind_object(ActionKind kind);

/// Holds a C++ schedule for Python. Adds what a Python iterator needs: actions read ahead in a
/// batch (by __next__) are handed out first by every later read, so iteration, next_actions() and
/// check() can be mixed and each sees the stream from where the last one stopped; and once `end`
/// has been handed out the stream is exhausted (an empty batch) until reset().
class ScheduleHandle {
 public:
  ScheduleHandle(std::unique_ptr<Schedule> schedule, std::vector<std::int64_t> slots_per_level)
      : schedule_(std::move(schedule)), slots_per_level_(std::move(slots_per_level)) {}
  virtual ~ScheduleHandle() = default;
  ScheduleHandle(const ScheduleHandle&) = delete;
  ScheduleHandle& operator=(const ScheduleHandle&) = delete;

  Schedule& schedule() noexcept { return *schedule_; }
  const Schedule& schedule() const noexcept { return *schedule_; }

  /// Reads up to `capacity` actions into `out` (pending ones first); stops after `end`.
  std::size_t read(Action* out, std::size_t capacity);
  /// Reads one action (from a batch read ahead); false once `end` was handed out.
  bool next_one(Action& out);
  /// Gives back the actions read but not used (they come first at the next read).
  void unread(const Action* actions, std::size_t count);
  /// Restarts the stream.
  void reset();
  /// Forgets the read-ahead and the end mark (the C++ schedule was moved on directly, e.g. by a
  /// driver that reset it).
  void forget_position() noexcept {
    pending_.clear();
    pending_next_ = 0;
    ended_ = false;
  }
  /// T where the holder knows it and the class has no accessor of its own (SimulatedOnlineRun).
  std::int64_t known_steps() const noexcept { return known_steps_; }
  void set_known_steps(std::int64_t steps) noexcept { known_steps_ = steps; }
  bool ended() const noexcept { return ended_ && pending_next_ == pending_.size(); }

  /// Slot counts per level that the stream needs (for the checker and the driver's storage).
  const std::vector<std::int64_t>& slots_per_level() const noexcept { return slots_per_level_; }

  /// Marks the schedule in use for the lifetime of a Guard: a second user (another thread while
  /// the GIL is released, or a callback of a driver run) gets a RuntimeError instead of a stream
  /// read from two places at once.
  class Guard {
   public:
    explicit Guard(ScheduleHandle& handle);
    ~Guard() { handle_.busy_.store(false); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    ScheduleHandle& handle_;
  };

 private:
  std::unique_ptr<Schedule> schedule_;
  std::vector<std::int64_t> slots_per_level_;
  std::vector<Action> pending_;
  std::size_t pending_next_ = 0;
  bool ended_ = false;
  std::int64_t known_steps_ = 0;
  std::atomic<bool> busy_{false};
};

/// A holder whose schedule has the concrete type S, for the properties of each class.
template <typename S>
class TypedHandle final : public ScheduleHandle {
 public:
  TypedHandle(std::unique_ptr<S> schedule, std::vector<std::int64_t> slots_per_level)
      : ScheduleHandle(std::move(schedule), std::move(slots_per_level)) {}
  S& get() noexcept { return static_cast<S&>(schedule()); }
  const S& get() const noexcept { return static_cast<const S&>(schedule()); }
};

void bind_actions(py::module_& m);
void bind_schedules(py::module_& m);
void bind_planners(py::module_& m);
void bind_check(py::module_& m);
void bind_driver(py::module_& m);
void bind_graphs(py::module_& m);
void bind_grids(py::module_& m);

}  // namespace cairn::python
