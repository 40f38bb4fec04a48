// skillmatch: the command-line entry point. Parses the command line, runs one subcommand, and
// turns any error into one line on stderr and a non-zero exit code (see the README's table).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "skillmatch/engine.h"

namespace {

// A command-line mistake: one line naming it, exit 2 like every invalid argument.
int usage_error(const std::string& message) {
  std::cerr << "skillmatch: error: " << message << " (see skillmatch --help)\n";
  return skillmatch::exit_code(skillmatch::ErrorKind::kInvalidArgument);
}

}  // namespace

// OpenMP threads (libtorch's and the BLAS's) spin while they wait for work by default. On a machine
// whose cores are busy with anything else (other processes, the service's own HTTP threads) a
// spinning thread keeps the one it waits for off the core, and every parallel region then lasts a
// scheduler tick: measured 60x slower service throughput with two busy neighbours. Passive
// waiting costs microseconds per region. The OpenMP runtime reads the policy when it is loaded,
// before main, so the program starts itself again with it set (unless the user chose one).
// Only the commands that run models pay for the second start (about 0.4 s of loading libtorch).
void wait_passively(int argc, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("SKILLMATCH_NO_REEXEC")) return;
  static const char* const kComputing[] = {"embed", "rerank", "index", "match",
                                           "eval",  "serve",  "train", "mine-negatives"};
  bool computes = false;
  for (int i = 1; i < argc && !computes; ++i) {
    for (const char* c : kComputing) computes = computes || std::strcmp(argv[i], c) == 0;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return;
  }
  if (!computes) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

int main(int argc, char** argv) {
  wait_passively(argc, argv);
  CLI::App app{"skillmatch: tag course descriptions with the skills they teach"};
  app.require_subcommand(1);
  app.add_option_function<std::string>(
      "--threads",
      [](const std::string& v) {
        const auto cores = static_cast<std::size_t>(skillmatch::available_cores());
        try {
          skillmatch::set_num_threads(
              static_cast<int>(skillmatch::parse_count("--threads", v, 1, cores)));
        } catch (const skillmatch::Error& e) {
          throw skillmatch::Error(e.kind(), std::string(e.what()) + " (the cores available)");
        }
      },
      "compute threads (default: all available cores)");
  app.set_version_flag("--version", std::string("skillmatch ") + SKILLMATCH_VERSION);
  skillmatch::cli::add_model_commands(app);
  skillmatch::cli::add_workspace_commands(app);
  skillmatch::cli::add_match_commands(app);
  skillmatch::cli::add_eval_command(app);
  skillmatch::cli::add_serve_command(app);
  skillmatch::cli::add_train_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    // Also "A subcommand is required": name what is wrong instead.
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      return usage_error(std::string("unknown command '") + argv[1] + "'");
    }
    return usage_error(e.what());
  } catch (const CLI::ExtrasError& e) {
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      return usage_error(std::string("unknown command '") + argv[1] + "'");
    }
    return usage_error(e.what());
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  } catch (const skillmatch::Error& e) {
    std::cerr << "skillmatch: error: " << e.what() << "\n";
    return skillmatch::exit_code(e.kind());
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "skillmatch: error: " << e.what() << "\n";
    return skillmatch::exit_code(skillmatch::ErrorKind::kIo);
  } catch (const std::exception& e) {
    std::cerr << "skillmatch: internal error: " << e.what() << "\n";
    return 70;
  }
  return 0;
}
