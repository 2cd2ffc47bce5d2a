// The JSON-lines action format of DESIGN.md, read back: one line, one Action.
#pragma once

#include <cstdint>
#include <string>

#include "cairn/action.hpp"

namespace cairn::cli {

/// Parses one line such as {"op":"advance","from":0,"to":6}. Throws BadInput (options.hpp) naming
/// `line_number` and what is wrong: not JSON, not an object with a string "op", an unknown op, a
/// missing or non-integer field, an integer beyond 2^63 - 1, or an unknown level (a name other
/// than those of action_io.hpp, or a number that does not fit an Action's 32-bit level). The
/// values are not judged here: that is the checker's work.
cairn::Action parse_action_line(const std::string& line, std::int64_t line_number);

}  // namespace cairn::cli
