// The C API (include/cairn/cairn.h), part 1: opaque handles over the C++ schedules, their
// actions and queries, the online protocol, and the errors. The driver over C callbacks is
// driver_c.cpp; what both share is handle.hpp. Every entry point catches every exception and
// turns it into a status code plus a per-thread message.
#include "cairn/cairn.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/binomial.hpp"
#include "cairn/heterogeneous.hpp"
#include "cairn/mixed.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/schedule.hpp"
#include "cairn/store_all.hpp"
#include "cairn/two_level.hpp"
#include "cairn/uniform.hpp"
#include "cairn/version.hpp"
#include "capi/handle.hpp"

static_assert(CAIRN_ACTION_ADVANCE == static_cast<int>(cairn::ActionKind::advance), "advance");
static_assert(CAIRN_ACTION_STORE == static_cast<int>(cairn::ActionKind::store), "store");
static_assert(CAIRN_ACTION_RESTORE == static_cast<int>(cairn::ActionKind::restore), "restore");
static_assert(CAIRN_ACTION_REVERSE == static_cast<int>(cairn::ActionKind::reverse), "reverse");
static_assert(CAIRN_ACTION_FREE == static_cast<int>(cairn::ActionKind::free), "free");
static_assert(CAIRN_ACTION_END == static_cast<int>(cairn::ActionKind::end), "end");
static_assert(CAIRN_ACTION_STORE_ADJOINT == static_cast<int>(cairn::ActionKind::store_adjoint),
              "store_adjoint");
static_assert(CAIRN_ACTION_REVERSE_STORED == static_cast<int>(cairn::ActionKind::reverse_stored),
              "reverse_stored");
static_assert(std::is_same<cairn::Level, std::int32_t>::value, "cairn_action.level is int32_t");
static_assert(CAIRN_UNLIMITED_SLOTS == cairn::unlimited_slots, "unlimited slots");

namespace cairn::capi {

thread_local std::string last_error;

int fail(const char* function, int status, const char* message) noexcept {
  try {
    last_error = std::string(function) + ": " + message;
  } catch (...) {
    // No memory for the message: keep the old one rather than throw across the boundary.
  }
  return status;
}

}  // namespace cairn::capi

namespace {

using namespace cairn::capi;

template <typename Concrete>
Concrete* as(const cairn_schedule& s) noexcept {
  return dynamic_cast<Concrete*>(s.schedule.get());
}

// The schedule as a `Concrete`, or CAIRN_ERROR_INVALID_ARGUMENT saying which kind the call needs.
template <typename Concrete>
Concrete& require_kind(const cairn_schedule& s, const char* needed) {
  auto* concrete = as<Concrete>(s);
  if (concrete == nullptr) {
    throw std::invalid_argument(std::string("the schedule is '") + s.schedule->name() +
                                "'; this call needs " + needed);
  }
  return *concrete;
}

// `make` returns the concrete schedule; whether it speaks the online protocol is known here, at
// compile time, so no call later has to ask which class it is.
template <typename Make>
int create(const char* function, cairn_schedule** out, int kind, Make&& make) noexcept {
  return guarded(function, [&] {
    require(out, "the result pointer (cairn_schedule**)");
    auto s = std::make_unique<cairn_schedule>();
    s->kind = kind;
    auto concrete = make();
    using Concrete = typename decltype(concrete)::element_type;
    if constexpr (std::is_base_of<cairn::OnlineSchedule, Concrete>::value) {
      s->online = concrete.get();
    }
    s->schedule = std::move(concrete);
    *out = s.release();
  });
}

// The online protocol by hand and cairn_driver_start/step/finish share the handle's schedule:
// a call of the one in the middle of a run of the other would put the schedule out of step with
// the driver's working state, and the run would end with a wrong gradient.
void refuse_during_driver_run(const cairn_schedule& s) {
  if (s.driving_online) {
    throw Failure(CAIRN_ERROR_STATE,
                  "a driver run (cairn_driver_start) is in progress on this schedule; end it "
                  "with cairn_driver_finish, or use a second schedule for the protocol by hand");
  }
}

}  // namespace

