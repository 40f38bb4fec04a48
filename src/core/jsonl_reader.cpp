#include "skillmatch/core/jsonl_reader.h"

#include "core/json_util.h"
#include "skillmatch/core/error.h"

namespace skillmatch {

JsonlReader::JsonlReader(std::istream& in, std::string name, std::size_t max_line_bytes)
    : in_(in), name_(std::move(name)), max_line_bytes_(max_line_bytes) {}

std::string JsonlReader::where() const {
  return name_ + " line " + std::to_string(line_);
}

bool JsonlReader::next(nlohmann::json& out) {
  std::streambuf* sb = in_.rdbuf();
  for (;;) {
    buffer_.clear();
    // Read up to the newline byte by byte from the stream's buffer, so that a line without end
    // cannot take unbounded memory.
    int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) return false;
    bool at_end = false;
    while (c != '\n') {
      buffer_.push_back(static_cast<char>(c));
      if (buffer_.size() > max_line_bytes_) {
        ++line_;
        throw Error(ErrorKind::kInvalidArgument, where() + ": line is longer than " +
                                                     std::to_string(max_line_bytes_) + " bytes");
      }
      c = sb->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        at_end = true;
        break;
      }
    }
    ++line_;
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (buffer_.find_first_not_of(" \t") == std::string::npos) {
      if (at_end) return false;
      continue;
    }
    try {
      out = parse_json(buffer_);
    } catch (const nlohmann::json::parse_error& e) {
      std::string msg = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 7: ..." -> "column 7: ..."
      const auto col = msg.find("column ");
      if (col != std::string::npos) msg = msg.substr(col);
      throw Error(ErrorKind::kInvalidArgument, where() + ": invalid JSON (" + msg + ")");
    } catch (const nlohmann::json::exception& e) {
      // A number beyond double's range ("1e999") is an out_of_range error, not a parse_error.
      throw Error(ErrorKind::kInvalidArgument,
                  where() + ": invalid JSON (" + json_error_message(e) + ")");
    }
    SM_CHECK(out.is_object(), ErrorKind::kInvalidArgument,
             where() + ": expected a JSON object, got " + out.type_name());
    return true;
  }
}

std::string JsonlReader::require_string(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  SM_CHECK(it != obj.end(), ErrorKind::kInvalidArgument,
           std::string("the object has no \"") + key + "\"");
  SM_CHECK(it->is_string(), ErrorKind::kInvalidArgument,
           std::string("\"") + key + "\" must be a string, got " + it->type_name());
  return it->get<std::string>();
}

}  // namespace skillmatch
