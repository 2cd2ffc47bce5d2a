// The PETSc TSTrajectory type "cairn" (include/cairn/petsc_trajectory.h, docs/petsc.md).
//
// The contract, from PETSc 3.18's own memory type (src/ts/trajectory/impls/memory/trajmemory.c)
// and TSAdjointSolve (src/ts/interface/sensitivity/tssen.c):
//  - TSSolve calls set(n) with x_n in X for n = 0, then after every accepted step; the last call
//    comes with ts->reason set.
//  - TSAdjointSolve calls get(n) for n = N, N-1, ..., 1, then get(0). Before the adjoint of step
//    n-1 -> n, get(n) must leave ts->vec_sol = x_n, the TS's stage vectors those of step
//    n-1 -> n, ptime = t_n, ptime_prev = t_{n-1}, a negative time step t_{n-1} - t_n and the step
//    number n. The adjoint recomputes nothing itself; the trajectory may call TSStep to
//    recompute states.
//
// Cairn's action stream maps onto this directly. A schedule over the N steps x_0 -> ... -> x_N
// reverses step i ("reverse i") from x_i: that is get(i + 1), whose taped forward step is a TSStep
// from x_i (or, with stages stored, a copy of x_{i+1} and the stages of step i -> i+1 from a slot
// that still holds them). Before the first reverse every schedule advances x_0 -> x_{N-1}; TSSolve
// does that, and its last step N-1 -> N leaves in the TS exactly what get(N) needs. So with
// -ts_trajectory_solution_only the trajectory's own TSStep calls number exactly the schedule's
// forward steps: t(N, c) for Revolve.
#include "cairn/petsc_trajectory.h"

#include <petsc/private/tsimpl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cairn/action.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#ifdef CAIRN_PETSC_HAVE_HDF5
#include "cairn/hdf5_storage.hpp"
#endif

namespace {

using cairn::Action;
using cairn::ActionKind;

constexpr int ram_level = 0;
constexpr int disk_level = 1;

struct RamSlot {
  Vec x = nullptr;
  Vec* stages = nullptr;  // stages of the step that produced x (step - 1 -> step), if kept
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
  PetscReal write_cost = 1;  // disk prices, in forward steps
  PetscReal read_cost = 1;
  std::string disk_file;
};

struct Counters {
  std::int64_t recomputed = 0;     // TSStep calls made by the trajectory
  std::int64_t stages_reused = 0;  // taped steps served from stored stages instead of a TSStep
  std::int64_t stores[2] = {0, 0};
  std::int64_t restores[2] = {0, 0};
  std::int64_t peak_slots[2] = {0, 0};
};

enum class Phase { idle, forward, reverse };

struct Trajectory {
  Options options;

  // The plan of the current run (made by setup).
  std::unique_ptr<cairn::Schedule> schedule;
  cairn::OnlineSchedule* online = nullptr;  // schedule, when it is an online one
  std::string why_online;                   // why the step count was unknown
  std::string kind;                         // "revolve", "multilevel" or "online"; kept by reset
  std::int64_t planned_steps = -1;          // N; -1 until an online run ends
  std::int64_t planned_forward = -1;        // forward steps of an offline stream
  std::int64_t ram_slots = 0;
  std::int64_t disk_slots = 0;
  bool keep_stages = false;  // !tj->solution_only
  PetscInt stage_count = 0;

  // Where the run stands.
  Phase phase = Phase::idle;
  std::vector<PetscReal> times;  // t_0 .. t_n of the forward run
  // The TS's time step when it stood at x_k, which the step k -> k+1 used unless the controller
  // changed it during the step; a recomputation repeats it to the last bit.
  std::vector<PetscReal> step_sizes;
  Action pending{};
  bool has_pending = false;
  std::int64_t advance_target = 0;  // forward: the TS runs on its own until this step
  std::int64_t position = -1;       // reverse: the state in ts->vec_sol, -1 unknown
  std::int64_t landed = -1;         // the state the TS's last TSStep produced, if still there
  bool final_step_in_ts = false;    // the TS still holds x_N and the stages of step N-1 -> N

  std::vector<RamSlot> ram;
  std::vector<DiskSlot> disk;
#ifdef CAIRN_PETSC_HAVE_HDF5
  std::unique_ptr<cairn::Hdf5Storage> disk_storage;
#endif

