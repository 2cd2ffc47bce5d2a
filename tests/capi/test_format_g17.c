/* The Fortran example prints its gradient with format_g17 so that the file equals the C and C++
 * examples' printf("%.17g") byte for byte. This checks that claim against printf itself, for
 * values around every decimal exponent where %g changes layout and for 500,000 random bit
 * patterns (a fixed seed). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int format_g17_c(double value, char* text, int capacity);

static long checked = 0, failures = 0;

static void check(double value) {
  char want[64], got[64];
  if (isnan(value) || isinf(value)) return; /* the examples print finite numbers only */
  snprintf(want, sizeof want, "%.17g", value);
  const int length = format_g17_c(value, got, (int)sizeof got);
  ++checked;
  if (length < 0 || strcmp(want, got) != 0) {
    if (++failures <= 10) fprintf(stderr, "%a: printf gives %s, format_g17 %s\n", value, want, got);
  }
}

int main(void) {
  uint64_t state = 0x9E3779B97F4A7C15u;
  const double special[] = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            0.1,
                            0.5,
                            1e-5,
                            1e-4,
                            9.9999999999999995e-5,
                            1e16,
                            1e17,
                            9.9999999999999998e16,
                            123456789012345678.0,
                            5e-324,
                            1.7976931348623157e308,
                            2.2250738585072014e-308};
  for (size_t k = 0; k < sizeof special / sizeof special[0]; ++k) {
    check(special[k]);
    check(-special[k]);
  }
  for (int e = -330; e <= 310; ++e) {
    const double p = pow(10.0, e);
    check(p);
    check(nextafter(p, 0.0));
    check(nextafter(p, INFINITY));
    check(-p * 0.99999999999999999);
  }
  for (long k = 0; k < 250000; ++k) {
    state ^= state << 13; /* xorshift64 */
    state ^= state >> 7;
    state ^= state << 17;
    double value;
    memcpy(&value, &state, sizeof value);
    check(value);
    check((double)(state >> 11) / 9007199254740992.0); /* uniform in [0, 1) */
  }
  if (failures > 0) {
    fprintf(stderr, "%ld of %ld values differ\n", failures, checked);
    return 1;
  }
  printf("format_g17 equals printf(\"%%.17g\") for all %ld values\n", checked);
  return 0;
}
