// The Hugging Face Hub's answers to `pull`: the model-info JSON of a revision and a file's
// ETag and size headers, read in memory (hub/hub_answers.h). The input holds three parts
// separated by lines "----": the JSON body, the ETag header value and the size header value.
// The commit and the ETag name a folder and a file in the cache, so they must be usable as one
// path component.
#include "hub/hub_answers.h"
#include "fuzz_util.h"

using namespace skillmatch;

namespace {

bool one_path_component(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_parts(fuzz::as_text(data, size), 3);
  try {
    const hub::RevisionInfo info =
        hub::parse_revision_info(parts[0], "org/model", "pulling org/model from fuzz");
    FUZZ_CHECK(one_path_component(info.commit));
    for (const std::string& f : info.files) {
      FUZZ_CHECK(!f.empty() && f.front() != '/' && f.find("..") == std::string::npos);
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, "org/model");
  }
  try {
    const hub::FileHead head =
        hub::parse_file_head(std::string(parts[1]), std::string(parts[2]), "HEAD fuzz");
    FUZZ_CHECK(one_path_component(head.etag));
  } catch (const Error& e) {
    fuzz::expect_error(e);
  }
  return 0;
}
