! Cairn for Fortran: the checkpointing schedules and the driver of the C API (include/cairn/cairn.h)
! as a Fortran 2008 module. Guide: docs/c_fortran.md.
!
! Every function returns an integer(c_int) status, CAIRN_OK (0) on success; after a failure,
! cairn_last_error() says what was wrong. Steps and slots are integer(c_int64_t) (= int64).
module cairn
  use, intrinsic :: iso_c_binding, only: c_int, c_int32_t, c_int64_t, c_double, c_size_t, &
                                         c_char, c_ptr, c_funptr, c_null_ptr, c_null_funptr, &
                                         c_associated, c_f_pointer, c_funloc
  implicit none
  private

  ! The C enums, with their values: status codes (enum cairn_status), action kinds (enum
  ! cairn_action_kind; cairn_action%kind holds one) and schedule kinds (enum cairn_schedule_kind).
  enum, bind(c)
    enumerator :: CAIRN_OK = 0, CAIRN_ERROR_INVALID_ARGUMENT, CAIRN_ERROR_CALLBACK, &
                  CAIRN_ERROR_OUT_OF_MEMORY, CAIRN_ERROR_STATE, CAIRN_ERROR_OVERFLOW, &
                  CAIRN_ERROR_INTERNAL
  end enum
  enum, bind(c)
    enumerator :: CAIRN_ACTION_ADVANCE = 0, CAIRN_ACTION_STORE, CAIRN_ACTION_RESTORE, &
                  CAIRN_ACTION_REVERSE, CAIRN_ACTION_FREE, CAIRN_ACTION_END, &
                  CAIRN_ACTION_STORE_ADJOINT, CAIRN_ACTION_REVERSE_STORED
  end enum
  enum, bind(c)
    enumerator :: CAIRN_SCHEDULE_REVOLVE = 0, CAIRN_SCHEDULE_ONLINE, CAIRN_SCHEDULE_MULTILEVEL, &
                  CAIRN_SCHEDULE_UNIFORM, CAIRN_SCHEDULE_STORE_ALL, CAIRN_SCHEDULE_HETEROGENEOUS, &
                  CAIRN_SCHEDULE_ONLINE_MULTILEVEL, CAIRN_SCHEDULE_TWO_LEVEL, CAIRN_SCHEDULE_MIXED
  end enum
  public :: CAIRN_OK, CAIRN_ERROR_INVALID_ARGUMENT, CAIRN_ERROR_CALLBACK, &
            CAIRN_ERROR_OUT_OF_MEMORY, CAIRN_ERROR_STATE, CAIRN_ERROR_OVERFLOW, &
            CAIRN_ERROR_INTERNAL, CAIRN_ACTION_ADVANCE, CAIRN_ACTION_STORE, CAIRN_ACTION_RESTORE, &
            CAIRN_ACTION_REVERSE, CAIRN_ACTION_FREE, CAIRN_ACTION_END, CAIRN_SCHEDULE_REVOLVE, &
            CAIRN_SCHEDULE_ONLINE, CAIRN_SCHEDULE_MULTILEVEL, CAIRN_SCHEDULE_UNIFORM, &
            CAIRN_SCHEDULE_STORE_ALL, CAIRN_SCHEDULE_HETEROGENEOUS, &
            CAIRN_SCHEDULE_ONLINE_MULTILEVEL, CAIRN_SCHEDULE_TWO_LEVEL, CAIRN_SCHEDULE_MIXED, &
            CAIRN_ACTION_STORE_ADJOINT, CAIRN_ACTION_REVERSE_STORED

  integer(c_int64_t), parameter, public :: CAIRN_UNLIMITED_SLOTS = huge(0_c_int64_t)

  ! One action. advance: step (= from), to; store/restore: slot, step, level; reverse: step;
  ! free: slot, level. Levels and slots count from 0, as in C.
  type, bind(c), public :: cairn_action
    integer(c_int32_t) :: kind
    integer(c_int32_t) :: level
    integer(c_int64_t) :: slot
    integer(c_int64_t) :: step
    integer(c_int64_t) :: to
  end type cairn_action

  type, bind(c), public :: cairn_storage_level
    integer(c_int64_t) :: slots
    real(c_double) :: write_cost
    real(c_double) :: read_cost
  end type cairn_storage_level

  ! One step of a heterogeneous chain: costs of its advance and reverse, size of its input state.
  type, bind(c), public :: cairn_chain_step
    real(c_double) :: forward_cost
    real(c_double) :: backward_cost
    integer(c_int64_t) :: state_bytes
  end type cairn_chain_step

  ! The C function pointers; make them with cairn_make_callbacks, which checks their interfaces.
  type, bind(c), public :: cairn_callbacks
    type(c_funptr) :: step = c_null_funptr
    type(c_funptr) :: adjoint_step = c_null_funptr
    type(c_funptr) :: store = c_null_funptr
    type(c_funptr) :: restore = c_null_funptr
    type(c_funptr) :: free_slot = c_null_funptr
    type(c_funptr) :: terminal = c_null_funptr
  end type cairn_callbacks

  type, bind(c), public :: cairn_driver_statistics
    integer(c_int64_t) :: actions = 0
    integer(c_int64_t) :: step_calls = 0
    integer(c_int64_t) :: adjoint_calls = 0
    integer(c_int64_t) :: stores = 0
    integer(c_int64_t) :: restores = 0
    integer(c_int64_t) :: frees = 0
    integer(c_int64_t) :: steps = 0
  end type cairn_driver_statistics

  ! What cairn_online_advanced points at when there is nothing to do.
  type(cairn_action), target, save :: empty_actions(0)

  ! A schedule handle: null until a cairn_*_create function succeeds.
  type, public :: cairn_schedule
    type(c_ptr) :: handle = c_null_ptr
  end type cairn_schedule

  ! The callbacks' interfaces: bind(c) functions returning 0 on success. `context` is what you
  ! gave the driver (c_loc of your data; c_f_pointer gets it back).
  abstract interface
    integer(c_int) function cairn_step_callback(context, step) bind(c)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: context
      integer(c_int64_t), value :: step
    end function cairn_step_callback
    integer(c_int) function cairn_slot_callback(context, level, slot, step) bind(c)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: context
      integer(c_int), value :: level
      integer(c_int64_t), value :: slot, step
    end function cairn_slot_callback
    integer(c_int) function cairn_free_callback(context, level, slot) bind(c)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: context
      integer(c_int), value :: level
      integer(c_int64_t), value :: slot
    end function cairn_free_callback
    integer(c_int) function cairn_terminal_callback(context, steps, working_step) bind(c)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: context
      integer(c_int64_t), value :: steps, working_step
    end function cairn_terminal_callback
  end interface
  public :: cairn_step_callback, cairn_slot_callback, cairn_free_callback, &
            cairn_terminal_callback

  public :: cairn_heterogeneous_create, cairn_heterogeneous_optimal_cost, &
            cairn_heterogeneous_peak_bytes
  public :: cairn_online_multilevel_create, cairn_two_level_create, cairn_mixed_create
  public :: cairn_revolve_create, cairn_online_create, cairn_multilevel_create, &
            cairn_uniform_create, cairn_store_all_create, cairn_schedule_destroy, &
            cairn_schedule_next, cairn_schedule_next_actions, cairn_schedule_reset, &
            cairn_schedule_kind, cairn_schedule_name, cairn_schedule_steps, &
            cairn_schedule_levels, cairn_schedule_slots, cairn_schedule_forward_steps, &
            cairn_schedule_repetitions, cairn_multilevel_optimal_cost, cairn_repetitions, &
            cairn_forward_cost, cairn_online_start, cairn_online_advanced, cairn_online_finish, &
            cairn_make_callbacks, cairn_driver_run, cairn_driver_start, cairn_driver_step, &
            cairn_driver_finish, cairn_last_error, cairn_version, cairn_status_name

  ! Shapes shared by several C functions (bound to their names below).
  abstract interface
    integer(c_int) function c_create_2(steps, slots, schedule) bind(c)
      import :: c_int, c_int64_t, c_ptr
      integer(c_int64_t), value :: steps, slots
      type(c_ptr), intent(out) :: schedule
    end function c_create_2
    integer(c_int) function c_create_1(count, schedule) bind(c)
      import :: c_int, c_int64_t, c_ptr
      integer(c_int64_t), value :: count
      type(c_ptr), intent(out) :: schedule
    end function c_create_1
    integer(c_int) function c_schedule_action(schedule, action) bind(c)
      import :: c_int, c_ptr, cairn_action
      type(c_ptr), value :: schedule
      type(cairn_action), intent(out) :: action
    end function c_schedule_action
    integer(c_int) function c_schedule_call(schedule) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: schedule
    end function c_schedule_call
    integer(c_int) function c_driver_call(schedule, callbacks, context) bind(c)
      import :: c_int, c_ptr, cairn_callbacks
      type(c_ptr), value :: schedule
      type(cairn_callbacks), intent(in) :: callbacks
      type(c_ptr), value :: context
    end function c_driver_call
    integer(c_int) function c_driver_run_call(schedule, callbacks, context, statistics) bind(c)
      import :: c_int, c_ptr, cairn_callbacks, cairn_driver_statistics
      type(c_ptr), value :: schedule
      type(cairn_callbacks), intent(in) :: callbacks
      type(c_ptr), value :: context
      type(cairn_driver_statistics), intent(out) :: statistics
    end function c_driver_run_call
    integer(c_int) function c_binomial(steps, slots, value) bind(c)
      import :: c_int, c_int64_t
      integer(c_int64_t), value :: steps, slots
      integer(c_int64_t), intent(out) :: value
    end function c_binomial
    integer(c_int) function c_schedule_int(schedule, value) bind(c)
      import :: c_int, c_ptr
      type(c_ptr), value :: schedule
      integer(c_int), intent(out) :: value
    end function c_schedule_int
    integer(c_int) function c_schedule_int64(schedule, value) bind(c)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: schedule
      integer(c_int64_t), intent(out) :: value
    end function c_schedule_int64
    integer(c_int) function c_schedule_double(schedule, value) bind(c)
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: schedule
      real(c_double), intent(out) :: value
    end function c_schedule_double
  end interface

  ! ---- the C functions ----
  interface
    integer(c_int) function c_multilevel_create(steps, levels, level_count, forward_cost, &
                                                backward_cost, schedule) &
        bind(c, name="cairn_multilevel_create")
      import :: c_int, c_int64_t, c_double, c_ptr, cairn_storage_level
      integer(c_int64_t), value :: steps
      type(cairn_storage_level), intent(in) :: levels(*)
      integer(c_int), value :: level_count
      real(c_double), value :: forward_cost, backward_cost
      type(c_ptr), intent(out) :: schedule
    end function c_multilevel_create
    integer(c_int) function c_two_level_create(steps, ram, disk, forward_cost, backward_cost, &
                                               schedule) bind(c, name="cairn_two_level_create")
      import :: c_int, c_int64_t, c_double, c_ptr, cairn_storage_level
      integer(c_int64_t), value :: steps
      type(cairn_storage_level), value :: ram, disk
      real(c_double), value :: forward_cost, backward_cost
      type(c_ptr), intent(out) :: schedule
    end function c_two_level_create
    integer(c_int) function c_mixed_create(steps, units, adjoint_units, forward_cost, &
                                           taped_cost, backward_cost, schedule) &
        bind(c, name="cairn_mixed_create")
      import :: c_int, c_int64_t, c_double, c_ptr
      integer(c_int64_t), value :: steps, units, adjoint_units
      real(c_double), value :: forward_cost, taped_cost, backward_cost
      type(c_ptr), intent(out) :: schedule
    end function c_mixed_create
    integer(c_int) function c_online_multilevel_create(ram_slots, disk_slots, write_cost, &
                                                       read_cost, schedule) &
        bind(c, name="cairn_online_multilevel_create")
      import :: c_int, c_int64_t, c_double, c_ptr
      integer(c_int64_t), value :: ram_slots, disk_slots
      real(c_double), value :: write_cost, read_cost
      type(c_ptr), intent(out) :: schedule
    end function c_online_multilevel_create
    integer(c_int) function c_heterogeneous_create(chain, steps, budget_bytes, memory_unit, &
                                                   schedule) bind(c, name="cairn_heterogeneous_create")
      import :: c_int, c_int64_t, c_ptr, cairn_chain_step
      type(cairn_chain_step), intent(in) :: chain(*)
      integer(c_int64_t), value :: steps, budget_bytes, memory_unit
      type(c_ptr), intent(out) :: schedule
    end function c_heterogeneous_create
    integer(c_int) function c_schedule_next_actions(schedule, actions, capacity, count) &
        bind(c, name="cairn_schedule_next_actions")
      import :: c_int, c_ptr, c_size_t, cairn_action
      type(c_ptr), value :: schedule
      type(cairn_action), intent(inout) :: actions(*)
      integer(c_size_t), value :: capacity
      integer(c_size_t), intent(out) :: count
    end function c_schedule_next_actions
    integer(c_int) function c_schedule_name(schedule, name) bind(c, name="cairn_schedule_name")
      import :: c_int, c_ptr
      type(c_ptr), value :: schedule
      type(c_ptr), intent(out) :: name
    end function c_schedule_name
    integer(c_int) function c_schedule_slots(schedule, level, slots) &
        bind(c, name="cairn_schedule_slots")
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: schedule
      integer(c_int), value :: level
      integer(c_int64_t), intent(out) :: slots
    end function c_schedule_slots
    integer(c_int) function c_online_advanced(schedule, actions, count) &
        bind(c, name="cairn_online_advanced")
      import :: c_int, c_ptr, c_size_t
      type(c_ptr), value :: schedule
      type(c_ptr), intent(out) :: actions
      integer(c_size_t), intent(out) :: count
    end function c_online_advanced
    type(c_ptr) function c_last_error() bind(c, name="cairn_last_error")
      import :: c_ptr
    end function c_last_error
    integer(c_int) function c_version(major, minor, patch) bind(c, name="cairn_version")
      import :: c_int
      integer(c_int), intent(out) :: major, minor, patch
    end function c_version
    type(c_ptr) function c_status_name(status) bind(c, name="cairn_status_name")
      import :: c_int, c_ptr
      integer(c_int), value :: status
    end function c_status_name
    integer(c_size_t) function c_strlen(string) bind(c, name="strlen")
      import :: c_size_t, c_ptr
      type(c_ptr), value :: string
    end function c_strlen
  end interface

  ! The C functions of one shape share an interface; these bind its names.
  procedure(c_create_2), bind(c, name="cairn_revolve_create") :: c_revolve_create
  procedure(c_create_2), bind(c, name="cairn_uniform_create") :: c_uniform_create
  procedure(c_create_1), bind(c, name="cairn_online_create") :: c_online_create
  procedure(c_create_1), bind(c, name="cairn_store_all_create") :: c_store_all_create
  procedure(c_schedule_action), bind(c, name="cairn_schedule_next") :: c_schedule_next
  procedure(c_schedule_action), bind(c, name="cairn_online_start") :: c_online_start
  procedure(c_schedule_call), bind(c, name="cairn_schedule_destroy") :: c_schedule_destroy
  procedure(c_schedule_call), bind(c, name="cairn_schedule_reset") :: c_schedule_reset
  procedure(c_schedule_call), bind(c, name="cairn_online_finish") :: c_online_finish
  procedure(c_driver_call), bind(c, name="cairn_driver_start") :: c_driver_start
  procedure(c_driver_call), bind(c, name="cairn_driver_step") :: c_driver_step
  procedure(c_driver_run_call), bind(c, name="cairn_driver_run") :: c_driver_run
  procedure(c_driver_run_call), bind(c, name="cairn_driver_finish") :: c_driver_finish
  procedure(c_schedule_int), bind(c, name="cairn_schedule_kind") :: c_schedule_kind
  procedure(c_schedule_int), bind(c, name="cairn_schedule_levels") :: c_schedule_levels
  procedure(c_schedule_int64), bind(c, name="cairn_schedule_steps") :: c_schedule_steps
  procedure(c_schedule_int64), bind(c, name="cairn_schedule_forward_steps") :: &
      c_schedule_forward_steps
  procedure(c_schedule_int64), bind(c, name="cairn_schedule_repetitions") :: &
      c_schedule_repetitions
  procedure(c_schedule_int64), bind(c, name="cairn_heterogeneous_peak_bytes") :: &
    c_heterogeneous_peak_bytes
  procedure(c_schedule_double), bind(c, name="cairn_multilevel_optimal_cost") :: &
    c_multilevel_optimal_cost
  procedure(c_schedule_double), bind(c, name="cairn_heterogeneous_optimal_cost") :: &
    c_heterogeneous_optimal_cost
  procedure(c_binomial), bind(c, name="cairn_repetitions") :: c_repetitions
  procedure(c_binomial), bind(c, name="cairn_forward_cost") :: c_forward_cost

