#include "skillmatch/core/io.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/model/model_config.h"
#include "skillmatch/text/tokenizer.h"
#include "test_util.h"

namespace skillmatch {
namespace {

TEST(Io, AtomicWriteReplacesWholeFile) {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  write_file_atomic(path, [](std::FILE* f) { std::fputs("first\n", f); });
  EXPECT_EQ(test::slurp(path), "first\n");
  write_file_atomic(path, [](std::FILE* f) { std::fputs("second\n", f); });
  EXPECT_EQ(test::slurp(path), "second\n");
}

TEST(Io, FailedAtomicWriteLeavesOldFileAndNoTemporary) {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  test::spit(path, "old content\n");
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::FILE* f) {
                                   std::fputs("half of the new", f);
                                   throw Error(ErrorKind::kInvalidArgument, "bad line");
                                 }),
               Error);
  EXPECT_EQ(test::slurp(path), "old content\n");
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(Io, ErrorsNameThePath) {
  test::TempDir dir;
  try {
    read_file(dir / "absent.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("absent.txt"), std::string::npos);
  }
  EXPECT_THROW(write_file_atomic(dir / "no" / "such" / "dir.txt", [](std::FILE*) {}), Error);
  EXPECT_THROW(require_directory(dir / "absent", "model folder"), Error);
  test::spit(dir / "file", "x");
  EXPECT_THROW(require_directory(dir / "file", "model folder"), Error);
}

TEST(Io, MapsEmptyAndNonEmptyFiles) {
  test::TempDir dir;
  test::spit(dir / "empty", "");
  MappedFile e(dir / "empty");
  EXPECT_EQ(e.size(), 0u);
  test::spit(dir / "abc", "abc");
  MappedFile m(dir / "abc");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.data()[2], 'c');
  MappedFile moved = std::move(m);
  EXPECT_EQ(moved.size(), 3u);
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// nlohmann's parser throws out_of_range, not parse_error, for a number beyond double's range;
// every JSON reader must still answer with a skillmatch::Error (found by fuzzing).
TEST(Json, NumbersBeyondDoubleAreErrorsEverywhere) {
  test::TempDir dir;
  test::spit(dir / "a.json", R"({"x": 1e999})");
  test::expect_error([&] { load_json_file(dir / "a.json"); }, ErrorKind::kCorrupt,
                     {"a.json: invalid JSON: number overflow parsing '1e999'"});
  test::expect_error([&] { ModelConfig::parse(R"({"hidden_size": -1e999})", "config.json"); },
                     ErrorKind::kCorrupt, {"config.json: invalid JSON: number overflow"});
  std::istringstream in("{\"a\": 1}\n{\"b\": [1E400]}\n");
  JsonlReader reader(in, "in.jsonl");
  nlohmann::json j;
  EXPECT_TRUE(reader.next(j));
  test::expect_error([&] { reader.next(j); }, ErrorKind::kInvalidArgument,
                     {"in.jsonl line 2: invalid JSON (number overflow parsing '1E400')"});
  test::spit(dir / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": [["a", -1e999]]}})");
  test::expect_error([&] { Tokenizer::load(dir / "tokenizer.json"); }, ErrorKind::kCorrupt,
                     {"tokenizer.json: invalid JSON (number overflow"});
}

}  // namespace
}  // namespace skillmatch
