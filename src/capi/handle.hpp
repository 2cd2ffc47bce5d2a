// What the C API's files share (private to libcairn): the handle behind cairn_schedule*, and the
// guard that turns every exception into a status code and a per-thread message.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/cairn.h"
#include "cairn/online_schedule.hpp"
#include "cairn/schedule.hpp"

// The handle: the schedule, plus what the online protocol and the driver keep between calls.
struct cairn_schedule {
  int kind = CAIRN_SCHEDULE_REVOLVE;
  std::unique_ptr<cairn::Schedule> schedule;
  // The same schedule through the online protocol, set when it was created as one: the online
  // calls and the C driver need that interface, never a concrete class.
  cairn::OnlineSchedule* online = nullptr;
  std::vector<cairn_action> decision;  // cairn_online_advanced's answer, reused
  // An online run through cairn_driver_start/step/finish.
  bool driving_online = false;
  std::int64_t current = 0;  // the working state's index
  cairn_driver_statistics statistics{};
};

namespace cairn::capi {

// A failure the C API finds itself (a NULL pointer, a failed callback), with its status.
class Failure : public std::runtime_error {
 public:
  Failure(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// Records "function: message" as the thread's last error and returns `status`.
int fail(const char* function, int status, const char* message) noexcept;

// Runs `body` and turns whatever it throws into a status code and a message.
template <typename Body>
inline int guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    return CAIRN_OK;
  } catch (const Failure& e) {
    return fail(function, e.status(), e.what());
  } catch (const std::invalid_argument& e) {
    return fail(function, CAIRN_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::out_of_range& e) {
    return fail(function, CAIRN_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::domain_error& e) {
    return fail(function, CAIRN_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::length_error& e) {
    return fail(function, CAIRN_ERROR_OUT_OF_MEMORY, e.what());
  } catch (const std::logic_error& e) {
    return fail(function, CAIRN_ERROR_STATE, e.what());
  } catch (const std::overflow_error& e) {
    return fail(function, CAIRN_ERROR_OVERFLOW, e.what());
  } catch (const std::bad_alloc&) {
    return fail(function, CAIRN_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(function, CAIRN_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(function, CAIRN_ERROR_INTERNAL, "an unknown exception (a callback that throws?)");
  }
}

template <typename Pointer>
Pointer* require(Pointer* pointer, const char* name) {
  if (pointer == nullptr) {
    throw Failure(CAIRN_ERROR_INVALID_ARGUMENT,
                  std::string(name) + " is NULL; pass a valid pointer");
  }
  return pointer;
}

inline cairn_schedule& handle(cairn_schedule* schedule) {
  return *require(schedule, "schedule");
}
inline const cairn_schedule& handle(const cairn_schedule* schedule) {
  return *require(schedule, "schedule");
}

inline cairn_action to_c(const cairn::Action& a) noexcept {
  cairn_action c{};
  c.kind = static_cast<std::int32_t>(a.kind);
  c.level = a.level;
  c.slot = a.slot;
  c.step = a.step;
  c.to = a.to;
  return c;
}

inline cairn::OnlineSchedule& online_of(const cairn_schedule& s) {
  if (s.online == nullptr) {
    throw std::invalid_argument(std::string("the schedule is '") + s.schedule->name() +
                                "'; this call needs an online schedule (cairn_online_create)");
  }
  return *s.online;
}

}  // namespace cairn::capi
