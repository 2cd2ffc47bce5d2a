#include "schedule_svg.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/action.hpp"

namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string schedule_svg(cairn::Schedule& schedule, std::int64_t steps, const std::string& title,
                         std::int64_t max_actions) {
  std::vector<cairn::Action> actions;
  for (cairn::Action a = schedule.next(); a.kind != cairn::ActionKind::end; a = schedule.next()) {
    if (a.kind == cairn::ActionKind::free) continue;  // no mark of its own
    actions.push_back(a);
    if (static_cast<std::int64_t>(actions.size()) > max_actions) {
      throw std::invalid_argument("cairn plot: the schedule has more than " +
                                  std::to_string(max_actions) +
                                  " actions, too many to draw legibly; plot a smaller T");
    }
  }
  // Streams with adjoint data get a second legend row (others are drawn as before).
  bool adjoint_data = false;
  for (const cairn::Action& a : actions) {
    adjoint_data = adjoint_data || a.kind == cairn::ActionKind::store_adjoint ||
                   a.kind == cairn::ActionKind::reverse_stored;
  }
  const double left = 60, top = 50, right = 30, bottom = adjoint_data ? 80 : 60;
  const double width = 760,
               row = std::clamp(1400.0 / static_cast<double>(actions.size() + 1), 1.0, 8.0);
  const double height = row * static_cast<double>(actions.size() + 1);
  const double dx = width / static_cast<double>(std::max<std::int64_t>(steps, 1));
  const auto x = [&](std::int64_t i) { return number(left + dx * static_cast<double>(i)); };
  const auto y = [&](std::size_t k) { return number(top + row * (static_cast<double>(k) + 0.5)); };
  const double mark = std::clamp(std::min(row, dx) * 0.45, 1.2, 4.0);

  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(left + width + right) +
         "\" height=\"" + number(top + height + bottom) + "\" font-family=\"sans-serif\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg +=
      "<text x=\"" + number(left) + "\" y=\"24\" font-size=\"15\">" + escape(title) + "</text>\n";
  // Axes: step index across the top, action count down the left.
  svg += "<g stroke=\"#888\" stroke-width=\"0.6\">\n";
  svg += "<line x1=\"" + x(0) + "\" y1=\"" + number(top) + "\" x2=\"" + x(steps) + "\" y2=\"" +
         number(top) + "\"/>\n";
  svg += "<line x1=\"" + x(0) + "\" y1=\"" + number(top) + "\" x2=\"" + x(0) + "\" y2=\"" +
         number(top + height) + "\"/>\n</g>\n";
  const std::int64_t tick = std::max<std::int64_t>(1, steps / 10);
  for (std::int64_t i = 0; i <= steps; i += tick) {
    svg += "<text x=\"" + x(i) + "\" y=\"" + number(top - 6) +
           "\" font-size=\"10\" text-anchor=\"middle\">" + std::to_string(i) + "</text>\n";
  }
  svg += "<text x=\"" + number(left + width / 2) + "\" y=\"" + number(top + height + 22) +
         "\" font-size=\"11\" text-anchor=\"middle\">step index i (state x_i) across; actions, in "
         "order, down</text>\n";
  svg += "<text x=\"" + number(left - 8) + "\" y=\"" + number(top + 10) +
         "\" font-size=\"10\" text-anchor=\"end\">0</text>\n";
  svg += "<text x=\"" + number(left - 8) + "\" y=\"" + number(top + height) +
         "\" font-size=\"10\" text-anchor=\"end\">" + std::to_string(actions.size()) + "</text>\n";

  for (std::size_t k = 0; k < actions.size(); ++k) {
    const cairn::Action& a = actions[k];
    switch (a.kind) {
      case cairn::ActionKind::advance:
        svg += "<line x1=\"" + x(a.from()) + "\" y1=\"" + y(k) + "\" x2=\"" + x(a.to) + "\" y2=\"" +
               y(k) + "\" stroke=\"#1f5fbf\" stroke-width=\"" + number(std::max(1.0, row * 0.5)) +
               "\"/>\n";
        break;
      case cairn::ActionKind::store:
        svg += "<rect x=\"" + number(left + dx * static_cast<double>(a.step) - mark) + "\" y=\"" +
               number(top + row * (static_cast<double>(k) + 0.5) - mark) + "\" width=\"" +
               number(2 * mark) + "\" height=\"" + number(2 * mark) + "\" fill=\"" +
               (a.level == 0 ? "#2a9d3a" : "white") + "\" stroke=\"#2a9d3a\"/>\n";
        break;
      case cairn::ActionKind::restore:
        svg += "<circle cx=\"" + x(a.step) + "\" cy=\"" + y(k) + "\" r=\"" + number(mark) +
               "\" fill=\"" + (a.level == 0 ? "#e07b00" : "white") + "\" stroke=\"#e07b00\"/>\n";
        break;
      case cairn::ActionKind::reverse:
        svg += "<line x1=\"" + x(a.step + 1) + "\" y1=\"" + y(k) + "\" x2=\"" + x(a.step) +
               "\" y2=\"" + y(k) + "\" stroke=\"#c0262d\" stroke-width=\"" +
               number(std::max(1.2, row * 0.6)) + "\"/>\n";
        break;
      case cairn::ActionKind::store_adjoint:  // a taped step whose adjoint data is kept
        svg += "<line x1=\"" + x(a.step) + "\" y1=\"" + y(k) + "\" x2=\"" + x(a.step + 1) +
               "\" y2=\"" + y(k) + "\" stroke=\"#7b3fb5\" stroke-width=\"" +
               number(std::max(1.2, row * 0.6)) + "\"/>\n";
        break;
      case cairn::ActionKind::reverse_stored:  // an adjoint step from kept data
        svg += "<line x1=\"" + x(a.step + 1) + "\" y1=\"" + y(k) + "\" x2=\"" + x(a.step) +
               "\" y2=\"" + y(k) +
               "\" stroke=\"#c0262d\" stroke-dasharray=\"3,2\" stroke-width=\"" +
               number(std::max(1.2, row * 0.6)) + "\"/>\n";
        break;
      default:
        break;
    }
  }
  // Legend.
  const double ly = top + height + 42;
  svg += "<g font-size=\"11\">\n";
  svg += "<line x1=\"" + number(left) + "\" y1=\"" + number(ly) + "\" x2=\"" + number(left + 24) +
         "\" y2=\"" + number(ly) + "\" stroke=\"#1f5fbf\" stroke-width=\"3\"/><text x=\"" +
         number(left + 30) + "\" y=\"" + number(ly + 4) + "\">advance</text>\n";
  svg += "<rect x=\"" + number(left + 110) + "\" y=\"" + number(ly - 4) +
         "\" width=\"8\" height=\"8\" fill=\"#2a9d3a\"/><text x=\"" + number(left + 124) +
         "\" y=\"" + number(ly + 4) + "\">store (hollow: disk)</text>\n";
  svg += "<circle cx=\"" + number(left + 270) + "\" cy=\"" + number(ly) +
         "\" r=\"4\" fill=\"#e07b00\"/><text x=\"" + number(left + 280) + "\" y=\"" +
         number(ly + 4) + "\">restore (hollow: disk)</text>\n";
  svg += "<line x1=\"" + number(left + 440) + "\" y1=\"" + number(ly) + "\" x2=\"" +
         number(left + 464) + "\" y2=\"" + number(ly) +
         "\" stroke=\"#c0262d\" stroke-width=\"3\"/><text x=\"" + number(left + 470) + "\" y=\"" +
         number(ly + 4) + "\">reverse (adjoint step)</text>\n";
  if (!adjoint_data) return svg + "</g>\n</svg>\n";
  svg += "<line x1=\"" + number(left) + "\" y1=\"" + number(ly + 18) + "\" x2=\"" +
         number(left + 24) + "\" y2=\"" + number(ly + 18) +
         "\" stroke=\"#7b3fb5\" stroke-width=\"3\"/><text x=\"" + number(left + 30) + "\" y=\"" +
         number(ly + 22) + "\">store_adjoint (taped step, data kept)</text>\n";
  svg += "<line x1=\"" + number(left + 270) + "\" y1=\"" + number(ly + 18) + "\" x2=\"" +
         number(left + 294) + "\" y2=\"" + number(ly + 18) +
         "\" stroke=\"#c0262d\" stroke-dasharray=\"3,2\" stroke-width=\"3\"/><text x=\"" +
         number(left + 300) + "\" y=\"" + number(ly + 22) +
         "\">reverse_stored (from kept data)</text>\n</g>\n";
  svg += "</svg>\n";
  return svg;
}
