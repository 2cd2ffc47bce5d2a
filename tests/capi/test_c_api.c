/* The C API from a C99 program (compiled as C, -std=c99 -pedantic): schedules, queries, the
 * driver with callbacks, an online run and the error messages. Prints "c api test passed". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cairn/cairn.h"

static int failures = 0;

#define EXPECT(condition)                                                     \
  do {                                                                        \
    if (!(condition)) {                                                       \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                             \
    }                                                                         \
  } while (0)

/* x_{i+1} = 2 x_i and J = x_T: lambda_0 = dJ/dx_0 = 2^T, exact in binary floating point. */
typedef struct doubling {
  double x, lambda;
  double slots[2][64]; /* two levels of 64 slots */
  int64_t working;     /* index of the working state, -1 if undefined */
  int fail_adjoint_at;
} doubling;

static int step(void* context, int64_t i) {
  doubling* d = context;
  if (d->working != i) return 1;
  d->x *= 2;
  d->working = i + 1;
  return 0;
}

static int adjoint_step(void* context, int64_t i) {
  doubling* d = context;
  if (d->working != i) return 1;
  if (i == d->fail_adjoint_at) return 42;
  d->lambda *= 2;
  d->working = -1;
  return 0;
}

static int store(void* context, int level, int64_t slot, int64_t i) {
  doubling* d = context;
  if (level < 0 || level > 1 || slot < 0 || slot >= 64 || d->working != i) return 1;
  d->slots[level][slot] = d->x;
  return 0;
}

static int restore(void* context, int level, int64_t slot, int64_t i) {
  doubling* d = context;
  if (level < 0 || level > 1 || slot < 0 || slot >= 64) return 1;
  d->x = d->slots[level][slot];
  d->working = i;
  return 0;
}

static int terminal(void* context, int64_t steps, int64_t working_step) {
  doubling* d = context;
  (void)steps;
  if (d->working != working_step) return 1;
  d->lambda = 1.0; /* dJ/dx_T */
  return 0;
}

static doubling start(void) {
  doubling d;
  memset(&d, 0, sizeof d);
  d.x = 1.0;
  d.fail_adjoint_at = -1;
  return d;
}

static double power_of_two(int64_t n) {
  double p = 1.0;
  for (int64_t i = 0; i < n; ++i) p *= 2;
  return p;
}

int main(void) {
  const cairn_callbacks callbacks = {step, adjoint_step, store, restore, NULL, terminal};
  cairn_schedule* schedule = NULL;
  cairn_driver_statistics s;
  int64_t value = 0;

  /* Revolve, T = 100, c = 3: r = 7, t = 490; the stream's advances add up to t. */
  EXPECT(cairn_revolve_create(100, 3, &schedule) == CAIRN_OK);
  EXPECT(cairn_schedule_repetitions(schedule, &value) == CAIRN_OK && value == 7);
  EXPECT(cairn_schedule_forward_steps(schedule, &value) == CAIRN_OK && value == 490);
  int64_t advanced = 0, reversed = 0;
  cairn_action action;
  do {
    EXPECT(cairn_schedule_next(schedule, &action) == CAIRN_OK);
    if (action.kind == CAIRN_ACTION_ADVANCE) advanced += action.to - action.step;
    if (action.kind == CAIRN_ACTION_REVERSE) ++reversed;
  } while (action.kind != CAIRN_ACTION_END);
  EXPECT(advanced == 490 && reversed == 100);

  doubling d = start();
  EXPECT(cairn_driver_run(schedule, &callbacks, &d, &s) == CAIRN_OK);
  EXPECT(d.lambda == power_of_two(100));
  EXPECT(s.step_calls == 490 && s.adjoint_calls == 100 && s.steps == 100);

  /* A callback that fails: the code, and a message naming it and the action. */
  d = start();
  d.fail_adjoint_at = 50;
  EXPECT(cairn_driver_run(schedule, &callbacks, &d, &s) == CAIRN_ERROR_CALLBACK);
  EXPECT(strcmp(cairn_last_error(),
                "cairn_driver_run: the adjoint_step callback returned 42 at reverse step 50; the "
                "run stopped") == 0);
  EXPECT(s.adjoint_calls == 49);
  EXPECT(cairn_schedule_destroy(schedule) == CAIRN_OK);

  /* Every schedule kind through the driver gives 2^T. */
  const cairn_storage_level levels[2] = {{2, 0.0, 0.0}, {CAIRN_UNLIMITED_SLOTS, 3.0, 3.0}};
  for (int kind = 0; kind < 5; ++kind) {
    const int64_t T = 37;
    int status = CAIRN_OK;
    schedule = NULL;
    switch (kind) {
      case CAIRN_SCHEDULE_REVOLVE:
        status = cairn_revolve_create(T, 4, &schedule);
        break;
      case CAIRN_SCHEDULE_MULTILEVEL:
        status = cairn_multilevel_create(T, levels, 2, 1.0, 1.0, &schedule);
        break;
      case CAIRN_SCHEDULE_UNIFORM:
        status = cairn_uniform_create(T, 6, &schedule);
        break;
      case CAIRN_SCHEDULE_STORE_ALL:
        status = cairn_store_all_create(T, &schedule);
        break;
      default:
        status = cairn_online_create(4, &schedule);
        break;
    }
    EXPECT(status == CAIRN_OK);
    int got_kind = -1;
    EXPECT(cairn_schedule_kind(schedule, &got_kind) == CAIRN_OK && got_kind == kind);
    d = start();
    if (kind == CAIRN_SCHEDULE_ONLINE) {
      EXPECT(cairn_driver_start(schedule, &callbacks, &d) == CAIRN_OK);
      for (int64_t i = 0; i < T; ++i) {
        EXPECT(cairn_driver_step(schedule, &callbacks, &d) == CAIRN_OK);
      }
      EXPECT(cairn_driver_finish(schedule, &callbacks, &d, &s) == CAIRN_OK);
    } else {
      EXPECT(cairn_driver_run(schedule, &callbacks, &d, &s) == CAIRN_OK);
    }
    EXPECT(d.lambda == power_of_two(T));
    EXPECT(s.adjoint_calls == T);
    cairn_schedule_destroy(schedule);
  }

  /* Bad arguments: the code, the message, and the result pointer left alone. */
  schedule = NULL;
  EXPECT(cairn_revolve_create(0, 3, &schedule) == CAIRN_ERROR_INVALID_ARGUMENT);
  EXPECT(schedule == NULL);
  EXPECT(strcmp(cairn_last_error(),
                "cairn_revolve_create: Revolve: steps = 0, slots = 3 is not "
                "allowed; both must be integers >= 1") == 0);
  EXPECT(cairn_schedule_next(NULL, &action) == CAIRN_ERROR_INVALID_ARGUMENT);
  EXPECT(strcmp(cairn_last_error(),
                "cairn_schedule_next: schedule is NULL; pass a valid pointer") == 0);

  int major = -1, minor = -1, patch = -1;
  EXPECT(cairn_version(&major, &minor, &patch) == CAIRN_OK && major >= 0 && minor >= 0);
  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c api test passed (Cairn %d.%d.%d)\n", major, minor, patch);
  return 0;
}
