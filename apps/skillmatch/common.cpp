#include "common.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace skillmatch::cli {

void note(const std::string& s) {
  std::cerr << "skillmatch: " << s << "\n";
}

bool use_builtin_embedder(std::string& embedder, const std::string& reranker, DType& dtype) {
  if (!embedder.empty()) return false;
  const std::filesystem::path builtin = default_embedder();
  if (builtin.empty()) return false;
  embedder = builtin.string();
  if (dtype == DType::kAuto && reranker.empty()) dtype = DType::kFloat32;
  return true;
}

std::unique_ptr<Engine> open_engine(const std::string& workspace, bool seed) {
  EngineOptions o;
  o.workspace = workspace;
  o.seed_defaults = seed;
  o.log = note;
  o.progress = progress_bars();
  return std::make_unique<Engine>(std::move(o));
}

std::function<void(const std::string&, std::size_t, std::size_t)> progress_bars() {
  auto bar = std::make_shared<ProgressBar>();
  return [bar](const std::string& what, std::size_t done, std::size_t total) {
    if (bar->what != what) {
      *bar = ProgressBar{};
      bar->what = what;
    }
    (*bar)(done, total);
  };
}

void add_workspace_option(CLI::App& sub, std::string& ws) {
  sub.add_option("-w,--workspace", ws,
                 "workspace directory (default $SKILLMATCH_WORKSPACE, else "
                 "~/.local/share/skillmatch)");
}

bool ProgressBar::is_terminal() {
  return ::isatty(STDERR_FILENO) != 0;
}

void ProgressBar::operator()(std::size_t done, std::size_t total) {
  if (!tty_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? double(done) / secs : 0;
  const double eta = rate > 0 ? double(total - done) / rate : 0;
  const int width = 30;
  const int filled = static_cast<int>(width * double(done) / double(total));
  std::fprintf(stderr, "\r%s [%s%s] %zu/%zu  %.0f/s  ETA %d:%02d ", what.c_str(),
               std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total,
               rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace skillmatch::cli