extern "C" {

int cairn_revolve_create(int64_t steps, int64_t slots, cairn_schedule** schedule) {
  return create("cairn_revolve_create", schedule, CAIRN_SCHEDULE_REVOLVE,
                [&] { return std::make_unique<cairn::Revolve>(steps, slots); });
}

int cairn_online_create(int64_t slots, cairn_schedule** schedule) {
  return create("cairn_online_create", schedule, CAIRN_SCHEDULE_ONLINE,
                [&] { return std::make_unique<cairn::OnlineRevolve>(slots); });
}

int cairn_online_multilevel_create(int64_t ram_slots, int64_t disk_slots, double write_cost,
                                   double read_cost, cairn_schedule** schedule) {
  return create("cairn_online_multilevel_create", schedule, CAIRN_SCHEDULE_ONLINE_MULTILEVEL, [&] {
    return std::make_unique<cairn::OnlineMultilevelRevolve>(
        cairn::StorageLevel{ram_slots, 0, 0},
        cairn::StorageLevel{disk_slots, write_cost, read_cost});
  });
}

int cairn_two_level_create(int64_t steps, cairn_storage_level ram, cairn_storage_level disk,
                           double forward_cost, double backward_cost, cairn_schedule** schedule) {
  return create("cairn_two_level_create", schedule, CAIRN_SCHEDULE_TWO_LEVEL, [&] {
    return std::make_unique<cairn::TwoLevelRevolve>(
        steps, cairn::StorageLevel{ram.slots, ram.write_cost, ram.read_cost},
        cairn::StorageLevel{disk.slots, disk.write_cost, disk.read_cost},
        cairn::StepCosts{forward_cost, backward_cost});
  });
}

int cairn_mixed_create(int64_t steps, int64_t units, int64_t adjoint_units, double forward_cost,
                       double taped_cost, double backward_cost, cairn_schedule** schedule) {
  return create("cairn_mixed_create", schedule, CAIRN_SCHEDULE_MIXED, [&] {
    return std::make_unique<cairn::MixedRevolve>(
        steps, units, adjoint_units, cairn::MixedPrices{forward_cost, taped_cost, backward_cost});
  });
}

int cairn_multilevel_create(int64_t steps, const cairn_storage_level* levels, int level_count,
                            double forward_cost, double backward_cost, cairn_schedule** schedule) {
  return create("cairn_multilevel_create", schedule, CAIRN_SCHEDULE_MULTILEVEL, [&] {
    if (level_count < 1 || level_count > 3) {
      throw std::invalid_argument("level_count = " + std::to_string(level_count) +
                                  "; need 1, 2 or 3 storage levels");
    }
    require(levels, "levels");
    std::vector<cairn::StorageLevel> list;
    for (int k = 0; k < level_count; ++k) {
      list.push_back(
          cairn::StorageLevel{levels[k].slots, levels[k].write_cost, levels[k].read_cost});
    }
    return std::make_unique<cairn::MultilevelRevolve>(
        steps, std::move(list), cairn::StepCosts{forward_cost, backward_cost});
  });
}

int cairn_uniform_create(int64_t steps, int64_t interval, cairn_schedule** schedule) {
  return create("cairn_uniform_create", schedule, CAIRN_SCHEDULE_UNIFORM,
                [&] { return std::make_unique<cairn::Uniform>(steps, interval); });
}

int cairn_store_all_create(int64_t steps, cairn_schedule** schedule) {
  return create("cairn_store_all_create", schedule, CAIRN_SCHEDULE_STORE_ALL,
                [&] { return std::make_unique<cairn::StoreAll>(steps); });
}

int cairn_heterogeneous_create(const cairn_chain_step* chain, int64_t steps, int64_t budget_bytes,
                               int64_t memory_unit, cairn_schedule** schedule) {
  return create("cairn_heterogeneous_create", schedule, CAIRN_SCHEDULE_HETEROGENEOUS, [&] {
    if (steps < 1) {
      throw std::invalid_argument("steps = " + std::to_string(steps) + "; need steps >= 1");
    }
    require(chain, "chain");
    if (budget_bytes < 0 || memory_unit < 0) {
      throw std::invalid_argument("budget_bytes = " + std::to_string(budget_bytes) +
                                  ", memory_unit = " + std::to_string(memory_unit) +
                                  "; both must be >= 0 (memory_unit 0: the sizes' gcd)");
    }
    std::vector<cairn::ChainStep> list(static_cast<std::size_t>(steps));
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (chain[i].state_bytes < 1) {
        throw std::invalid_argument("chain[" + std::to_string(i) + "].state_bytes = " +
                                    std::to_string(chain[i].state_bytes) + "; sizes must be >= 1");
      }
      list[i] = cairn::ChainStep{chain[i].forward_cost, chain[i].backward_cost,
                                 static_cast<std::uint64_t>(chain[i].state_bytes)};
    }
    return std::make_unique<cairn::HeterogeneousRevolve>(std::move(list),
                                                         static_cast<std::uint64_t>(budget_bytes),
                                                         static_cast<std::uint64_t>(memory_unit));
  });
}

