// Runs a user's solver through any schedule: forward steps, checkpoints, and the adjoint sweep.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/schedule.hpp"
#include "cairn/state_adapter.hpp"
#include "cairn/storage.hpp"

namespace cairn {

/// What a run did and where its time went. Reset at the start of each run (or forward()).
struct DriverStatistics {
  std::int64_t actions = 0;        ///< actions executed, `end` included
  std::int64_t step_calls = 0;     ///< calls of the user's step()
  std::int64_t adjoint_calls = 0;  ///< calls of the user's adjoint_step()
  std::int64_t record_calls = 0;   ///< taped steps that kept adjoint data (keep_adjoint_data)
  std::int64_t recorded_adjoint_calls = 0;  ///< adjoint steps from kept adjoint data
  std::int64_t stores = 0;
  std::int64_t restores = 0;
  std::int64_t frees = 0;
  std::int64_t bytes_stored = 0;
  std::int64_t bytes_restored = 0;
  std::int64_t peak_slots = 0;  ///< most checkpoints held at once, all levels together
  std::int64_t prefetches = 0;  ///< Storage::prefetch hints given to levels that want them
  std::int64_t steps = 0;       ///< T, known once the first step is reversed
  /// Wall-clock time of the run, and its split: user code is step(), adjoint_step() and the
  /// terminal adjoint; storage is store/restore/free; the driver is the rest (reading actions,
  /// dispatch, copies of the working state). The split is measured only when
  /// DriverOptions::measure_time is true (otherwise user and storage stay 0).
  double seconds_total = 0;
  double seconds_user = 0;
  double seconds_storage = 0;

  std::int64_t bytes_moved() const noexcept { return bytes_stored + bytes_restored; }
  double seconds_driver() const noexcept { return seconds_total - seconds_user - seconds_storage; }
};

/// Where a run stands, for a progress display.
struct DriverProgress {
  enum class Phase { forward_done, reversing, done };
  Phase phase;
  std::int64_t steps_reversed;  ///< of `steps`
  std::int64_t steps;           ///< T
  const DriverStatistics& statistics;
};

struct DriverOptions {
  /// Called after the forward sweep, then about every 1% of the reverse sweep, and at the end.
  std::function<void(const DriverProgress&)> progress;
  /// Split the wall-clock time into user code, storage and driver. Costs two clock reads per
  /// action (about 50 ns on the development machine, docs/benchmarks.md), which matters only for
  /// steps of a few microseconds or less, so it is off unless asked for.
  bool measure_time = false;
};

/// Runs a schedule against a user's solver.
///
/// The user gives
///  - step(i, x): advance x from x_i to x_{i+1} in place;
///  - adjoint_step(i, x_i, lambda): from x_i, turn lambda_{i+1} into lambda_i in place,
///    recomputing whatever of step i the adjoint needs (this recomputation is not a step() call).
///
/// Two shapes:
///  - run(x_0, terminal): forward, terminal(x_T) -> lambda_T, reverse; returns lambda_0;
///  - forward(x_0) -> x_T, then later backward(lambda_T) -> lambda_0 (layer style).
/// Both make exactly t + 1 step() calls, where t is the schedule's forward-step count (t(T, c)
/// for Revolve, T - 1 for StoreAll): the schedule's advances, plus one step from x_{T-1} to x_T,
/// which no checkpointing schedule needs but the terminal adjoint (or the caller of forward) does.
/// adjoint_step() is called exactly T times.
///
/// Memory: the storage's slots plus two states of the driver's own (the working state and x_T);
/// with the caller's x_0 and lambda that is c + 4 states. Nothing is allocated after the working
/// state and x_T exist, i.e. not during the reverse sweep.
///
/// Any schedule works: actions are read in batches through Schedule::next_actions. Action levels
/// index `levels` (level 0 first). For levels whose Storage::prefetch_depth() is positive (e.g.
/// an AsyncStorage over a disk) the driver looks up to 256 actions ahead and hints their restores
/// with Storage::prefetch as soon as the slot holds the state and the level's depth allows; other
/// levels cost no look-ahead. After the last action of a successful reverse sweep every level is
/// flushed, so a background error cannot go unreported.
///
/// Several adjoints from one forward run: a schedule of several reverse sweeps (e.g.
/// TwoLevelRevolve with sweeps > 1, which keeps its disk checkpoints) is run as forward(x_0) then
/// backward(lambda_T) once per sweep (Schedule::sweeps()), each returning its lambda_0; run()
/// does the first sweep.
///
/// An exception from a user callback (or from storage) propagates. Checkpoints already stored
/// stay intact, nothing leaks, and the driver can run again: run() and forward() always restart
/// the schedule; backward() after a failed or missing forward() throws std::logic_error.
template <typename State, typename Adjoint = State, typename Adapter = StateAdapter<State>>
class Driver {
 public:
  using StepFunction = std::function<void(std::int64_t step, State& state)>;
  using AdjointStepFunction =
      std::function<void(std::int64_t step, const State& state, Adjoint& adjoint)>;
  using TerminalAdjoint = std::function<Adjoint(const State& final_state)>;
  using RecordStepFunction =
      std::function<void(std::int64_t step, State& state, std::int64_t slot)>;
  using RecordedAdjointFunction =
      std::function<void(std::int64_t step, std::int64_t slot, Adjoint& adjoint)>;

