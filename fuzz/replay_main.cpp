// The replay driver of the normal build: feeds every file of the given corpus folders (or files)
// to one fuzz target, so that ctest re-checks the committed corpora without libFuzzer.
//
//   skillmatch_fuzz_replay TARGET PATH...    (skillmatch_fuzz_replay --list: the targets)
//
// PATH is a folder (its files, recursively) or a file; missing paths are skipped, but there must
// be at least one input.
//
// Each target's source is compiled here with LLVMFuzzerTestOneInput renamed to
// skillmatch_fuzz_<target> (see fuzz/CMakeLists.txt). A finding is an exception other than
// skillmatch::Error (reported with the file, exit 1) or an abort or crash (the file is printed
// before the process dies).
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define SKILLMATCH_FUZZ_TARGET(name) \
  extern "C" int skillmatch_fuzz_##name(const std::uint8_t* data, std::size_t size);
#include "fuzz_targets.inc"
#undef SKILLMATCH_FUZZ_TARGET

namespace fs = std::filesystem;

namespace {

struct Target {
  const char* name;
  int (*run)(const std::uint8_t*, std::size_t);
};

const Target kTargets[] = {
#define SKILLMATCH_FUZZ_TARGET(name) {#name, skillmatch_fuzz_##name},
#include "fuzz_targets.inc"
#undef SKILLMATCH_FUZZ_TARGET
};

// The input being run, for the signal handler.
char g_current[4096];

void on_fatal_signal(int sig) {
  const char prefix[] = "\nfuzz replay: died on input ";
  (void)!::write(2, prefix, sizeof prefix - 1);
  (void)!::write(2, g_current, std::strlen(g_current));
  (void)!::write(2, "\n", 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// The files of the given folders (recursively) and files, sorted; a path that does not exist is
// skipped (a target without regression inputs has no folder for them).
std::vector<fs::path> inputs(const std::vector<std::string>& args) {
  std::vector<fs::path> files;
  for (const auto& a : args) {
    if (!fs::exists(a)) continue;
    if (fs::is_directory(a)) {
      for (const auto& e : fs::recursive_directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.emplace_back(a);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& t : kTargets) std::printf("%s\n", t.name);
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET FILE-OR-FOLDER... (--list: the targets)\n", argv[0]);
    return 2;
  }
  const Target* target = nullptr;
  for (const auto& t : kTargets) {
    if (std::string(argv[1]) == t.name) target = &t;
  }
  if (!target) {
    std::fprintf(stderr, "unknown fuzz target %s (--list: the targets)\n", argv[1]);
    return 2;
  }
  const auto files = inputs(std::vector<std::string>(argv + 2, argv + argc));
  if (files.empty()) {
    std::fprintf(stderr, "%s: no inputs in the given paths\n", target->name);
    return 1;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);
  std::size_t bytes = 0;
  for (const auto& file : files) {
    std::snprintf(g_current, sizeof g_current, "%s", file.c_str());
    std::ifstream in(file, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes += data.size();
    try {
      target->run(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: uncaught exception: %s\n", target->name, file.c_str(),
                   e.what());
      return 1;
    } catch (...) {
      std::fprintf(stderr, "%s: %s: uncaught exception of an unknown type\n", target->name,
                   file.c_str());
      return 1;
    }
  }
  std::printf("%s: %zu inputs (%zu bytes) replayed\n", target->name, files.size(), bytes);
  return 0;
}
