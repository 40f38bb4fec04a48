// JSON Lines (JsonlReader, read from memory): every object of the input, with a small line limit
// so that the limit is reached too, and the string lookup the readers use.
#include <sstream>

#include "fuzz_util.h"
#include "skillmatch/core/jsonl_reader.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in{std::string(fuzz::as_text(data, size))};
  JsonlReader reader(in, "input.jsonl", 2048);
  try {
    nlohmann::json obj;
    std::size_t last_line = 0;
    while (reader.next(obj)) {
      FUZZ_CHECK(obj.is_object());
      FUZZ_CHECK(reader.line() > last_line);
      last_line = reader.line();
      try {
        JsonlReader::require_string(obj, "text");
      } catch (const Error& e) {
        fuzz::expect_error(e, "\"text\"");
      }
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, "input.jsonl line ");
  }
  return 0;
}