int cairn_schedule_destroy(cairn_schedule* schedule) {
  delete schedule;  // destructors of the schedules do not throw
  return CAIRN_OK;
}

int cairn_schedule_next(cairn_schedule* schedule, cairn_action* action) {
  return guarded("cairn_schedule_next", [&] {
    cairn_schedule& s = handle(schedule);
    require(action, "action");
    *action = to_c(s.schedule->next());
  });
}

int cairn_schedule_next_actions(cairn_schedule* schedule, cairn_action* actions, size_t capacity,
                                size_t* count) {
  return guarded("cairn_schedule_next_actions", [&] {
    cairn_schedule& s = handle(schedule);
    require(count, "count");
    if (capacity > 0) require(actions, "actions");
    std::array<cairn::Action, 64> buffer;
    std::size_t written = 0;
    while (written < capacity) {
      const std::size_t want = std::min(buffer.size(), capacity - written);
      const std::size_t got = s.schedule->next_actions(buffer.data(), want);
      for (std::size_t k = 0; k < got; ++k) actions[written + k] = to_c(buffer[k]);
      written += got;
      if (got < want || buffer[got - 1].kind == cairn::ActionKind::end) break;
    }
    *count = written;
  });
}

int cairn_schedule_reset(cairn_schedule* schedule) {
  return guarded("cairn_schedule_reset", [&] { handle(schedule).schedule->reset(); });
}

int cairn_schedule_kind(const cairn_schedule* schedule, int* kind) {
  return guarded("cairn_schedule_kind", [&] {
    const cairn_schedule& s = handle(schedule);
    *require(kind, "kind") = s.kind;
  });
}

int cairn_schedule_name(const cairn_schedule* schedule, const char** name) {
  return guarded("cairn_schedule_name", [&] {
    const cairn_schedule& s = handle(schedule);
    *require(name, "name") = s.schedule->name();
  });
}

int cairn_schedule_steps(const cairn_schedule* schedule, int64_t* steps) {
  return guarded("cairn_schedule_steps", [&] {
    const cairn_schedule& s = handle(schedule);
    require(steps, "steps");
    if (auto* r = as<cairn::Revolve>(s)) *steps = r->steps();
    if (s.online != nullptr) *steps = s.online->steps();
    if (auto* m = as<cairn::MultilevelRevolve>(s)) *steps = m->steps();
    if (auto* u = as<cairn::Uniform>(s)) *steps = u->steps();
    if (auto* a = as<cairn::StoreAll>(s)) *steps = a->steps();
    if (auto* h = as<cairn::HeterogeneousRevolve>(s)) *steps = h->steps();
    if (auto* two = as<cairn::TwoLevelRevolve>(s)) *steps = two->steps();
    if (auto* mixed = as<cairn::MixedRevolve>(s)) *steps = mixed->steps();
  });
}