contains

  ! ---- schedules ----

  ! Offline Revolve for steps >= 1 and slots >= 1 (x_0's included).
  integer(c_int) function cairn_revolve_create(schedule, steps, slots) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps, slots
    call release(schedule)
    status = c_revolve_create(steps, slots, schedule%handle)
  end function cairn_revolve_create

  ! Online checkpointing with slots >= 1: T is learnt at the end.
  integer(c_int) function cairn_online_create(schedule, slots) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: slots
    call release(schedule)
    status = c_online_create(slots, schedule%handle)
  end function cairn_online_create

  ! Online checkpointing over RAM (level 0) and disk (level 1): ram_slots >= 1, or 0 when
  ! disk_slots >= 1; disk_slots >= 0 or CAIRN_UNLIMITED_SLOTS; disk write and read prices >= 0.
  integer(c_int) function cairn_online_multilevel_create(schedule, ram_slots, disk_slots, &
                                                         write_cost, read_cost) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: ram_slots, disk_slots
    real(c_double), intent(in) :: write_cost, read_cost
    call release(schedule)
    status = c_online_multilevel_create(ram_slots, disk_slots, write_cost, read_cost, &
                                        schedule%handle)
  end function cairn_online_multilevel_create

  ! The cheapest schedule over levels(1:1) or levels(1:2), the fastest first.
  integer(c_int) function cairn_multilevel_create(schedule, steps, levels, forward_cost, &
                                                  backward_cost) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps
    type(cairn_storage_level), intent(in) :: levels(:)
    real(c_double), intent(in) :: forward_cost, backward_cost
    call release(schedule)
    status = c_multilevel_create(steps, levels, int(size(levels), c_int), forward_cost, &
                                 backward_cost, schedule%handle)
  end function cairn_multilevel_create

  ! RAM + disk for long runs (cairn::TwoLevelRevolve): any T planned in milliseconds.
  integer(c_int) function cairn_two_level_create(schedule, steps, ram, disk, forward_cost, &
                                                 backward_cost) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps
    type(cairn_storage_level), intent(in) :: ram, disk
    real(c_double), intent(in) :: forward_cost, backward_cost
    call release(schedule)
    status = c_two_level_create(steps, ram, disk, forward_cost, backward_cost, schedule%handle)
  end function cairn_two_level_create

  ! Mixed checkpointing (cairn::MixedRevolve): units holding states or adjoint data. Its stream
  ! has CAIRN_ACTION_STORE_ADJOINT and CAIRN_ACTION_REVERSE_STORED; read it with
  ! cairn_schedule_next (cairn_driver_run refuses it).
  integer(c_int) function cairn_mixed_create(schedule, steps, units, adjoint_units, forward_cost, &
                                             taped_cost, backward_cost) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps, units, adjoint_units
    real(c_double), intent(in) :: forward_cost, taped_cost, backward_cost
    call release(schedule)
    status = c_mixed_create(steps, units, adjoint_units, forward_cost, taped_cost, &
                            backward_cost, schedule%handle)
  end function cairn_mixed_create

  ! A checkpoint every interval >= 1 steps.
  integer(c_int) function cairn_uniform_create(schedule, steps, interval) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps, interval
    call release(schedule)
    status = c_uniform_create(steps, interval, schedule%handle)
  end function cairn_uniform_create

  ! Every state kept.
  integer(c_int) function cairn_store_all_create(schedule, steps) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int64_t), intent(in) :: steps
    call release(schedule)
    status = c_store_all_create(steps, schedule%handle)
  end function cairn_store_all_create

  ! The cheapest nested schedule for chain(1:T) under budget_bytes (x_0's included); memory_unit 0:
  ! the greatest common divisor of the sizes.
  integer(c_int) function cairn_heterogeneous_create(schedule, chain, budget_bytes, memory_unit) &
      result(status)
    type(cairn_schedule), intent(inout) :: schedule
    type(cairn_chain_step), intent(in) :: chain(:)
    integer(c_int64_t), intent(in) :: budget_bytes, memory_unit
    call release(schedule)
    status = c_heterogeneous_create(chain, int(size(chain), c_int64_t), budget_bytes, &
                                    memory_unit, schedule%handle)
  end function cairn_heterogeneous_create

  integer(c_int) function cairn_heterogeneous_optimal_cost(schedule, cost) result(status)
    type(cairn_schedule), intent(in) :: schedule
    real(c_double), intent(out) :: cost
    status = c_heterogeneous_optimal_cost(schedule%handle, cost)
  end function cairn_heterogeneous_optimal_cost

  integer(c_int) function cairn_heterogeneous_peak_bytes(schedule, bytes) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int64_t), intent(out) :: bytes
    status = c_heterogeneous_peak_bytes(schedule%handle, bytes)
  end function cairn_heterogeneous_peak_bytes

  ! Every create frees what the handle holds first: creating into a live handle used to leak its
  ! schedule. (A copy of the handle made before then points at the freed schedule.)
  subroutine release(schedule)
    type(cairn_schedule), intent(inout) :: schedule
    integer(c_int) :: ignored
    ignored = cairn_schedule_destroy(schedule)  ! a null handle is fine; it is nulled
  end subroutine release

  ! Frees the schedule (a null one is fine) and nulls the handle.
  integer(c_int) function cairn_schedule_destroy(schedule) result(status)
    type(cairn_schedule), intent(inout) :: schedule
    status = c_schedule_destroy(schedule%handle)
    schedule%handle = c_null_ptr
  end function cairn_schedule_destroy

  integer(c_int) function cairn_schedule_next(schedule, action) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_action), intent(out) :: action
    status = c_schedule_next(schedule%handle, action)
  end function cairn_schedule_next

  ! Fills actions(1:count) with the next actions (count < size(actions) when `end` came).
  integer(c_int) function cairn_schedule_next_actions(schedule, actions, count) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_action), intent(inout), contiguous :: actions(:)
    integer(c_int64_t), intent(out) :: count
    integer(c_size_t) :: written
    written = 0
    status = c_schedule_next_actions(schedule%handle, actions, int(size(actions), c_size_t), &
                                     written)
    count = int(written, c_int64_t)
  end function cairn_schedule_next_actions

  integer(c_int) function cairn_schedule_reset(schedule) result(status)
    type(cairn_schedule), intent(in) :: schedule
    status = c_schedule_reset(schedule%handle)
  end function cairn_schedule_reset

  ! One of the CAIRN_SCHEDULE_* values.
  integer(c_int) function cairn_schedule_kind(schedule, kind) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int), intent(out) :: kind
    status = c_schedule_kind(schedule%handle, kind)
  end function cairn_schedule_kind

  ! "revolve", "online", "multilevel", "uniform", "store-all", "heterogeneous" or
  ! "online-multilevel".
  integer(c_int) function cairn_schedule_name(schedule, name) result(status)
    type(cairn_schedule), intent(in) :: schedule
    character(len=:), allocatable, intent(out) :: name
    type(c_ptr) :: text
    text = c_null_ptr
    status = c_schedule_name(schedule%handle, text)
    name = from_c_string(text)
  end function cairn_schedule_name

  ! T (for an online schedule, the steps made so far).
  integer(c_int) function cairn_schedule_steps(schedule, steps) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int64_t), intent(out) :: steps
    status = c_schedule_steps(schedule%handle, steps)
  end function cairn_schedule_steps

  ! Storage levels the actions use (1, 2 or 3).
  integer(c_int) function cairn_schedule_levels(schedule, levels) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int), intent(out) :: levels
    status = c_schedule_levels(schedule%handle, levels)
  end function cairn_schedule_levels

  ! Slots to provide on `level` (counted from 0): every slot index is below it.
  integer(c_int) function cairn_schedule_slots(schedule, level, slots) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int), intent(in) :: level
    integer(c_int64_t), intent(out) :: slots
    status = c_schedule_slots(schedule%handle, level, slots)
  end function cairn_schedule_slots

  ! Sum of the advances (Revolve: t(T, c); uniform; store-all).
  integer(c_int) function cairn_schedule_forward_steps(schedule, steps) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int64_t), intent(out) :: steps
    status = c_schedule_forward_steps(schedule%handle, steps)
  end function cairn_schedule_forward_steps

  ! r(T, c) of a Revolve schedule.
  integer(c_int) function cairn_schedule_repetitions(schedule, repetitions) result(status)
    type(cairn_schedule), intent(in) :: schedule
    integer(c_int64_t), intent(out) :: repetitions
    status = c_schedule_repetitions(schedule%handle, repetitions)
  end function cairn_schedule_repetitions

  integer(c_int) function cairn_multilevel_optimal_cost(schedule, cost) result(status)
    type(cairn_schedule), intent(in) :: schedule
    real(c_double), intent(out) :: cost
    status = c_multilevel_optimal_cost(schedule%handle, cost)
  end function cairn_multilevel_optimal_cost

  ! r(T, c) and t(T, c) without a schedule.
  integer(c_int) function cairn_repetitions(steps, slots, repetitions) result(status)
    integer(c_int64_t), intent(in) :: steps, slots
    integer(c_int64_t), intent(out) :: repetitions
    status = c_repetitions(steps, slots, repetitions)
  end function cairn_repetitions

  integer(c_int) function cairn_forward_cost(steps, slots, forward_steps) result(status)
    integer(c_int64_t), intent(in) :: steps, slots
    integer(c_int64_t), intent(out) :: forward_steps
    status = c_forward_cost(steps, slots, forward_steps)
  end function cairn_forward_cost

  ! ---- the online protocol ----

  ! The working state is x_0; `store_x0` is its store.
  integer(c_int) function cairn_online_start(schedule, store_x0) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_action), intent(out) :: store_x0
    status = c_online_start(schedule%handle, store_x0)
  end function cairn_online_start

  ! After a step: `actions` points at what to do now (frees, at most one store), valid until the
  ! next call on the schedule; size(actions) may be 0.
  integer(c_int) function cairn_online_advanced(schedule, actions) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_action), pointer, intent(out) :: actions(:)
    type(c_ptr) :: list
    integer(c_size_t) :: count
    list = c_null_ptr
    count = 0
    status = c_online_advanced(schedule%handle, list, count)
    if (status /= CAIRN_OK .or. .not. c_associated(list)) count = 0
    if (count > 0) then
      call c_f_pointer(list, actions, [count])
    else
      actions => empty_actions
    end if
  end function cairn_online_advanced

  ! T = the steps made; then cairn_schedule_next gives the reverse sweep.
  integer(c_int) function cairn_online_finish(schedule) result(status)
    type(cairn_schedule), intent(in) :: schedule
    status = c_online_finish(schedule%handle)
  end function cairn_online_finish

  ! ---- the driver ----

  ! The callbacks, with their interfaces checked by the compiler. free_slot is optional.
  function cairn_make_callbacks(step, adjoint_step, store, restore, terminal, free_slot) &
      result(callbacks)
    procedure(cairn_step_callback) :: step, adjoint_step
    procedure(cairn_slot_callback) :: store, restore
    procedure(cairn_terminal_callback) :: terminal
    procedure(cairn_free_callback), optional :: free_slot
    type(cairn_callbacks) :: callbacks
    callbacks%step = c_funloc(step)
    callbacks%adjoint_step = c_funloc(adjoint_step)
    callbacks%store = c_funloc(store)
    callbacks%restore = c_funloc(restore)
    callbacks%terminal = c_funloc(terminal)
    if (present(free_slot)) callbacks%free_slot = c_funloc(free_slot)
  end function cairn_make_callbacks

  ! One offline run; `context` is handed to every callback.
  integer(c_int) function cairn_driver_run(schedule, callbacks, context, statistics) &
      result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_callbacks), intent(in) :: callbacks
    type(c_ptr), intent(in) :: context
    type(cairn_driver_statistics), intent(out), optional :: statistics
    type(cairn_driver_statistics) :: counts
    status = c_driver_run(schedule%handle, callbacks, context, counts)
    if (present(statistics)) statistics = counts
  end function cairn_driver_run

  ! An online run: start (stores x_0), step as often as your loop wants, finish.
  integer(c_int) function cairn_driver_start(schedule, callbacks, context) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_callbacks), intent(in) :: callbacks
    type(c_ptr), intent(in) :: context
    status = c_driver_start(schedule%handle, callbacks, context)
  end function cairn_driver_start

  integer(c_int) function cairn_driver_step(schedule, callbacks, context) result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_callbacks), intent(in) :: callbacks
    type(c_ptr), intent(in) :: context
    status = c_driver_step(schedule%handle, callbacks, context)
  end function cairn_driver_step

  integer(c_int) function cairn_driver_finish(schedule, callbacks, context, statistics) &
      result(status)
    type(cairn_schedule), intent(in) :: schedule
    type(cairn_callbacks), intent(in) :: callbacks
    type(c_ptr), intent(in) :: context
    type(cairn_driver_statistics), intent(out), optional :: statistics
    type(cairn_driver_statistics) :: counts
    status = c_driver_finish(schedule%handle, callbacks, context, counts)
    if (present(statistics)) statistics = counts
  end function cairn_driver_finish

  ! ---- errors and version ----

  ! The message of this thread's last failed call ("" if none).
  function cairn_last_error() result(message)
    character(len=:), allocatable :: message
    message = from_c_string(c_last_error())
  end function cairn_last_error

  integer(c_int) function cairn_version(major, minor, patch) result(status)
    integer(c_int), intent(out) :: major, minor, patch
    status = c_version(major, minor, patch)
  end function cairn_version

  ! "CAIRN_OK", "CAIRN_ERROR_CALLBACK", ...
  function cairn_status_name(status) result(name)
    integer(c_int), intent(in) :: status
    character(len=:), allocatable :: name
    name = from_c_string(c_status_name(status))
  end function cairn_status_name

  ! A C string as a Fortran one ("" for NULL).
  function from_c_string(text) result(string)
    type(c_ptr), intent(in) :: text
    character(len=:), allocatable :: string
    character(kind=c_char), pointer :: chars(:)
    integer :: length, i
    if (.not. c_associated(text)) then
      string = ""
      return
    end if
    length = int(c_strlen(text))
    call c_f_pointer(text, chars, [length])
    allocate (character(len=length) :: string)
    do i = 1, length
      string(i:i) = chars(i)
    end do
  end function from_c_string

end module cairn