  Driver(Schedule& schedule, std::vector<Storage*> levels, StepFunction step,
         AdjointStepFunction adjoint_step, DriverOptions options = {})
      : schedule_(schedule),
        levels_(std::move(levels)),
        step_(std::move(step)),
        adjoint_step_(std::move(adjoint_step)),
        options_(std::move(options)) {
    if (levels_.empty()) throw std::invalid_argument("Driver: give at least one storage level");
    for (std::size_t k = 0; k < levels_.size(); ++k) {
      if (levels_[k] == nullptr) {
        throw std::invalid_argument("Driver: storage level " + std::to_string(k) + " is null");
      }
    }
    if (!step_ || !adjoint_step_) {
      throw std::invalid_argument("Driver: both step and adjoint_step must be given");
    }
    prefetch_depth_.reserve(levels_.size());
    for (const Storage* s : levels_) {
      prefetch_depth_.push_back(s->prefetch_depth());
      if (s->prefetch_depth() > 0) prefetching_ = true;
    }
    hinted_.assign(levels_.size(), 0);
    // The online protocol is an interface of the schedules layer, not a concrete class: any
    // OnlineSchedule runs through start/step/finish.
    online_ = dynamic_cast<OnlineSchedule*>(&schedule_);
  }

  Driver(Schedule& schedule, Storage& storage, StepFunction step, AdjointStepFunction adjoint_step,
         DriverOptions options = {})
      : Driver(schedule, std::vector<Storage*>{&storage}, std::move(step), std::move(adjoint_step),
               std::move(options)) {}

  /// Adjoint data, for schedules that keep it (store_adjoint / reverse_stored, e.g. MixedRevolve):
  ///  - record(i, x, slot): advance x from x_i to x_{i+1} as step() does, and keep what the
  ///    adjoint of step i needs (the stage values of a Runge-Kutta step, say) under `slot`, in
  ///    the caller's own storage;
  ///  - reverse_recorded(i, slot, lambda): turn lambda_{i+1} into lambda_i from that data without
  ///    running step i again; the data under `slot` is not needed afterwards.
  /// Slot numbers are the schedule's, shared with the states of level 0 (mixed.hpp): at no time
  /// does a slot hold both. A schedule that keeps adjoint data without these throws
  /// std::logic_error at its first store_adjoint. Then adjoint_step() and reverse_recorded()
  /// are called T times together, and step() and record() the schedule's forward evaluations
  /// plus one (x_T).
  void keep_adjoint_data(RecordStepFunction record, RecordedAdjointFunction reverse_recorded) {
    if (!record || !reverse_recorded) {
      throw std::invalid_argument(
          "Driver::keep_adjoint_data: give both record and reverse_recorded");
    }
    record_ = std::move(record);
    reverse_recorded_ = std::move(reverse_recorded);
  }

  /// Forward and reverse in one call: returns lambda_0 = dJ/dx_0 for lambda_T = terminal(x_T).
  Adjoint run(const State& initial, const TerminalAdjoint& terminal) {
    forward_to_final(initial);
    Adjoint adjoint = timed_user([&] { return terminal(final_); });
    reverse_sweep(adjoint);
    return adjoint;
  }

  /// Layer style, part 1: runs the forward sweep (storing checkpoints) and returns x_T.
  State forward(const State& initial) {
    forward_to_final(initial);
    return final_;
  }

  /// Layer style, part 2: from lambda_T returns lambda_0. Needs a successful forward() since the
  /// last backward(), or a schedule with another reverse sweep to come (see above).
  Adjoint backward(Adjoint adjoint) {
    if (phase_ != Phase::forward_done) {
      throw std::logic_error(
          "Driver::backward: no forward sweep to reverse; call forward() first (again after a "
          "backward() or after an exception)");
    }
    reverse_sweep(adjoint);
    return adjoint;
  }

