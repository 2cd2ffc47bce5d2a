! Built against an installed Cairn from Fortran: use cairn, Revolve's counts.
program consumer
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t
  use cairn
  implicit none
  type(cairn_schedule) :: schedule
  integer(c_int64_t) :: r, t
  integer(c_int) :: status
  status = cairn_revolve_create(schedule, 100_c_int64_t, 3_c_int64_t)
  if (status == CAIRN_OK) status = cairn_schedule_repetitions(schedule, r)
  if (status == CAIRN_OK) status = cairn_schedule_forward_steps(schedule, t)
  if (status /= CAIRN_OK) then
    print '(a)', cairn_last_error()
    error stop 1
  end if
  status = cairn_schedule_destroy(schedule)
  print '(a,i0,a,i0)', "Fortran consumer: r = ", r, ", t = ", t
  if (r /= 7 .or. t /= 490) error stop 1
end program consumer
