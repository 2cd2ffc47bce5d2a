// The state of one TSTrajectory of type "cairn", shared by the files of the plugin:
// cairn_trajectory.cpp (PETSc's set/get/setup protocol and the plans), checkpoints.cpp (what a
// checkpoint holds and where: RAM or the HDF5 disk level) and options.cpp (the options).
#pragma once

#include <petsc/private/tsimpl.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/schedule.hpp"
#ifdef CAIRN_PETSC_HAVE_HDF5
#include "cairn/hdf5_storage.hpp"
#endif

namespace cairn_petsc {

using cairn::Action;
using cairn::ActionKind;

constexpr int ram_level = 0;
constexpr int disk_level = 1;

// One RAM checkpoint: x, the stages of the step that produced it (step - 1 -> step) when kept, and
// for second-order adjoints the tangent linear sensitivities at x (ts->mat_sensip).
struct RamSlot {
  Vec x = nullptr;
  Vec* stages = nullptr;
  Mat tlm = nullptr;
  std::int64_t step = -1;
  bool has_stages = false;
};

struct DiskSlot {
  std::int64_t step = -1;
  bool has_stages = false;
};

struct Options {
  std::int64_t max_cps_ram = -1;  // -1: a checkpoint for every step
  std::int64_t max_cps_disk = 0;
  PetscBool force_online = PETSC_FALSE;
  // With -ts_trajectory_solution_only 0: plan which checkpoints hold stages (MixedRevolve)
  // rather than keep the stages with every checkpoint.
  PetscBool stage_aware = PETSC_TRUE;
  PetscBool stage_aware_given = PETSC_FALSE;  // set on the command line (then always honoured)
  PetscReal write_cost = 1;                   // disk prices, in forward steps
  PetscReal read_cost = 1;
  std::string disk_file;
};

struct Counters {
  std::int64_t recomputed = 0;     // TSStep calls made by the trajectory
  std::int64_t stages_reused = 0;  // taped steps served from stored stages instead of a TSStep
  std::int64_t records = 0;        // stage-aware: checkpoints of a solution and its step's stages
  std::int64_t stores[2] = {0, 0};
  std::int64_t restores[2] = {0, 0};
  std::int64_t peak_slots[2] = {0, 0};
};

enum class Phase { idle, forward, reverse };

// A schedule whose steps and slots are shifted onto the run's: step s of the schedule is step
// s + offset of the run, and slot j of level l is slot_map[l][j] (the identity when empty). The
// prelude's actions (already in the run's numbering) come first.
struct Part {
  cairn::Schedule* schedule = nullptr;
  std::unique_ptr<cairn::Schedule> owned;  // the schedule, when the part owns it
  std::int64_t offset = 0;
  std::vector<std::int64_t> slot_map[2];
  std::deque<Action> prelude;
};

struct Segment {
  std::int64_t start = 0;  // the segment begins at x_start
  int start_level = 0;     // where x_start is held (slot -1: not found yet)
  std::int64_t start_slot = -1;
  bool after_event = false;  // x_start is a post-event state, stored with the stages before it
  std::unique_ptr<cairn::OnlineSchedule> online;  // segments >= 1: their online schedule, if any
  std::vector<std::int64_t> slot_map[2];          // ... and its slots
};

struct Trajectory {
  Options options;

  // The plan made by setup: an offline schedule for a step count known (or predicted) before the
  // run, or an online schedule.
  std::unique_ptr<cairn::Schedule> schedule;
  cairn::OnlineSchedule* online = nullptr;  // schedule, when it is an online one
  std::string why_online;                   // why the step count was unknown
  std::string why_not_stage_aware;          // why a run with stages has no stage-aware plan
  std::string count_source;                 // how an offline step count was found
  std::string kind;                         // "revolve", "multilevel" or "online"; kept by reset
  std::int64_t offline_steps = -1;          // N of the offline plan (-1: online)
  std::int64_t planned_steps = -1;          // N during the forward run; T once the adjoint starts
  std::int64_t planned_forward = -1;        // forward steps of an offline stream
  std::int64_t ram_slots = 0;
  std::int64_t disk_slots = 0;
  bool keep_stages = false;  // !tj->solution_only
  // Stage-aware plan (MixedRevolve): RAM counts vectors, a solution takes one and a step's
  // adjoint data (x_{i+1} and the stages of step i) 1 + stage_count; plain checkpoints keep no
  // stages then.
  bool mixed = false;
  std::int64_t record_slot = -1;  // forward run: the slot of a record of step record_step
  std::int64_t record_step = -1;
  // Once a stage-aware run is cut into segments (TS events, another TSSolve, past the plan), its
  // segments count checkpoints again (a post-event state is kept with its stages): C slots.
  std::int64_t mixed_checkpoints = 0;
  bool cut = false;
  PetscInt stage_count = 0;
  // Second-order adjoint (TSAdjointSetForward with Hessian products): checkpoints also hold the
  // tangent linear sensitivities, and recomputations advance them with TSForwardStep.
  bool tlm = false;

  // The run in segments. Segment 0 starts at x_0 with the plan above. A new segment starts at
  // step m when the run goes past the offline plan's N steps, or when a TS event changed x_m
  // (recomputations must not cross an event: the user's post-event function changes state the
  // trajectory cannot see). Each new segment gets an online schedule in the slots that the
  // segments' first states leave; earlier segments keep only their first state and are reversed
  // by a new offline plan from it when the adjoint reaches them.
  std::vector<Segment> segments;
  PetscInt events_seen = 0;        // TS events recorded when the last state was stored
  bool solve_ended = false;        // the last state stored ended a TSSolve
  bool placing = true;             // false once a segment could not get a slot
  std::string replanned;           // what happened to the plan, for -ts_trajectory_view
  std::int64_t segment_count = 1;  // segments of the last run, for -ts_trajectory_view