  /// Online use, when T is not known in advance: the schedule is an OnlineSchedule (e.g.
  /// OnlineRevolve) and the forward loop is yours, ending on your condition:
  ///
  ///     driver.start(x0);
  ///     while (!done(driver.state())) driver.step();
  ///     Adjoint lambda0 = driver.finish(terminal);
  ///
  /// start() makes x_0 the working state and stores it; step() makes one step() call and the
  /// stores the schedule asks for; finish() learns T = steps(), gives x_T to `terminal` and runs
  /// the reverse sweep. Step calls: T plus the schedule's recomputations; adjoint calls: T.
  /// seconds_total counts from start() (your loop's own time included). Throws std::logic_error
  /// if the schedule is not an OnlineSchedule, or for step()/finish() outside a run.
  void start(const State& initial) {
    OnlineSchedule& online = online_schedule("start");
    begin_run();
    working_ = initial;
    current_ = 0;
    ++statistics_.actions;
    execute_storage(online.start());
    phase_ = Phase::online_forward;
  }

  /// One step of an online run: x_i -> x_{i+1}, then what the schedule decides to keep.
  void step() {
    OnlineSchedule& online = online_schedule("step");
    if (phase_ != Phase::online_forward) {
      throw std::logic_error(
          "Driver::step: no online run in progress; call start() first (again after finish() or "
          "an exception)");
    }
    try {
      timed_user([&] { step_(current_, working_); });
      ++statistics_.step_calls;
      ++current_;
      for (const Action& action : online.advanced()) {
        ++statistics_.actions;
        execute_storage(action);
      }
    } catch (...) {
      phase_ = Phase::idle;
      throw;
    }
  }

  /// The working state: x_i after i = steps() steps of an online run.
  const State& state() const noexcept { return working_; }
  /// Steps made so far in an online run.
  std::int64_t steps() const noexcept { return online_ != nullptr ? online_->steps() : 0; }

  /// Ends an online run after T = steps() >= 1 steps: returns lambda_0 for lambda_T =
  /// terminal(x_T).
  Adjoint finish(const TerminalAdjoint& terminal) {
    OnlineSchedule& online = online_schedule("finish");
    if (phase_ != Phase::online_forward || current_ < 1) {
      throw std::logic_error(phase_ != Phase::online_forward
                                 ? "Driver::finish: no online run in progress; call start() first"
                                 : "Driver::finish: the run made no step; call step() first");
    }
    phase_ = Phase::idle;
    online.finish();
    statistics_.steps = current_;
    statistics_.seconds_total = seconds_since(start_);
    next_ = filled_ = hint_ = 0;
    Adjoint adjoint = timed_user([&] { return terminal(working_); });
    reverse_sweep(adjoint);
    return adjoint;
  }

  const DriverStatistics& statistics() const noexcept { return statistics_; }

 private:
  enum class Phase { idle, forward_done, online_forward };

  // A run starts: empty action window, no hints given, fresh statistics and clock.
  void begin_run() {
    phase_ = Phase::idle;
    sweeps_done_ = 0;
    next_ = filled_ = hint_ = 0;
    waiting_for_store_ = false;
    std::fill(hinted_.begin(), hinted_.end(), 0);
    statistics_ = DriverStatistics{};
    start_ = Clock::now();
  }

  OnlineSchedule& online_schedule(const char* method) const {
    if (online_ == nullptr) {
      throw std::logic_error(std::string("Driver::") + method +
                             ": start/step/finish need an online schedule (an OnlineSchedule "
                             "such as OnlineRevolve); this driver runs '" +
                             schedule_.name() + "' (use run(), or forward() and backward())");
    }
    return *online_;
  }
  using Clock = std::chrono::steady_clock;

  template <typename F>
  auto timed_user(F&& f) {
    if (!options_.measure_time) return f();
    const auto start = Clock::now();
    struct Account {
      Driver* self;
      Clock::time_point start;
      ~Account() { self->statistics_.seconds_user += seconds_since(start); }
    } account{this, start};
    return f();
  }

  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  // Reads the next action, refilling the buffer from the schedule when it runs dry.
  const Action& peek() {
    if (next_ == filled_) {
      filled_ = schedule_.next_actions(buffer_.data(), buffer_.size());
      next_ = 0;
      hint_ = 0;
      waiting_for_store_ = false;
    }
    return buffer_[next_];
  }

