static const char help[] =
    "2-D diffusion-reaction u_t = D (u_xx + u_yy) + r u (1 - u) on the periodic unit square "
    "(DMDA),\n"
    "with the adjoint gradient of J = 1/2 int u(T)^2 with respect to u(0), through "
    "TSAdjointSolve.\n"
    "The trajectory is whatever -ts_trajectory_type says: memory (PETSc's, every step) or cairn.\n"
    "Options:\n"
    "  -D <1e-4>             diffusion coefficient\n"
    "  -r <1>                reaction rate\n"
    "  -gradient_file <f>    write dJ/du(0) there (PETSc binary, no .info file) to compare runs\n"
    "  -solves <1>           make the forward run with that many TSSolve calls, each carrying on\n"
    "                        where the last stopped (then one TSAdjointSolve)\n"
    "  -da_grid_x/-da_grid_y <64> the grid; -ts_type rk -ts_rk_type 4 (default) or -ts_type cn\n";

/* This program does not know about Cairn: it is an ordinary TSAdjoint code. It links
 * libcairn_petsc only to register the type "cairn" without -dll_append (CairnTSTrajectoryRegister),
 * which shows the second way of loading the plugin; -dll_append works as well. */

#include <petscdmda.h>
#include <petscts.h>
#include <sys/resource.h>

#include "cairn/petsc_trajectory.h"

typedef struct {
  PetscReal D, r;
} AppCtx;

