// The plans of a cairn trajectory run: the offline and online schedules, the segments a run is
// cut into (at TS events, new TSSolve calls and past the offline plan) and the streams that
// reverse them (docs/petsc.md).
#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cairn/mixed.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/revolve.hpp"
#include "trajectory.hpp"

namespace cairn_petsc {
namespace {

bool HoldsSegmentStart(const Trajectory& t, int level, std::int64_t slot) {
  for (const Segment& s : t.segments)
    if (s.start_slot == slot && s.start_level == level) return true;
  return false;
}

// The slots of `level` that hold no segment's first state (at most 4096 are handed out: more than
// any plan over the steps of one segment uses for long), after `first` if it is >= 0.
// The RAM slots segments may use: a stage-aware run, once cut into segments, counts checkpoints
// again (Trajectory::cut).
std::int64_t SegmentRamSlots(const Trajectory& t) {
  return t.mixed && t.cut ? t.mixed_checkpoints : t.ram_slots;
}

std::vector<std::int64_t> FreeSlots(const Trajectory& t, int level, std::int64_t first) {
  std::vector<std::int64_t> slots;
  if (first >= 0) slots.push_back(first);
  const std::int64_t total = level == ram_level ? SegmentRamSlots(t) : t.disk_slots;
  for (std::int64_t j = 0; j < total && slots.size() < 4096; ++j)
    if (!HoldsSegmentStart(t, level, j)) slots.push_back(j);
  return slots;
}

// Segment s, steps [start, end), reversed from its first state by a new offline plan. When the
// next segment began with an event, its first state holds the stages of step end-1 -> end: that
// step is reversed from them first, so that the recomputations run only after TSAdjointSolve
// has undone the event (the user's post-event function in reverse).
PetscErrorCode AppendRestart(TSTrajectory tj, std::size_t s, std::int64_t end) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  Segment& seg = t.segments[s];
  if (seg.start_slot < 0)
    PetscCheck(FindInitialState(t, &seg.start_level, &seg.start_slot), comm_of(tj), PETSC_ERR_PLIB,
               "cairn: no checkpoint holds x_0");
  const bool served = s + 1 < t.segments.size() && t.segments[s + 1].after_event;
  const std::int64_t steps = end - seg.start - (served ? 1 : 0);
  Part p;
  if (served) p.prelude.push_back(Action::make_reverse(end - 1));
  if (steps >= 1) {
    p.offset = seg.start;
    // The plan's first slot is the segment's own, where it stores x_start again (a no-op).
    // After an event the previous segment still needs that slot's stages: only Revolve, which
    // never gives up its slot 0, may have it then.
    p.slot_map[ram_level] =
        FreeSlots(t, ram_level, seg.start_level == ram_level ? seg.start_slot : -1);
    p.slot_map[disk_level] =
        FreeSlots(t, disk_level, seg.start_level == disk_level ? seg.start_slot : -1);
    auto ram = static_cast<std::int64_t>(p.slot_map[ram_level].size());
    auto disk = static_cast<std::int64_t>(p.slot_map[disk_level].size());
    if (seg.after_event && !(PlansRevolve(steps, ram, disk) && seg.start_level == ram_level)) {
      auto& own = p.slot_map[seg.start_level];
      own.erase(own.begin());
      ram = static_cast<std::int64_t>(p.slot_map[ram_level].size());
      disk = static_cast<std::int64_t>(p.slot_map[disk_level].size());
      PetscCheck(ram + disk >= 1, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
                 "cairn: no checkpoint is left to reverse steps %lld..%lld (between TS events); "
                 "give -ts_trajectory_max_cps_ram at least the number of events + 2",
                 static_cast<long long>(seg.start), static_cast<long long>(end - 1));
    }
    try {
      // A stage-aware plan may record into the segment's own slot, whose stages the segment
      // before an event still needs.
      p.owned = OfflinePlan(t, steps, ram, disk, nullptr, !seg.after_event);
    } catch (const std::exception& e) {
      SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: cannot plan the schedule: %s", e.what());
    }
    p.schedule = p.owned.get();
    p.prelude.push_back(Action::make_restore(seg.start_slot, seg.start, seg.start_level));
  }
  t.reverse_parts.push_back(std::move(p));
  PetscFunctionReturn(0);
}

}  // namespace

bool PlansRevolve(std::int64_t steps, std::int64_t ram, std::int64_t disk) {
  return ram >= 1 && (disk == 0 || ram >= steps);
}

