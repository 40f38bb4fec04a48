// The subcommands of the skillmatch CLI. Each add_* registers its options and callback on `app`.
// Callbacks throw skillmatch::Error; main() turns it into one line on stderr and an exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace skillmatch::cli {

void add_tokenize_command(CLI::App& app);
void add_embed_command(CLI::App& app);
void add_rerank_command(CLI::App& app);
void add_info_command(CLI::App& app);
// import, taxonomies, index, match (cmd_catalog.cpp)
void add_catalog_commands(CLI::App& app);
// eval (cmd_eval.cpp)
void add_eval_command(CLI::App& app);

}  // namespace skillmatch::cli