  Counters counters;
};

Trajectory& data(TSTrajectory tj) {
  return *static_cast<Trajectory*>(tj->data);
}

MPI_Comm comm_of(TSTrajectory tj) {
  return PetscObjectComm(reinterpret_cast<PetscObject>(tj));
}

const char* level_name(int level) {
  return level == ram_level ? "RAM" : "disk";
}

// Prints one line of -ts_trajectory_monitor.
#define CAIRN_MONITOR(tj, format, ...)                                                      \
  do {                                                                                      \
    if ((tj)->monitor)                                                                      \
      PetscCall(PetscViewerASCIIPrintf((tj)->monitor, "cairn: " format "\n", __VA_ARGS__)); \
  } while (0)

// ---- RAM slots ----

PetscErrorCode DestroyRam(Trajectory& t) {
  PetscFunctionBegin;
  for (RamSlot& s : t.ram) {
    PetscCall(VecDestroy(&s.x));
    if (s.stages) PetscCall(VecDestroyVecs(t.stage_count, &s.stages));
  }
  t.ram.clear();
  PetscFunctionReturn(0);
}

PetscErrorCode StoreRam(Trajectory& t, TS ts, std::int64_t slot, std::int64_t step, Vec x,
                        bool with_stages) {
  PetscFunctionBegin;
  // The table grows with the slots a run uses (an online run with C = 10^10 uses at most T + 1).
  if (static_cast<std::size_t>(slot) >= t.ram.size())
    t.ram.resize(static_cast<std::size_t>(slot) + 1);
  RamSlot& s = t.ram[static_cast<std::size_t>(slot)];
  if (!s.x) PetscCall(VecDuplicate(x, &s.x));
  PetscCall(VecCopy(x, s.x));
  s.has_stages = false;
  if (with_stages && t.stage_count > 0) {
    PetscInt count = 0;
    Vec* y = nullptr;
    PetscCall(TSGetStages(ts, &count, &y));
    if (!s.stages) PetscCall(VecDuplicateVecs(y[0], t.stage_count, &s.stages));
    for (PetscInt i = 0; i < t.stage_count; ++i) PetscCall(VecCopy(y[i], s.stages[i]));
    s.has_stages = true;
  }
  s.step = step;
  PetscFunctionReturn(0);
}

// ---- the disk level: one HDF5 file through cairn::Hdf5Storage ----

#ifdef CAIRN_PETSC_HAVE_HDF5
// A checkpoint's bytes on this rank: the local part of x, then those of the stages if kept.
struct LocalVectors {
  std::vector<Vec> vectors;
  bool write = false;
};

void write_vectors(const void* context, void* destination) {
  const auto& vs = *static_cast<const LocalVectors*>(context);
  auto* out = static_cast<unsigned char*>(destination);
  for (Vec v : vs.vectors) {
    PetscInt n = 0;
    const PetscScalar* a = nullptr;
    if (VecGetLocalSize(v, &n) || VecGetArrayRead(v, &a))
      throw std::runtime_error("VecGetArrayRead failed");
    std::memcpy(out, a, static_cast<std::size_t>(n) * sizeof(PetscScalar));
    out += static_cast<std::size_t>(n) * sizeof(PetscScalar);
    if (VecRestoreArrayRead(v, &a)) throw std::runtime_error("VecRestoreArrayRead failed");
  }
}

void read_vectors(void* context, const void* source, std::size_t bytes) {
  auto& vs = *static_cast<LocalVectors*>(context);
  const auto* in = static_cast<const unsigned char*>(source);
  std::size_t used = 0;
  for (Vec v : vs.vectors) {
    PetscInt n = 0;
    PetscScalar* a = nullptr;
    if (VecGetLocalSize(v, &n) || VecGetArrayWrite(v, &a))
      throw std::runtime_error("VecGetArrayWrite failed");
    const std::size_t b = static_cast<std::size_t>(n) * sizeof(PetscScalar);
    if (used + b > bytes)
      throw std::runtime_error("a disk checkpoint is shorter than the vectors it restores");
    std::memcpy(a, in + used, b);
    used += b;
    if (VecRestoreArrayWrite(v, &a)) throw std::runtime_error("VecRestoreArrayWrite failed");
  }
}

std::size_t local_bytes(const std::vector<Vec>& vectors) {
  std::size_t bytes = 0;
  for (Vec v : vectors) {
    PetscInt n = 0;
    VecGetLocalSize(v, &n);
    bytes += static_cast<std::size_t>(n) * sizeof(PetscScalar);
  }
  return bytes;
}
#endif

PetscErrorCode StoreDisk(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t step, Vec x,
                         bool with_stages) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
#ifdef CAIRN_PETSC_HAVE_HDF5
  LocalVectors vs;
  vs.vectors.push_back(x);
  with_stages = with_stages && t.stage_count > 0;
  if (with_stages) {
    PetscInt count = 0;
    Vec* y = nullptr;
    PetscCall(TSGetStages(ts, &count, &y));
    for (PetscInt i = 0; i < t.stage_count; ++i) vs.vectors.push_back(y[i]);
  }
  const cairn::StateWriter writer{write_vectors, &vs, local_bytes(vs.vectors)};
  try {
    t.disk_storage->store(slot, step, writer);
  } catch (const std::exception& e) {
    t.disk[static_cast<std::size_t>(slot)] = DiskSlot{};
    SETERRQ(comm_of(tj), PETSC_ERR_FILE_WRITE, "cairn: writing x_%lld to disk slot %lld failed: %s",
            static_cast<long long>(step), static_cast<long long>(slot), e.what());
  }
  t.disk[static_cast<std::size_t>(slot)] = DiskSlot{step, with_stages};
  tj->diskwrites++;
#else
  (void)ts, (void)slot, (void)step, (void)x, (void)with_stages, (void)t;
  SETERRQ(comm_of(tj), PETSC_ERR_SUP, "cairn: built without the HDF5 disk level");
#endif
  PetscFunctionReturn(0);
}