std::unique_ptr<cairn::Schedule> OfflinePlan(const Trajectory& t, std::int64_t steps,
                                             std::int64_t ram, std::int64_t disk,
                                             std::int64_t* forward, bool allow_mixed) {
  if (t.mixed && allow_mixed && disk == 0 && ram >= 1) {
    auto mixed = std::make_unique<cairn::MixedRevolve>(steps, ram, 1 + t.stage_count);
    if (forward) *forward = mixed->expected_costs().forward_evaluations() - steps;
    return mixed;
  }
  if (PlansRevolve(steps, ram, disk)) {
    auto revolve = std::make_unique<cairn::Revolve>(steps, std::min(ram, steps));
    if (forward) *forward = revolve->forward_steps();
    return revolve;
  }
  auto multilevel = std::make_unique<cairn::MultilevelRevolve>(
      steps,
      std::vector<cairn::StorageLevel>{
          {ram, 0, 0}, {std::min(disk, steps), t.options.write_cost, t.options.read_cost}},
      cairn::StepCosts{1, 0});
  if (forward) {  // a pass over the stream: only -ts_trajectory_view's first plan asks for it
    *forward = 0;
    for (Action a = multilevel->next(); a.kind != ActionKind::end; a = multilevel->next()) {
      if (a.kind == ActionKind::advance) *forward += a.to - a.from();
    }
    multilevel->reset();
  }
  return multilevel;
}

// An online schedule over `ram` RAM and `disk` disk slots (OnlineRevolve in RAM alone,
// OnlineMultilevelRevolve with a disk level); null when it would have no slot.
std::unique_ptr<cairn::OnlineSchedule> OnlinePlan(const Trajectory& t, std::int64_t ram,
                                                  std::int64_t disk) {
  if (disk >= 1)
    return std::make_unique<cairn::OnlineMultilevelRevolve>(
        cairn::StorageLevel{ram, 0, 0},
        cairn::StorageLevel{disk, t.options.write_cost, t.options.read_cost},
        cairn::StepCosts{1, 0});
  if (ram < 1) return nullptr;
  return std::make_unique<cairn::OnlineRevolve>(ram);
}

Action Translate(Action a, const Part& p) {
  const bool slotted = a.kind == ActionKind::store || a.kind == ActionKind::restore ||
                       a.kind == ActionKind::free || a.kind == ActionKind::store_adjoint ||
                       a.kind == ActionKind::reverse_stored;
  if (slotted) {
    const auto& map = p.slot_map[a.level == ram_level ? ram_level : disk_level];
    if (!map.empty()) a.slot = map[static_cast<std::size_t>(a.slot)];
  }
  if ((slotted && a.kind != ActionKind::free) || a.kind == ActionKind::reverse ||
      a.kind == ActionKind::advance)
    a.step += p.offset;
  if (a.kind == ActionKind::advance) a.to += p.offset;
  return a;
}

// The next action of the streams still to run (the offline plan during the forward run).
const Action& Peek(Trajectory& t) {
  while (!t.has_pending) {
    Part& p = t.reverse_parts.front();
    if (!p.prelude.empty()) {
      t.pending = p.prelude.front();
      p.prelude.pop_front();
      t.has_pending = true;
      break;
    }
    const Action a = p.schedule ? p.schedule->next() : Action::make_end();
    if (a.kind == ActionKind::end && t.reverse_parts.size() > 1) {
      t.reverse_parts.pop_front();
      continue;
    }
    t.pending = Translate(a, p);
    t.has_pending = true;
  }
  return t.pending;
}

// Segment s's online schedule, if it has one (segment 0's is the trajectory's own).
cairn::OnlineSchedule* OnlineOf(Trajectory& t, std::size_t s) {
  return s == 0 ? t.online : t.segments[s].online.get();
}

Part SegmentPart(Trajectory& t, std::size_t s) {
  Part p;
  p.schedule = OnlineOf(t, s);
  p.offset = t.segments[s].start;
  p.slot_map[ram_level] = t.segments[s].slot_map[ram_level];
  p.slot_map[disk_level] = t.segments[s].slot_map[disk_level];
  return p;
}

