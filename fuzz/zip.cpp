// ZIP archives (ZipReader, for ESCO's exports): the central directory and every entry.
#include "core/zip.h"
#include "fuzz_util.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("input.zip", fuzz::as_text(data, size));
  try {
    const ZipReader zip(path);
    for (const std::string& name : zip.names()) {
      FUZZ_CHECK(zip.contains(name));
      try {
        zip.read(name);
      } catch (const Error& e) {
        fuzz::expect_error(e, path.string());
      }
    }
    FUZZ_CHECK(!zip.contains("\x01 not an entry"));
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