PetscErrorCode LoadDisk(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t step,
                        bool with_stages) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
#ifdef CAIRN_PETSC_HAVE_HDF5
  LocalVectors vs;
  vs.vectors.push_back(ts->vec_sol);
  if (with_stages) {
    PetscInt count = 0;
    Vec* y = nullptr;
    PetscCall(TSGetStages(ts, &count, &y));
    for (PetscInt i = 0; i < t.stage_count; ++i) vs.vectors.push_back(y[i]);
  }
  const cairn::StateReader reader{read_vectors, &vs};
  try {
    t.disk_storage->restore(slot, step, reader);
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_FILE_READ,
            "cairn: reading x_%lld from disk slot %lld failed: %s", static_cast<long long>(step),
            static_cast<long long>(slot), e.what());
  }
  tj->diskreads++;
#else
  (void)ts, (void)slot, (void)step, (void)with_stages, (void)t;
  SETERRQ(comm_of(tj), PETSC_ERR_SUP, "cairn: built without the HDF5 disk level");
#endif
  PetscFunctionReturn(0);
}

// ---- actions ----

PetscErrorCode Store(TSTrajectory tj, TS ts, const Action& a, Vec x, bool stages_available) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  const bool with_stages = t.keep_stages && stages_available;
  if (a.level == ram_level) {
    PetscCall(StoreRam(t, ts, a.slot, a.step, x, with_stages));
  } else {
    PetscCall(StoreDisk(tj, ts, a.slot, a.step, x, with_stages));
  }
  const int level = a.level == ram_level ? ram_level : disk_level;
  t.counters.stores[level]++;
  std::int64_t used = 0;
  if (level == ram_level) {
    for (const RamSlot& s : t.ram) used += s.x ? 1 : 0;
  } else {
    for (const DiskSlot& s : t.disk) used += s.step >= 0 ? 1 : 0;
  }
  t.counters.peak_slots[level] = std::max(t.counters.peak_slots[level], used);
  CAIRN_MONITOR(tj, "store x_%lld%s in %s slot %lld", static_cast<long long>(a.step),
                with_stages ? " (with its stages)" : "", level_name(level),
                static_cast<long long>(a.slot));
  PetscFunctionReturn(0);
}

