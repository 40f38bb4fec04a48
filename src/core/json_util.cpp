#include "core/json_util.h"

#include "skillmatch/core/io.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch {

JsonTooDeep::JsonTooDeep()
    : nlohmann::json::exception(0, ("[json.exception.depth] nesting deeper than " +
                                    std::to_string(kMaxJsonDepth) + " levels")
                                       .c_str()) {}

nlohmann::json parse_json(std::string_view text) {
  nlohmann::json j;
  JsonDomBuilder builder(j);
  nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  return j;
}

nlohmann::json load_json_file(const std::filesystem::path& path) {
  require_file(path, "file");
  std::string text = read_file(path);
  try {
    return parse_json(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorKind::kCorrupt, path.string() + ": invalid JSON at byte " +
                                         std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt, path.string() + ": invalid JSON: " + json_error_message(e));
  }
}

namespace {

// A JSON string literal of at most `max_bytes` of `s` (invalid UTF-8 replaced, not thrown on).
std::string quote(const std::string& s, std::size_t max_bytes) {
  return nlohmann::json(std::string(utf8_prefix(s, max_bytes)))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void preview(const nlohmann::json& v, std::string& out, std::size_t max_bytes) {
  if (out.size() > max_bytes) return;
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end() && out.size() <= max_bytes; ++it) {
        if (!first) out += ", ";
        first = false;
        out += quote(it.key(), max_bytes);
        out += ": ";
        preview(it.value(), out, max_bytes);
      }
      out += '}';
      break;
    }
    case nlohmann::json::value_t::array: {
      out += '[';
      for (std::size_t i = 0; i < v.size() && out.size() <= max_bytes; ++i) {
        if (i > 0) out += ", ";
        preview(v[i], out, max_bytes);
      }
      out += ']';
      break;
    }
    case nlohmann::json::value_t::string:
      out += quote(v.get_ref<const std::string&>(), max_bytes);
      break;
    default:
      out += v.dump();
      break;
  }
}

}  // namespace

std::string json_preview(const nlohmann::json& v, std::size_t max_bytes) {
  std::string out;
  preview(v, out, max_bytes);
  if (out.size() > max_bytes) out = std::string(utf8_prefix(out, max_bytes)) + "...";
  return out;
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
