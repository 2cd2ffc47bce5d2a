// The PETSc TSTrajectory type "cairn" (include/cairn/petsc_trajectory.h, docs/petsc.md).
//
// The contract, from PETSc 3.18's own memory type (src/ts/trajectory/impls/memory/trajmemory.c)
// and TSAdjointSolve (src/ts/interface/sensitivity/tssen.c):
//  - TSSolve calls set(n) with x_n in X for n = 0, then after every accepted step; a forward run
//    may be split over several TSSolve calls whose step numbers carry on.
//  - TSAdjointSolve calls get(n) for n = N, N-1, ..., 1, then get(0). Before the adjoint of step
//    n-1 -> n, get(n) must leave ts->vec_sol = x_n, the TS's stage vectors those of step
//    n-1 -> n, ptime = t_n, ptime_prev = t_{n-1}, a negative time step t_{n-1} - t_n and the step
//    number n (and, for a second-order adjoint, ts->mat_sensip the tangent linear sensitivities
//    at x_n). The adjoint recomputes nothing itself; the trajectory may call TSStep.
//
// Cairn's action stream maps onto this directly. A schedule over the N steps x_0 -> ... -> x_N
// reverses step i ("reverse i") from x_i: that is get(i + 1), whose taped forward step is a TSStep
// from x_i (or, with stages stored, a copy of x_{i+1} and the stages of step i -> i+1 from a slot
// that still holds them). Before the first reverse every schedule advances x_0 -> x_{N-1}; TSSolve
// does that, and its last step N-1 -> N leaves in the TS exactly what get(N) needs. So with
// -ts_trajectory_solution_only the trajectory's own TSStep calls number exactly the schedule's
// forward steps: t(N, c) for Revolve.
//
// The forward run ends when the adjoint starts (the first get), not when a TSSolve returns, so a
// run split over several TSSolve calls is one run. A run that ends before the offline plan's N
// steps, or goes past them, is reversed correctly all the same (BeginReverse, StartTail).
#include "cairn/petsc_trajectory.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "trajectory.hpp"

