// cairn: print, summarise, check, draw and plan checkpointing schedules from the command line
// (docs/cli.md). Each subcommand lives in a file of its own (commands.hpp); this file wires them
// and turns what they throw into messages and exit statuses.
//
// Exit status: 0 success; 1 a checked stream is illegal; 2 bad input (arguments or stream).
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <vector>

#include "cairn/version.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace {

// Output is buffered: a full disk or a closed pipe shows only when it is flushed, which must
// happen before the exit status is decided (`cairn schedule > /dev/full` used to exit 0).
int finish_output(int status) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "cairn: error: cannot write to standard output: %s\n",
                 std::strerror(errno));
    return cairn::cli::kExitIllegal;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn::cli;
  CLI::App app{"cairn " CAIRN_VERSION_STRING
               ": optimal checkpointing schedules for adjoint time stepping"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CAIRN_VERSION_STRING);

  const std::vector<Command> commands{add_schedule_command(app), add_info_command(app),
                                      add_check_command(app), add_plot_command(app),
                                      add_plan_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints CLI11's explanation and the relevant usage
    return kExitBadInput;
  }

  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return finish_output(command.run());
    }
    return kExitBadInput;  // not reached: CLI11 requires one subcommand
  } catch (const BadInput& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::overflow_error& e) {
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::length_error& e) {
    // A refusal to take more memory than allowed (a planner's tables, the checker's counts): the
    // message says what was asked and which option raises the limit.
    std::fprintf(stderr, "cairn: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "cairn: error: out of memory\n");
    return kExitIllegal;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: error: %s\n", e.what());
    return kExitIllegal;
  }
}