// Makes the TS hold x_step as the state after step - 1 -> step: ptime, ptime_prev and the step
// number. The time step is set by the caller (forward for a recomputation, negative for an
// adjoint).
void SetClock(Trajectory& t, TS ts, std::int64_t step) {
  const auto k = static_cast<std::size_t>(step);
  ts->ptime = t.times[k];
  ts->ptime_prev = step > 0 ? t.times[k - 1] : t.times[k];
  ts->steps = static_cast<PetscInt>(step);
}

PetscErrorCode Restore(TSTrajectory tj, TS ts, const Action& a) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  if (a.level == ram_level) {
    PetscCheck(a.slot >= 0 && static_cast<std::size_t>(a.slot) < t.ram.size(), comm_of(tj),
               PETSC_ERR_PLIB, "cairn: RAM slot %lld holds nothing, not x_%lld",
               static_cast<long long>(a.slot), static_cast<long long>(a.step));
    const RamSlot& s = t.ram[static_cast<std::size_t>(a.slot)];
    PetscCheck(s.x && s.step == a.step, comm_of(tj), PETSC_ERR_PLIB,
               "cairn: RAM slot %lld holds x_%lld, not x_%lld", static_cast<long long>(a.slot),
               static_cast<long long>(s.step), static_cast<long long>(a.step));
    PetscCall(VecCopy(s.x, ts->vec_sol));
    t.counters.restores[ram_level]++;
  } else {
    PetscCall(LoadDisk(tj, ts, a.slot, a.step, false));
    t.counters.restores[disk_level]++;
  }
  SetClock(t, ts, a.step);
  t.position = a.step;
  t.landed = -1;
  t.final_step_in_ts = false;
  CAIRN_MONITOR(tj, "restore x_%lld from %s slot %lld", static_cast<long long>(a.step),
                level_name(a.level == ram_level ? ram_level : disk_level),
                static_cast<long long>(a.slot));
  PetscFunctionReturn(0);
}

// TSStep from x_from (in the TS) to x_to, with the step sizes of the forward run.
PetscErrorCode Recompute(TSTrajectory tj, TS ts, std::int64_t from, std::int64_t to) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCheck(t.position == from, comm_of(tj), PETSC_ERR_PLIB,
             "cairn: asked to advance from x_%lld but the TS holds x_%lld",
             static_cast<long long>(from), static_cast<long long>(t.position));
  const TSConvergedReason reason = ts->reason;
  for (std::int64_t k = from; k < to; ++k) {
    SetClock(t, ts, k);
    const auto next = static_cast<std::size_t>(k + 1);
    // The forward run's own step size when it is consistent with where the step landed (it is,
    // unless a controller rejected the step or clipped it at the final time).
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
  t.final_step_in_ts = false;
  t.counters.recomputed += to - from;
  tj->recomps += static_cast<PetscInt>(to - from);
  PetscFunctionReturn(0);
}

PetscErrorCode Advance(TSTrajectory tj, TS ts, const Action& a) {
  PetscFunctionBegin;
  CAIRN_MONITOR(tj, "advance x_%lld -> x_%lld (recomputed)", static_cast<long long>(a.from()),
                static_cast<long long>(a.to));
  PetscCall(Recompute(tj, ts, a.from(), a.to));
  PetscFunctionReturn(0);
}

// Before the adjoint of step n-1 -> n: x_n, its stages, and a negative time step.
PetscErrorCode PrepareAdjointStep(TSTrajectory tj, TS ts, std::int64_t n) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  if (t.final_step_in_ts && n == t.planned_steps) {
    CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages are still in the TS",
                  static_cast<long long>(n - 1), static_cast<long long>(n));
  } else {
    // A slot that still holds x_n with the stages of step n-1 -> n saves the TSStep.
    bool served = false;
    if (t.keep_stages) {
      for (std::size_t i = 0; i < t.ram.size() && !served; ++i) {
        RamSlot& s = t.ram[i];
        if (s.step != n || !s.has_stages) continue;
        PetscInt count = 0;
        Vec* y = nullptr;
        PetscCall(TSGetStages(ts, &count, &y));
        PetscCall(VecCopy(s.x, ts->vec_sol));
        for (PetscInt k = 0; k < t.stage_count; ++k) PetscCall(VecCopy(s.stages[k], y[k]));
        t.counters.restores[ram_level]++;
        served = true;
        CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages from RAM slot %lld",
                      static_cast<long long>(n - 1), static_cast<long long>(n),
                      static_cast<long long>(i));
      }
      for (std::size_t i = 0; i < t.disk.size() && !served; ++i) {
        if (t.disk[i].step != n || !t.disk[i].has_stages) continue;
        PetscCall(LoadDisk(tj, ts, static_cast<std::int64_t>(i), n, true));
        t.counters.restores[disk_level]++;
        served = true;
        CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages from disk slot %lld",
                      static_cast<long long>(n - 1), static_cast<long long>(n),
                      static_cast<long long>(i));
      }
    }
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

