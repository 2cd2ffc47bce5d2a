// Text forms of Actions: the JSON-lines format other tools read (docs/cli.md), and a
// human-readable one.
#pragma once

#include <string>
#include <vector>

#include "cairn/action.hpp"

namespace cairn {

/// Names of levels 0, 1, ... as printed in JSON: {"ram", "disk"} unless a caller says otherwise.
/// A level past the end of the list prints as "level<k>".
const std::vector<std::string>& default_level_names();

/// The name of `level` in `names`, or "level<k>" if the list is too short.
std::string level_name(Level level, const std::vector<std::string>& names = default_level_names());

/// Appends one JSON object without a newline, e.g. {"op":"advance","from":0,"to":6} or
/// {"op":"store","slot":0,"step":0,"level":"ram"}. Field order and names are stable.
void append_json(std::string& out, const Action& action,
                 const std::vector<std::string>& names = default_level_names());

/// Appends one human-readable line without a newline, e.g. "advance  x_0 -> x_6  (6 steps)".
void append_text(std::string& out, const Action& action,
                 const std::vector<std::string>& names = default_level_names());

std::string to_json(const Action& action,
                    const std::vector<std::string>& names = default_level_names());
std::string to_text(const Action& action,
                    const std::vector<std::string>& names = default_level_names());

}  // namespace cairn
