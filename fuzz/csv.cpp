// CSV files (CsvReader): header, column lookups and every record, with a small record limit so
// that the limit is reached too. Every field returned must be valid UTF-8 without NUL bytes and
// every record as wide as the header.
#include "skillmatch/core/csv.h"
#include "fuzz_util.h"
#include "skillmatch/core/utf8.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("input.csv", fuzz::as_text(data, size));
  try {
    CsvReader csv(path, 2048);
    const std::vector<std::string>& header = csv.header();
    FUZZ_CHECK(!header.empty());
    csv.column("label");
    csv.require_column(header.back());
    std::vector<std::string> fields;
    std::size_t last_line = 1;
    while (csv.next(fields)) {
      FUZZ_CHECK(fields.size() == header.size());
      for (const auto& f : fields) {
        FUZZ_CHECK(is_valid_utf8(f) && f.find('\0') == std::string::npos);
      }
      FUZZ_CHECK(csv.line() > last_line);
      last_line = csv.line();
      csv.where();
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
