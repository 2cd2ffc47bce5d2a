/* The PETSc TSTrajectory type "cairn": Cairn's checkpointing schedules behind TSAdjointSolve.
 *
 * Any PETSc program that computes an adjoint with TSAdjointSolve can use it without a change:
 *
 *     ./app -dll_append /path/to/libcairn_petsc.so -ts_trajectory_type cairn \
 *           -ts_trajectory_max_cps_ram 20 [-ts_trajectory_max_cps_disk 100]
 *
 * (PETSc calls PetscDLLibraryRegister_cairn_petsc() when it loads the library.) A program that
 * links libcairn_petsc instead calls CairnTSTrajectoryRegister() once after PetscInitialize() and
 * then selects the type with TSTrajectorySetType(tj, ts, TSTRAJECTORYCAIRN) or the option above.
 * docs/petsc.md lists the options and what they cost. C and C++ both include this header.
 */
#ifndef CAIRN_PETSC_TRAJECTORY_H
#define CAIRN_PETSC_TRAJECTORY_H

#include <petscts.h>

/* The type name given to TSTrajectorySetType() and -ts_trajectory_type. */
#define TSTRAJECTORYCAIRN "cairn"

/* Registers the type "cairn" with TSTrajectoryRegister(). Safe to call more than once; call it
 * after PetscInitialize(). Returns a PETSc error code. */
PETSC_EXTERN PetscErrorCode CairnTSTrajectoryRegister(void);

/* The entry point PETSc's dynamic loader calls for libcairn_petsc.so (-dll_append); it calls
 * CairnTSTrajectoryRegister(). */
PETSC_EXTERN PetscErrorCode PetscDLLibraryRegister_cairn_petsc(void);

#endif /* CAIRN_PETSC_TRAJECTORY_H */
