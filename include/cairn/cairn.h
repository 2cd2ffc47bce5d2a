/* Cairn's C API: checkpointing schedules and a driver for C (and, through the module `cairn`,
 * Fortran) solvers. C99; usable from C++ too. Guide: docs/c_fortran.md.
 *
 * Conventions:
 *  - Every function returns an int status, CAIRN_OK (0) on success or one of enum cairn_status;
 *    results come back through pointer arguments, which are left untouched on failure.
 *  - After a failure, cairn_last_error() gives a message naming the function, what was wrong
 *    and what is allowed. The message is kept per thread.
 *  - No C++ exception ever leaves this API.
 *  - Handles (cairn_schedule*) are opaque; one handle must not be used by two threads at once,
 *    different handles may be used from different threads.
 *  - Integers that count steps or slots are int64_t. */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define CAIRN_C_API
#elif defined(__GNUC__) || defined(__clang__)
/* Exported even when the library is built with -fvisibility=hidden. */
#define CAIRN_C_API __attribute__((visibility("default")))
#else
#define CAIRN_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ---- */
enum cairn_status {
  CAIRN_OK = 0,
  CAIRN_ERROR_INVALID_ARGUMENT = 1, /* a bad value, a NULL pointer, an index out of range */
  CAIRN_ERROR_CALLBACK = 2,         /* a user callback returned nonzero; the run stopped */
  CAIRN_ERROR_OUT_OF_MEMORY = 3,    /* an allocation failed, or a table would exceed its limit */
  CAIRN_ERROR_STATE = 4,    /* a call out of order (e.g. next() of an unfinished online run) */
  CAIRN_ERROR_OVERFLOW = 5, /* a count exceeds 64-bit integers */
  CAIRN_ERROR_INTERNAL = 6  /* anything else: a bug in Cairn; the message says what */
};

/* ---- actions: the values equal cairn::ActionKind's (checked when the library is built) ---- */
enum cairn_action_kind {
  CAIRN_ACTION_ADVANCE = 0, /* run steps from..to-1 on the working state: x_from -> x_to */
  CAIRN_ACTION_STORE = 1,   /* copy the working state x_step into `slot` on `level` */
  CAIRN_ACTION_RESTORE = 2, /* make the working state x_step, read from `slot` on `level` */
  CAIRN_ACTION_REVERSE = 3, /* adjoint of step `step`, from the working state x_step */
  CAIRN_ACTION_FREE = 4,    /* `slot` on `level` will not be read again */
  CAIRN_ACTION_END = 5,     /* every step has been reversed */
  /* mixed schedules (cairn_mixed_create): run step `step` taped and keep its adjoint data in
   * `slot`, the working state becoming x_{step+1}; reverse step `step` from that data, which the
   * slot then no longer holds. */
  CAIRN_ACTION_STORE_ADJOINT = 6,
  CAIRN_ACTION_REVERSE_STORED = 7
};

/* One action. Fields used: advance: step (= from), to; store/restore: slot, step, level;
 * reverse: step; free: slot, level; end: none. Unused fields are zero. */
typedef struct cairn_action {
  int32_t kind; /* enum cairn_action_kind */
  int32_t level;
  int64_t slot;
  int64_t step; /* advance: the first state, `from` */
  int64_t to;   /* advance only: the state reached */
} cairn_action;

/* ---- schedules ---- */
typedef struct cairn_schedule cairn_schedule;

enum cairn_schedule_kind {
  CAIRN_SCHEDULE_REVOLVE = 0,
  CAIRN_SCHEDULE_ONLINE = 1,
  CAIRN_SCHEDULE_MULTILEVEL = 2,
  CAIRN_SCHEDULE_UNIFORM = 3,
  CAIRN_SCHEDULE_STORE_ALL = 4,
  CAIRN_SCHEDULE_HETEROGENEOUS = 5,
  CAIRN_SCHEDULE_ONLINE_MULTILEVEL = 6,
  CAIRN_SCHEDULE_TWO_LEVEL = 7,
  CAIRN_SCHEDULE_MIXED = 8
};

/* A slot count meaning "as many as the schedule wants" (the last level of a multilevel one). */
#define CAIRN_UNLIMITED_SLOTS INT64_MAX

