// JSON Lines input: one JSON object per line, with errors that name the input and the line.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

#include <nlohmann/json.hpp>

namespace skillmatch {

// Reads one JSON object per line from a stream. Blank lines are skipped; a trailing '\r' is
// ignored. Throws Error(kInvalidArgument) "<name> line N: <reason>" for a line that is
// not a JSON object or is longer than `max_line_bytes`.
class JsonlReader {
 public:
  JsonlReader(std::istream& in, std::string name, std::size_t max_line_bytes = 16u << 20);

  // Reads the next object into `out`; false at end of input.
  bool next(nlohmann::json& out);

  // Line number of the object last returned (1-based).
  std::size_t line() const noexcept { return line_; }
  // "<name> line N"
  std::string where() const;

  // The string member `key` of `obj`; kInvalidArgument naming the key when it is missing or not
  // a string (the caller adds where()).
  static std::string require_string(const nlohmann::json& obj, const char* key);

 private:
  std::istream& in_;
  std::string name_;
  std::size_t max_line_bytes_;
  std::size_t line_ = 0;
  std::string buffer_;
};

}  // namespace skillmatch