namespace cairn_petsc {
namespace {

// TSStep from x_from (in the TS) to x_to, with the step sizes of the forward run, doing after
// each step what TSSolve does: the tangent linear step of a second-order run and TSPostStep. The
// event handler is not run: no recomputation crosses a TS event (the run is cut into segments at
// the events, and the step that ends at one is reversed from its stored stages).
PetscErrorCode Recompute(TSTrajectory tj, TS ts, std::int64_t from, std::int64_t to) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCheck(t.position == from, comm_of(tj), PETSC_ERR_PLIB,
             "cairn: asked to advance from x_%lld but the TS holds x_%lld",
             static_cast<long long>(from), static_cast<long long>(t.position));
  const TSConvergedReason reason = ts->reason;
  // An adaptive controller must not reject the forward run's own steps (its error history is
  // that of a later step now); the sizes are the forward run's anyway.
  const PetscBool always_accept = ts->adapt ? ts->adapt->always_accept : PETSC_FALSE;
  if (ts->adapt) PetscCall(TSAdaptSetAlwaysAccept(ts->adapt, PETSC_TRUE));
  for (std::int64_t k = from; k < to; ++k) {
    SetClock(t, ts, k);
    const auto next = static_cast<std::size_t>(k + 1);
    // The forward run's own step size when it is consistent with where the step landed (it is,
    // unless a controller rejected the step, an event shortened it or it was clipped at the end).
    PetscReal dt = t.step_sizes[next - 1];
    if (t.times[next - 1] + dt != t.times[next]) dt = t.times[next] - t.times[next - 1];
    ts->time_step = dt;
    // A first-same-as-last Runge-Kutta method reuses the last stage of the TS's previous step;
    // that stage belongs to x_k only if the TS's last step produced x_k.
    if (t.landed != k) ts->steprestart = PETSC_TRUE;
    PetscCall(TSStep(ts));
    PetscCheck(ts->reason >= 0, comm_of(tj), PETSC_ERR_NOT_CONVERGED,
               "cairn: recomputing step %lld -> %lld failed (TSConvergedReason %d)",
               static_cast<long long>(k), static_cast<long long>(k + 1),
               static_cast<int>(ts->reason));
    if (t.tlm) {
      ts->steps--;  // TSSolve's order: the tangent linear step sees the step number of x_k
      PetscCall(TSForwardStep(ts));
      ts->steps++;
    }
    const PetscReal expected = t.times[next];
    PetscCheck(std::abs(ts->ptime - expected) <= 1e-10 * std::max<PetscReal>(1, std::abs(expected)),
               comm_of(tj), PETSC_ERR_PLIB,
               "cairn: recomputing step %lld reached t = %g, but the forward run reached t = %g; "
               "the time step controller does not repeat its steps",
               static_cast<long long>(k), static_cast<double>(ts->ptime),
               static_cast<double>(expected));
    PetscCall(TSPostStep(ts));
    ts->reason = reason;  // TSStep may declare the run over (max steps or time) when it is not
    t.landed = k + 1;
    t.position = k + 1;
  }
  if (ts->adapt) PetscCall(TSAdaptSetAlwaysAccept(ts->adapt, always_accept));
  t.final_step_in_ts = false;
  t.counters.recomputed += to - from;
  tj->recomps += static_cast<PetscInt>(to - from);
  PetscFunctionReturn(0);
}

// Before the adjoint of step n-1 -> n: x_n, its stages, and a negative time step. From the
// stage-aware record in `record_slot` when it is >= 0 (reverse_stored), which is then consumed.
PetscErrorCode PrepareAdjointStep(TSTrajectory tj, TS ts, std::int64_t n,
                                  std::int64_t record_slot = -1) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  if (record_slot >= 0) {
    PetscCall(ServeFromSlot(tj, ts, record_slot, n));
    t.counters.stages_reused++;
    t.ram[static_cast<std::size_t>(record_slot)].step = -1;
  } else if (t.final_step_in_ts && n == t.planned_steps) {
    CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages are still in the TS",
                  static_cast<long long>(n - 1), static_cast<long long>(n));
  } else {
    bool served = false;
    PetscCall(ServeFromStages(tj, ts, n, &served));
    if (served) {
      t.counters.stages_reused++;
    } else {
      CAIRN_MONITOR(tj, "reverse step %lld: recompute x_%lld -> x_%lld",
                    static_cast<long long>(n - 1), static_cast<long long>(n - 1),
                    static_cast<long long>(n));
      PetscCall(Recompute(tj, ts, n - 1, n));
    }
  }
  SetClock(t, ts, n);
  ts->time_step = ts->ptime_prev - ts->ptime;
  t.position = -1;  // the adjoint step may use the TS's vectors as it likes
  t.landed = -1;
  t.final_step_in_ts = false;
  PetscFunctionReturn(0);
}

// ---- set: the forward run ----

PetscErrorCode StoreAll(TSTrajectory tj, TS ts, const std::vector<Action>& actions, Vec x,
                        const Part& part) {
  PetscFunctionBegin;
  for (const Action& raw : actions) {
    const Action a = Translate(raw, part);
    if (a.kind == ActionKind::store) PetscCall(Store(tj, ts, a, x, true));
  }
  PetscFunctionReturn(0);
}

// One step of the online schedule of `part` (its segment's): the run's step n is the schedule's
// step n - part.offset. Segments after the first were started by StartSegment.
PetscErrorCode SetOnline(TSTrajectory tj, TS ts, cairn::OnlineSchedule& online, const Part& part,
                         std::int64_t n, Vec x) {
  PetscFunctionBegin;
  try {
    if (n == part.offset) {
      const std::vector<Action> first{online.start()};
      PetscCall(StoreAll(tj, ts, first, x, part));
    } else {
      PetscCheck(n - part.offset == online.steps() + 1, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
                 "cairn: TSTrajectorySet for step %lld after step %lld", static_cast<long long>(n),
                 static_cast<long long>(online.steps() + part.offset));
      PetscCall(StoreAll(tj, ts, online.advanced(), x, part));
    }
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: online schedule: %s", e.what());
  }
  PetscFunctionReturn(0);
}