// A new segment from x_m (in the TS): the current one keeps only its first state; the new one
// gets an online schedule in the other free slots, whose first store is x_m.
PetscErrorCode StartSegment(TSTrajectory tj, TS ts, std::int64_t m, bool after_event, Vec x) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  t.cut = true;
  Segment& first = t.segments.front();
  if (first.start_slot < 0)
    PetscCheck(FindInitialState(t, &first.start_level, &first.start_slot), comm_of(tj),
               PETSC_ERR_PLIB, "cairn: no checkpoint holds x_0");
  // The step into a segment after an event is served from stored stages, which a second-order
  // adjoint cannot use (the method's private tangent linear state of that step would be stale).
  PetscCheck(!(after_event && t.tlm), comm_of(tj), PETSC_ERR_SUP,
             "cairn: a second-order adjoint (TSAdjointSetForward) with a TS event or a run split "
             "over several TSSolve calls (step %lld) is not supported; use "
             "-ts_trajectory_type memory or basic",
             static_cast<long long>(m));
  Segment s;
  s.start = m;
  s.after_event = after_event;
  s.slot_map[ram_level] = FreeSlots(t, ram_level, -1);
  s.slot_map[disk_level] = FreeSlots(t, disk_level, -1);
  const auto ram = static_cast<std::int64_t>(s.slot_map[ram_level].size());
  const auto disk = static_cast<std::int64_t>(s.slot_map[disk_level].size());
  if (ram + disk == 0) {
    PetscCheck(!after_event, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
               "cairn: a TS event at step %lld needs a checkpoint for the state after it, but "
               "all %lld hold x_0 and the states after earlier events; give "
               "-ts_trajectory_max_cps_ram at least the number of events + 2",
               static_cast<long long>(m),
               static_cast<long long>(SegmentRamSlots(t) + t.disk_slots));
    // Nothing more is stored; the adjoint replans the whole run from x_0.
    t.placing = false;
    t.reverse_parts.clear();
    t.has_pending = false;
    PetscFunctionReturn(0);
  }
  s.online = OnlinePlan(t, ram, disk);
  t.segments.push_back(std::move(s));
  Segment& added = t.segments.back();
  Action store = Action::make_store(0, 0, ram >= 1 ? ram_level : disk_level);
  try {
    if (added.online) store = added.online->start();
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: online schedule: %s", e.what());
  }
  Part part = SegmentPart(t, t.segments.size() - 1);
  store = Translate(store, part);
  added.start_level = store.level;
  added.start_slot = store.slot;
  PetscCall(Store(tj, ts, store, x, true, after_event));
  t.segment_count = static_cast<std::int64_t>(t.segments.size());
  CAIRN_MONITOR(tj, "segment %lld starts at x_%lld (%s): %lld RAM and %lld disk checkpoints",
                static_cast<long long>(t.segments.size() - 1), static_cast<long long>(m),
                after_event ? "after a TS event or a new TSSolve" : "past the planned steps",
                static_cast<long long>(ram), static_cast<long long>(disk));
  t.reverse_parts.clear();  // an offline plan is given up
  t.has_pending = false;
  PetscFunctionReturn(0);
}

// The adjoint starts: the forward run has T steps. Chooses the streams that reverse them: the
// last segment's own schedule when it can, new offline plans for the others.
PetscErrorCode BeginReverse(TSTrajectory tj) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  const auto T = static_cast<std::int64_t>(t.times.size()) - 1;
  PetscCheck(T >= 1, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSAdjointSolve after a forward run of no step");
  // A last segment of no step (an event at the final state) only holds x_T with its stages.
  if (t.segments.size() > 1 && t.segments.back().start == T) t.segments.back().online.reset();
  const bool as_planned = t.segments.size() == 1 && t.placing && (t.online || T == t.offline_steps);
  if (!as_planned) {
    t.reverse_parts.clear();
    t.has_pending = false;
  }
  if (T < t.offline_steps && t.segments.size() == 1 && !t.online)
    t.replanned = "the run ended after " + std::to_string(T) + " of the " +
                  std::to_string(t.offline_steps) + " steps planned; replanned from x_0";
  for (std::size_t s = t.segments.size(); s-- > 0;) {
    const std::int64_t end = s + 1 < t.segments.size() ? t.segments[s + 1].start : T;
    if (end == t.segments[s].start) continue;
    cairn::OnlineSchedule* online = OnlineOf(t, s);
    const bool last = s + 1 == t.segments.size();
    if (last && as_planned && !online) continue;  // the offline plan's stream goes on
    if (last && online && t.placing) {
      try {
        online->finish();
      } catch (const std::exception& e) {
        SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: online schedule: %s", e.what());
      }
      t.reverse_parts.push_back(SegmentPart(t, s));
    } else {
      PetscCall(AppendRestart(tj, s, end));
    }
  }
  if (t.reverse_parts.empty()) t.reverse_parts.emplace_back();  // nothing left: `end`
  t.planned_steps = T;
  t.phase = Phase::reverse;
  PetscFunctionReturn(0);
}

}  // namespace cairn_petsc