const Action& Peek(Trajectory& t) {
  if (!t.has_pending) {
    t.pending = t.schedule->next();
    t.has_pending = true;
  }
  return t.pending;
}

// ---- set: the forward run ----

PetscErrorCode SetOnline(TSTrajectory tj, TS ts, std::int64_t n, Vec x) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  try {
    if (n == 0) {
      PetscCall(Store(tj, ts, t.online->start(), x, false));
    } else {
      PetscCheck(n == t.online->steps() + 1, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
                 "cairn: TSTrajectorySet for step %lld after step %lld", static_cast<long long>(n),
                 static_cast<long long>(t.online->steps()));
      const std::vector<Action>& actions = t.online->advanced();
      for (const Action& a : actions) {
        if (a.kind == ActionKind::store) PetscCall(Store(tj, ts, a, x, true));
      }
    }
    if (ts->reason) {
      t.online->finish();
      t.planned_steps = n;
      t.phase = Phase::reverse;
      t.final_step_in_ts = true;
    }
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: online schedule: %s", e.what());
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SetOffline(TSTrajectory tj, TS ts, std::int64_t n, Vec x) {
  Trajectory& t = data(tj);
  const std::int64_t N = t.planned_steps;
  PetscFunctionBegin;
  PetscCheck(n <= N, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
             "cairn: the forward run went past the %lld steps planned from -ts_max_steps; "
             "use -ts_trajectory_cairn_online when the step count is not known in advance",
             static_cast<long long>(N));
  if (n == N) {
    PetscCheck(ts->reason != TS_CONVERGED_ITERATING, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
               "cairn: the forward run continues past the %lld steps planned from -ts_max_steps; "
               "use -ts_trajectory_cairn_online when the step count is not known in advance",
               static_cast<long long>(N));
    t.phase = Phase::reverse;
    t.final_step_in_ts = true;
    PetscFunctionReturn(0);
  }
  PetscCheck(ts->reason == TS_CONVERGED_ITERATING, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
             "cairn: the forward run ended after %lld steps, but the schedule was planned for "
             "%lld (from -ts_max_steps); use -ts_trajectory_cairn_online when the step count is "
             "not known in advance",
             static_cast<long long>(n), static_cast<long long>(N));
  if (n < t.advance_target) PetscFunctionReturn(0);
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
  PetscCheck(!ts->forward_solve, comm_of(tj), PETSC_ERR_SUP,
             "cairn: second-order adjoints (TSAdjointSetForward) need the tangent linear "
             "sensitivities of every step, which this trajectory does not checkpoint; use "
             "-ts_trajectory_type memory for them");
  if (stepnum == 0) {
    // A new forward run (TSSolve again without an adjoint in between): start over.
    t.phase = Phase::forward;
    t.times.clear();
    t.step_sizes.clear();
    t.has_pending = false;
    t.advance_target = 0;
    if (t.schedule && !t.online) t.schedule->reset();
    if (t.online) t.planned_steps = -1;
  }
  PetscCheck(t.phase == Phase::forward, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectorySet at step %d after the forward run ended",
             static_cast<int>(stepnum));
  PetscCheck(static_cast<std::size_t>(stepnum) == t.times.size(), comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectorySet for step %d, expected step %d", static_cast<int>(stepnum),
             static_cast<int>(t.times.size()));
  t.times.push_back(time);
  t.step_sizes.push_back(ts->time_step);
  if (t.online) {
    PetscCall(SetOnline(tj, ts, stepnum, x));
  } else {
    PetscCall(SetOffline(tj, ts, stepnum, x));
  }
  PetscFunctionReturn(0);
}

// ---- get: the adjoint run ----

PetscErrorCode TSTrajectoryGet_Cairn(TSTrajectory tj, TS ts, PetscInt stepnum, PetscReal* time) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  if (stepnum == 0) {
    // After the last adjoint step: every step must have been reversed.
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
  PetscCheck(t.phase == Phase::reverse, comm_of(tj), PETSC_ERR_ORDER,
             "cairn: TSTrajectoryGet(%d) before the forward run ended", static_cast<int>(stepnum));
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
        PetscCall(Advance(tj, ts, a));
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
      case ActionKind::end:
        SETERRQ(comm_of(tj), PETSC_ERR_ORDER,
                "cairn: TSTrajectoryGet(%d) after every step was reversed",
                static_cast<int>(stepnum));
    }
  }
}