// A stage-aware record of step n-1: x_n and the stages of step n-1 -> n, which the TS holds now.
PetscErrorCode StoreRecord(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t n, Vec x) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCall(Store(tj, ts, Action::make_store(slot, n, ram_level), x, true, true));
  t.counters.records++;
  PetscFunctionReturn(0);
}

PetscErrorCode SetOffline(TSTrajectory tj, TS ts, std::int64_t n, Vec x) {
  Trajectory& t = data(tj);
  const std::int64_t N = t.planned_steps;
  PetscFunctionBegin;
  if (t.record_slot >= 0) {  // the step that store_adjoint asked for has been made: keep it
    PetscCheck(n == t.record_step + 1, comm_of(tj), PETSC_ERR_PLIB,
               "cairn: the record of step %lld is due at step %lld, not %lld",
               static_cast<long long>(t.record_step), static_cast<long long>(t.record_step + 1),
               static_cast<long long>(n));
    PetscCall(StoreRecord(tj, ts, t.record_slot, n, x));
    t.record_slot = -1;
  }
  if (n == N || n < t.advance_target) PetscFunctionReturn(0);
  for (;;) {
    const Action a = Peek(t);
    if (a.kind == ActionKind::store) {
      PetscCheck(a.step == n, comm_of(tj), PETSC_ERR_PLIB, "cairn: store of x_%lld at step %lld",
                 static_cast<long long>(a.step), static_cast<long long>(n));
      PetscCall(Store(tj, ts, a, x, n > 0));
    } else if (a.kind == ActionKind::free) {
      // Slots are reused by the schedule; their content stays valid until it is overwritten.
    } else if (a.kind == ActionKind::advance) {
      PetscCheck(a.from() == n, comm_of(tj), PETSC_ERR_PLIB,
                 "cairn: advance from x_%lld at step %lld", static_cast<long long>(a.from()),
                 static_cast<long long>(n));
      CAIRN_MONITOR(tj, "advance x_%lld -> x_%lld (TSSolve)", static_cast<long long>(a.from()),
                    static_cast<long long>(a.to));
      t.advance_target = a.to;
      t.has_pending = false;
      break;
    } else if (a.kind == ActionKind::store_adjoint) {
      // TSSolve makes the step; the next set keeps x_{n+1} with its stages (a record).
      PetscCheck(a.step == n, comm_of(tj), PETSC_ERR_PLIB,
                 "cairn: record of step %lld at step %lld", static_cast<long long>(a.step),
                 static_cast<long long>(n));
      CAIRN_MONITOR(tj, "record step %lld (TSSolve)", static_cast<long long>(n));
      t.record_slot = a.slot;
      t.record_step = n;
      t.advance_target = n + 1;
      t.has_pending = false;
      break;
    } else if (a.kind == ActionKind::reverse) {
      // TSSolve makes the last step itself; get(N) takes it from here.
      PetscCheck(a.step == n && n == N - 1, comm_of(tj), PETSC_ERR_PLIB,
                 "cairn: reverse of step %lld at step %lld", static_cast<long long>(a.step),
                 static_cast<long long>(n));
      t.advance_target = N;
      break;
    } else {
      SETERRQ(comm_of(tj), PETSC_ERR_PLIB,
              "cairn: unexpected %s during the forward run at step %lld", cairn::to_string(a.kind),
              static_cast<long long>(n));
    }
    t.has_pending = false;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectorySet_Cairn(TSTrajectory tj, TS ts, PetscInt stepnum, PetscReal time,
                                     Vec x) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCheck(t.phase != Phase::idle || stepnum == 0, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: the trajectory starts at step 0, not %d", static_cast<int>(stepnum));
  if (stepnum == 0) {
    // A new forward run (TSSolve again without an adjoint in between): start over.
    t.phase = Phase::forward;
    t.times.clear();
    t.step_sizes.clear();
    t.has_pending = false;
    t.advance_target = 0;
    t.segments.clear();
    t.segments.emplace_back();
    t.segment_count = 1;
    t.placing = true;
    t.replanned.clear();
    t.reverse_parts.clear();
    t.events_seen = ts->event ? ts->event->recorder.ctr : 0;
    t.solve_ended = false;
    for (RamSlot& s : t.ram) s.step = -1;  // what the last run stored is stale now
    for (DiskSlot& s : t.disk) s.step = -1;
    // Second order: TSAdjointSetForward with Hessian products. Forward sensitivities alone
    // (TSForwardSetSensitivities, as in ex23fwdadj) need nothing from the trajectory.
    t.tlm = ts->forward_solve && ts->vecs_sensi2 && ts->mat_sensip;
    PetscCall(OpenDisk(tj, ts));
    t.planned_steps = t.offline_steps;
    t.record_slot = -1;
    t.cut = false;
    if (t.tlm && t.mixed) {
      // A second-order adjoint recomputes every taped step (the TS's tangent linear state of the
      // step): stages are not worth their memory, and the plan falls back to Revolve in as many
      // checkpoints as were asked for.
      t.mixed = false;
      try {
        t.schedule = OfflinePlan(t, t.offline_steps, t.mixed_checkpoints, 0, &t.planned_forward);
      } catch (const std::exception& e) {
        SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: cannot plan the schedule: %s", e.what());
      }
      t.kind = t.schedule->name();
      t.replanned =
          "a second-order adjoint recomputes every step: Revolve instead of the "
          "stage-aware plan";
    }
    if (t.schedule && !t.online) {
      t.schedule->reset();
      Part p;
      p.schedule = t.schedule.get();
      if (t.mixed) {
        // x_0 stays in RAM slot 0 whatever the plan does with it, so that the run can still be
        // cut into segments (TS events, another TSSolve), which restart from x_0; the stage-aware
        // plan has the other slots.
        for (std::int64_t j = 1; j < t.ram_slots; ++j) p.slot_map[ram_level].push_back(j);
        PetscCall(Store(tj, ts, Action::make_store(0, 0, ram_level), x, false));
      }
      t.reverse_parts.push_back(std::move(p));
    }
  }
  PetscCheck(t.phase == Phase::forward, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectorySet at step %d after the adjoint run started",
             static_cast<int>(stepnum));
  PetscCheck(static_cast<std::size_t>(stepnum) == t.times.size(), comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectorySet for step %d, expected step %d", static_cast<int>(stepnum),
             static_cast<int>(t.times.size()));
  t.times.push_back(time);
  t.step_sizes.push_back(ts->time_step);
  const std::int64_t n = stepnum;
  // A TSSolve that carries on where the previous one stopped: the step into it is reversed from
  // its stored stages, like one that ends at an event, so that a change of the state between the
  // calls is harmless. A TSSolve that starts at another time than the run reached means the
  // program changed the problem between the calls (ex9busadj applies and clears a fault):
  // steps before it cannot be recomputed, so the run is refused.
  const bool continued = n > 0 && t.solve_ended;
  PetscCheck(!continued || ts->ptime_prev == t.times[static_cast<std::size_t>(n - 1)], comm_of(tj),
             PETSC_ERR_SUP,
             "cairn: a TSSolve continued the run from t = %g, but the run had reached t = %g: "
             "the program changes the problem between TSSolve calls, and recomputing the steps "
             "before that would not reproduce them; use -ts_trajectory_type memory or basic for "
             "this program",
             static_cast<double>(ts->ptime_prev),
             static_cast<double>(t.times[static_cast<std::size_t>(n - 1)]));
  t.solve_ended = ts->reason != TS_CONVERGED_ITERATING;
  const bool after_event = (ts->event && ts->event->recorder.ctr > t.events_seen) || continued;
  if (ts->event) t.events_seen = ts->event->recorder.ctr;
  const bool offline = t.segments.size() == 1 && !t.online;
  const bool past_plan =
      offline &&
      (n > t.offline_steps || (n == t.offline_steps && ts->reason == TS_CONVERGED_ITERATING));
  if (!t.placing) {
    // No slot is left for a new segment: nothing more is stored.
  } else if (n > 0 && (after_event || past_plan)) {
    if (past_plan && t.replanned.empty())
      t.replanned = "the run went past the " + std::to_string(t.offline_steps) +
                    " steps planned; steps from " + std::to_string(n) + " on placed online";
    PetscCall(StartSegment(tj, ts, n, after_event, x));
  } else if (offline) {
    PetscCall(SetOffline(tj, ts, n, x));
  } else if (cairn::OnlineSchedule* online = OnlineOf(t, t.segments.size() - 1)) {
    const Part part = SegmentPart(t, t.segments.size() - 1);
    PetscCall(SetOnline(tj, ts, *online, part, n, x));
  }
  t.final_step_in_ts = n > 0;  // x_n and the stages of step n-1 -> n are in the TS
  PetscFunctionReturn(0);
}

// ---- get: the adjoint run ----

PetscErrorCode TSTrajectoryGet_Cairn(TSTrajectory tj, TS ts, PetscInt stepnum, PetscReal* time) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  if (stepnum == 0) {
    // After the last adjoint step: every step must have been reversed. TSAdjointSolve reads the
    // time of x_0 from here (its last adjoint monitor call prints it).
    if (time && !t.times.empty()) *time = t.times.front();
    if (t.phase == Phase::reverse) {
      while (Peek(t).kind == ActionKind::free) t.has_pending = false;
      const Action& a = Peek(t);
      PetscCheck(a.kind == ActionKind::end, comm_of(tj), PETSC_ERR_PLIB,
                 "cairn: the adjoint run ended with %s still to do", cairn::to_string(a.kind));
      CAIRN_MONITOR(tj, "%s", "every step reversed");
      PetscCall(TSTrajectoryReset(tj));  // frees the checkpoints, as the memory type does
    }
    PetscFunctionReturn(0);
  }
  PetscCheck(t.phase != Phase::idle, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectoryGet(%d) before a forward run", static_cast<int>(stepnum));
  if (t.phase == Phase::forward) PetscCall(BeginReverse(tj));
  PetscCheck(stepnum <= t.planned_steps, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
             "cairn: TSTrajectoryGet(%d) but the run has %lld steps", static_cast<int>(stepnum),
             static_cast<long long>(t.planned_steps));
  for (;;) {
    const Action a = Peek(t);
    t.has_pending = false;
    switch (a.kind) {
      case ActionKind::restore:
        PetscCall(Restore(tj, ts, a));
        break;
      case ActionKind::store:
        PetscCheck(t.position == a.step, comm_of(tj), PETSC_ERR_PLIB,
                   "cairn: store of x_%lld while the TS holds x_%lld",
                   static_cast<long long>(a.step), static_cast<long long>(t.position));
        PetscCall(Store(tj, ts, a, ts->vec_sol, t.landed == a.step));
        break;
      case ActionKind::advance:
        CAIRN_MONITOR(tj, "advance x_%lld -> x_%lld (recomputed)", static_cast<long long>(a.from()),
                      static_cast<long long>(a.to));
        PetscCall(Recompute(tj, ts, a.from(), a.to));
        break;
      case ActionKind::free:
        break;
      case ActionKind::reverse:
        PetscCheck(a.step == stepnum - 1, comm_of(tj), PETSC_ERR_ORDER,
                   "cairn: TSTrajectoryGet(%d) but the schedule reverses step %lld next",
                   static_cast<int>(stepnum), static_cast<long long>(a.step));
        PetscCall(PrepareAdjointStep(tj, ts, stepnum));
        if (time) *time = ts->ptime;
        PetscFunctionReturn(0);
      case ActionKind::store_adjoint:
        CAIRN_MONITOR(tj, "record step %lld (recomputed)", static_cast<long long>(a.step));
        PetscCall(Recompute(tj, ts, a.step, a.step + 1));
        PetscCall(StoreRecord(tj, ts, a.slot, a.step + 1, ts->vec_sol));
        break;
      case ActionKind::reverse_stored:
        PetscCheck(a.step == stepnum - 1, comm_of(tj), PETSC_ERR_ORDER,
                   "cairn: TSTrajectoryGet(%d) but the schedule reverses step %lld next",
                   static_cast<int>(stepnum), static_cast<long long>(a.step));
        PetscCall(PrepareAdjointStep(tj, ts, stepnum, a.slot));
        if (time) *time = ts->ptime;
        PetscFunctionReturn(0);
      case ActionKind::end:
        SETERRQ(comm_of(tj), PETSC_ERR_ORDER,
                "cairn: TSTrajectoryGet(%d) after every step was reversed",
                static_cast<int>(stepnum));
    }
  }
}

// ---- setup, view, reset, destroy ----

PetscErrorCode ResetRun(TSTrajectory tj) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCall(DestroyCheckpoints(t));
  t.reverse_parts.clear();
  t.segments.clear();
  t.schedule.reset();
  t.online = nullptr;
  t.phase = Phase::idle;
  t.times.clear();
  t.step_sizes.clear();
  t.has_pending = false;
  t.position = t.landed = -1;
  t.final_step_in_ts = false;
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectoryReset_Cairn(TSTrajectory tj) {
  PetscFunctionBegin;
  PetscCall(ResetRun(tj));
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectoryDestroy_Cairn(TSTrajectory tj) {
  PetscFunctionBegin;
  PetscCall(ResetRun(tj));
  delete static_cast<Trajectory*>(tj->data);
  tj->data = nullptr;
  PetscFunctionReturn(0);
}

// The step count of a run with fixed steps, by PETSc's rule (that of its memory type): the
// smaller of -ts_max_steps and ceil((max_time - t_0) / dt). A run that ends elsewhere (rounding,
// TS_EXACTFINALTIME_MATCHSTEP, a second TSSolve that carries on) is still reversed: BeginReverse
// and StartTail replan it.
PetscErrorCode PredictStepCount(TS ts, std::int64_t* steps, std::string* source,
                                std::string* why_not) {
  PetscFunctionBegin;
  *steps = -1;
  PetscBool fixed = PETSC_TRUE;
  if (ts->adapt)
    PetscCall(
        PetscObjectTypeCompare(reinterpret_cast<PetscObject>(ts->adapt), TSADAPTNONE, &fixed));
  if (!fixed) {
    *why_not = "adaptive time steps";
    PetscFunctionReturn(0);
  }
  std::int64_t by_steps = -1, by_time = -1;
  if (ts->max_steps > 0 && ts->max_steps < PETSC_MAX_INT) by_steps = ts->max_steps - ts->steps;
  const double span = static_cast<double>(ts->max_time) - static_cast<double>(ts->ptime);
  const double dt = static_cast<double>(ts->time_step);
  if (ts->max_time < PETSC_MAX_REAL && dt > 0 && span > 0 &&
      span / dt < static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2))
    by_time = static_cast<std::int64_t>(std::ceil(span / dt));
  if (by_steps < 0 && by_time < 0) {
    *why_not = "neither -ts_max_steps nor -ts_max_time bounds the run";
    PetscFunctionReturn(0);
  }
  if (by_time < 0 || (by_steps >= 0 && by_steps <= by_time)) {
    *steps = by_steps;
    *source = "-ts_max_steps";
  } else {
    *steps = by_time;
    *source = "ceil((max_time - t_0) / dt)";
  }
  if (*steps < 1) {
    *steps = -1;
    *why_not = "the run makes no step";
  }
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectorySetUp_Cairn(TSTrajectory tj, TS ts) {
  Trajectory& t = data(tj);
  const Options& o = t.options;
  PetscFunctionBegin;
  PetscCall(CheckOptions(tj, o));
  PetscCheck(tj->adjoint_solve_mode, comm_of(tj), PETSC_ERR_SUP,
             "cairn: this trajectory serves TSAdjointSolve only; for TSTrajectoryGetVecs() and "
             "other uses of the stored trajectory use -ts_trajectory_type memory");
  PetscCall(ResetRun(tj));
  t.counters = Counters{};
  t.keep_stages = !tj->solution_only;
  t.mixed = false;
  PetscCall(TSGetStages(ts, &t.stage_count, PETSC_IGNORE));

  std::int64_t steps = -1;
  t.why_online.clear();
  t.count_source.clear();
  t.kind.clear();
  t.replanned.clear();
  t.planned_forward = -1;
  PetscCall(PredictStepCount(ts, &steps, &t.count_source, &t.why_online));
  if (o.force_online) {
    steps = -1;
    t.why_online = "-ts_trajectory_cairn_online";
  }
  try {
    if (steps < 0) {
      PetscCheck(o.max_cps_ram >= 1 || (o.max_cps_ram == 0 && o.max_cps_disk >= 1), comm_of(tj),
                 PETSC_ERR_ARG_INCOMP,
                 "cairn: the number of steps is not known before the run (%s), so the online "
                 "schedule is used, and it needs -ts_trajectory_max_cps_ram C >= 1 (or 0 with "
                 "-ts_trajectory_max_cps_disk D >= 1; or use -ts_trajectory_type memory to keep "
                 "every step)",
                 t.why_online.c_str());
      t.ram_slots = o.max_cps_ram;
      t.disk_slots = o.max_cps_disk;
      std::unique_ptr<cairn::OnlineSchedule> online = OnlinePlan(t, t.ram_slots, t.disk_slots);
      t.online = online.get();
      t.schedule = std::move(online);
      t.kind = "online";  // OnlineRevolve, or OnlineMultilevelRevolve with disk slots
    } else {
      t.ram_slots = o.max_cps_ram == -1 ? steps : std::min<std::int64_t>(o.max_cps_ram, steps);
      t.disk_slots = o.max_cps_ram == -1 ? 0 : std::min<std::int64_t>(o.max_cps_disk, steps);
      // Stage-aware: the memory of C checkpoints with their stages, C (1 + stages) vectors, in
      // which the plan places solutions (one vector) and records (1 + stages).
      t.mixed = t.keep_stages && t.stage_count > 0 && o.stage_aware && o.max_cps_ram >= 1 &&
                t.disk_slots == 0;
      // Its planning takes O(N^2 vectors) time (about 2e9 additions a second here, docs/mixed.md):
      // beyond some 15 s it is used only when asked for by name.
      const double work =
          0.5 * static_cast<double>(steps) * static_cast<double>(steps) *
          static_cast<double>(std::min<std::int64_t>(t.ram_slots * (1 + t.stage_count),
                                                     (steps - 1) * (1 + t.stage_count)));
      t.why_not_stage_aware.clear();
      if (t.mixed && !o.stage_aware_given && work > 3e10) {
        t.mixed = false;
        t.why_not_stage_aware =
            "no stage-aware plan: planning " + std::to_string(steps) + " steps would take about " +
            std::to_string(static_cast<long long>(work / 2e9)) +
            " s (O(N^2 vectors)); -ts_trajectory_cairn_stage_aware 1 plans it anyway";
      }
      t.mixed_checkpoints = t.ram_slots;
      if (t.mixed) t.ram_slots *= 1 + t.stage_count;
      // A stage-aware plan leaves x_0's vector alone (TSTrajectorySet at step 0).
      t.schedule =
          OfflinePlan(t, steps, t.ram_slots - (t.mixed ? 1 : 0), t.disk_slots, &t.planned_forward);
      t.kind = t.schedule->name();
    }
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: cannot plan the schedule: %s", e.what());
  }
  t.planned_steps = t.offline_steps = steps;
  // Filled as slots are first used (StoreRam); reserved up front only up to a modest count.
  t.ram.assign(static_cast<std::size_t>(std::clamp<std::int64_t>(t.ram_slots, 0, 4096)), RamSlot{});
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectoryView_Cairn(TSTrajectory tj, PetscViewer viewer) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(
      PetscObjectTypeCompare(reinterpret_cast<PetscObject>(viewer), PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  const Counters& c = t.counters;
  if (t.kind.empty()) PetscFunctionReturn(0);  // not set up yet
  if (t.kind == "online") {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn schedule: online (the step count was unknown: %s), %lld checkpoints in RAM\n",
        t.why_online.c_str(), static_cast<long long>(t.ram_slots)));
    if (t.disk_slots > 0)
      PetscCall(PetscViewerASCIIPrintf(
          viewer, "  Cairn online disk level: %lld checkpoints (write %g, read %g forward steps)\n",
          static_cast<long long>(t.disk_slots), static_cast<double>(t.options.write_cost),
          static_cast<double>(t.options.read_cost)));
  } else if (t.kind == "mixed") {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn schedule: stage-aware (mixed), %lld steps, the memory of %lld checkpoints with "
        "their stages: %lld vectors (x_0 kept in one), a solution taking 1 and a step's "
        "solution and stages %lld\n",
        static_cast<long long>(t.offline_steps), static_cast<long long>(t.mixed_checkpoints),
        static_cast<long long>(t.ram_slots), static_cast<long long>(1 + t.stage_count)));
  } else if (t.kind == "multilevel") {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn schedule: multilevel, %lld steps, %lld checkpoints in RAM and %lld on disk (write "
        "%g, read %g forward steps)\n",
        static_cast<long long>(t.offline_steps), static_cast<long long>(t.ram_slots),
        static_cast<long long>(t.disk_slots), static_cast<double>(t.options.write_cost),
        static_cast<double>(t.options.read_cost)));
  } else {
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "  Cairn schedule: revolve, %lld steps, %lld checkpoints in RAM\n",
        static_cast<long long>(t.offline_steps), static_cast<long long>(t.ram_slots)));
  }
  if (t.kind != "online")
    PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn step count planned from %s\n",
                                     t.count_source.c_str()));
  if (!t.replanned.empty())
    PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn: %s\n", t.replanned.c_str()));
  if (!t.why_not_stage_aware.empty())
    PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn: %s\n", t.why_not_stage_aware.c_str()));
  if (t.segment_count > 1)
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "  Cairn segments of the last run: %lld (cut at TS events or past the plan)\n",
        static_cast<long long>(t.segment_count)));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn checkpoint content: %s\n",
                                   t.keep_stages ? "solution and stages" : "solution only"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn recomputed steps: %lld\n",
                                   static_cast<long long>(c.recomputed)));
  if (t.kind == "mixed" && t.replanned.empty() && t.segment_count == 1) {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn recomputed steps of the schedule: %lld; records of a step's stages: %lld\n",
        static_cast<long long>(t.planned_forward), static_cast<long long>(c.records)));
  } else if (t.planned_forward >= 0 && t.replanned.empty() && t.segment_count == 1) {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn forward steps of the schedule: %lld (the recomputed steps with solution only)\n",
        static_cast<long long>(t.planned_forward)));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn taped steps served from stored stages: %lld\n",
                                   static_cast<long long>(c.stages_reused)));
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "  Cairn RAM: %lld stores, %lld restores, peak %lld checkpoints\n",
      static_cast<long long>(c.stores[ram_level]), static_cast<long long>(c.restores[ram_level]),
      static_cast<long long>(c.peak_slots[ram_level])));
  if (t.disk_slots > 0) {
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "  Cairn disk: %lld writes, %lld reads, peak %lld checkpoints\n",
        static_cast<long long>(c.stores[disk_level]),
        static_cast<long long>(c.restores[disk_level]),
        static_cast<long long>(c.peak_slots[disk_level])));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectoryCreate_Cairn(TSTrajectory tj, TS ts) {
  PetscFunctionBegin;
  (void)ts;
  tj->ops->set = TSTrajectorySet_Cairn;
  tj->ops->get = TSTrajectoryGet_Cairn;
  tj->ops->setup = TSTrajectorySetUp_Cairn;
  tj->ops->setfromoptions = TSTrajectorySetFromOptions_Cairn;
  tj->ops->view = TSTrajectoryView_Cairn;
  tj->ops->reset = TSTrajectoryReset_Cairn;
  tj->ops->destroy = TSTrajectoryDestroy_Cairn;
  try {
    tj->data = new Trajectory();
  } catch (const std::bad_alloc&) {
    SETERRQ(comm_of(tj), PETSC_ERR_MEM, "cairn: out of memory");
  }
  PetscFunctionReturn(0);
}

}  // namespace
}  // namespace cairn_petsc

PetscErrorCode CairnTSTrajectoryRegister(void) {
  PetscFunctionBegin;
  PetscCall(TSTrajectoryRegister(TSTRAJECTORYCAIRN, cairn_petsc::TSTrajectoryCreate_Cairn));
  PetscFunctionReturn(0);
}

PetscErrorCode PetscDLLibraryRegister_cairn_petsc(void) {
  PetscFunctionBegin;
  PetscCall(CairnTSTrajectoryRegister());
  PetscFunctionReturn(0);
}