/* A storage level of a multilevel schedule: slots, and the price of one store (write) and one
 * restore (read) in forward steps. */
typedef struct cairn_storage_level {
  int64_t slots;
  double write_cost;
  double read_cost;
} cairn_storage_level;

/* Offline Revolve for `steps` >= 1 steps and `slots` >= 1 slots (x_0's included). */
CAIRN_C_API int cairn_revolve_create(int64_t steps, int64_t slots, cairn_schedule** schedule);
/* Online checkpointing with `slots` >= 1 slots: T is learnt at the end (cairn_online_*). */
CAIRN_C_API int cairn_online_create(int64_t slots, cairn_schedule** schedule);
/* Online checkpointing over RAM (level 0) and disk (level 1): T is learnt at the end
 * (cairn_online_*, as cairn_online_create). `ram_slots` >= 1, or 0 when `disk_slots` >= 1;
 * `disk_slots` >= 0 or CAIRN_UNLIMITED_SLOTS (0: exactly cairn_online_create(ram_slots)); a disk
 * write and read cost `write_cost` and `read_cost` >= 0 forward steps (RAM is free). At most
 * ram_slots + disk_slots + 3 actions per cairn_online_advanced (ram_slots + 3 for an unlimited
 * disk). docs/online.md, "RAM and disk". */
CAIRN_C_API int cairn_online_multilevel_create(int64_t ram_slots, int64_t disk_slots,
                                               double write_cost, double read_cost,
                                               cairn_schedule** schedule);
/* The cheapest schedule over one, two or three storage levels (fastest first) with costs;
 * forward_cost > 0 and backward_cost >= 0 price a forward and an adjoint step. */
CAIRN_C_API int cairn_multilevel_create(int64_t steps, const cairn_storage_level* levels,
                                        int level_count, double forward_cost, double backward_cost,
                                        cairn_schedule** schedule);
/* RAM (level 0) + disk (level 1) for long runs (cairn::TwoLevelRevolve, docs/multilevel.md "Long
 * runs"): the same cost model as cairn_multilevel_create with two levels, planned in milliseconds
 * for any T with an unlimited disk, in O(T^2 (c0 + c1)) with a finite one; the stream is generated
 * as it is read. One reverse sweep (several sweeps from one forward run: C++ and Python). */
CAIRN_C_API int cairn_two_level_create(int64_t steps, cairn_storage_level ram,
                                       cairn_storage_level disk, double forward_cost,
                                       double backward_cost, cairn_schedule** schedule);
/* Mixed checkpointing (cairn::MixedRevolve, docs/mixed.md): `units` units of storage, each
 * holding a state or, with `adjoint_units` units each, one step's adjoint data; prices per
 * untaped step (forward_cost), taped step (taped_cost >= forward_cost) and adjoint step. Its
 * stream has CAIRN_ACTION_STORE_ADJOINT and CAIRN_ACTION_REVERSE_STORED actions: read it with
 * cairn_schedule_next_actions (cairn_driver_run refuses it). */
CAIRN_C_API int cairn_mixed_create(int64_t steps, int64_t units, int64_t adjoint_units,
                                   double forward_cost, double taped_cost, double backward_cost,
                                   cairn_schedule** schedule);
/* A checkpoint every `interval` >= 1 steps, each segment recomputed once. */
CAIRN_C_API int cairn_uniform_create(int64_t steps, int64_t interval, cairn_schedule** schedule);
/* Every state kept: steps - 1 slots, nothing recomputed. */
CAIRN_C_API int cairn_store_all_create(int64_t steps, cairn_schedule** schedule);

/* One step of a heterogeneous chain, x_i -> x_{i+1}: the cost of advancing over it (>= 0), of
 * its reverse action (>= 0), and the size in bytes of x_i (>= 1). */
typedef struct cairn_chain_step {
  double forward_cost;
  double backward_cost;
  int64_t state_bytes;
} cairn_chain_step;

