! format_g17 of examples/fortran_heat1d, callable from C, for tests/capi/test_format_g17.c.
module format_g17_c_module
  use, intrinsic :: iso_c_binding, only: c_double, c_char, c_int, c_null_char
  use format_g17_module, only: format_g17
  implicit none
  private
  public :: format_g17_c

contains

  ! Writes format_g17(value) and a NUL into text(1:capacity); returns its length, -1 if too long.
  integer(c_int) function format_g17_c(value, text, capacity) bind(c)
    real(c_double), value :: value
    integer(c_int), value :: capacity
    character(kind=c_char), intent(out) :: text(capacity)
    character(len=:), allocatable :: formatted
    integer :: i
    formatted = format_g17(value)
    if (len(formatted) + 1 > capacity) then
      format_g17_c = -1
      return
    end if
    do i = 1, len(formatted)
      text(i) = formatted(i:i)
    end do
    text(len(formatted) + 1) = c_null_char
    format_g17_c = len(formatted)
  end function format_g17_c

end module format_g17_c_module
