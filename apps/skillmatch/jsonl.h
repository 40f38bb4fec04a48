// JSON Lines in and out for the CLI: one object per line, errors that name the input and line.
#pragma once

#include <cstddef>
#include <cstdio>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace skillmatch::cli {

// Reads one JSON object per line from a stream. Blank lines are skipped; a trailing '\r' is
// ignored. Throws skillmatch::Error(kInvalidArgument) "<name> line N: <reason>" for a line that is
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

// Appends `values` as a JSON array of shortest round-trip float literals.
void append_float_array(std::string& out, const float* values, std::size_t n);
void append_float(std::string& out, float value);

// Writes all of `s` to `f`; throws kIo on failure (a closed pipe, a full disk).
void write_all(std::FILE* f, std::string_view s);

}  // namespace skillmatch::cli