/* The cheapest nested schedule for chain[0..steps) when the checkpoints held at once, x_0's
 * included, take at most budget_bytes (cairn::HeterogeneousRevolve; docs/schedules.md). Memory
 * is counted in units of memory_unit bytes (0: the greatest common divisor of the sizes, exact).
 * Planning takes O(T^2 M) to O(T^3 M) time for M = budget / unit; tables over 1 GiB are refused
 * with CAIRN_ERROR_OUT_OF_MEMORY and a message that gives their size. */
CAIRN_C_API int cairn_heterogeneous_create(const cairn_chain_step* chain, int64_t steps,
                                           int64_t budget_bytes, int64_t memory_unit,
                                           cairn_schedule** schedule);
/* Frees the handle; NULL is allowed and does nothing. */
CAIRN_C_API int cairn_schedule_destroy(cairn_schedule* schedule);

/* The next action; after `end` it keeps giving `end`. For an online schedule: the reverse sweep,
 * after cairn_online_finish. */
CAIRN_C_API int cairn_schedule_next(cairn_schedule* schedule, cairn_action* action);
/* Up to `capacity` next actions into actions[]; *count is how many (fewer when `end` came). */
CAIRN_C_API int cairn_schedule_next_actions(cairn_schedule* schedule, cairn_action* actions,
                                            size_t capacity, size_t* count);
/* Restarts the stream from its first action. */
CAIRN_C_API int cairn_schedule_reset(cairn_schedule* schedule);

/* enum cairn_schedule_kind of the handle. */
CAIRN_C_API int cairn_schedule_kind(const cairn_schedule* schedule, int* kind);
/* "revolve", "online", "multilevel", "uniform", "store-all", "heterogeneous",
 * "online-multilevel" or "two-level" (static). */
CAIRN_C_API int cairn_schedule_name(const cairn_schedule* schedule, const char** name);
/* T; for an online schedule, the steps made so far. */
CAIRN_C_API int cairn_schedule_steps(const cairn_schedule* schedule, int64_t* steps);
/* Number of storage levels the actions use (a multilevel schedule: 1, 2 or 3; an online
 * multilevel or two-level one: 2; others: 1). */
CAIRN_C_API int cairn_schedule_levels(const cairn_schedule* schedule, int* levels);
/* Slots to provide on `level` so that every action's slot index is below it. */
CAIRN_C_API int cairn_schedule_slots(const cairn_schedule* schedule, int level, int64_t* slots);
/* Forward steps (sum of the advances) of the whole stream: t(T, c) for Revolve; known in advance
 * for Revolve, uniform, store-all and two-level (CAIRN_ERROR_INVALID_ARGUMENT for the others). */
CAIRN_C_API int cairn_schedule_forward_steps(const cairn_schedule* schedule, int64_t* steps);
/* r(T, c) of a Revolve schedule: the most times one step is advanced. */
CAIRN_C_API int cairn_schedule_repetitions(const cairn_schedule* schedule, int64_t* repetitions);
/* The optimum of a multilevel or two-level schedule's cost model (what its stream costs). */
CAIRN_C_API int cairn_multilevel_optimal_cost(const cairn_schedule* schedule, double* cost);
/* A heterogeneous schedule's optimum: sum of forward_cost over its advances plus every
 * backward_cost; and the most bytes of checkpoints it holds at once (<= the budget). */
CAIRN_C_API int cairn_heterogeneous_optimal_cost(const cairn_schedule* schedule, double* cost);
CAIRN_C_API int cairn_heterogeneous_peak_bytes(const cairn_schedule* schedule, int64_t* bytes);

/* Binomial arithmetic without a schedule: r(T, c) and t(T, c) = r T - beta(c + 1, r - 1). */
CAIRN_C_API int cairn_repetitions(int64_t steps, int64_t slots, int64_t* repetitions);
CAIRN_C_API int cairn_forward_cost(int64_t steps, int64_t slots, int64_t* forward_steps);

/* ---- the online protocol (docs/online.md): your loop makes the steps ----
 *   cairn_online_start(s, &a)               the working state is x_0; `a` is its store
 *   after each step x_i -> x_{i+1}:
 *     cairn_online_advanced(s, &list, &n)   list[0..n) frees and at most one store to do now
 *   cairn_online_finish(s)                  T = the steps made; then cairn_schedule_next gives
 *                                           the reverse sweep, from the working state x_T */
