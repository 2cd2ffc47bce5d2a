/* Built against an installed Cairn from C: Revolve's counts and a driven run of x_{i+1} = 2 x_i. */
#include <stdint.h>
#include <stdio.h>

#include "cairn/cairn.h"

typedef struct run {
  double x, lambda, slots[8];
} run;

static int step(void* c, int64_t i) {
  (void)i;
  ((run*)c)->x *= 2;
  return 0;
}
static int adjoint_step(void* c, int64_t i) {
  (void)i;
  ((run*)c)->lambda *= 2;
  return 0;
}
static int store(void* c, int level, int64_t slot, int64_t i) {
  (void)level;
  (void)i;
  ((run*)c)->slots[slot] = ((run*)c)->x;
  return 0;
}
static int restore(void* c, int level, int64_t slot, int64_t i) {
  (void)level;
  (void)i;
  ((run*)c)->x = ((run*)c)->slots[slot];
  return 0;
}
static int terminal(void* c, int64_t steps, int64_t working) {
  (void)steps;
  (void)working;
  ((run*)c)->lambda = 1;
  return 0;
}

int main(void) {
  cairn_schedule* schedule = NULL;
  int64_t r = 0, t = 0;
  if (cairn_revolve_create(100, 3, &schedule) != CAIRN_OK ||
      cairn_schedule_repetitions(schedule, &r) != CAIRN_OK ||
      cairn_schedule_forward_steps(schedule, &t) != CAIRN_OK) {
    fprintf(stderr, "%s\n", cairn_last_error());
    return 1;
  }
  const cairn_callbacks callbacks = {step, adjoint_step, store, restore, NULL, terminal};
  run state = {1.0, 0.0, {0}};
  const int status = cairn_driver_run(schedule, &callbacks, &state, NULL);
  cairn_schedule_destroy(schedule);
  printf("C consumer: r = %lld, t = %lld, status = %d, gradient = %g\n", (long long)r, (long long)t,
         status, state.lambda);
  return status == CAIRN_OK && r == 7 && t == 490 &&
                 state.lambda == 1267650600228229401496703205376.0
             ? 0
             : 1;
}
