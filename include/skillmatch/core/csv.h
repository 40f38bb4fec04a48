// A streaming reader of CSV files (RFC 4180: comma-separated, fields optionally in double quotes,
// "" for a quote inside quotes, newlines allowed inside quoted fields, CRLF or LF line ends).
//
// Errors: kNotFound for a missing file; kInvalidArgument "<file> line N: <reason>" for an
// unterminated quote, text after a closing quote, a row with a different number of fields than
// the header, invalid UTF-8, a NUL byte, a record larger than the limit or with more than
// kMaxCsvFields fields. Not thread-safe; one reader per thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skillmatch {

inline constexpr std::size_t kMaxCsvFields = 65536;

class CsvReader {
 public:
  // Opens `path` and reads its header row. A UTF-8 byte order mark is skipped.
  explicit CsvReader(const std::filesystem::path& path, std::size_t max_record_bytes = 16u << 20);
  // Reads CSV text held in memory (an archive's entry); `name` stands for the file in messages
  // ("export.zip:skills_de.csv line 7: ...").
  CsvReader(std::string text, std::string name, std::size_t max_record_bytes = 16u << 20);

  const std::vector<std::string>& header() const noexcept { return header_; }
  // Index of a header column; nullopt if absent.
  std::optional<std::size_t> column(const std::string& name) const;
  // Index of a header column; throws kInvalidArgument naming the file and the column.
  std::size_t require_column(const std::string& name) const;

  // Reads the next record into `fields`; false at the end of the file.
  bool next(std::vector<std::string>& fields);

  // Line on which the record last returned starts (1 = header).
  std::size_t line() const noexcept { return record_line_; }
  // "<file> line N"
  std::string where() const;

 private:
  void start();  // skips a byte order mark, reads the header
  bool read_record(std::vector<std::string>& fields);

  std::string name_;
  std::unique_ptr<std::istream> in_;
  std::size_t max_record_bytes_;
  std::size_t line_ = 1;         // current physical line
  std::size_t record_line_ = 0;  // first line of the last record
  std::vector<std::string> header_;
};

}  // namespace skillmatch