CAIRN_C_API int cairn_online_start(cairn_schedule* schedule, cairn_action* store_x0);
/* *actions points into the handle: valid until the next call on it. n <= slots + 1. */
CAIRN_C_API int cairn_online_advanced(cairn_schedule* schedule, const cairn_action** actions,
                                      size_t* count);
CAIRN_C_API int cairn_online_finish(cairn_schedule* schedule);

/* ---- the driver: runs a schedule against your solver through callbacks ----
 * You own the states: a working state, your slots, and the adjoint lambda. Every callback gets
 * your `context` and returns 0 on success; any other value stops the run, which then returns
 * CAIRN_ERROR_CALLBACK with a message naming the callback, its return value and the action. */
typedef struct cairn_callbacks {
  /* Required. The working state is x_step; make it x_{step+1}. */
  int (*step)(void* context, int64_t step);
  /* Required. The working state is x_step; turn lambda_{step+1} into lambda_step. The working
   * state may be changed (the driver treats it as undefined afterwards). */
  int (*adjoint_step)(void* context, int64_t step);
  /* Required. Copy the working state x_step into `slot` of `level`. */
  int (*store)(void* context, int level, int64_t slot, int64_t step);
  /* Required. Copy `slot` of `level`, which holds x_step, into the working state. */
  int (*restore)(void* context, int level, int64_t slot, int64_t step);
  /* Optional (NULL: ignored). `slot` of `level` will not be read again. */
  int (*free_slot)(void* context, int level, int64_t slot);
  /* Required. Set lambda_T = dJ/dx_T, once per run, before the first adjoint step. The working
   * state is then x_{working_step}: x_{T-1} in cairn_driver_run (compute x_T = F(x_{T-1}) on a
   * copy and leave the working state as it is: the first adjoint step needs it), x_T in
   * cairn_driver_finish. `steps` is T. */
  int (*terminal)(void* context, int64_t steps, int64_t working_step);
} cairn_callbacks;

/* What a run did (the counts of cairn::DriverStatistics). step_calls counts the driver's calls
 * of `step` only: in cairn_driver_run, t(T, c) for Revolve (the C++ Driver's count is one more:
 * it makes the step to x_T itself, which here is yours, in `terminal`). */
typedef struct cairn_driver_statistics {
  int64_t actions;
  int64_t step_calls;
  int64_t adjoint_calls;
  int64_t stores;
  int64_t restores;
  int64_t frees;
  int64_t steps; /* T */
} cairn_driver_statistics;

/* One offline run: forward sweep from the working state x_0, terminal, reverse sweep. The
 * schedule restarts first. `statistics` may be NULL. Not for online schedules. */
CAIRN_C_API int cairn_driver_run(cairn_schedule* schedule, const cairn_callbacks* callbacks,
                                 void* context, cairn_driver_statistics* statistics);

/* An online run with your loop:
 *   cairn_driver_start(s, &cb, ctx);                stores x_0
 *   while (!done) cairn_driver_step(s, &cb, ctx);   one step, then the stores it asks for
 *   cairn_driver_finish(s, &cb, ctx, &stats);       terminal at x_T, then the reverse sweep
 * The counts of the statistics cover the whole run. */
CAIRN_C_API int cairn_driver_start(cairn_schedule* schedule, const cairn_callbacks* callbacks,
                                   void* context);
CAIRN_C_API int cairn_driver_step(cairn_schedule* schedule, const cairn_callbacks* callbacks,
                                  void* context);
CAIRN_C_API int cairn_driver_finish(cairn_schedule* schedule, const cairn_callbacks* callbacks,
                                    void* context, cairn_driver_statistics* statistics);

/* ---- errors and version ---- */
/* The message of this thread's last failed call ("" if none): valid until the next failing call
 * in the same thread. Never NULL. Successful calls leave it as it is. */
CAIRN_C_API const char* cairn_last_error(void);
/* The library's version (what it was built as, not this header). */
CAIRN_C_API int cairn_version(int* major, int* minor, int* patch);
/* The name of a status code, e.g. "CAIRN_ERROR_CALLBACK"; "unknown status" for others. */
CAIRN_C_API const char* cairn_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_CAIRN_H */
