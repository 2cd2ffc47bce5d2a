// What a driver needs from a schedule that learns the number of steps only when the run ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/schedule.hpp"

namespace cairn {

/// A schedule for a run whose length T is unknown until it ends (adaptive time stepping, a run
/// until a condition holds). The forward sweep is the caller's loop, told to the schedule one
/// step at a time; once finish() has fixed T, the reverse sweep is the ordinary stream of
/// Schedule::next() / next_actions(), ending with `end`.
///
/// The protocol, for a run of T >= 1 steps:
///
///     start()      the working state is x_0; returns the store of x_0
///     advanced()   after each step, when the working state has become x_i (i = 1..T): returns
///                  the storage actions to take now, in order (frees, and stores of x_i)
///     finish()     T = steps(); the reverse sweep starts from the working state x_T
///
/// start() begins a new run at any time (after finish(), or after a failure part way).
///
/// Drivers speak only this interface (Driver::start/step/finish, the C API's cairn_driver_*, the
/// PETSc trajectory), so a new online schedule plugs into all of them unchanged. OnlineRevolve is
/// the one the library ships.
class OnlineSchedule : public Schedule {
 public:
  /// Starts a run (again): the working state is x_0. Returns the action to take: a store of x_0.
  virtual Action start() = 0;
  /// The working state has just become x_i, i = steps() (one more step was made). Returns the
  /// store and free actions to take before the next step, in order (often none). The vector is
  /// the schedule's own: valid until its next call. Throws std::logic_error outside a run.
  virtual const std::vector<Action>& advanced() = 0;
  /// The run ended: T = steps(). Throws std::logic_error before any step or outside a run.
  virtual void finish() = 0;

  /// Steps made in the current run so far (T after finish()).
  virtual std::int64_t steps() const noexcept = 0;
  /// Whether finish() was called for the current run.
  virtual bool finished() const noexcept = 0;
  /// The most actions one call of advanced() can return, so that a driver that copies them (the
  /// C API) can size its buffer once, before the run.
  virtual std::size_t max_advanced_actions() const noexcept = 0;

 protected:
  OnlineSchedule() = default;
};

/// A whole online run as one stream, for the checker, the CLI and the planner: an online schedule
/// told of T steps one at a time (advance, then what it decides) and of the end only after the
/// last. The stream advances to x_T, as the caller's loop does, then gives the reverse sweep.
class SimulatedOnlineRun final : public Schedule {
 public:
  /// A run of an OnlineRevolve with `slots` slots. Throws std::invalid_argument unless
  /// steps >= 1 and slots >= 1.
  SimulatedOnlineRun(std::int64_t steps, std::int64_t slots);
  /// A run of any online schedule, which this stream then owns. Throws std::invalid_argument
  /// unless steps >= 1 and `online` is not null.
  SimulatedOnlineRun(std::int64_t steps, std::unique_ptr<OnlineSchedule> online);
  ~SimulatedOnlineRun() override;
  SimulatedOnlineRun(const SimulatedOnlineRun&) = delete;
  SimulatedOnlineRun& operator=(const SimulatedOnlineRun&) = delete;

  Action next() override;
  void reset() override;
  const char* name() const noexcept override { return online_->name(); }

  const OnlineSchedule& online() const noexcept { return *online_; }

 private:
  std::int64_t steps_;
  std::unique_ptr<OnlineSchedule> online_;
  std::int64_t position_ = 0;
  std::vector<Action> pending_;
  std::size_t pending_next_ = 0;
  bool started_ = false;
};

}  // namespace cairn
