// The schedule holder and the Python classes of the closed-form schedules: Schedule (the base),
// Revolve, StoreAll, Uniform, OnlineRevolve and SimulatedOnlineRun.
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "cairn/online.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/uniform.hpp"

namespace cairn::python {

// What __next__ reads from the C++ schedule at a time.
constexpr std::size_t kIterationBatch = 256;

ScheduleHandle::Guard::Guard(ScheduleHandle& handle) : handle_(handle) {
  if (handle_.busy_.exchange(true)) {
    throw std::runtime_error(
        std::string("cairn: the schedule '") + handle_.schedule().name() +
        "' is in use (by another thread, or by the Driver that runs it); one schedule serves one "
        "reader at a time");
  }
}

std::size_t ScheduleHandle::read(Action* out, std::size_t capacity) {
  std::size_t n = 0;
  if (pending_next_ < pending_.size()) {
    n = std::min(capacity, pending_.size() - pending_next_);
    std::memcpy(static_cast<void*>(out), pending_.data() + pending_next_, n * sizeof(Action));
    pending_next_ += n;
    if (pending_next_ == pending_.size()) {
      pending_.clear();
      pending_next_ = 0;
    }
  }
  if (n == capacity || ended_) return n;
  const std::size_t got = schedule_->next_actions(out + n, capacity - n);
  if (got > 0 && out[n + got - 1].kind == ActionKind::end) ended_ = true;
  return n + got;
}

bool ScheduleHandle::next_one(Action& out) {
  if (pending_next_ == pending_.size()) {
    pending_.clear();
    pending_next_ = 0;
    if (ended_) return false;
    pending_.resize(kIterationBatch);
    const std::size_t got = schedule_->next_actions(pending_.data(), kIterationBatch);
    pending_.resize(got);
    if (got == 0) return false;
    if (pending_.back().kind == ActionKind::end) ended_ = true;
  }
  out = pending_[pending_next_++];
  return true;
}

void ScheduleHandle::unread(const Action* actions, std::size_t count) {
  std::vector<Action> rest(actions, actions + count);
  rest.insert(rest.end(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_next_),
              pending_.end());
  pending_ = std::move(rest);
  pending_next_ = 0;
}

void ScheduleHandle::reset() {
  schedule_->reset();
  forget_position();
}

namespace {

using namespace pybind11::literals;

py::array next_actions(ScheduleHandle& h, py::ssize_t max_actions) {
  if (max_actions < 0) {
    throw std::invalid_argument("next_actions: max_actions = " + std::to_string(max_actions) +
                                " must be >= 0");
  }
  ScheduleHandle::Guard guard(h);
  py::array batch = new_action_array(static_cast<std::size_t>(max_actions));
  const std::size_t n =
      h.read(static_cast<Action*>(batch.mutable_data()), static_cast<std::size_t>(max_actions));
  if (n < static_cast<std::size_t>(max_actions)) {
    batch.resize({static_cast<py::ssize_t>(n)}, false);
  }
  return batch;
}

py::array all_actions(ScheduleHandle& h) {
  ScheduleHandle::Guard guard(h);
  h.reset();
  std::size_t capacity = 4096, n = 0;
  py::array all = new_action_array(capacity);
  for (;;) {
    n += h.read(static_cast<Action*>(all.mutable_data()) + n, capacity - n);
    if (h.ended()) break;
    capacity *= 2;
    all.resize({static_cast<py::ssize_t>(capacity)}, false);
  }
  all.resize({static_cast<py::ssize_t>(n)}, false);
  return all;
}

template <typename S, typename... Args>
std::unique_ptr<TypedHandle<S>> make_handle(std::vector<std::int64_t> slots, Args&&... args) {
  return std::make_unique<TypedHandle<S>>(std::make_unique<S>(std::forward<Args>(args)...),
                                          std::move(slots));
}

std::string slots_text(const ScheduleHandle& h) {
  std::string text;
  for (const std::int64_t s : h.slots_per_level()) {
    text += (text.empty() ? "" : ", ") + std::to_string(s);
  }
  return text;
}

}  // namespace

void bind_schedules(py::module_& m) {
  py::class_<ScheduleHandle>(
      m, "Schedule",
      "A checkpointing schedule: a stream of actions ending with END. Read it in batches "
      "(next_actions), whole (actions), or one Action at a time by iteration; every reader "
      "continues where the last one stopped, and reset() starts over.")
      .def("next_actions", &next_actions, "max_actions"_a = 4096,
           "The next up to max_actions actions as an array of ACTION_DTYPE: fewer when the stream "
           "reaches END (included); empty once END was returned.")
      .def("actions", &all_actions,
           "The whole stream from its start (the schedule is reset first and left after END) as "
           "one array of ACTION_DTYPE: O(actions) memory, 32 bytes each.")
      .def("reset",
           [](ScheduleHandle& h) {
             ScheduleHandle::Guard guard(h);
             h.reset();
           })
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](ScheduleHandle& h) {
             ScheduleHandle::Guard guard(h);
             Action a;
             if (!h.next_one(a)) throw py::stop_iteration();
             return a;
           })
      .def_property_readonly("name", [](const ScheduleHandle& h) { return h.schedule().name(); })
      .def_property_readonly(
          "slots_per_level", [](const ScheduleHandle& h) { return h.slots_per_level(); },
          "Slots per storage level that the stream uses (what check() and the Driver need).")
      .def("__repr__", [](const ScheduleHandle& h) {
        return std::string("<cairn.Schedule '") + h.schedule().name() + "', slots per level [" +
               slots_text(h) + "]>";
      });

  using RevolveHandle = TypedHandle<Revolve>;
  py::class_<RevolveHandle, ScheduleHandle>(
      m, "Revolve",
      "Offline binomial checkpointing (Griewank & Walther): the fewest forward steps, "
      "t(T, c) = forward_cost(T, c), for T steps and c slots (x_0's slot counted).")
      .def(py::init([](std::int64_t steps, std::int64_t slots, std::size_t table_bytes) {
             return make_handle<Revolve>({slots}, steps, slots, table_bytes);
           }),
           "steps"_a, "slots"_a, "table_bytes"_a = Revolve::default_table_bytes)
      .def_property_readonly("steps", [](const RevolveHandle& h) { return h.get().steps(); })
      .def_property_readonly("slots", [](const RevolveHandle& h) { return h.get().slots(); })
      .def_property_readonly("repetitions",
                             [](const RevolveHandle& h) { return h.get().repetitions(); })
      .def_property_readonly("forward_steps",
                             [](const RevolveHandle& h) { return h.get().forward_steps(); })
      .def_property_readonly("uses_lookup_table",
                             [](const RevolveHandle& h) { return h.get().uses_lookup_table(); })
      .def_static("store_count", &Revolve::store_count, "steps"_a, "slots"_a)
      .def("__repr__", [](const RevolveHandle& h) {
        return "Revolve(steps=" + std::to_string(h.get().steps()) +
               ", slots=" + std::to_string(h.get().slots()) + ")";
      });

  using StoreAllHandle = TypedHandle<StoreAll>;
  py::class_<StoreAllHandle, ScheduleHandle>(m, "StoreAll",
                                             "Keeps every state: T - 1 slots, T - 1 forward steps.")
      .def(py::init([](std::int64_t steps) {
             auto schedule = std::make_unique<StoreAll>(steps);
             const std::int64_t slots = schedule->slots();
             return std::make_unique<StoreAllHandle>(std::move(schedule),
                                                     std::vector<std::int64_t>{slots});
           }),
           "steps"_a)
      .def_property_readonly("steps", [](const StoreAllHandle& h) { return h.get().steps(); })
      .def_property_readonly("slots", [](const StoreAllHandle& h) { return h.get().slots(); })
      .def("__repr__", [](const StoreAllHandle& h) {
        return "StoreAll(steps=" + std::to_string(h.get().steps()) + ")";
      });

  using UniformHandle = TypedHandle<Uniform>;
  py::class_<UniformHandle, ScheduleHandle>(
      m, "Uniform", "A checkpoint every `interval` steps, each segment recomputed once.")
      .def(py::init([](std::int64_t steps, std::int64_t interval) {
             auto schedule = std::make_unique<Uniform>(steps, interval);
             const std::int64_t slots = schedule->slots();
             return std::make_unique<UniformHandle>(std::move(schedule),
                                                    std::vector<std::int64_t>{slots});
           }),
           "steps"_a, "interval"_a)
      .def_property_readonly("steps", [](const UniformHandle& h) { return h.get().steps(); })
      .def_property_readonly("interval", [](const UniformHandle& h) { return h.get().interval(); })
      .def_property_readonly("slots", [](const UniformHandle& h) { return h.get().slots(); })
      .def_property_readonly("forward_steps",
                             [](const UniformHandle& h) {
                               return Uniform::forward_steps(h.get().steps(), h.get().interval());
                             })
      .def_static("slots_needed", &Uniform::slots_needed, "steps"_a, "interval"_a)
      .def_static("best_interval_for_slots", &Uniform::best_interval_for_slots, "steps"_a,
                  "slots"_a)
      .def("__repr__", [](const UniformHandle& h) {
        return "Uniform(steps=" + std::to_string(h.get().steps()) +
               ", interval=" + std::to_string(h.get().interval()) + ")";
      });

  using OnlineHandle = TypedHandle<OnlineRevolve>;
  py::class_<OnlineHandle, ScheduleHandle>(
      m, "OnlineRevolve",
      "Checkpointing for a run whose length is known only when it ends: start(), advanced() "
      "after every step, finish(); then the reverse sweep is the ordinary stream.")
      .def(py::init([](std::int64_t slots) { return make_handle<OnlineRevolve>({slots}, slots); }),
           "slots"_a)
      .def(
          "start",
          [](OnlineHandle& h) {
            ScheduleHandle::Guard guard(h);
            h.forget_position();
            return h.get().start();
          },
          "Starts a run (again): the working state is x_0. Returns the action to take: a store "
          "of x_0.")
      .def(
          "advanced",
          [](OnlineHandle& h) {
            ScheduleHandle::Guard guard(h);
            const std::vector<Action>& decided = h.get().advanced();
            py::array out = new_action_array(decided.size());
            if (!decided.empty()) {
              std::memcpy(out.mutable_data(), decided.data(), decided.size() * sizeof(Action));
            }
            return out;
          },
          "Tells the schedule that one more step was made (the working state is x_steps). "
          "Returns the actions to take now (frees, maybe a store), possibly none, as an array "
          "of ACTION_DTYPE.")
      .def(
          "finish",
          [](OnlineHandle& h) {
            ScheduleHandle::Guard guard(h);
            h.get().finish();
            h.forget_position();
          },
          "The run ended: T = steps. The reverse sweep follows through next_actions() or "
          "iteration.")
      .def_property_readonly("slots", [](const OnlineHandle& h) { return h.get().slots(); })
      .def_property_readonly("steps", [](const OnlineHandle& h) { return h.get().steps(); })
      .def_property_readonly("finished", [](const OnlineHandle& h) { return h.get().finished(); })
      .def_property_readonly("max_advanced_actions",
                             [](const OnlineHandle& h) { return h.get().max_advanced_actions(); })
      .def_property_readonly("checkpoint_steps",
                             [](const OnlineHandle& h) { return h.get().checkpoint_steps(); })
      .def_property_readonly("layout_valid",
                             [](const OnlineHandle& h) { return h.get().layout_valid(); })
      .def("__repr__", [](const OnlineHandle& h) {
        return "OnlineRevolve(slots=" + std::to_string(h.get().slots()) +
               ", steps=" + std::to_string(h.get().steps()) +
               (h.get().finished() ? ", finished)" : ")");
      });

  using SimulatedHandle = TypedHandle<SimulatedOnlineRun>;
  auto simulate = [](std::int64_t steps, std::int64_t slots) {
    auto handle = make_handle<SimulatedOnlineRun>({slots}, steps, slots);
    handle->set_known_steps(steps);
    return handle;
  };
  py::class_<SimulatedHandle, ScheduleHandle>(
      m, "SimulatedOnlineRun",
      "A whole OnlineRevolve run of `steps` steps as one stream (the forward advances one step "
      "at a time with the schedule's decisions, then the reverse sweep), for checking.")
      .def(py::init(simulate), "steps"_a, "slots"_a)
      .def_property_readonly("steps", [](const SimulatedHandle& h) { return h.known_steps(); })
      .def("__repr__", [](const SimulatedHandle& h) {
        return "SimulatedOnlineRun(slots=" + slots_text(h) + ")";
      });
  m.def("simulate_online", simulate, "steps"_a, "slots"_a,
        "A whole OnlineRevolve run of `steps` steps with `slots` slots as one stream.");
}

}  // namespace cairn::python
