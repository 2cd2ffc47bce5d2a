// `cairn plot`: a schedule drawn as an SVG picture (schedule_svg.hpp), and as PNG on request.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "cairn/schedule.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "schedule_svg.hpp"

namespace cairn::cli {
namespace {

struct PlotOptions {
  Problem problem;
  std::string svg_path;
  std::string png_path;
};

int run_plot(Problem& problem, const std::string& svg_path, const std::string& png_path) {
  problem.parse();
  const auto schedule = problem.make_schedule();
  std::string title = problem.schedule + " schedule, T = " + std::to_string(problem.steps);
  if (problem.schedule == "uniform") {
    title += ", interval k = " + std::to_string(problem.interval);
  } else if (problem.schedule != "store-all") {
    title += ", c = " + std::to_string(problem.slots);
  }
  if (problem.disk_slots >= 0) {
    title += " RAM + " +
             (problem.disk_slots == cairn::unlimited_slots ? std::string("unlimited")
                                                           : std::to_string(problem.disk_slots)) +
             " disk";
  }
  const std::string svg = schedule_svg(*schedule, problem.steps, title);
  std::FILE* out = std::fopen(svg_path.c_str(), "w");
  if (out == nullptr) throw BadInput("cannot write '" + svg_path + "'");
  const bool written = std::fwrite(svg.data(), 1, svg.size(), out) == svg.size();
  if (std::fclose(out) != 0 || !written)
    throw std::runtime_error("writing '" + svg_path + "' failed");
  if (!png_path.empty()) {
    const std::string command = "rsvg-convert -o '" + png_path + "' '" + svg_path + "'";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("converting to PNG failed (" + command +
                               "); install librsvg2-bin for rsvg-convert, or use the SVG");
    }
  }
  return 0;
}

}  // namespace

Command add_plot_command(CLI::App& app) {
  auto options = std::make_shared<PlotOptions>();
  CLI::App* command = app.add_subcommand("plot", "draw a schedule as an SVG picture (and PNG)");
  add_problem_options(*command, options->problem, true);
  command->add_option("--output,-o", options->svg_path, "the SVG file to write")->required();
  command->add_option("--png", options->png_path,
                      "also write a PNG (needs rsvg-convert, from Debian's librsvg2-bin)");
  return {command,
          [options] { return run_plot(options->problem, options->svg_path, options->png_path); }};
}

}  // namespace cairn::cli
