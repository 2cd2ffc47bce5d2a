// What a checkpoint of the cairn trajectory holds, and where: RAM slots of PETSc Vecs (and Mats),
// or slots of one HDF5 file through cairn::Hdf5Storage.
#include <algorithm>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <vector>

#include "trajectory.hpp"

namespace cairn_petsc {
namespace {

PetscErrorCode DenseLocalSize(Mat m, PetscInt* rows, PetscInt* columns) {
  PetscFunctionBegin;
  PetscCall(MatGetLocalSize(m, rows, nullptr));
  PetscCall(MatGetSize(m, nullptr, columns));
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
  // A stage-aware run counts every vector: a slot that held a record and now holds a solution
  // gives the stages' memory back.
  if (!with_stages && t.mixed && s.stages) PetscCall(VecDestroyVecs(t.stage_count, &s.stages));
  if (with_stages && t.stage_count > 0) {
    PetscInt count = 0;
    Vec* y = nullptr;
    PetscCall(TSGetStages(ts, &count, &y));
    if (!s.stages) PetscCall(VecDuplicateVecs(y[0], t.stage_count, &s.stages));
    for (PetscInt i = 0; i < t.stage_count; ++i) PetscCall(VecCopy(y[i], s.stages[i]));
    s.has_stages = true;
  }
  if (t.tlm) {
    if (s.tlm) {
      PetscCall(MatCopy(ts->mat_sensip, s.tlm, SAME_NONZERO_PATTERN));
    } else {
      PetscCall(MatDuplicate(ts->mat_sensip, MAT_COPY_VALUES, &s.tlm));
    }
  }
  s.step = step;
  PetscFunctionReturn(0);
}

#ifdef CAIRN_PETSC_HAVE_HDF5
// A checkpoint's bytes on this rank: the local part of x, then those of the stages if kept, then
// the local rows of the tangent linear sensitivities (column by column) for a second-order run.
struct LocalParts {
  std::vector<Vec> vectors;
  Mat tlm = nullptr;
};

void check(PetscErrorCode code, const char* what) {
  if (code) throw std::runtime_error(what);
}

void write_parts(const void* context, void* destination) {
  const auto& parts = *static_cast<const LocalParts*>(context);
  auto* out = static_cast<unsigned char*>(destination);
  for (Vec v : parts.vectors) {
    PetscInt n = 0;
    const PetscScalar* a = nullptr;
    check(VecGetLocalSize(v, &n) || VecGetArrayRead(v, &a), "VecGetArrayRead failed");
    std::memcpy(out, a, static_cast<std::size_t>(n) * sizeof(PetscScalar));
    out += static_cast<std::size_t>(n) * sizeof(PetscScalar);
    check(VecRestoreArrayRead(v, &a), "VecRestoreArrayRead failed");
  }
  if (parts.tlm) {
    PetscInt rows = 0, columns = 0, lda = 0;
    const PetscScalar* a = nullptr;
    check(DenseLocalSize(parts.tlm, &rows, &columns) || MatDenseGetLDA(parts.tlm, &lda) ||
              MatDenseGetArrayRead(parts.tlm, &a),
          "MatDenseGetArrayRead failed (second-order checkpoints need dense sensitivities)");
    for (PetscInt j = 0; j < columns; ++j) {
      std::memcpy(out, a + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda),
                  static_cast<std::size_t>(rows) * sizeof(PetscScalar));
      out += static_cast<std::size_t>(rows) * sizeof(PetscScalar);
    }
    check(MatDenseRestoreArrayRead(parts.tlm, &a), "MatDenseRestoreArrayRead failed");
  }
}

void read_parts(void* context, const void* source, std::size_t bytes) {
  auto& parts = *static_cast<LocalParts*>(context);
  const auto* in = static_cast<const unsigned char*>(source);
  std::size_t used = 0;
  auto take = [&](void* to, std::size_t b) {
    if (used + b > bytes)
      throw std::runtime_error("a disk checkpoint is shorter than what it restores");
    std::memcpy(to, in + used, b);
    used += b;
  };
  for (Vec v : parts.vectors) {
    PetscInt n = 0;
    PetscScalar* a = nullptr;
    check(VecGetLocalSize(v, &n) || VecGetArrayWrite(v, &a), "VecGetArrayWrite failed");
    take(a, static_cast<std::size_t>(n) * sizeof(PetscScalar));
    check(VecRestoreArrayWrite(v, &a), "VecRestoreArrayWrite failed");
  }
  if (parts.tlm) {
    PetscInt rows = 0, columns = 0, lda = 0;
    PetscScalar* a = nullptr;
    check(DenseLocalSize(parts.tlm, &rows, &columns) || MatDenseGetLDA(parts.tlm, &lda) ||
              MatDenseGetArrayWrite(parts.tlm, &a),
          "MatDenseGetArrayWrite failed");
    for (PetscInt j = 0; j < columns; ++j)
      take(a + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda),
           static_cast<std::size_t>(rows) * sizeof(PetscScalar));
    check(MatDenseRestoreArrayWrite(parts.tlm, &a), "MatDenseRestoreArrayWrite failed");
  }
}

