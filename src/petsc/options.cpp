// The options of the cairn trajectory: read with PETSc's options database (counts as 64-bit
// integers parsed here), checked with messages that name the option and what is allowed.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "trajectory.hpp"

namespace cairn_petsc {
namespace {

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

}  // namespace

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
  PetscCall(PetscOptionsBool(
      "-ts_trajectory_cairn_stage_aware",
      "With -ts_trajectory_solution_only 0 and RAM only: plan which checkpoints hold a step's "
      "stages (MixedRevolve, in the memory of max_cps_ram checkpoints with stages); 0 keeps the "
      "stages with every checkpoint",
      "", o.stage_aware, &o.stage_aware, &o.stage_aware_given));
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

}  // namespace cairn_petsc