/* The diffusion weights D / hx^2 and D / hy^2 of the 5-point Laplacian on the unit square. */
static PetscErrorCode DiffusionWeights(TS ts, const AppCtx* app, DM* da, PetscReal* sx,
                                       PetscReal* sy) {
  PetscInt Mx, My;

  PetscFunctionBeginUser;
  PetscCall(TSGetDM(ts, da));
  PetscCall(
      DMDAGetInfo(*da, NULL, &Mx, &My, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  *sx = app->D * (PetscReal)(Mx * Mx);
  *sy = app->D * (PetscReal)(My * My);
  PetscFunctionReturn(0);
}

static PetscErrorCode RHSFunction(TS ts, PetscReal t, Vec U, Vec F, void* ptr) {
  AppCtx* app = (AppCtx*)ptr;
  DM da;
  Vec Ul;
  PetscInt i, j, xs, ys, xm, ym;
  PetscReal sx, sy;
  PetscScalar **u, **f;

  PetscFunctionBeginUser;
  (void)t;
  PetscCall(DiffusionWeights(ts, app, &da, &sx, &sy));
  PetscCall(DMGetLocalVector(da, &Ul));
  PetscCall(DMGlobalToLocalBegin(da, U, INSERT_VALUES, Ul));
  PetscCall(DMGlobalToLocalEnd(da, U, INSERT_VALUES, Ul));
  PetscCall(DMDAVecGetArrayRead(da, Ul, &u));
  PetscCall(DMDAVecGetArray(da, F, &f));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  for (j = ys; j < ys + ym; j++) {
    for (i = xs; i < xs + xm; i++) {
      const PetscScalar c = u[j][i];
      f[j][i] = sx * (u[j][i - 1] - 2 * c + u[j][i + 1]) +
                sy * (u[j - 1][i] - 2 * c + u[j + 1][i]) + app->r * c * (1 - c);
    }
  }
  PetscCall(DMDAVecRestoreArray(da, F, &f));
  PetscCall(DMDAVecRestoreArrayRead(da, Ul, &u));
  PetscCall(DMRestoreLocalVector(da, &Ul));
  PetscFunctionReturn(0);
}

static PetscErrorCode RHSJacobian(TS ts, PetscReal t, Vec U, Mat A, Mat B, void* ptr) {
  AppCtx* app = (AppCtx*)ptr;
  DM da;
  PetscInt i, j, xs, ys, xm, ym;
  PetscReal sx, sy;
  PetscScalar** u;

  PetscFunctionBeginUser;
  (void)t;
  PetscCall(DiffusionWeights(ts, app, &da, &sx, &sy));
  PetscCall(DMDAVecGetArrayRead(da, U, &u));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  for (j = ys; j < ys + ym; j++) {
    for (i = xs; i < xs + xm; i++) {
      MatStencil row = {0}, col[5] = {{0}};
      PetscScalar v[5];
      row.i = i;
      row.j = j;
      col[0].i = i - 1, col[0].j = j, v[0] = sx;
      col[1].i = i + 1, col[1].j = j, v[1] = sx;
      col[2].i = i, col[2].j = j - 1, v[2] = sy;
      col[3].i = i, col[3].j = j + 1, v[3] = sy;
      col[4].i = i, col[4].j = j, v[4] = -2 * sx - 2 * sy + app->r * (1 - 2 * u[j][i]);
      PetscCall(MatSetValuesStencil(B, 1, &row, 5, col, v, INSERT_VALUES));
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(da, U, &u));
  PetscCall(MatAssemblyBegin(B, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(B, MAT_FINAL_ASSEMBLY));
  if (A != B) {
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

/* A smooth bump on a background: u0 = 0.3 + 0.5 exp(-40 |x - (0.4, 0.6)|^2) + 0.05 sin(2 pi x)
 * cos(4 pi y). */
static PetscErrorCode FormInitialSolution(DM da, Vec U) {
  PetscInt i, j, xs, ys, xm, ym, Mx, My;
  PetscScalar** u;

  PetscFunctionBeginUser;
  PetscCall(
      DMDAGetInfo(da, NULL, &Mx, &My, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAVecGetArray(da, U, &u));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  for (j = ys; j < ys + ym; j++) {
    for (i = xs; i < xs + xm; i++) {
      const PetscReal x = (PetscReal)i / (PetscReal)Mx, y = (PetscReal)j / (PetscReal)My;
      const PetscReal d2 = (x - 0.4) * (x - 0.4) + (y - 0.6) * (y - 0.6);
      u[j][i] = 0.3 + 0.5 * PetscExpReal(-40 * d2) +
                0.05 * PetscSinReal(2 * PETSC_PI * x) * PetscCosReal(4 * PETSC_PI * y);
    }
  }
  PetscCall(DMDAVecRestoreArray(da, U, &u));
  PetscFunctionReturn(0);
}

int main(int argc, char** argv) {
  AppCtx app = {1e-4, 1};
  DM da;
  TS ts;
  Vec u, lambda;
  Mat J;
  PetscInt Mx, My, steps;
  PetscMPIInt size;
  PetscReal objective, norm, cell;
  PetscLogDouble t0, t1, t2;
  char file[PETSC_MAX_PATH_LEN] = "";
  PetscBool write_gradient = PETSC_FALSE;
  PetscInt solves = 1, max_steps, k;
  TSType type;
  struct rusage usage;
  double peak_mib, peak_mib_max;

  PetscFunctionBeginUser;
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(CairnTSTrajectoryRegister());
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-D", &app.D, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-r", &app.r, NULL));
  PetscCall(
      PetscOptionsGetString(NULL, NULL, "-gradient_file", file, sizeof file, &write_gradient));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-solves", &solves, NULL));
  PetscCheck(solves >= 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-solves %d is not allowed: give the number of TSSolve calls (at least 1)",
             (int)solves);

  PetscCall(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_PERIODIC, DM_BOUNDARY_PERIODIC,
                         DMDA_STENCIL_STAR, 64, 64, PETSC_DECIDE, PETSC_DECIDE, 1, 1, NULL, NULL,
                         &da));
  PetscCall(DMSetFromOptions(da));
  PetscCall(DMSetUp(da));
  PetscCall(
      DMDAGetInfo(da, NULL, &Mx, &My, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  cell = 1.0 / (PetscReal)(Mx * My);
  PetscCall(DMCreateGlobalVector(da, &u));
  PetscCall(VecDuplicate(u, &lambda));
  PetscCall(DMCreateMatrix(da, &J));

  PetscCall(TSCreate(PETSC_COMM_WORLD, &ts));
  PetscCall(TSSetDM(ts, da));
  PetscCall(TSSetProblemType(ts, TS_NONLINEAR));
  PetscCall(TSSetType(ts, TSRK));
  PetscCall(TSRKSetType(ts, TSRK4));
  PetscCall(TSSetRHSFunction(ts, NULL, RHSFunction, &app));
  PetscCall(TSSetRHSJacobian(ts, J, J, RHSJacobian, &app));
  PetscCall(TSSetTimeStep(ts, 0.01));
  PetscCall(TSSetMaxSteps(ts, 100));
  PetscCall(TSSetMaxTime(ts, 1e30)); /* -ts_max_steps decides the length of the run */
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetSaveTrajectory(ts));
  PetscCall(TSSetFromOptions(ts));
  PetscCall(FormInitialSolution(da, u));

  PetscCall(PetscTime(&t0));
  PetscCall(TSGetMaxSteps(ts, &max_steps));
  for (k = 1; k <= solves; k++) {
    /* Each call runs to its share of the steps; the step number carries on between calls. */
    PetscCall(TSSetMaxSteps(ts, max_steps * k / solves));
    PetscCall(TSSolve(ts, u));
  }
  PetscCall(PetscTime(&t1));
  PetscCall(TSGetStepNumber(ts, &steps));

  /* J = 1/2 sum u^2 |cell|, dJ/du(T) = u |cell| */
  PetscCall(VecNorm(u, NORM_2, &norm));
  objective = 0.5 * norm * norm * cell;
  PetscCall(VecCopy(u, lambda));
  PetscCall(VecScale(lambda, cell));
  PetscCall(TSSetCostGradients(ts, 1, &lambda, NULL));
  PetscCall(TSAdjointSolve(ts));
  PetscCall(PetscTime(&t2));

  PetscCall(VecNorm(lambda, NORM_2, &norm));
  getrusage(RUSAGE_SELF, &usage);
  peak_mib = (double)usage.ru_maxrss / 1024.0; /* Linux: KiB */
  PetscCallMPI(MPI_Allreduce(&peak_mib, &peak_mib_max, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(TSGetType(ts, &type));
  PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "{\"grid\":[%" PetscInt_FMT ",%" PetscInt_FMT
      "],\"ranks\":%d,\"ts\":\"%s\",\"steps\":%" PetscInt_FMT
      ",\"objective\":%.17g,\"gradient_norm\":%.17g,"
      "\"forward_seconds\":%.4f,\"adjoint_seconds\":%.4f,\"peak_rss_mib_max_rank\":%.1f}\n",
      Mx, My, (int)size, type, steps, (double)objective, (double)norm, t1 - t0, t2 - t1,
      peak_mib_max));

  if (write_gradient) {
    PetscViewer viewer;
    PetscCall(PetscViewerCreate(PETSC_COMM_WORLD, &viewer));
    PetscCall(PetscViewerSetType(viewer, PETSCVIEWERBINARY));
    PetscCall(PetscViewerBinarySetSkipInfo(viewer, PETSC_TRUE));
    PetscCall(PetscViewerFileSetMode(viewer, FILE_MODE_WRITE));
    PetscCall(PetscViewerFileSetName(viewer, file));
    PetscCall(VecView(lambda, viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  }

  PetscCall(TSDestroy(&ts));
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&lambda));
  PetscCall(VecDestroy(&u));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscFinalize());
  return 0;
}
