! The gradient of J = 0.5 * sum(x_T^2) * dx with respect to the initial state of a 1-D viscous
! Burgers run (the heat equation u_t = nu u_xx plus the convection (u^2/2)_x), by the discrete
! adjoint, with checkpoints placed by Cairn's Revolve through the Fortran module cairn
! (docs/c_fortran.md).
!
!   fortran_heat1d [--steps T] [--grid N] [--slots C] [--gradient FILE]
!
! The same model, defaults and floating-point operations as examples/burgers1d, so the gradient
! file is the same, bit for bit (tests/examples/run_c_fortran_examples.sh).
program fortran_heat1d
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_double, c_loc
  use, intrinsic :: iso_fortran_env, only: error_unit
  use cairn
  use heat1d_model, only: problem, setup, step, adjoint_step, store, restore, terminal
  use format_g17_module, only: format_g17
  implicit none

  integer(c_int64_t) :: steps = 20000, grid = 4000, slots = 30, slots_used = 0
  character(len=:), allocatable :: gradient_file
  type(problem), target :: p
  type(cairn_schedule) :: schedule
  type(cairn_driver_statistics) :: statistics
  integer(c_int) :: status
  integer :: unit, k, i, io
  real(c_double) :: norm
  character(len=4096) :: option, value
  character(len=32) :: number

  gradient_file = ""
  k = 1
  do while (k <= command_argument_count())
    call get_command_argument(k, option)
    call get_command_argument(k + 1, value, status=io)
    if (io /= 0 .or. k + 1 > command_argument_count()) call usage()
    select case (trim(option))
    case ("--steps")
      steps = read_count(value, 1_c_int64_t)
    case ("--grid")
      grid = read_count(value, 3_c_int64_t)
    case ("--slots")
      slots = read_count(value, 1_c_int64_t)
    case ("--gradient")
      gradient_file = trim(value)
    case default
      call usage()
    end select
    k = k + 2
  end do

  status = cairn_revolve_create(schedule, steps, slots)
  if (status /= CAIRN_OK) call cairn_failed("cairn_revolve_create", status)
  status = cairn_schedule_slots(schedule, 0_c_int, slots_used)
  if (status /= CAIRN_OK) call cairn_failed("cairn_schedule_slots", status)
  call setup(p, grid, slots_used)

  status = cairn_driver_run(schedule, cairn_make_callbacks(step, adjoint_step, store, restore, &
                                                           terminal), c_loc(p), statistics)
  if (status /= CAIRN_OK) call cairn_failed("cairn_driver_run", status)
  status = cairn_schedule_destroy(schedule)

  if (len(gradient_file) > 0) then
    open (newunit=unit, file=gradient_file, status="replace", action="write", iostat=io)
    if (io /= 0) then
      write (error_unit, '(a)') "fortran_heat1d: cannot write "//gradient_file
      stop 1
    end if
    do i = 1, size(p%lambda)
      write (unit, '(a)') format_g17(p%lambda(i))
    end do
    close (unit, iostat=io)
    if (io /= 0) then
      write (error_unit, '(a)') "fortran_heat1d: writing "//gradient_file//" failed"
      stop 1
    end if
  end if
  norm = 0
  do i = 1, size(p%lambda)
    norm = norm + p%lambda(i)*p%lambda(i)
  end do
  write (number, '(es9.2)') p%dt
  write (*, '(a,i0,a,i0,a,a,a,i0,a)') "Burgers 1-D (Fortran): N = ", grid, " points, T = ", steps, &
    " steps, dt = ", trim(adjustl(number)), ", Revolve with ", slots_used, " slots"
  write (*, '(a)') "J = "//format_g17(p%objective)//", |dJ/dx0| = "//format_g17(sqrt(norm))
  write (*, '(i0,a,i0,a,i0,a,i0,a)') statistics%step_calls, &
    " step calls in the driver (+1 in terminal), ", statistics%adjoint_calls, " adjoint calls, ", &
    statistics%stores, " stores, ", statistics%restores, " restores"

contains

  integer(c_int64_t) function read_count(text, minimum) result(count)
    character(len=*), intent(in) :: text
    integer(c_int64_t), intent(in) :: minimum
    integer :: io
    read (text, *, iostat=io) count
    if (io /= 0 .or. count < minimum .or. verify(trim(text), "0123456789") /= 0) then
      write (error_unit, '(a,i0)') "fortran_heat1d: "//trim(text)//": need an integer >= ", minimum
      stop 2
    end if
  end function read_count

  subroutine usage()
    write (error_unit, '(a)') "usage: fortran_heat1d [--steps T] [--grid N] [--slots C] " &
      //"[--gradient FILE]"
    stop 2
  end subroutine usage

  subroutine cairn_failed(call_name, status)
    character(len=*), intent(in) :: call_name
    integer(c_int), intent(in) :: status
    write (error_unit, '(a)') "fortran_heat1d: "//call_name//" failed ("// &
      cairn_status_name(status)//"): "//cairn_last_error()
    stop 1
  end subroutine cairn_failed

end program fortran_heat1d
