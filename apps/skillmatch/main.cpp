// skillmatch: the command-line entry point. Parses the command line, runs one subcommand, and
// turns any error into one line on stderr and a non-zero exit code.
#include <exception>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "skillmatch/core/error.h"
#include "skillmatch/model/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"skillmatch: tag course descriptions with the skills they teach"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "compute threads (default: all available cores)")
      ->check(CLI::Range(0, 1024));
  app.set_version_flag("--version", std::string("skillmatch ") + SKILLMATCH_VERSION);
  app.parse_complete_callback([&] {
    if (threads > 0) skillmatch::set_num_threads(threads);
  });
  skillmatch::cli::add_tokenize_command(app);
  skillmatch::cli::add_embed_command(app);
  skillmatch::cli::add_rerank_command(app);
  skillmatch::cli::add_info_command(app);
  skillmatch::cli::add_catalog_commands(app);
  skillmatch::cli::add_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