  // Look-ahead for levels that want prefetch hints (only called when one does). buffer_ is then a
  // window: [next_, filled_) are actions still to run, and every restore before hint_ on such a
  // level has been hinted. The window is topped up from the schedule once half of it has run.
  // Called only between actions, when no reference into buffer_ is held.
  void issue_hints() {
    if (hint_ < next_) {
      hint_ = next_;
      waiting_for_store_ = false;
    }
    if (waiting_for_store_) return;
    for (;;) {
      if (hint_ == filled_ && !top_up()) return;
      const Action& a = buffer_[hint_];
      if (a.kind == ActionKind::end) return;
      if (a.kind == ActionKind::restore && a.level >= 0 &&
          static_cast<std::size_t>(a.level) < levels_.size()) {
        const auto k = static_cast<std::size_t>(a.level);
        if (prefetch_depth_[k] > 0) {
          if (hinted_[k] >= prefetch_depth_[k]) return;  // until a hinted restore has run
          Storage& storage = *levels_[k];
          if (a.slot < 0 || a.slot >= storage.slots()) return;  // the restore will say why
          if (storage.held_step(a.slot) != a.step) {
            waiting_for_store_ = true;  // the store that fills it is still ahead
            return;
          }
          storage.prefetch(a.slot, a.step);
          ++hinted_[k];
          ++statistics_.prefetches;
        }
      }
      ++hint_;
    }
  }

  // Reads more actions behind filled_, first moving the unrun ones to the front once half the
  // window has run. Returns false if there is nothing more to read now.
  bool top_up() {
    if (filled_ > 0 && buffer_[filled_ - 1].kind == ActionKind::end) return false;
    if (filled_ == buffer_.size()) {
      if (next_ < buffer_.size() / 2) return false;
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(next_),
                buffer_.begin() + static_cast<std::ptrdiff_t>(filled_), buffer_.begin());
      filled_ -= next_;
      hint_ -= next_;
      next_ = 0;
    }
    filled_ += schedule_.next_actions(buffer_.data() + filled_, buffer_.size() - filled_);
    return true;
  }

  Storage& level(const Action& action) const {
    if (action.level < 0 || static_cast<std::size_t>(action.level) >= levels_.size()) {
      throw std::logic_error("Driver: the schedule uses storage level " +
                             std::to_string(action.level) + " but only " +
                             std::to_string(levels_.size()) + " level(s) were given");
    }
    return *levels_[static_cast<std::size_t>(action.level)];
  }

  void execute_storage(const Action& action) {
    Storage& storage = level(action);
    const auto start = options_.measure_time ? Clock::now() : Clock::time_point{};
    switch (action.kind) {
      case ActionKind::store: {
        if (current_ < 0 || action.step != current_) {
          throw std::logic_error("Driver: the schedule stores x_" + std::to_string(action.step) +
                                 " but the working state is " + working_state_name());
        }
        const StateWriter writer = writer_for<State, Adapter>(working_);
        storage.store(action.slot, action.step, writer);
        waiting_for_store_ = false;
        ++statistics_.stores;
        statistics_.bytes_stored += static_cast<std::int64_t>(writer.bytes);
        std::int64_t held = 0;
        for (const Storage* s : levels_) held += s->occupied();
        if (held > statistics_.peak_slots) statistics_.peak_slots = held;
        break;
      }
      case ActionKind::restore: {
        if (action.step < 0) {
          throw std::logic_error("Driver: the schedule restores x_" + std::to_string(action.step) +
                                 ", which is no state; states are x_0, x_1, ...");
        }
        std::size_t bytes = 0;
        struct Context {
          State* state;
          std::size_t* bytes;
        } context{&working_, &bytes};
        // The working state is scratch until the restore returns (a failed restore ends the
        // run), so a file level may read straight into it.
        void* (*scratch)(void*, std::size_t) = nullptr;
        if constexpr (detail::has_contiguous_for<Adapter, State>::value) {
          scratch = [](void* c, std::size_t count) -> void* {
            auto& ctx = *static_cast<Context*>(c);
            void* block = Adapter::contiguous_for(*ctx.state, count);
            *ctx.bytes = count;
            return block;
          };
        }
        StateReader reader{[](void* c, const void* source, std::size_t count) {
                             auto& ctx = *static_cast<Context*>(c);
                             Adapter::copy_in(*ctx.state, source, count);
                             *ctx.bytes = count;
                           },
                           &context, scratch};
        // A state in GPU memory: a device level copies into its block on its stream.
        if constexpr (detail::has_device_block<Adapter, State>::value) {
          reader.device_block = [](void* c, std::size_t count) -> void* {
            auto& ctx = *static_cast<Context*>(c);
            void* block = Adapter::device_block(*ctx.state, count);
            *ctx.bytes = count;
            return block;
          };
          reader.device_stream = Adapter::device_stream(working_);
        }
        storage.restore(action.slot, action.step, reader);
        if (prefetching_ && next_ - 1 < hint_ &&
            prefetch_depth_[static_cast<std::size_t>(action.level)] > 0) {
          --hinted_[static_cast<std::size_t>(action.level)];  // it was hinted
        }
        ++statistics_.restores;
        statistics_.bytes_restored += static_cast<std::int64_t>(bytes);
        current_ = action.step;
        break;
      }
      default:  // free
        storage.free(action.slot);
        ++statistics_.frees;
        break;
    }
    if (options_.measure_time) statistics_.seconds_storage += seconds_since(start);
  }

