// The subcommands of the skillmatch CLI, one group per file. Each add_* registers its options and
// callback on `app`. Callbacks throw skillmatch::Error; main() turns it into one line on stderr
// and an exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace skillmatch::cli {

// tokenize, embed, rerank, info, pull (cmd_models.cpp)
void add_model_commands(CLI::App& app);
// import, taxonomies, groups (cmd_workspace.cpp)
void add_workspace_commands(CLI::App& app);
// index, match (cmd_match.cpp)
void add_match_commands(CLI::App& app);
// eval (cmd_eval.cpp)
void add_eval_command(CLI::App& app);
// serve (cmd_serve.cpp, server/)
void add_serve_command(CLI::App& app);
// train embedder, train reranker, mine-negatives (cmd_train.cpp)
void add_train_commands(CLI::App& app);

}  // namespace skillmatch::cli
