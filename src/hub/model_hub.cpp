#include "skillmatch/hub/model_hub.h"

#include <cstdlib>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace fs = std::filesystem;

namespace skillmatch {

fs::path hf_hub_cache() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return fs::path(h) / "hub";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return fs::path(x) / "huggingface" / "hub";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".cache" / "huggingface" / "hub";
}

fs::path resolve_model(const std::string& name) {
  SM_CHECK(!name.empty(), ErrorKind::kInvalidArgument, "empty model name");
  if (fs::is_directory(name)) return name;
  std::error_code ec;
  SM_CHECK(!fs::exists(name, ec), ErrorKind::kInvalidArgument,
           "model folder " + name +
               " is not a directory (a model is a folder with config.json, "
               "the weights and the tokenizer)");
  const auto slash = name.find('/');
  const bool hub_id = slash != std::string::npos && slash > 0 &&
                      name.find('/', slash + 1) == std::string::npos && name[0] != '.' &&
                      !fs::path(name).is_absolute();
  SM_CHECK(hub_id, ErrorKind::kNotFound, "model folder " + name + " does not exist");
  const fs::path repo =
      hf_hub_cache() / ("models--" + name.substr(0, slash) + "--" + name.substr(slash + 1));
  const fs::path snapshots = repo / "snapshots";
  if (fs::is_directory(snapshots)) {
    const fs::path ref = repo / "refs" / "main";
    if (fs::exists(ref)) {
      std::string commit = read_file(ref);
      while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r')) commit.pop_back();
      if (fs::is_directory(snapshots / commit)) return snapshots / commit;
    }
    std::optional<fs::path> newest;
    fs::file_time_type newest_time{};
    for (const auto& e : fs::directory_iterator(snapshots)) {
      if (!e.is_directory()) continue;
      const auto t = e.last_write_time();
      if (!newest || t > newest_time) newest = e.path(), newest_time = t;
    }
    if (newest) return *newest;
  }
  throw Error(ErrorKind::kNotFound,
              "model " + name + " is not a folder and not in the Hugging Face cache (" +
                  repo.string() + "); download it with `skillmatch pull " + name +
                  "` (or huggingface-cli download), or pass the model folder");
}

}  // namespace skillmatch
