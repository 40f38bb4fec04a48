#include "skillmatch/core/io.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/engine.h"
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

// JSON nested deeper than 128 levels is refused while it is parsed, before a reader or a message
// recurses over it: 200,000 brackets overflowed the stack in tokenizer.json's vocabulary
// message (dump()) and would in the readers' own recursion over normalizers.
TEST(Json, DeepNestingIsRefusedEverywhere) {
  test::TempDir dir;
  const std::size_t depth = 200000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_NO_THROW(parse_json(std::string(128, '[') + std::string(128, ']')));
  test::expect_error([&] { ModelConfig::parse(R"({"model_type": )" + deep + "}", "config.json"); },
                     ErrorKind::kCorrupt, {"config.json: invalid JSON: nesting deeper than 128"});
  std::istringstream in("{\"id\": " + deep + "}\n");
  JsonlReader reader(in, "in.jsonl", 1u << 30);
  nlohmann::json j;
  test::expect_error([&] { reader.next(j); }, ErrorKind::kInvalidArgument,
                     {"in.jsonl line 1: invalid JSON (nesting deeper than 128 levels)"});
  test::spit(dir / "tokenizer.json",
             R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": [)" + deep + "]}}");
  test::expect_error([&] { Tokenizer::load(dir / "tokenizer.json"); }, ErrorKind::kCorrupt,
                     {"tokenizer.json: invalid JSON (nesting deeper than 128 levels)"});
  std::string normalizers;
  for (std::size_t i = 0; i < depth; ++i) normalizers += R"({"type": "Sequence", "normalizers": [)";
  for (std::size_t i = 0; i < depth; ++i) normalizers += "]}";
  test::spit(dir / "tokenizer.json",
             R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0]]}, "normalizer": )" +
                 normalizers + "}");
  test::expect_error([&] { Tokenizer::load(dir / "tokenizer.json"); }, ErrorKind::kCorrupt,
                     {"tokenizer.json: invalid JSON (nesting deeper than 128 levels)"});
  test::spit(dir / "a.json", deep);
  test::expect_error([&] { load_json_file(dir / "a.json"); }, ErrorKind::kCorrupt,
                     {"a.json: invalid JSON: nesting deeper than 128 levels"});
}

// Messages quote at most 64 bytes of a JSON value, never cut inside a character, and build the
// quote without walking the rest of the value (options set from a deep request body).
TEST(Json, MessagesQuoteABoundedPreview) {
  const std::size_t depth = 200000;
  const nlohmann::json deep =
      nlohmann::json::parse(std::string(depth, '[') + std::string(depth, ']'));
  const std::string p = json_preview(deep);
  EXPECT_EQ(p, std::string(64, '[') + "...");
  EXPECT_EQ(json_preview(nlohmann::json::parse(R"({"a": [1, 2.5, null, true, "x"]})")),
            R"({"a": [1, 2.5, null, true, "x"]})");
  const std::string umlauts = json_preview(nlohmann::json(std::string(100, 'x') + "\u00fc"), 20);
  EXPECT_EQ(umlauts, "\"" + std::string(19, 'x') + "...");
  const nlohmann::json long_text = std::string(63, 'a') + "\u00fc\u00fc";
  EXPECT_TRUE(is_valid_utf8(json_preview(long_text)));
  EXPECT_EQ(utf8_prefix("a\u00fc", 2), "a");
  EXPECT_EQ(utf8_prefix("a\u00fc", 3), "a\u00fc");
  MatchOptions o;
  test::expect_error([&] { match_option_table().set_json(o, "top", deep); },
                     ErrorKind::kInvalidArgument,
                     {"top: expected a whole number from 1 to 1000, got array [[[["});
}

}  // namespace
}  // namespace skillmatch
