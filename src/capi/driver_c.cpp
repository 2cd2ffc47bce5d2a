// The C API (include/cairn/cairn.h), part 2: the driver, which runs a schedule against a solver
// through C function pointers and a void* context (cairn_driver_run, and cairn_driver_start/step/
// finish for an online schedule). Like the Driver, it knows the Schedule and OnlineSchedule
// interfaces and no concrete schedule.
#include <array>
#include <cstdint>
#include <string>

#include "cairn/action.hpp"
#include "cairn/cairn.h"
#include "cairn/online_schedule.hpp"
#include "cairn/schedule.hpp"
#include "capi/handle.hpp"

namespace {

using namespace cairn::capi;

std::string describe(const cairn::Action& a) {
  const std::string on = " of level " + std::to_string(a.level);
  switch (a.kind) {
    case cairn::ActionKind::advance:
      return "advance x_" + std::to_string(a.from()) + " -> x_" + std::to_string(a.to);
    case cairn::ActionKind::store:
      return "store x_" + std::to_string(a.step) + " into slot " + std::to_string(a.slot) + on;
    case cairn::ActionKind::restore:
      return "restore x_" + std::to_string(a.step) + " from slot " + std::to_string(a.slot) + on;
    case cairn::ActionKind::reverse:
      return "reverse step " + std::to_string(a.step);
    case cairn::ActionKind::free:
      return "free slot " + std::to_string(a.slot) + on;
    default:
      return "end";
  }
}

// Throws the failure of a callback that returned `result` != 0; `where` names the action.
[[noreturn]] void callback_failed(int result, const char* callback, const std::string& where) {
  throw Failure(CAIRN_ERROR_CALLBACK, std::string("the ") + callback + " callback returned " +
                                          std::to_string(result) + " at " + where +
                                          "; the run stopped");
}

void require_callbacks(const cairn_callbacks* callbacks) {
  require(callbacks, "callbacks");
  const char* missing = callbacks->step == nullptr           ? "step"
                        : callbacks->adjoint_step == nullptr ? "adjoint_step"
                        : callbacks->store == nullptr        ? "store"
                        : callbacks->restore == nullptr      ? "restore"
                        : callbacks->terminal == nullptr     ? "terminal"
                                                             : nullptr;
  if (missing != nullptr) {
    throw Failure(CAIRN_ERROR_INVALID_ARGUMENT,
                  std::string("callbacks->") + missing +
                      " is NULL; step, adjoint_step, store, restore and terminal are required "
                      "(free_slot may be NULL)");
  }
}

// Executes the actions of a run through the callbacks.
class Runner {
 public:
  Runner(cairn_schedule& s, const cairn_callbacks& cb, void* context)
      : s_(s), cb_(cb), context_(context) {}

  void storage(const cairn::Action& a) {
    ++s_.statistics.actions;
    switch (a.kind) {
      case cairn::ActionKind::store:
        expect_working(a.step, a);
        if (const int result = cb_.store(context_, a.level, a.slot, a.step)) {
          callback_failed(result, "store", describe(a));
        }
        ++s_.statistics.stores;
        break;
      case cairn::ActionKind::restore:
        if (a.step < 0) {
          throw Failure(CAIRN_ERROR_INTERNAL,
                        "the schedule asks to " + describe(a) + ", which is no state");
        }
        if (const int result = cb_.restore(context_, a.level, a.slot, a.step)) {
          callback_failed(result, "restore", describe(a));
        }
        ++s_.statistics.restores;
        s_.current = a.step;
        break;
      default:  // free
        if (cb_.free_slot != nullptr) {
          if (const int result = cb_.free_slot(context_, a.level, a.slot)) {
            callback_failed(result, "free_slot", describe(a));
          }
        }
        ++s_.statistics.frees;
        break;
    }
  }

  void step() {
    if (const int result = cb_.step(context_, s_.current)) {
      callback_failed(result, "step",
                      "step " + std::to_string(s_.current) + " (x_" + std::to_string(s_.current) +
                          " -> x_" + std::to_string(s_.current + 1) + ")");
    }
    ++s_.statistics.step_calls;
    ++s_.current;
  }

  void terminal(std::int64_t steps) {
    s_.statistics.steps = steps;
    if (const int result = cb_.terminal(context_, steps, s_.current)) {
      callback_failed(
          result, "terminal",
          "T = " + std::to_string(steps) + ", working state x_" + std::to_string(s_.current));
    }
    terminal_done_ = true;
  }

