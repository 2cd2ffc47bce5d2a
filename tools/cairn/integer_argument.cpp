#include "integer_argument.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

namespace cairn::cli {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

[[noreturn]] void refuse(const std::string& option, const std::string& text, const char* why,
                         std::int64_t minimum) {
  throw std::invalid_argument(option + ": '" + text + "' " + why + "; give a whole number from " +
                              std::to_string(minimum) + " to " + std::to_string(kMax) +
                              " (plain digits, or an exact form such as 1e6 or 2.5e3)");
}

}  // namespace

std::int64_t parse_integer_argument(const std::string& option, const std::string& text,
                                    std::int64_t minimum) {
  // Split into digits, optional fraction digits, optional decimal exponent.
  std::size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (negative || (i < text.size() && text[i] == '+')) ++i;
  std::string digits;
  std::size_t fraction_digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) digits += text[i++];
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      digits += text[i++];
      ++fraction_digits;
    }
  }
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    const std::size_t exponent_start = i;
    // Saturated: past 10^5 the digits alone decide (a zero stays zero, anything else is too
    // large, or not whole), and the loops below stay short.
    constexpr long kExponentCap = 100000;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      exponent = std::min(kExponentCap, exponent * 10 + (text[i++] - '0'));
    }
    if (i == exponent_start) refuse(option, text, "is not a number", minimum);
    if (negative_exponent) exponent = -exponent;
  }
  if (digits.empty() || i != text.size()) refuse(option, text, "is not a number", minimum);

  // value = digits * 10^(exponent - fraction_digits), which must be a whole number.
  long shift = exponent - static_cast<long>(fraction_digits);
  while (shift < 0) {
    if (digits.back() != '0') refuse(option, text, "is not a whole number", minimum);
    digits.pop_back();
    ++shift;
    if (digits.empty()) digits = "0";
  }
  std::uint64_t value = 0;
  bool too_large = false;
  const auto accumulate = [&](int digit) {
    if (value > (static_cast<std::uint64_t>(kMax) - static_cast<std::uint64_t>(digit)) / 10) {
      too_large = true;
    } else {
      value = value * 10 + static_cast<std::uint64_t>(digit);
    }
  };
  for (const char ch : digits) {
    if (!too_large) accumulate(ch - '0');
  }
  for (long k = 0; k < shift && !too_large && value != 0; ++k) accumulate(0);
  if (too_large) refuse(option, text, "is too large", minimum);
  const std::int64_t result =
      negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  if (result < minimum) refuse(option, text, "is below the minimum", minimum);
  return result;
}

}  // namespace cairn::cli
