#include "skillmatch/core/csv.h"

#include <fstream>
#include <sstream>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch {

CsvReader::CsvReader(const std::filesystem::path& path, std::size_t max_record_bytes)
    : name_(path.string()), max_record_bytes_(max_record_bytes) {
  require_file(path, "CSV file");
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  SM_CHECK(file->is_open(), ErrorKind::kIo, "cannot open CSV file " + path.string());
  in_ = std::move(file);
  start();
}

CsvReader::CsvReader(std::string text, std::string name, std::size_t max_record_bytes)
    : name_(std::move(name)),
      in_(std::make_unique<std::istringstream>(std::move(text), std::ios::binary)),
      max_record_bytes_(max_record_bytes) {
  start();
}

void CsvReader::start() {
  // Skip a UTF-8 byte order mark, as spreadsheet exports often start with one.
  char bom[3] = {};
  in_->read(bom, 3);
  if (!(in_->gcount() == 3 && bom[0] == '\xEF' && bom[1] == '\xBB' && bom[2] == '\xBF')) {
    in_->clear();
    in_->seekg(0);
  }
  SM_CHECK(read_record(header_), ErrorKind::kInvalidArgument,
           name_ + ": the file is empty (no header row)");
}

std::optional<std::size_t> CsvReader::column(const std::string& name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

std::size_t CsvReader::require_column(const std::string& name) const {
  auto c = column(name);
  if (!c) {
    std::string cols;
    for (const auto& h : header_) cols += (cols.empty() ? "" : ", ") + h;
    throw Error(ErrorKind::kInvalidArgument,
                name_ + ": no column '" + name + "' (columns: " + cols + ")");
  }
  return *c;
}

std::string CsvReader::where() const {
  return name_ + " line " + std::to_string(record_line_);
}

bool CsvReader::next(std::vector<std::string>& fields) {
  for (;;) {
    if (!read_record(fields)) return false;
    // Skip blank lines, which many exports end with.
    if (fields.size() == 1 && fields[0].empty()) continue;
    SM_CHECK(fields.size() == header_.size(), ErrorKind::kInvalidArgument,
             where() + ": " + std::to_string(fields.size()) + " fields, but the header has " +
                 std::to_string(header_.size()));
    return true;
  }
}

bool CsvReader::read_record(std::vector<std::string>& fields) {
  fields.clear();
  std::streambuf* sb = in_->rdbuf();
  using Traits = std::char_traits<char>;
  int c = sb->sbumpc();
  if (c == Traits::eof()) return false;
  record_line_ = line_;
  std::string field;
  std::size_t bytes = 0;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // the current field was quoted and has been closed
  auto fail = [&](const std::string& why) {
    throw Error(ErrorKind::kInvalidArgument, where() + ": " + why);
  };
  auto finish_field = [&] {
    try {
      validate_utf8(field);
    } catch (const Error& e) {
      fail(std::string("field ") + std::to_string(fields.size() + 1) + ": " + e.what());
    }
    if (field.find('\0') != std::string::npos) {
      fail("field " + std::to_string(fields.size() + 1) + " contains a NUL byte");
    }
    // Each field costs a string object on top of its bytes: 16 MB of commas would make 16
    // million of them (half a gigabyte), so records have at most kMaxCsvFields fields.
    if (fields.size() == kMaxCsvFields) {
      fail("more than " + std::to_string(kMaxCsvFields) + " fields in a record");
    }
    fields.push_back(std::move(field));
    field.clear();
    was_quoted = false;
  };
  for (;; c = sb->sbumpc()) {
    if (++bytes > max_record_bytes_) {
      fail("record is longer than " + std::to_string(max_record_bytes_) + " bytes");
    }
    if (c == Traits::eof()) {
      if (quoted) fail("a quoted field is not closed before the end of the file");
      finish_field();
      return true;
    }
    const char ch = static_cast<char>(c);
    if (quoted) {
      if (ch == '"') {
        if (sb->sgetc() == '"') {
          sb->sbumpc();
          field += '"';
        } else {
          quoted = false;
          was_quoted = true;
        }
      } else {
        if (ch == '\n') ++line_;
        field += ch;
      }
      continue;
    }
    if (ch == ',') {
      finish_field();
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && sb->sgetc() == '\n') sb->sbumpc();
      ++line_;
      finish_field();
      return true;
    } else if (was_quoted) {
      fail("unexpected character after a closing quote in field " +
           std::to_string(fields.size() + 1));
    } else if (ch == '"' && field.empty()) {
      quoted = true;
    } else {
      field += ch;
    }
  }
}

}  // namespace skillmatch
