// What the commands share: the Engine as a command opens it (workspace, notes and progress on
// stderr), the -w/--workspace option, and a terminal progress bar.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "skillmatch/engine.h"

namespace skillmatch::cli {

// "skillmatch: <s>" on stderr.
void note(const std::string& s);

// An Engine over `workspace` (empty: the default) whose notes and progress go to stderr.
// `seed`: create the workspace and import the shipped taxonomies on first use.
std::unique_ptr<Engine> open_engine(const std::string& workspace, bool seed = true);

// -w/--workspace
void add_workspace_option(CLI::App& sub, std::string& ws);

// When no embedder is given: sets `embedder` to the built-in model (if it is shipped) and, with
// no reranker and dtype auto, `dtype` to float32 (too small a model for bfloat16 to pay; float32
// gives the numbers of its shipped skill vectors). True when it did.
bool use_builtin_embedder(std::string& embedder, const std::string& reranker, DType& dtype);

// A progress bar with rate and ETA on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
  std::string what;
  void operator()(std::size_t done, std::size_t total);

 private:
  bool tty_ = is_terminal();
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
  static bool is_terminal();
};

// Progress of named steps on stderr: a fresh bar whenever the step's name changes.
std::function<void(const std::string& what, std::size_t done, std::size_t total)> progress_bars();

}  // namespace skillmatch::cli
