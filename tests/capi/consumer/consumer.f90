! The minimal Fortran example of docs/c_fortran.md, built against an installed Cairn:
! x_{i+1} = 2 x_i, J = x_T, so dJ/dx_0 = 2^T; Revolve with T = 100 steps and 3 slots.
module doubling
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_double, c_ptr, c_f_pointer
  implicit none
  type :: run
    real(c_double) :: x = 1, lambda = 0, slots(0:2) = 0  ! working state, adjoint, 3 slots
  end type run
contains
  integer(c_int) function step(context, i) bind(c)  ! x_i -> x_{i+1}
    type(c_ptr), value :: context
    integer(c_int64_t), value :: i
    type(run), pointer :: r
    call c_f_pointer(context, r)
    r%x = 2*r%x
    step = merge(0, 1, i >= 0)  ! nonzero would stop the run
  end function step
  integer(c_int) function adjoint_step(context, i) bind(c)  ! lambda_{i+1} -> lambda_i
    type(c_ptr), value :: context
    integer(c_int64_t), value :: i
    type(run), pointer :: r
    call c_f_pointer(context, r)
    r%lambda = 2*r%lambda
    adjoint_step = merge(0, 1, i >= 0)
  end function adjoint_step
  integer(c_int) function store(context, level, slot, i) bind(c)  ! slot <- x_i
    type(c_ptr), value :: context
    integer(c_int), value :: level
    integer(c_int64_t), value :: slot, i
    type(run), pointer :: r
    call c_f_pointer(context, r)
    r%slots(slot) = r%x
    store = merge(0, 1, level == 0 .and. i >= 0)
  end function store
  integer(c_int) function restore(context, level, slot, i) bind(c)  ! x_i <- slot
    type(c_ptr), value :: context
    integer(c_int), value :: level
    integer(c_int64_t), value :: slot, i
    type(run), pointer :: r
    call c_f_pointer(context, r)
    r%x = r%slots(slot)
    restore = merge(0, 1, level == 0 .and. i >= 0)
  end function restore
  integer(c_int) function terminal(context, steps, working_step) bind(c)  ! lambda_T = dJ/dx_T
    type(c_ptr), value :: context
    integer(c_int64_t), value :: steps, working_step
    type(run), pointer :: r
    call c_f_pointer(context, r)
    r%lambda = 1
    terminal = merge(0, 1, working_step <= steps)
  end function terminal
end module doubling

program consumer
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_loc
  use cairn
  use doubling
  implicit none
  type(cairn_schedule) :: schedule
  type(cairn_driver_statistics) :: statistics
  type(run), target :: state
  integer(c_int64_t) :: r, t
  integer(c_int) :: status

  status = cairn_revolve_create(schedule, 100_c_int64_t, 3_c_int64_t)
  if (status == CAIRN_OK) status = cairn_schedule_repetitions(schedule, r)
  if (status == CAIRN_OK) status = cairn_schedule_forward_steps(schedule, t)
  if (status == CAIRN_OK) status = cairn_driver_run(schedule, cairn_make_callbacks(step, &
                                     adjoint_step, store, restore, terminal), c_loc(state), statistics)
  if (status /= CAIRN_OK) then
    print '(a)', cairn_status_name(status)//": "//cairn_last_error()
    error stop 1
  end if
  status = cairn_schedule_destroy(schedule)
  print '(a,i0,a,i0,a,i0,a,es12.6)', "Fortran consumer: r = ", r, ", t = ", t, ", step calls = ", &
    statistics%step_calls, ", gradient = ", state%lambda
  if (r /= 7 .or. t /= 490 .or. statistics%step_calls /= 490 .or. exponent(state%lambda) /= 101) &
    error stop 1
end program consumer
