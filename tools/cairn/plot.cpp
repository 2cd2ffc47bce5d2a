// `cairn plot`: a schedule drawn as an SVG picture (schedule_svg.hpp), and as PNG on request.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

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

// Runs rsvg-convert with each file name as an argument of its own. There is no shell in between,
// so no name (one with a quote, a semicolon, a leading dash) is ever read as a command or an
// option; the names are passed as they are.
void convert_to_png(const std::string& svg_path, const std::string& png_path) {
  std::vector<std::string> arguments{"rsvg-convert", "--format=png", "--output=" + png_path, "--",
                                     svg_path};
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  const int spawned = posix_spawnp(&child, "rsvg-convert", nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    throw std::runtime_error(std::string("cannot run rsvg-convert (") + std::strerror(spawned) +
                             ") to write the PNG; install librsvg2-bin (run.sh does), or use the "
                             "SVG '" +
                             svg_path + "'");
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::runtime_error(std::string("waiting for rsvg-convert failed: ") +
                               std::strerror(errno));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(
        "rsvg-convert could not convert '" + svg_path + "' to '" + png_path + "' (" +
        (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                           : std::string("killed by a signal")) +
        "); the SVG is there");
  }
}

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
  if (out == nullptr) {
    throw BadInput("cannot write '" + svg_path + "': " + std::strerror(errno));
  }
  const bool written = std::fwrite(svg.data(), 1, svg.size(), out) == svg.size();
  if (std::fclose(out) != 0 || !written) {
    const std::string why = std::strerror(errno);
    std::remove(svg_path.c_str());  // no half-written picture left behind
    throw std::runtime_error("writing '" + svg_path + "' failed: " + why);
  }
  if (!png_path.empty()) convert_to_png(svg_path, png_path);
  return 0;
}

}  // namespace

Command add_plot_command(CLI::App& app) {
  auto options = std::make_shared<PlotOptions>();
  CLI::App* command = app.add_subcommand("plot", "draw a schedule as an SVG picture (and PNG)");
  add_problem_options(*command, options->problem, true);
  command->add_option("--output,-o", options->svg_path, "the SVG file to write")->required();
  command->add_option(
      "--png", options->png_path,
      "also write a PNG (runs rsvg-convert, from Debian's librsvg2-bin, without a shell)");
  return {command,
          [options] { return run_plot(options->problem, options->svg_path, options->png_path); }};
}

}  // namespace cairn::cli