// ---- setup, options, view, reset, destroy ----

PetscErrorCode ResetRun(TSTrajectory tj) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCall(DestroyRam(t));
#ifdef CAIRN_PETSC_HAVE_HDF5
  t.disk_storage.reset();  // closes and removes the file (collective)
#endif
  t.disk.clear();
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

PetscErrorCode CheckOptions(TSTrajectory tj, const Options& o) {
  PetscFunctionBegin;
  PetscCheck(
      o.max_cps_ram == -1 || o.max_cps_ram >= 1 || (o.max_cps_ram == 0 && o.max_cps_disk > 0),
      comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
      "cairn: -ts_trajectory_max_cps_ram %lld is not allowed: give the number of checkpoints "
      "in RAM (at least 1; 0 only with disk checkpoints), or -1 (the default) to keep "
      "every step",
      static_cast<long long>(o.max_cps_ram));
  PetscCheck(o.max_cps_disk >= 0, comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
             "cairn: -ts_trajectory_max_cps_disk %lld is not allowed: give the number of "
             "checkpoints on disk (0, the default, for none)",
             static_cast<long long>(o.max_cps_disk));
  PetscCheck(
      std::isfinite(o.write_cost) && o.write_cost >= 0 && std::isfinite(o.read_cost) &&
          o.read_cost >= 0,
      comm_of(tj), PETSC_ERR_ARG_OUTOFRANGE,
      "cairn: -ts_trajectory_cairn_disk_write_cost %g and -ts_trajectory_cairn_disk_read_cost "
      "%g must be finite and >= 0 (the price of one checkpoint's write or read, in forward "
      "steps)",
      static_cast<double>(o.write_cost), static_cast<double>(o.read_cost));
#ifndef CAIRN_PETSC_HAVE_HDF5
  PetscCheck(o.max_cps_disk == 0, comm_of(tj), PETSC_ERR_SUP,
             "cairn: -ts_trajectory_max_cps_disk %lld needs the HDF5 disk level, and this "
             "libcairn_petsc was built without it (build Cairn with parallel HDF5: "
             "libhdf5-openmpi-dev)",
             static_cast<long long>(o.max_cps_disk));
#endif
  PetscFunctionReturn(0);
}

