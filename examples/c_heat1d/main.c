/* The gradient of J = 0.5 * sum(x_T^2) * dx with respect to the initial state of a 1-D viscous
 * Burgers run (the heat equation u_t = nu u_xx plus the convection (u^2/2)_x), by the discrete
 * adjoint, with checkpoints placed by Cairn's Revolve through the C API (docs/c_fortran.md).
 *
 *   c_heat1d [--steps T] [--grid N] [--slots C] [--gradient FILE]
 *
 * The same model, defaults and floating-point operations as examples/burgers1d (burgers.hpp), so
 * the gradient file is the same, bit for bit (tests/examples/run_c_fortran_examples.sh). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/cairn.h"

static const double kPi = 3.14159265358979323846;

/* Everything the callbacks need: the model, the working state, the slots and the adjoint. */
typedef struct problem {
  int64_t n;
  double dx, a, b;
  double* x;       /* the working state */
  double* slots;   /* slot k holds n values from slots + k n */
  double* lambda;  /* the adjoint */
  double* scratch; /* x_T, made by the terminal callback */
  double J;
} problem;

static double min_of(double x, double y) {
  return y < x ? y : x;
} /* as std::min */

/* u_i <- u_i - a (u_{i+1}^2 - u_{i-1}^2) + b (u_{i+1} - 2 u_i + u_{i-1}), periodic. */
static void burgers_step(double* u, int64_t n, double a, double b) {
  const double first = u[0];
  double left = u[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const double centre = u[i];
    const double right = i + 1 < n ? u[i + 1] : first;
    u[i] = centre - a * (right * right - left * left) + b * (right - 2.0 * centre + left);
    left = centre;
  }
}

static int step(void* context, int64_t i) {
  problem* p = context;
  (void)i;
  burgers_step(p->x, p->n, p->a, p->b);
  return 0;
}

/* lambda_j <- (1 - 2b) lambda_j + b (lambda_{j-1} + lambda_{j+1}) + 2 a u_j (lambda_{j+1} -
 * lambda_{j-1}), with u = x_i, the working state. */
static int adjoint_step(void* context, int64_t i) {
  problem* p = context;
  const double* u = p->x;
  double* lambda = p->lambda;
  const int64_t n = p->n;
  const double first = lambda[0];
  double left = lambda[n - 1];
  (void)i;
  for (int64_t j = 0; j < n; ++j) {
    const double centre = lambda[j];
    const double right = j + 1 < n ? lambda[j + 1] : first;
    lambda[j] =
        (1.0 - 2.0 * p->b) * centre + p->b * (left + right) + 2.0 * p->a * u[j] * (right - left);
    left = centre;
  }
  return 0;
}

static int store(void* context, int level, int64_t slot, int64_t i) {
  problem* p = context;
  (void)level;
  (void)i;
  memcpy(p->slots + slot * p->n, p->x, (size_t)p->n * sizeof(double));
  return 0;
}

static int restore(void* context, int level, int64_t slot, int64_t i) {
  problem* p = context;
  (void)level;
  (void)i;
  memcpy(p->x, p->slots + slot * p->n, (size_t)p->n * sizeof(double));
  return 0;
}

/* The working state is x_{T-1}: x_T = F(x_{T-1}) on a copy; lambda_T = dJ/dx_T = x_T dx. */
static int terminal(void* context, int64_t steps, int64_t working_step) {
  problem* p = context;
  double sum = 0.0;
  (void)steps;
  (void)working_step;
  memcpy(p->scratch, p->x, (size_t)p->n * sizeof(double));
  burgers_step(p->scratch, p->n, p->a, p->b);
  for (int64_t i = 0; i < p->n; ++i) sum += p->scratch[i] * p->scratch[i];
  p->J = 0.5 * sum * p->dx;
  for (int64_t i = 0; i < p->n; ++i) p->lambda[i] = p->scratch[i] * p->dx;
  return 0;
}

static int read_count(const char* option, const char* text, int64_t minimum, int64_t* value) {
  char* end = NULL;
  const long long parsed = strtoll(text, &end, 10);
  if (*text == '\0' || *end != '\0' || parsed < minimum) {
    fprintf(stderr, "c_heat1d: %s %s: need an integer >= %lld\n", option, text, (long long)minimum);
    return 0;
  }
  *value = parsed;
  return 1;
}