PetscErrorCode PartsOf(Trajectory& t, TS ts, Vec x, bool with_stages, LocalParts* parts,
                       std::size_t* bytes) {
  PetscFunctionBegin;
  parts->vectors.push_back(x);
  if (with_stages) {
    PetscInt count = 0;
    Vec* y = nullptr;
    PetscCall(TSGetStages(ts, &count, &y));
    for (PetscInt i = 0; i < t.stage_count; ++i) parts->vectors.push_back(y[i]);
  }
  if (t.tlm) parts->tlm = ts->mat_sensip;
  *bytes = 0;
  for (Vec v : parts->vectors) {
    PetscInt n = 0;
    PetscCall(VecGetLocalSize(v, &n));
    *bytes += static_cast<std::size_t>(n) * sizeof(PetscScalar);
  }
  if (parts->tlm) {
    PetscInt rows = 0, columns = 0;
    PetscCall(DenseLocalSize(parts->tlm, &rows, &columns));
    *bytes +=
        static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns) * sizeof(PetscScalar);
  }
  PetscFunctionReturn(0);
}
#endif

PetscErrorCode StoreDisk(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t step, Vec x,
                         bool with_stages) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
#ifdef CAIRN_PETSC_HAVE_HDF5
  with_stages = with_stages && t.stage_count > 0;
  LocalParts parts;
  std::size_t bytes = 0;
  PetscCall(PartsOf(t, ts, x, with_stages, &parts, &bytes));
  const cairn::StateWriter writer{write_parts, &parts, bytes};
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
  LocalParts parts;
  std::size_t bytes = 0;
  PetscCall(PartsOf(t, ts, ts->vec_sol, with_stages, &parts, &bytes));
  const cairn::StateReader reader{read_parts, &parts};
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

}  // namespace

void SetClock(Trajectory& t, TS ts, std::int64_t step) {
  const auto k = static_cast<std::size_t>(step);
  ts->ptime = t.times[k];
  ts->ptime_prev = step > 0 ? t.times[k - 1] : t.times[k];
  ts->steps = static_cast<PetscInt>(step);
}

PetscErrorCode Store(TSTrajectory tj, TS ts, const Action& a, Vec x, bool stages_available,
                     bool force_stages) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  // A second-order adjoint recomputes every taped step (the TS's private tangent linear state of
  // the step must be that of this step), so stages are not worth their memory there.
  // A stage-aware plan says itself which checkpoints hold stages (force_stages: its records).
  const bool with_stages =
      ((t.keep_stages && !t.mixed) || force_stages) && stages_available && !t.tlm;
  // A store never loses what a slot knows about the same state (a plan that starts by storing a
  // segment's first state into the slot that holds it with its stages).
  const bool known =
      a.level == ram_level
          ? static_cast<std::size_t>(a.slot) < t.ram.size() &&
                t.ram[static_cast<std::size_t>(a.slot)].x &&
                t.ram[static_cast<std::size_t>(a.slot)].step == a.step &&
                (t.ram[static_cast<std::size_t>(a.slot)].has_stages || !with_stages)
          : static_cast<std::size_t>(a.slot) < t.disk.size() &&
                t.disk[static_cast<std::size_t>(a.slot)].step == a.step &&
                (t.disk[static_cast<std::size_t>(a.slot)].has_stages || !with_stages);
  if (known) {
    CAIRN_MONITOR(tj, "x_%lld is already in %s slot %lld", static_cast<long long>(a.step),
                  level_name(a.level == ram_level ? ram_level : disk_level),
                  static_cast<long long>(a.slot));
    PetscFunctionReturn(0);
  }
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
    if (t.tlm) PetscCall(MatCopy(s.tlm, ts->mat_sensip, SAME_NONZERO_PATTERN));
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

