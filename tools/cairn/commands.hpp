// The cairn subcommands, one file each: every add_*_command registers its subcommand and its
// options on the app and returns what runs it once the command line has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace cairn::cli {

struct Command {
  CLI::App* app;             // parsed() tells whether the user chose it
  std::function<int()> run;  // returns the exit status; throws BadInput for bad input
};

Command add_schedule_command(CLI::App& app);  // schedule.cpp: print a schedule
Command add_info_command(CLI::App& app);      // info.cpp: Revolve's costs in closed form
Command add_check_command(CLI::App& app);     // check.cpp: check a stream read from stdin
Command add_plot_command(CLI::App& app);      // plot.cpp: draw a schedule as SVG (and PNG)
Command add_plan_command(CLI::App& app);      // plan.cpp: compare schedules for a budget

}  // namespace cairn::cli
