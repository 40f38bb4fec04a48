#include "core/json_util.h"

#include "skillmatch/core/io.h"

namespace skillmatch {

nlohmann::json load_json_file(const std::filesystem::path& path) {
  require_file(path, "file");
  std::string text = read_file(path);
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorKind::kCorrupt, path.string() + ": invalid JSON at byte " +
                                         std::to_string(e.byte) + ": " + e.what());
  }
}

}  // namespace skillmatch
