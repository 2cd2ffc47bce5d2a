// Test-only: 128-bit integers as an independent oracle for the 64-bit arithmetic under test.
#pragma once

#include <cstdint>

namespace cairn_test {

__extension__ typedef __int128 i128;

/// C(n, k) by Pascal's rule in 128 bits (n <= 120 keeps every value in range).
inline i128 pascal(int n, int k) {
  static i128 table[121][121] = {};
  static bool built = false;
  if (!built) {
    for (int a = 0; a <= 120; ++a) {
      table[a][0] = 1;
      for (int b = 1; b <= a; ++b)
        table[a][b] = table[a - 1][b - 1] + (b <= a - 1 ? table[a - 1][b] : 0);
    }
    built = true;
  }
  if (k < 0 || k > n) return 0;
  return table[n][k];
}

/// C(n, k) for any n, k by the multiplicative formula in 128 bits; the caller keeps the
/// result well inside 2^127.
inline i128 binomial_wide(i128 n, std::int64_t k) {
  if (k < 0 || n < k) return 0;
  if (n - k < k) k = static_cast<std::int64_t>(n - k);  // C(n, k) = C(n, n - k): loop the short way
  i128 value = 1;
  for (std::int64_t i = 1; i <= k; ++i) value = value * (n - k + i) / i;
  return value;
}

}  // namespace cairn_test
