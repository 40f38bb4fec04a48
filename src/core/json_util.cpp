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
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt, path.string() + ": invalid JSON: " + json_error_message(e));
  }
}

std::string json_error_message(const nlohmann::json::exception& e) {
  std::string msg = e.what();
  if (msg.rfind("[json.exception.", 0) == 0) {
    const auto end = msg.find("] ");
    if (end != std::string::npos) msg.erase(0, end + 2);
  }
  return msg;
}

}  // namespace skillmatch