  std::string working_state_name() const {
    return current_ < 0 ? std::string("undefined") : "x_" + std::to_string(current_);
  }

  // `last` is the highest state an advance may reach: x_T once T is known.
  void advance(const Action& action, std::int64_t last = std::numeric_limits<std::int64_t>::max()) {
    // current_ < 0 is the undefined working state: no advance may start from it.
    if (current_ < 0 || action.from() != current_) {
      throw std::logic_error("Driver: the schedule advances from x_" +
                             std::to_string(action.from()) + " but the working state is " +
                             working_state_name());
    }
    if (action.to <= action.from() || action.to > last) {
      throw std::logic_error("Driver: the schedule advances x_" + std::to_string(action.from()) +
                             " -> x_" + std::to_string(action.to) +
                             "; an advance needs from < to <= T");
    }
    timed_user([&] {
      for (std::int64_t i = action.from(); i < action.to; ++i) {
        step_(i, working_);
        ++statistics_.step_calls;
      }
    });
    current_ = action.to;
  }

  // A taped step that keeps its adjoint data: x_step -> x_{step+1}.
  void record(const Action& action) {
    if (!record_) {
      throw std::logic_error(std::string("Driver: the schedule '") + schedule_.name() +
                             "' keeps adjoint data; give record and reverse_recorded with "
                             "keep_adjoint_data() first");
    }
    if (current_ < 0 || action.step != current_) {
      throw std::logic_error("Driver: the schedule records step " + std::to_string(action.step) +
                             " but the working state is " + working_state_name());
    }
    timed_user([&] { record_(action.step, working_, action.slot); });
    ++statistics_.record_calls;
    current_ = action.step + 1;
  }

  // Executes actions up to (not including) the first reverse, then computes x_T into final_.
  void forward_to_final(const State& initial) {
    if (online_ != nullptr) {
      throw std::logic_error(
          "Driver::run/forward: an online schedule learns T only at the end: use start(), step() "
          "and finish()");
    }
    schedule_.reset();
    begin_run();
    try {
      working_ = initial;
      current_ = 0;
      for (;;) {
        if (prefetching_) issue_hints();
        const Action& action = peek();
        if (action.kind == ActionKind::reverse || action.kind == ActionKind::reverse_stored) break;
        ++next_;
        ++statistics_.actions;
        switch (action.kind) {
          case ActionKind::advance:
            advance(action);
            break;
          case ActionKind::store_adjoint:
            record(action);
            break;
          case ActionKind::store:
          case ActionKind::restore:
          case ActionKind::free:
            execute_storage(action);
            break;
          default:
            throw std::logic_error("Driver: the schedule ended before reversing any step");
        }
      }
      // The first reverse is of step T-1, from x_{T-1}: one more step gives x_T. From kept
      // adjoint data, the record made x_T the working state.
      const std::int64_t first_reversed = buffer_[next_].step;
      const bool from_data = buffer_[next_].kind == ActionKind::reverse_stored;
      if (current_ < 0 || first_reversed + (from_data ? 1 : 0) != current_) {
        throw std::logic_error("Driver: the schedule first reverses step " +
                               std::to_string(first_reversed) + " but the working state is " +
                               working_state_name());
      }
      statistics_.steps = first_reversed + 1;
      final_ = working_;
      if (!from_data) {
        timed_user([&] { step_(statistics_.steps - 1, final_); });
        ++statistics_.step_calls;
      }
      statistics_.seconds_total = seconds_since(start_);
      if (options_.progress) {
        options_.progress(
            DriverProgress{DriverProgress::Phase::forward_done, 0, statistics_.steps, statistics_});
      }
    } catch (...) {
      statistics_.seconds_total = seconds_since(start_);
      throw;
    }
    phase_ = Phase::forward_done;
  }

