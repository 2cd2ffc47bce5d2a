// An assertion for the fuzz targets that holds in Release builds too (NDEBUG turns assert() off)
// and aborts, which libFuzzer and the replay both report as a failure with the input that did it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_ASSERT(condition)                                                                    \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (false)
