! Numbers printed as C's printf("%.17g") prints them, so that the Fortran example's gradient file
! can be compared byte for byte with the C and C++ ones. ES format gives the 17 significant digits
! (gfortran rounds them as glibc's printf does); the rest is %g's layout: plain notation for
! decimal exponents -4 .. 16, otherwise d.ddde+XX, trailing zeros removed.
module format_g17_module
  use, intrinsic :: iso_c_binding, only: c_double
  implicit none
  private
  public :: format_g17

contains

  function format_g17(value) result(text)
    real(c_double), intent(in) :: value
    character(len=:), allocatable :: text
    character(len=32) :: buffer
    character(len=17) :: digits
    character(len=:), allocatable :: sign, mantissa
    integer :: exponent, mark

    write (buffer, '(ES25.16E4)') value
    buffer = adjustl(buffer)
    sign = ""
    if (buffer(1:1) == "-") then
      sign = "-"
      buffer = buffer(2:)
    end if
    digits = buffer(1:1)//buffer(3:18)
    mark = index(buffer, "E")
    read (buffer(mark + 1:), *) exponent

    if (exponent < -4 .or. exponent >= 17) then
      mantissa = without_trailing_zeros(digits(1:1)//"."//digits(2:))
      text = sign//mantissa//"e"//exponent_text(exponent)
    else if (exponent >= 0) then
      text = sign//without_trailing_zeros(digits(1:exponent + 1)//"."//digits(exponent + 2:))
    else
      text = sign//without_trailing_zeros("0."//repeat("0", -exponent - 1)//digits)
    end if
  end function format_g17

  ! "1.2500" -> "1.25", "3.000" -> "3".
  function without_trailing_zeros(number) result(text)
    character(len=*), intent(in) :: number
    character(len=:), allocatable :: text
    integer :: last
    last = len(number)
    do while (number(last:last) == "0")
      last = last - 1
    end do
    if (number(last:last) == ".") last = last - 1
    text = number(1:last)
  end function without_trailing_zeros

  ! printf's exponent: a sign and at least two digits.
  function exponent_text(exponent) result(text)
    integer, intent(in) :: exponent
    character(len=:), allocatable :: text
    character(len=8) :: buffer
    write (buffer, '(I0.2)') abs(exponent)
    if (exponent < 0) then
      text = "-"//trim(buffer)
    else
      text = "+"//trim(buffer)
    end if
  end function exponent_text

end module format_g17_module