/* Reports a failed Cairn call with its message and returns the exit status. */
static int cairn_failed(const char* call, int status) {
  fprintf(stderr, "c_heat1d: %s failed (%s): %s\n", call, cairn_status_name(status),
          cairn_last_error());
  return 1;
}

int main(int argc, char** argv) {
  int64_t steps = 20000, grid = 4000, slots = 30;
  const char* gradient_file = NULL;
  for (int k = 1; k < argc; ++k) {
    const char* option = argv[k];
    const char* value = k + 1 < argc ? argv[k + 1] : NULL;
    int ok = value != NULL;
    if (ok && strcmp(option, "--steps") == 0) {
      ok = read_count(option, value, 1, &steps);
    } else if (ok && strcmp(option, "--grid") == 0) {
      ok = read_count(option, value, 3, &grid);
    } else if (ok && strcmp(option, "--slots") == 0) {
      ok = read_count(option, value, 1, &slots);
    } else if (ok && strcmp(option, "--gradient") == 0) {
      gradient_file = value;
    } else {
      ok = 0;
      fprintf(stderr, "usage: c_heat1d [--steps T] [--grid N] [--slots C] [--gradient FILE]\n");
    }
    if (!ok) return 2;
    ++k;
  }

  cairn_schedule* schedule = NULL;
  int status = cairn_revolve_create(steps, slots, &schedule);
  if (status != CAIRN_OK) return cairn_failed("cairn_revolve_create", status);
  int64_t slots_used = 0;
  cairn_schedule_slots(schedule, 0, &slots_used);

  problem p;
  const double nu = 0.05, u_max = 1.5;
  p.n = grid;
  p.dx = 2.0 * kPi / (double)grid;
  const double dt = 0.5 * min_of(p.dx * p.dx / (2.0 * nu), 2.0 * nu / (u_max * u_max));
  p.a = dt / (4.0 * p.dx);
  p.b = nu * dt / (p.dx * p.dx);
  p.J = 0;
  const size_t n = (size_t)grid;
  p.x = malloc(n * sizeof(double));
  p.lambda = malloc(n * sizeof(double));
  p.scratch = malloc(n * sizeof(double));
  p.slots = malloc((size_t)slots_used * n * sizeof(double));
  int exit_status = 0;
  if (p.x == NULL || p.lambda == NULL || p.scratch == NULL || p.slots == NULL) {
    fprintf(stderr, "c_heat1d: out of memory\n");
    exit_status = 1;
    goto done;
  }
  for (int64_t i = 0; i < grid; ++i) {
    p.x[i] = 0.5 + sin(2.0 * kPi * (double)i / (double)grid);
  }

  const cairn_callbacks callbacks = {step, adjoint_step, store, restore, NULL, terminal};
  cairn_driver_statistics s;
  status = cairn_driver_run(schedule, &callbacks, &p, &s);
  if (status != CAIRN_OK) {
    exit_status = cairn_failed("cairn_driver_run", status);
    goto done;
  }

  if (gradient_file != NULL) {
    FILE* out = fopen(gradient_file, "w");
    if (out == NULL) {
      fprintf(stderr, "c_heat1d: cannot write %s\n", gradient_file);
      exit_status = 1;
      goto done;
    }
    for (int64_t i = 0; i < grid; ++i) fprintf(out, "%.17g\n", p.lambda[i]);
    if (fclose(out) != 0) {
      fprintf(stderr, "c_heat1d: writing %s failed\n", gradient_file);
      exit_status = 1;
      goto done;
    }
  }
  double norm = 0;
  for (int64_t i = 0; i < grid; ++i) norm += p.lambda[i] * p.lambda[i];
  printf(
      "Burgers 1-D (C API): N = %lld points, T = %lld steps, dt = %.3g, Revolve with %lld slots\n",
      (long long)grid, (long long)steps, dt, (long long)slots_used);
  printf("J = %.17g, |dJ/dx0| = %.17g\n", p.J, sqrt(norm));
  printf(
      "%lld step calls in the driver (+1 in terminal), %lld adjoint calls, %lld stores, "
      "%lld restores\n",
      (long long)s.step_calls, (long long)s.adjoint_calls, (long long)s.stores,
      (long long)s.restores);

done:
  free(p.x);
  free(p.lambda);
  free(p.scratch);
  free(p.slots);
  cairn_schedule_destroy(schedule);
  return exit_status;
}