  // Where the run stands.
  Phase phase = Phase::idle;
  std::vector<PetscReal> times;  // t_0 .. t_n of the forward run
  // The TS's time step when it stood at x_k, which the step k -> k+1 used unless the controller
  // changed it during the step; a recomputation repeats it to the last bit.
  std::vector<PetscReal> step_sizes;
  Action pending{};
  bool has_pending = false;
  std::int64_t advance_target = 0;  // forward: the TS runs on its own until this step
  std::deque<Part> reverse_parts;   // reverse: the streams still to run, in order
  std::int64_t position = -1;       // reverse: the state in ts->vec_sol, -1 unknown
  std::int64_t landed = -1;         // the state the TS's last TSStep produced, if still there
  bool final_step_in_ts = false;    // the TS still holds x_N and the stages of step N-1 -> N

  std::vector<RamSlot> ram;
  std::vector<DiskSlot> disk;
#ifdef CAIRN_PETSC_HAVE_HDF5
  std::unique_ptr<cairn::Hdf5Storage> disk_storage;
  std::size_t disk_slot_bytes = 0;
#endif

  Counters counters;
};

inline Trajectory& data(TSTrajectory tj) {
  return *static_cast<Trajectory*>(tj->data);
}

inline MPI_Comm comm_of(TSTrajectory tj) {
  return PetscObjectComm(reinterpret_cast<PetscObject>(tj));
}

inline const char* level_name(int level) {
  return level == ram_level ? "RAM" : "disk";
}

// Prints one line of -ts_trajectory_monitor.
#define CAIRN_MONITOR(tj, format, ...)                                                      \
  do {                                                                                      \
    if ((tj)->monitor)                                                                      \
      PetscCall(PetscViewerASCIIPrintf((tj)->monitor, "cairn: " format "\n", __VA_ARGS__)); \
  } while (0)

// ---- checkpoints.cpp ----

// Stores the state x (ts->vec_sol or the Vec PETSc passed to set) as x_step in `a`'s slot, with
// the TS's stages when `stages_available` and kept, and the tangent linear sensitivities when the
// run is a second-order one.
// `force_stages` keeps the stages even with -ts_trajectory_solution_only (a post-event state).
PetscErrorCode Store(TSTrajectory tj, TS ts, const Action& a, Vec x, bool stages_available,
                     bool force_stages = false);
// Makes x_step (and its tangent linear sensitivities) the TS's state, with its clock.
PetscErrorCode Restore(TSTrajectory tj, TS ts, const Action& a);
// Copies x_n and the stages of step n-1 -> n from a slot that still holds both, if any.
PetscErrorCode ServeFromStages(TSTrajectory tj, TS ts, std::int64_t n, bool* served);
// The same from RAM slot `slot`, which must hold them (a stage-aware record).
PetscErrorCode ServeFromSlot(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t n);
// Opens (or reopens, when a checkpoint grew) the disk level for D slots of this TS's checkpoints.
PetscErrorCode OpenDisk(TSTrajectory tj, TS ts);
PetscErrorCode DestroyCheckpoints(Trajectory& t);
// Where x_0 is held: its level and slot; false if no slot holds it.
bool FindInitialState(const Trajectory& t, int* level, std::int64_t* slot);
// Makes the TS hold x_step as the state after step - 1 -> step: ptime, ptime_prev, step number.
void SetClock(Trajectory& t, TS ts, std::int64_t step);

// ---- plans.cpp ----

// Whether OfflinePlan chooses Revolve (in RAM) for these counts: RAM slots and either no disk or
// a slot for every step.
bool PlansRevolve(std::int64_t steps, std::int64_t ram, std::int64_t disk);
// The offline schedule for `steps` steps over `ram` RAM and `disk` disk slots (Revolve in RAM, or
// the multilevel schedule over RAM and disk), and its forward steps if `forward` is not null.
// Throws as the schedules do.
// With a stage-aware trajectory (t.mixed) and no disk, and unless allow_mixed is false, the plan is
// MixedRevolve over `ram` vectors and `forward` its recomputations (forward evaluations - steps).
std::unique_ptr<cairn::Schedule> OfflinePlan(const Trajectory& t, std::int64_t steps,
                                             std::int64_t ram, std::int64_t disk,
                                             std::int64_t* forward, bool allow_mixed = true);
// An online schedule over `ram` RAM and `disk` disk slots; null when it would have no slot.
std::unique_ptr<cairn::OnlineSchedule> OnlinePlan(const Trajectory& t, std::int64_t ram,
                                                  std::int64_t disk);
// `a` in the run's numbering (steps shifted, slots mapped by the part).
Action Translate(Action a, const Part& p);
// The next action of the streams still to run (the offline plan during the forward run).
const Action& Peek(Trajectory& t);
// Segment s's online schedule, if it has one, and the part that runs it.
cairn::OnlineSchedule* OnlineOf(Trajectory& t, std::size_t s);
Part SegmentPart(Trajectory& t, std::size_t s);
// A new segment from x_m, the state in the TS (after an event or a new TSSolve, or past the plan).
PetscErrorCode StartSegment(TSTrajectory tj, TS ts, std::int64_t m, bool after_event, Vec x);
// The adjoint starts: chooses the streams that reverse the run's T steps.
PetscErrorCode BeginReverse(TSTrajectory tj);

// ---- options.cpp ----

PetscErrorCode CheckOptions(TSTrajectory tj, const Options& o);
PetscErrorCode TSTrajectorySetFromOptions_Cairn(TSTrajectory tj,
                                                PetscOptionItems* PetscOptionsObject);

}  // namespace cairn_petsc
