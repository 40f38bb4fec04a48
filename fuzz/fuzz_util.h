// What the fuzz targets share: the scratch folder for the APIs that take a path, splitting one
// input into several files, and the rule for what a target may see go wrong.
//
// Every target defines LLVMFuzzerTestOneInput and runs the bytes through skillmatch's public
// API. The only expected failure is a skillmatch::Error of a kind other than kInternal; the
// targets catch exactly that (with `expect_error`), so any other exception, an internal error,
// a sanitizer report, a hang or a huge allocation reaches libFuzzer (or the replay driver) as a
// finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/error.h"

namespace skillmatch::fuzz {

// The bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// This process's scratch folder, made on first use and removed at exit: under $TMPDIR when set,
// else /dev/shm when there is one (no disk writes), else the system's temporary folder. Folders
// left by processes that died are removed when the next one starts.
const std::filesystem::path& scratch_dir();

// Writes `bytes` to scratch_dir()/`name` (creating sub-folders) and returns its path.
std::filesystem::path write_scratch(const std::string& name, std::string_view bytes);

// scratch_dir()/`name` as a new empty folder (whatever was there is removed).
std::filesystem::path fresh_dir(const std::string& name);

// The separator of the parts of a multi-file input: a line "----".
inline constexpr std::string_view kPartSeparator = "\n----\n";

// Splits `data` at each kPartSeparator into exactly `count` parts: missing parts are empty, the
// last part keeps any further separators.
std::vector<std::string_view> split_parts(std::string_view data, std::size_t count);

// A ZIP archive of stored entries with correct sizes and CRCs, for the targets whose input is
// the content of an archive (an input that mutates an archive's bytes rarely passes its CRCs).
std::string stored_zip(const std::vector<std::pair<std::string, std::string_view>>& entries);

// The handler of every target's `catch (const Error& e)`: an error of the kind kInternal is a bug
// (an SM_ASSERT that failed), so it aborts; with `subject` not empty the message must name it
// (the file or folder the target read), as DEVELOPERS.md asks of every user-caused failure.
// With SKILLMATCH_FUZZ_VERBOSE set in the environment, every error is printed (to see what a
// corpus file reaches).
void expect_error(const Error& e, const std::string& subject = {});

// Aborts with `what` when an invariant of the API does not hold for an input that it accepted.
[[noreturn]] void invariant_failed(const char* what, const char* file, int line);

// A few skills (two sharing a label, one with alternative labels and a description) for the
// targets that resolve or render skills against a corpus.
const std::vector<Skill>& sample_skills();

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so that the
// targets that take texts reach past the UTF-8 check with most inputs.
std::string to_valid_utf8(std::string_view text);

}  // namespace skillmatch::fuzz

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) ::skillmatch::fuzz::invariant_failed(#cond, __FILE__, __LINE__); \
  } while (0)
