#include "action_parser.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "cairn/action_io.hpp"
#include "options.hpp"

namespace cairn::cli {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// An integer of the stream, refused (not wrapped) when it does not fit in 64 bits.
std::int64_t integer_of(const nlohmann::json& value, const std::string& where,
                        const std::string& what) {
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(kInt64Max)) {
    throw BadInput(where + what + " = " + value.dump() +
                   " exceeds 2^63 - 1 = " + std::to_string(kInt64Max));
  }
  return value.get<std::int64_t>();
}

cairn::Level parse_level(const nlohmann::json& value, const std::string& where) {
  if (value.is_number_integer()) {
    // Levels are 32-bit in an Action: a larger number is no level, not level (number mod 2^32).
    const std::int64_t level = integer_of(value, where, "\"level\"");
    if (level >= std::numeric_limits<cairn::Level>::min() &&
        level <= std::numeric_limits<cairn::Level>::max()) {
      return static_cast<cairn::Level>(level);
    }
  }
  if (value.is_string()) {
    const auto& names = cairn::default_level_names();
    const std::string name = value.get<std::string>();
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (names[k] == name) return static_cast<cairn::Level>(k);
    }
  }
  throw BadInput(where + "level " + value.dump() +
                 " is unknown; use \"ram\", \"disk\" or a level number (0, 1, ...)");
}

}  // namespace

cairn::Action parse_action_line(const std::string& line, std::int64_t line_number) {
  const auto where = "line " + std::to_string(line_number) + ": ";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::out_of_range& e) {
    throw BadInput(where + "a number is out of range (" + e.what() + ")");
  } catch (const nlohmann::json::exception& e) {
    throw BadInput(where + "not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
    throw BadInput(where + "expected an object with a string field \"op\", e.g. " +
                   "{\"op\":\"advance\",\"from\":0,\"to\":6}");
  }
  const std::string op = j["op"].get<std::string>();
  const auto field = [&](const char* name) -> std::int64_t {
    if (!j.contains(name) || !j[name].is_number_integer()) {
      throw BadInput(where + "\"" + op + "\" needs an integer field \"" + name + "\"");
    }
    return integer_of(j[name], where, std::string("\"") + name + "\"");
  };
  const auto level = [&]() -> cairn::Level {
    return j.contains("level") ? parse_level(j["level"], where) : 0;
  };
  if (op == "advance") return cairn::Action::make_advance(field("from"), field("to"));
  if (op == "store") return cairn::Action::make_store(field("slot"), field("step"), level());
  if (op == "restore") return cairn::Action::make_restore(field("slot"), field("step"), level());
  if (op == "reverse") return cairn::Action::make_reverse(field("step"));
  if (op == "free") return cairn::Action::make_free(field("slot"), level());
  if (op == "end") return cairn::Action::make_end();
  if (op == "store_adjoint") {
    return cairn::Action::make_store_adjoint(field("slot"), field("step"), level());
  }
  if (op == "reverse_stored") {
    return cairn::Action::make_reverse_stored(field("slot"), field("step"), level());
  }
  throw BadInput(where + "unknown op \"" + op +
                 "\"; allowed: advance, store, restore, reverse, free, end, store_adjoint, "
                 "reverse_stored");
}

}  // namespace cairn::cli