PetscErrorCode ServeFromSlot(TSTrajectory tj, TS ts, std::int64_t slot, std::int64_t n) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  PetscCheck(slot >= 0 && static_cast<std::size_t>(slot) < t.ram.size() &&
                 t.ram[static_cast<std::size_t>(slot)].step == n &&
                 t.ram[static_cast<std::size_t>(slot)].has_stages,
             comm_of(tj), PETSC_ERR_PLIB,
             "cairn: RAM slot %lld does not hold x_%lld with the stages of step %lld",
             static_cast<long long>(slot), static_cast<long long>(n),
             static_cast<long long>(n - 1));
  const RamSlot& s = t.ram[static_cast<std::size_t>(slot)];
  PetscInt count = 0;
  Vec* y = nullptr;
  PetscCall(TSGetStages(ts, &count, &y));
  PetscCall(VecCopy(s.x, ts->vec_sol));
  for (PetscInt k = 0; k < t.stage_count; ++k) PetscCall(VecCopy(s.stages[k], y[k]));
  t.counters.restores[ram_level]++;
  CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages from RAM slot %lld",
                static_cast<long long>(n - 1), static_cast<long long>(n),
                static_cast<long long>(slot));
  PetscFunctionReturn(0);
}

PetscErrorCode ServeFromStages(TSTrajectory tj, TS ts, std::int64_t n, bool* served) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
  *served = false;
  if (t.tlm) PetscFunctionReturn(0);
  for (std::size_t i = 0; i < t.ram.size() && !*served; ++i) {
    const RamSlot& s = t.ram[i];
    if (s.step != n || !s.has_stages) continue;
    PetscCall(ServeFromSlot(tj, ts, static_cast<std::int64_t>(i), n));
    *served = true;
  }
  for (std::size_t i = 0; i < t.disk.size() && !*served; ++i) {
    if (t.disk[i].step != n || !t.disk[i].has_stages) continue;
    PetscCall(LoadDisk(tj, ts, static_cast<std::int64_t>(i), n, true));
    t.counters.restores[disk_level]++;
    *served = true;
    CAIRN_MONITOR(tj, "reverse step %lld: x_%lld and its stages from disk slot %lld",
                  static_cast<long long>(n - 1), static_cast<long long>(n),
                  static_cast<long long>(i));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode OpenDisk(TSTrajectory tj, TS ts) {
  Trajectory& t = data(tj);
  PetscFunctionBegin;
#ifdef CAIRN_PETSC_HAVE_HDF5
  if (t.disk_slots <= 0) PetscFunctionReturn(0);
  LocalParts parts;
  std::size_t bytes = 0;
  PetscCall(
      PartsOf(t, ts, ts->vec_sol, t.keep_stages && !t.tlm && t.stage_count > 0, &parts, &bytes));
  bytes = std::max<std::size_t>(bytes, 1);
  if (t.disk_storage && t.disk_slot_bytes == bytes) PetscFunctionReturn(0);
  t.disk_storage.reset();  // a checkpoint grew (tangent linear sensitivities): a new file
  cairn::Hdf5StorageOptions options;
  options.path = t.options.disk_file;
  options.keep_file = tj->keepfiles;
  // PETSc ends a failed run with MPI_Abort: only a file without a name is sure to go away.
  options.unlink_while_open = true;
  try {
    t.disk_storage =
        std::make_unique<cairn::Hdf5Storage>(comm_of(tj), t.disk_slots, bytes, options);
  } catch (const std::exception& e) {
    SETERRQ(comm_of(tj), PETSC_ERR_FILE_OPEN, "cairn: cannot open the disk checkpoint file: %s",
            e.what());
  }
  t.disk_slot_bytes = bytes;
  t.disk.assign(static_cast<std::size_t>(t.disk_slots), DiskSlot{});
#else
  (void)ts, (void)t;
#endif
  PetscFunctionReturn(0);
}

PetscErrorCode DestroyCheckpoints(Trajectory& t) {
  PetscFunctionBegin;
  for (RamSlot& s : t.ram) {
    PetscCall(VecDestroy(&s.x));
    if (s.stages) PetscCall(VecDestroyVecs(t.stage_count, &s.stages));
    PetscCall(MatDestroy(&s.tlm));
  }
  t.ram.clear();
#ifdef CAIRN_PETSC_HAVE_HDF5
  t.disk_storage.reset();  // closes and removes the file (collective)
  t.disk_slot_bytes = 0;
#endif
  t.disk.clear();
  PetscFunctionReturn(0);
}

bool FindInitialState(const Trajectory& t, int* level, std::int64_t* slot) {
  for (std::size_t i = 0; i < t.ram.size(); ++i) {
    if (t.ram[i].x && t.ram[i].step == 0) {
      *level = ram_level;
      *slot = static_cast<std::int64_t>(i);
      return true;
    }
  }
  for (std::size_t i = 0; i < t.disk.size(); ++i) {
    if (t.disk[i].step == 0) {
      *level = disk_level;
      *slot = static_cast<std::int64_t>(i);
      return true;
    }
  }
  return false;
}

}  // namespace cairn_petsc