  void reverse_sweep(Adjoint& adjoint) {
    phase_ = Phase::idle;  // a failure below leaves nothing to resume
    const auto resumed = Clock::now();
    const double before = statistics_.seconds_total;
    const std::int64_t report_every = statistics_.steps >= 100 ? statistics_.steps / 100 : 1;
    std::int64_t reversed = 0;
    bool another_sweep = false;
    try {
      for (;;) {
        if (prefetching_) issue_hints();
        if (reversed == statistics_.steps && sweeps_done_ + 1 < schedule_.sweeps()) {
          ++sweeps_done_;  // step 0 is reversed and another sweep follows: for backward()
          another_sweep = true;
          break;
        }
        const Action& action = peek();
        ++next_;
        ++statistics_.actions;
        const std::int64_t next_to_reverse = statistics_.steps - 1 - reversed;
        if (action.kind == ActionKind::end) {
          if (next_to_reverse >= 0) {
            throw std::logic_error("Driver: the schedule ended with steps 0.." +
                                   std::to_string(next_to_reverse) + " not reversed");
          }
          break;
        }
        switch (action.kind) {
          case ActionKind::reverse:
          case ActionKind::reverse_stored: {
            if (action.step != next_to_reverse) {
              throw std::logic_error(
                  "Driver: the schedule reverses step " + std::to_string(action.step) +
                  " but the next step to reverse is " + std::to_string(next_to_reverse));
            }
            if (action.kind == ActionKind::reverse_stored) {
              timed_user([&] { reverse_recorded_(action.step, action.slot, adjoint); });
              ++statistics_.recorded_adjoint_calls;
            } else if (current_ < 0 || action.step != current_) {  // -1, undefined, is no state
              throw std::logic_error("Driver: the schedule reverses step " +
                                     std::to_string(action.step) + " but the working state is " +
                                     working_state_name());
            } else {
              timed_user([&] { adjoint_step_(action.step, working_, adjoint); });
              ++statistics_.adjoint_calls;
            }
            current_ = -1;
            ++reversed;
            if (options_.progress && reversed % report_every == 0) {
              options_.progress(DriverProgress{DriverProgress::Phase::reversing, reversed,
                                               statistics_.steps, statistics_});
            }
            break;
          }
          case ActionKind::store_adjoint:
            record(action);
            break;
          case ActionKind::advance:
            advance(action, statistics_.steps);
            break;
          default:
            execute_storage(action);
            break;
        }
      }
      // Background work of slow levels (AsyncStorage) must not fail unnoticed.
      for (Storage* storage : levels_) storage->flush();
    } catch (...) {
      statistics_.seconds_total = before + seconds_since(resumed);
      throw;
    }
    statistics_.seconds_total = before + seconds_since(resumed);
    if (another_sweep) phase_ = Phase::forward_done;  // backward() may run the next sweep
    if (options_.progress) {
      options_.progress(
          DriverProgress{DriverProgress::Phase::done, reversed, statistics_.steps, statistics_});
    }
  }

  Schedule& schedule_;
  std::vector<Storage*> levels_;
  StepFunction step_;
  AdjointStepFunction adjoint_step_;
  RecordStepFunction record_;
  RecordedAdjointFunction reverse_recorded_;
  DriverOptions options_;

  State working_{};
  State final_{};
  std::int64_t current_ = 0;  // index of the working state, -1 if undefined
  Phase phase_ = Phase::idle;
  std::int64_t sweeps_done_ = 0;      // reverse sweeps finished since the forward sweep
  OnlineSchedule* online_ = nullptr;  // the schedule, when it is an online one
  DriverStatistics statistics_;
  Clock::time_point start_;
  std::array<Action, 256> buffer_{};
  std::size_t next_ = 0;
  std::size_t filled_ = 0;
  // Prefetch look-ahead (see issue_hints); unused unless some level wants hints.
  std::vector<std::int64_t> prefetch_depth_;  // per level
  std::vector<std::int64_t> hinted_;          // per level: hinted restores still to run
  bool prefetching_ = false;
  bool waiting_for_store_ = false;  // the next restore to hint waits for its slot's store
  std::size_t hint_ = 0;
};

}  // namespace cairn
