// Strict parsing of the integer arguments of the cairn tool.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::cli {

/// Parses a whole integer: plain digits ("1000000"), or an exact power-of-ten form ("1e6",
/// "2.5e3"). Throws std::invalid_argument with a message naming `option` and what is allowed
/// when the text is not such an integer, is below `minimum`, or exceeds 2^63 - 1.
std::int64_t parse_integer_argument(const std::string& option, const std::string& text,
                                    std::int64_t minimum);

}  // namespace cairn::cli