  // Reads the schedule to its end; the terminal callback comes before the first reverse.
  void actions() {
    std::array<cairn::Action, 256> buffer;
    for (;;) {
      const std::size_t n = s_.schedule->next_actions(buffer.data(), buffer.size());
      for (std::size_t k = 0; k < n; ++k) {
        const cairn::Action& a = buffer[k];
        switch (a.kind) {
          case cairn::ActionKind::advance:
            ++s_.statistics.actions;
            expect_working(a.from(), a);
            if (a.to <= a.from() || (terminal_done_ && a.to > s_.statistics.steps)) {
              throw Failure(CAIRN_ERROR_INTERNAL, "the schedule asks to " + describe(a) +
                                                      "; an advance needs from < to <= T");
            }
            while (s_.current < a.to) step();
            break;
          case cairn::ActionKind::reverse:
            ++s_.statistics.actions;
            expect_working(a.step, a);
            if (!terminal_done_) terminal(a.step + 1);
            if (a.step != unreversed() - 1) {
              throw Failure(CAIRN_ERROR_INTERNAL, "the schedule asks to " + describe(a) +
                                                      " but the next step to reverse is " +
                                                      std::to_string(unreversed() - 1));
            }
            if (const int result = cb_.adjoint_step(context_, a.step)) {
              callback_failed(result, "adjoint_step", describe(a));
            }
            ++s_.statistics.adjoint_calls;
            s_.current = -1;
            break;
          case cairn::ActionKind::store_adjoint:
          case cairn::ActionKind::reverse_stored:
            throw Failure(CAIRN_ERROR_INVALID_ARGUMENT,
                          "the schedule keeps adjoint data (a mixed schedule), which the C "
                          "driver does not run; read its actions with "
                          "cairn_schedule_next_actions, or use the C++ Driver");
          case cairn::ActionKind::end:
            ++s_.statistics.actions;
            if (!terminal_done_) {
              throw Failure(CAIRN_ERROR_INTERNAL, "the schedule ended before reversing any step");
            }
            if (unreversed() != 0) {
              throw Failure(CAIRN_ERROR_INTERNAL, "the schedule ended with steps 0.." +
                                                      std::to_string(unreversed() - 1) +
                                                      " not reversed");
            }
            return;
          default:
            storage(a);
            break;
        }
      }
    }
  }

 private:
  // Steps 0..unreversed() - 1 are still to reverse (T is known from the first reverse on).
  std::int64_t unreversed() const noexcept {
    return s_.statistics.steps - s_.statistics.adjoint_calls;
  }
  // The working state must be x_step; -1, the undefined state, never is.
  void expect_working(std::int64_t step, const cairn::Action& a) const {
    if (s_.current < 0 || s_.current != step) {
      throw Failure(
          CAIRN_ERROR_INTERNAL,
          "the schedule asks to " + describe(a) + " but the working state is " +
              (s_.current < 0 ? std::string("undefined") : "x_" + std::to_string(s_.current)));
    }
  }

  cairn_schedule& s_;
  const cairn_callbacks& cb_;
  void* context_;
  bool terminal_done_ = false;
};

void copy_statistics(const cairn_schedule& s, cairn_driver_statistics* statistics) noexcept {
  if (statistics != nullptr) *statistics = s.statistics;
}

}  // namespace

extern "C" {

int cairn_driver_run(cairn_schedule* schedule, const cairn_callbacks* callbacks, void* context,
                     cairn_driver_statistics* statistics) {
  cairn_schedule* s = schedule;
  const int status = guarded("cairn_driver_run", [&] {
    cairn_schedule& h = handle(schedule);
    require_callbacks(callbacks);
    if (h.online != nullptr) {
      throw Failure(CAIRN_ERROR_STATE,
                    "an online schedule learns T only at the end: use cairn_driver_start, "
                    "cairn_driver_step and cairn_driver_finish");
    }
    h.driving_online = false;
    h.statistics = cairn_driver_statistics{};
    h.current = 0;
    h.schedule->reset();
    Runner(h, *callbacks, context).actions();
  });
  if (s != nullptr) copy_statistics(*s, statistics);
  return status;
}

int cairn_driver_start(cairn_schedule* schedule, const cairn_callbacks* callbacks, void* context) {
  return guarded("cairn_driver_start", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    require_callbacks(callbacks);
    s.driving_online = false;
    s.statistics = cairn_driver_statistics{};
    s.current = 0;
    const cairn::Action store = online.start();
    Runner(s, *callbacks, context).storage(store);
    s.driving_online = true;
  });
}

int cairn_driver_step(cairn_schedule* schedule, const cairn_callbacks* callbacks, void* context) {
  return guarded("cairn_driver_step", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    require_callbacks(callbacks);
    if (!s.driving_online) {
      throw Failure(CAIRN_ERROR_STATE,
                    "no online run in progress; call cairn_driver_start first (again after "
                    "cairn_driver_finish or a failure)");
    }
    s.driving_online = false;  // until this step has succeeded
    Runner runner(s, *callbacks, context);
    runner.step();
    for (const cairn::Action& a : online.advanced()) runner.storage(a);
    s.driving_online = true;
  });
}

int cairn_driver_finish(cairn_schedule* schedule, const cairn_callbacks* callbacks, void* context,
                        cairn_driver_statistics* statistics) {
  cairn_schedule* h = schedule;
  const int status = guarded("cairn_driver_finish", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    require_callbacks(callbacks);
    if (!s.driving_online || s.current < 1) {
      throw Failure(CAIRN_ERROR_STATE,
                    !s.driving_online
                        ? "no online run in progress; call cairn_driver_start first"
                        : "the run made no step; call cairn_driver_step at least once");
    }
    s.driving_online = false;
    online.finish();
    Runner runner(s, *callbacks, context);
    runner.terminal(s.current);
    runner.actions();
  });
  if (h != nullptr) copy_statistics(*h, statistics);
  return status;
}

}  // extern "C"