// A checkpoint count, read as text and parsed here into 64 bits. PetscOptionsInt parses into
// PetscInt, 32 bits in Debian's PETSc, and wraps what does not fit: 4294967298 ran with 2
// checkpoints and 2^63 - 1 became -1, "keep every step".
PetscErrorCode OptionCount(TSTrajectory tj, PetscOptionItems* PetscOptionsObject, const char* name,
                           const char* help, const char* manual, std::int64_t* value) {
  PetscFunctionBegin;
  char text[64];
  std::snprintf(text, sizeof text, "%lld", static_cast<long long>(*value));
  PetscBool given = PETSC_FALSE;
  PetscCall(PetscOptionsString(name, help, manual, text, text, sizeof text, &given));
  if (given) {
    errno = 0;
    char* end = nullptr;
    const long long parsed = std::strtoll(text, &end, 10);
    PetscCheck(end != text && *end == '\0' && errno == 0, comm_of(tj), PETSC_ERR_ARG_WRONG,
               "cairn: %s %s is not allowed: give a whole number from -1 to %lld", name, text,
               static_cast<long long>(std::numeric_limits<std::int64_t>::max()));
    *value = parsed;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode TSTrajectorySetFromOptions_Cairn(TSTrajectory tj,
                                                PetscOptionItems* PetscOptionsObject) {
  Options& o = data(tj).options;
  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Cairn checkpointing trajectory options");
  PetscCall(OptionCount(tj, PetscOptionsObject, "-ts_trajectory_max_cps_ram",
                        "Checkpoints in RAM (-1: every step)", "TSTrajectorySetMaxCpsRAM",
                        &o.max_cps_ram));
  PetscCall(OptionCount(tj, PetscOptionsObject, "-ts_trajectory_max_cps_disk",
                        "Checkpoints on disk (HDF5)", "TSTrajectorySetMaxCpsDisk",
                        &o.max_cps_disk));
  PetscCall(PetscOptionsBool("-ts_trajectory_cairn_online",
                             "Use the online schedule even when the step count is known", "",
                             o.force_online, &o.force_online, nullptr));
  PetscCall(PetscOptionsReal("-ts_trajectory_cairn_disk_write_cost",
                             "Price of writing one checkpoint to disk, in forward steps", "",
                             o.write_cost, &o.write_cost, nullptr));
  PetscCall(PetscOptionsReal("-ts_trajectory_cairn_disk_read_cost",
                             "Price of reading one checkpoint from disk, in forward steps", "",
                             o.read_cost, &o.read_cost, nullptr));
  char file[PETSC_MAX_PATH_LEN] = "";
  PetscBool given = PETSC_FALSE;
  PetscCall(
      PetscOptionsString("-ts_trajectory_cairn_disk_file",
                         "The HDF5 file for disk checkpoints (default: a new file in $TMPDIR)", "",
                         file, file, sizeof file, &given));
  if (given) o.disk_file = file;
  PetscOptionsHeadEnd();
  PetscCall(CheckOptions(tj, o));
  PetscFunctionReturn(0);
}

// The step count when it is known before the run: fixed steps and -ts_max_steps reached before
// -ts_max_time. A count derived from max_time / dt alone is not trusted: rounding and
// TS_EXACTFINALTIME_MATCHSTEP can add or drop a step.
PetscErrorCode KnownStepCount(TS ts, std::int64_t* steps, std::string* why_not) {
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
  if (ts->max_steps >= PETSC_MAX_INT || ts->max_steps <= 0) {
    *why_not = "no -ts_max_steps";
    PetscFunctionReturn(0);
  }
  const double span = static_cast<double>(ts->max_time - ts->ptime);
  const double reach =
      static_cast<double>(ts->max_steps - ts->steps) * static_cast<double>(ts->time_step);
  if (!(reach < span * (1 - 1e-9))) {
    *why_not = "-ts_max_time may end the run before -ts_max_steps";
    PetscFunctionReturn(0);
  }
  *steps = ts->max_steps - ts->steps;
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
  PetscCheck(!ts->event, comm_of(tj), PETSC_ERR_SUP,
             "cairn: TS events (TSSetEventHandler) are not supported with the cairn trajectory");
  PetscCall(ResetRun(tj));
  t.counters = Counters{};
  t.keep_stages = !tj->solution_only;
  PetscCall(TSGetStages(ts, &t.stage_count, PETSC_IGNORE));

  std::int64_t steps = -1;
  t.why_online.clear();
  t.kind.clear();
  t.planned_forward = -1;
  PetscCall(KnownStepCount(ts, &steps, &t.why_online));
  if (o.force_online) {
    steps = -1;
    t.why_online = "-ts_trajectory_cairn_online";
  }
  try {
    if (steps < 0) {
      PetscCheck(o.max_cps_ram >= 1, comm_of(tj), PETSC_ERR_ARG_INCOMP,
                 "cairn: the number of steps is not known before the run (%s), so the online "
                 "schedule is used, and it needs -ts_trajectory_max_cps_ram C >= 1 (or use "
                 "-ts_trajectory_type memory to keep every step)",
                 t.why_online.c_str());
      PetscCheck(o.max_cps_disk == 0, comm_of(tj), PETSC_ERR_SUP,
                 "cairn: disk checkpoints need the number of steps before the run (%s): give "
                 "-ts_max_steps with fixed steps, or drop -ts_trajectory_max_cps_disk",
                 t.why_online.c_str());
      auto online = std::make_unique<cairn::OnlineRevolve>(o.max_cps_ram);
      t.online = online.get();
      t.schedule = std::move(online);
      t.ram_slots = o.max_cps_ram;
      t.disk_slots = 0;
      t.kind = "online";
    } else if (o.max_cps_ram == -1 || o.max_cps_disk == 0 || o.max_cps_ram >= steps) {
      t.ram_slots = o.max_cps_ram == -1 ? steps : std::min<std::int64_t>(o.max_cps_ram, steps);
      t.disk_slots = 0;
      auto revolve = std::make_unique<cairn::Revolve>(steps, t.ram_slots);
      t.planned_forward = revolve->forward_steps();
      t.kind = "revolve";
      t.schedule = std::move(revolve);
    } else {
      t.ram_slots = o.max_cps_ram;
      t.disk_slots = std::min<std::int64_t>(o.max_cps_disk, steps);
      auto multilevel = std::make_unique<cairn::MultilevelRevolve>(
          steps,
          std::vector<cairn::StorageLevel>{{t.ram_slots, 0, 0},
                                           {t.disk_slots, o.write_cost, o.read_cost}},
          cairn::StepCosts{1, 0});
      std::int64_t forward = 0;
      for (Action a = multilevel->next(); a.kind != ActionKind::end; a = multilevel->next()) {
        if (a.kind == ActionKind::advance) forward += a.to - a.from();
      }
      multilevel->reset();
      t.planned_forward = forward;
      t.kind = "multilevel";
      t.schedule = std::move(multilevel);
    }
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_LIB, "cairn: cannot plan the schedule: %s", e.what());
  }
  t.planned_steps = steps;
  // Filled as slots are first used (StoreRam); reserved up front only up to a modest count.
  t.ram.assign(static_cast<std::size_t>(std::clamp<std::int64_t>(t.ram_slots, 0, 4096)), RamSlot{});

#ifdef CAIRN_PETSC_HAVE_HDF5
  if (t.disk_slots > 0) {
    PetscInt n = 0;
    PetscCall(VecGetLocalSize(ts->vec_sol, &n));
    const std::size_t slot_bytes = static_cast<std::size_t>(n) * sizeof(PetscScalar) *
                                   static_cast<std::size_t>(t.keep_stages ? t.stage_count + 1 : 1);
    cairn::Hdf5StorageOptions options;
    options.path = o.disk_file;
    options.keep_file = tj->keepfiles;
    // PETSc ends a failed run with MPI_Abort: only a file without a name is sure to go away.
    options.unlink_while_open = true;
    try {
      t.disk_storage = std::make_unique<cairn::Hdf5Storage>(
          comm_of(tj), t.disk_slots, std::max<std::size_t>(slot_bytes, 1), options);
    } catch (const std::exception& e) {
      SETERRQ(comm_of(tj), PETSC_ERR_FILE_OPEN, "cairn: cannot open the disk checkpoint file: %s",
              e.what());
    }
    t.disk.assign(static_cast<std::size_t>(t.disk_slots), DiskSlot{});
  }
#endif
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
  } else if (t.kind == "multilevel") {
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "  Cairn schedule: multilevel, %lld steps, %lld checkpoints in RAM and %lld on disk (write "
        "%g, read %g forward steps)\n",
        static_cast<long long>(t.planned_steps), static_cast<long long>(t.ram_slots),
        static_cast<long long>(t.disk_slots), static_cast<double>(t.options.write_cost),
        static_cast<double>(t.options.read_cost)));
  } else {
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "  Cairn schedule: revolve, %lld steps, %lld checkpoints in RAM\n",
        static_cast<long long>(t.planned_steps), static_cast<long long>(t.ram_slots)));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn checkpoint content: %s\n",
                                   t.keep_stages ? "solution and stages" : "solution only"));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  Cairn recomputed steps: %lld\n",
                                   static_cast<long long>(c.recomputed)));
  if (t.planned_forward >= 0) {
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

PetscErrorCode CairnTSTrajectoryRegister(void) {
  PetscFunctionBegin;
  PetscCall(TSTrajectoryRegister(TSTRAJECTORYCAIRN, TSTrajectoryCreate_Cairn));
  PetscFunctionReturn(0);
}

PetscErrorCode PetscDLLibraryRegister_cairn_petsc(void) {
  PetscFunctionBegin;
  PetscCall(CairnTSTrajectoryRegister());
  PetscFunctionReturn(0);
}