int cairn_schedule_levels(const cairn_schedule* schedule, int* levels) {
  return guarded("cairn_schedule_levels", [&] {
    const cairn_schedule& s = handle(schedule);
    require(levels, "levels");
    auto* m = as<cairn::MultilevelRevolve>(s);
    *levels = m != nullptr ? static_cast<int>(m->levels().size()) : 1;
    if (as<cairn::OnlineMultilevelRevolve>(s) != nullptr) *levels = 2;
    if (as<cairn::TwoLevelRevolve>(s) != nullptr) *levels = 2;
  });
}

int cairn_schedule_slots(const cairn_schedule* schedule, int level, int64_t* slots) {
  return guarded("cairn_schedule_slots", [&] {
    const cairn_schedule& s = handle(schedule);
    require(slots, "slots");
    auto* m = as<cairn::MultilevelRevolve>(s);
    auto* om = as<cairn::OnlineMultilevelRevolve>(s);
    auto* two = as<cairn::TwoLevelRevolve>(s);
    const int count = m != nullptr                        ? static_cast<int>(m->levels().size())
                      : (om != nullptr || two != nullptr) ? 2
                                                          : 1;
    if (level < 0 || level >= count) {
      throw std::invalid_argument("level = " + std::to_string(level) + "; this schedule has " +
                                  std::to_string(count) + " level(s), numbered from 0");
    }
    if (m != nullptr) *slots = m->slots_per_level()[static_cast<std::size_t>(level)];
    if (auto* r = as<cairn::Revolve>(s)) *slots = std::min(r->slots(), r->steps());
    if (auto* o = as<cairn::OnlineRevolve>(s)) *slots = o->slots();
    if (om != nullptr) *slots = level == 0 ? om->ram().slots : om->disk().slots;
    if (two != nullptr) *slots = two->slots_per_level()[static_cast<std::size_t>(level)];
    if (auto* u = as<cairn::Uniform>(s)) *slots = u->slots();
    if (auto* a = as<cairn::StoreAll>(s)) *slots = a->slots();
    if (auto* h = as<cairn::HeterogeneousRevolve>(s)) *slots = h->slots();
    if (auto* mixed = as<cairn::MixedRevolve>(s)) *slots = mixed->units();
  });
}

int cairn_schedule_forward_steps(const cairn_schedule* schedule, int64_t* steps) {
  return guarded("cairn_schedule_forward_steps", [&] {
    const cairn_schedule& s = handle(schedule);
    require(steps, "steps");
    if (auto* r = as<cairn::Revolve>(s)) {
      *steps = r->forward_steps();
    } else if (auto* u = as<cairn::Uniform>(s)) {
      *steps = cairn::Uniform::forward_steps(u->steps(), u->interval());
    } else if (auto* a = as<cairn::StoreAll>(s)) {
      *steps = a->steps() - 1;
    } else if (auto* two = as<cairn::TwoLevelRevolve>(s)) {
      *steps = two->expected_costs().forward_steps;
    } else if (auto* mixed = as<cairn::MixedRevolve>(s)) {
      *steps = mixed->expected_costs().forward_steps;  // untaped: advances only
    } else {
      throw std::invalid_argument(std::string("the forward steps of a '") + s.schedule->name() +
                                  "' schedule are not known in advance; revolve, uniform, "
                                  "store-all, two-level and mixed schedules have them");
    }
  });
}

int cairn_schedule_repetitions(const cairn_schedule* schedule, int64_t* repetitions) {
  return guarded("cairn_schedule_repetitions", [&] {
    const cairn_schedule& s = handle(schedule);
    require(repetitions, "repetitions");
    *repetitions =
        require_kind<cairn::Revolve>(s, "a revolve schedule (for any (T, c): cairn_repetitions)")
            .repetitions();
  });
}

int cairn_multilevel_optimal_cost(const cairn_schedule* schedule, double* cost) {
  return guarded("cairn_multilevel_optimal_cost", [&] {
    const cairn_schedule& s = handle(schedule);
    require(cost, "cost");
    if (auto* two = as<cairn::TwoLevelRevolve>(s)) {
      *cost = two->optimal_cost();
      return;
    }
    *cost = require_kind<cairn::MultilevelRevolve>(s, "a multilevel or two-level schedule")
                .optimal_cost();
  });
}

