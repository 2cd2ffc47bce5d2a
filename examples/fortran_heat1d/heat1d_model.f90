! The 1-D viscous Burgers model of examples/burgers1d (burgers.hpp) in Fortran, with the same
! floating-point operations in the same order, and the callbacks that the Cairn driver calls.
! A `problem` reaches the callbacks as their context: c_loc(problem) there, c_f_pointer here.
module heat1d_model
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_double, c_ptr, c_f_pointer
  implicit none
  private
  public :: problem, setup, burgers_step, step, adjoint_step, store, restore, terminal

  real(c_double), parameter, public :: pi = 3.14159265358979323846_c_double

  type :: problem
    integer(c_int64_t) :: n = 0
    real(c_double) :: dx = 0, dt = 0, a = 0, b = 0, objective = 0
    integer(c_int64_t) :: working = 0    ! index of the working state, -1 if undefined
    real(c_double), allocatable :: x(:)  ! the working state
    real(c_double), allocatable :: lambda(:), scratch(:)
    real(c_double), allocatable :: slots(:, :)  ! slot k (from 0) is slots(:, k + 1)
  end type problem

contains

  ! dx = 2 pi / N, dt = 0.5 min(dx^2 / (2 nu), 2 nu / u_max^2), x_0 = 0.5 + sin(2 pi i / N).
  subroutine setup(p, grid, slots)
    type(problem), intent(out) :: p
    integer(c_int64_t), intent(in) :: grid, slots
    real(c_double), parameter :: nu = 0.05_c_double, u_max = 1.5_c_double
    integer(c_int64_t) :: i
    p%n = grid
    p%dx = 2.0_c_double*pi/real(grid, c_double)
    p%dt = 0.5_c_double*min(p%dx*p%dx/(2.0_c_double*nu), 2.0_c_double*nu/(u_max*u_max))
    p%a = p%dt/(4.0_c_double*p%dx)
    p%b = nu*p%dt/(p%dx*p%dx)
    allocate (p%x(grid), p%lambda(grid), p%scratch(grid), p%slots(grid, slots))
    do i = 0, grid - 1
      p%x(i + 1) = 0.5_c_double + sin(2.0_c_double*pi*real(i, c_double)/real(grid, c_double))
    end do
    p%working = 0
  end subroutine setup

  ! u_i <- u_i - a (u_{i+1}^2 - u_{i-1}^2) + b (u_{i+1} - 2 u_i + u_{i-1}), periodic.
  subroutine burgers_step(u, a, b)
    real(c_double), intent(inout) :: u(:)
    real(c_double), intent(in) :: a, b
    real(c_double) :: first, left, centre, right
    integer :: i, n
    n = size(u)
    first = u(1)
    left = u(n)
    do i = 1, n
      centre = u(i)
      if (i < n) then
        right = u(i + 1)
      else
        right = first
      end if
      u(i) = centre - a*(right*right - left*left) + b*(right - 2.0_c_double*centre + left)
      left = centre
    end do
  end subroutine burgers_step

  ! The callbacks check that the driver's idea of the working state is theirs (1 = failure).
  integer(c_int) function step(context, i) bind(c)
    type(c_ptr), value :: context
    integer(c_int64_t), value :: i
    type(problem), pointer :: p
    call c_f_pointer(context, p)
    step = merge(0, 1, p%working == i)
    call burgers_step(p%x, p%a, p%b)
    p%working = i + 1
  end function step

  ! lambda_j <- (1 - 2b) lambda_j + b (lambda_{j-1} + lambda_{j+1})
  !             + 2 a u_j (lambda_{j+1} - lambda_{j-1}), u = x_i, the working state.
  integer(c_int) function adjoint_step(context, i) bind(c)
    type(c_ptr), value :: context
    integer(c_int64_t), value :: i
    type(problem), pointer :: p
    real(c_double) :: first, left, centre, right
    integer :: j, n
    call c_f_pointer(context, p)
    adjoint_step = merge(0, 1, p%working == i)
    n = size(p%lambda)
    first = p%lambda(1)
    left = p%lambda(n)
    do j = 1, n
      centre = p%lambda(j)
      if (j < n) then
        right = p%lambda(j + 1)
      else
        right = first
      end if
      p%lambda(j) = (1.0_c_double - 2.0_c_double*p%b)*centre + p%b*(left + right) &
                    + 2.0_c_double*p%a*p%x(j)*(right - left)
      left = centre
    end do
    p%working = -1
  end function adjoint_step

  integer(c_int) function store(context, level, slot, i) bind(c)
    type(c_ptr), value :: context
    integer(c_int), value :: level
    integer(c_int64_t), value :: slot, i
    type(problem), pointer :: p
    call c_f_pointer(context, p)
    store = merge(0, 1, level == 0 .and. p%working == i .and. slot < size(p%slots, 2))
    if (store == 0) p%slots(:, slot + 1) = p%x
  end function store

  integer(c_int) function restore(context, level, slot, i) bind(c)
    type(c_ptr), value :: context
    integer(c_int), value :: level
    integer(c_int64_t), value :: slot, i
    type(problem), pointer :: p
    call c_f_pointer(context, p)
    restore = merge(0, 1, level == 0 .and. slot < size(p%slots, 2))
    if (restore == 0) p%x = p%slots(:, slot + 1)
    p%working = i
  end function restore

  ! The working state is x_{T-1}: x_T = F(x_{T-1}) on a copy; J and lambda_T = x_T dx.
  integer(c_int) function terminal(context, steps, working_step) bind(c)
    type(c_ptr), value :: context
    integer(c_int64_t), value :: steps, working_step
    type(problem), pointer :: p
    real(c_double) :: sum
    integer :: i
    call c_f_pointer(context, p)
    terminal = merge(0, 1, working_step == steps - 1 .and. p%working == working_step)
    p%scratch = p%x
    call burgers_step(p%scratch, p%a, p%b)
    sum = 0
    do i = 1, size(p%scratch)
      sum = sum + p%scratch(i)*p%scratch(i)
    end do
    p%objective = 0.5_c_double*sum*p%dx
    p%lambda = p%scratch*p%dx
  end function terminal

end module heat1d_model
