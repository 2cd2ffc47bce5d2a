#include "cairn/action_io.hpp"

#include <charconv>

namespace cairn {
namespace {

void append_number(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Level names come from our own list or "level<k>": no character needs JSON escaping, but a
// caller-supplied name might, so escape the two that could break the line.
void append_json_string(std::string& out, const std::string& text) {
  out.push_back('"');
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
}

}  // namespace

const char* to_string(ActionKind kind) noexcept {
  switch (kind) {
    case ActionKind::advance:
      return "advance";
    case ActionKind::store:
      return "store";
    case ActionKind::restore:
      return "restore";
    case ActionKind::reverse:
      return "reverse";
    case ActionKind::free:
      return "free";
    case ActionKind::end:
      return "end";
    case ActionKind::store_adjoint:
      return "store_adjoint";
    case ActionKind::reverse_stored:
      return "reverse_stored";
  }
  return "unknown";
}

const std::vector<std::string>& default_level_names() {
  static const std::vector<std::string> names{"ram", "disk"};
  return names;
}

std::string level_name(Level level, const std::vector<std::string>& names) {
  if (level >= 0 && static_cast<std::size_t>(level) < names.size()) {
    return names[static_cast<std::size_t>(level)];
  }
  return "level" + std::to_string(level);
}

void append_json(std::string& out, const Action& action, const std::vector<std::string>& names) {
  out += "{\"op\":\"";
  out += to_string(action.kind);
  out += '"';
  switch (action.kind) {
    case ActionKind::advance:
      out += ",\"from\":";
      append_number(out, action.from());
      out += ",\"to\":";
      append_number(out, action.to);
      break;
    case ActionKind::store:
    case ActionKind::restore:
    case ActionKind::store_adjoint:
    case ActionKind::reverse_stored:
      out += ",\"slot\":";
      append_number(out, action.slot);
      out += ",\"step\":";
      append_number(out, action.step);
      out += ",\"level\":";
      append_json_string(out, level_name(action.level, names));
      break;
    case ActionKind::reverse:
      out += ",\"step\":";
      append_number(out, action.step);
      break;
    case ActionKind::free:
      out += ",\"slot\":";
      append_number(out, action.slot);
      out += ",\"level\":";
      append_json_string(out, level_name(action.level, names));
      break;
    case ActionKind::end:
      break;
  }
  out += '}';
}

void append_text(std::string& out, const Action& action, const std::vector<std::string>& names) {
  switch (action.kind) {
    case ActionKind::advance:
      out += "advance  x_";
      append_number(out, action.from());
      out += " -> x_";
      append_number(out, action.to);
      out += "  (";
      append_number(out, action.to - action.from());
      out += action.to - action.from() == 1 ? " step)" : " steps)";
      break;
    case ActionKind::store:
      out += "store    x_";
      append_number(out, action.step);
      out += " -> slot ";
      append_number(out, action.slot);
      out += " (" + level_name(action.level, names) + ")";
      break;
    case ActionKind::restore:
      out += "restore  slot ";
      append_number(out, action.slot);
      out += " (" + level_name(action.level, names) + ") -> x_";
      append_number(out, action.step);
      break;
    case ActionKind::reverse:
      out += "reverse  step ";
      append_number(out, action.step);
      out += "  (adjoint: lambda_";
      append_number(out, action.step + 1);
      out += " -> lambda_";
      append_number(out, action.step);
      out += ")";
      break;
    case ActionKind::free:
      out += "free     slot ";
      append_number(out, action.slot);
      out += " (" + level_name(action.level, names) + ")";
      break;
    case ActionKind::end:
      out += "end";
      break;
    case ActionKind::store_adjoint:
      out += "record   step ";
      append_number(out, action.step);
      out += " taped (x_";
      append_number(out, action.step);
      out += " -> x_";
      append_number(out, action.step + 1);
      out += "), adjoint data -> slot ";
      append_number(out, action.slot);
      out += " (" + level_name(action.level, names) + ")";
      break;
    case ActionKind::reverse_stored:
      out += "reverse  step ";
      append_number(out, action.step);
      out += " from slot ";
      append_number(out, action.slot);
      out += " (" + level_name(action.level, names) + "), no re-run";
      break;
  }
}

std::string to_json(const Action& action, const std::vector<std::string>& names) {
  std::string out;
  append_json(out, action, names);
  return out;
}

std::string to_text(const Action& action, const std::vector<std::string>& names) {
  std::string out;
  append_text(out, action, names);
  return out;
}

}  // namespace cairn