int cairn_heterogeneous_optimal_cost(const cairn_schedule* schedule, double* cost) {
  return guarded("cairn_heterogeneous_optimal_cost", [&] {
    const cairn_schedule& s = handle(schedule);
    require(cost, "cost");
    *cost = require_kind<cairn::HeterogeneousRevolve>(s, "a heterogeneous schedule").optimal_cost();
  });
}

int cairn_heterogeneous_peak_bytes(const cairn_schedule* schedule, int64_t* bytes) {
  return guarded("cairn_heterogeneous_peak_bytes", [&] {
    const cairn_schedule& s = handle(schedule);
    require(bytes, "bytes");
    *bytes = static_cast<int64_t>(
        require_kind<cairn::HeterogeneousRevolve>(s, "a heterogeneous schedule").peak_bytes());
  });
}

int cairn_repetitions(int64_t steps, int64_t slots, int64_t* repetitions) {
  return guarded("cairn_repetitions",
                 [&] { *require(repetitions, "repetitions") = cairn::repetitions(steps, slots); });
}

int cairn_forward_cost(int64_t steps, int64_t slots, int64_t* forward_steps) {
  return guarded("cairn_forward_cost", [&] {
    *require(forward_steps, "forward_steps") = cairn::forward_cost(steps, slots);
  });
}

int cairn_online_start(cairn_schedule* schedule, cairn_action* store_x0) {
  return guarded("cairn_online_start", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    require(store_x0, "store_x0");
    refuse_during_driver_run(s);
    s.decision.reserve(std::min<std::size_t>(online.max_advanced_actions(), 4097));
    *store_x0 = to_c(online.start());
  });
}

int cairn_online_advanced(cairn_schedule* schedule, const cairn_action** actions, size_t* count) {
  return guarded("cairn_online_advanced", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    require(actions, "actions");
    require(count, "count");
    refuse_during_driver_run(s);
    const std::vector<cairn::Action>& decision = online.advanced();
    s.decision.clear();
    for (const cairn::Action& a : decision) s.decision.push_back(to_c(a));
    *actions = s.decision.data();
    *count = s.decision.size();
  });
}

int cairn_online_finish(cairn_schedule* schedule) {
  return guarded("cairn_online_finish", [&] {
    cairn_schedule& s = handle(schedule);
    cairn::OnlineSchedule& online = online_of(s);
    refuse_during_driver_run(s);
    online.finish();
  });
}

const char* cairn_last_error(void) {
  return last_error.c_str();
}

int cairn_version(int* major, int* minor, int* patch) {
  if (major == nullptr || minor == nullptr || patch == nullptr) {
    return fail("cairn_version", CAIRN_ERROR_INVALID_ARGUMENT,
                "major, minor and patch must all be valid pointers");
  }
  *major = CAIRN_VERSION_MAJOR;
  *minor = CAIRN_VERSION_MINOR;
  *patch = CAIRN_VERSION_PATCH;
  return CAIRN_OK;
}

const char* cairn_status_name(int status) {
  switch (status) {
    case CAIRN_OK:
      return "CAIRN_OK";
    case CAIRN_ERROR_INVALID_ARGUMENT:
      return "CAIRN_ERROR_INVALID_ARGUMENT";
    case CAIRN_ERROR_CALLBACK:
      return "CAIRN_ERROR_CALLBACK";
    case CAIRN_ERROR_OUT_OF_MEMORY:
      return "CAIRN_ERROR_OUT_OF_MEMORY";
    case CAIRN_ERROR_STATE:
      return "CAIRN_ERROR_STATE";
    case CAIRN_ERROR_OVERFLOW:
      return "CAIRN_ERROR_OVERFLOW";
    case CAIRN_ERROR_INTERNAL:
      return "CAIRN_ERROR_INTERNAL";
    default:
      return "unknown status";
  }
}

}  // extern "C"
