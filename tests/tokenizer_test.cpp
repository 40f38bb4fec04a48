// The tokenizer against the real SentencePiece library (fixtures and golden file) and the
// transformers conventions (special ids, pair layout, longest-first truncation).
#include "skillmatch/text/tokenizer.h"
#include "skillmatch/core/utf8.h"

#include <gtest/gtest.h>

#include "skillmatch/core/error.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using test::fixtures;

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::load(fixtures() / "tokenizer" / "sentencepiece.bpe.model");
  return t;
}

TEST(Tokenizer, SpecialIdsFollowXlmR) {
  const auto expected = test::load_json(fixtures() / "expected" / "tokenize.json")["special"];
  EXPECT_EQ(Tokenizer::kBos, expected["bos"].get<int>());
  EXPECT_EQ(Tokenizer::kPad, expected["pad"].get<int>());
  EXPECT_EQ(Tokenizer::kEos, expected["eos"].get<int>());
  EXPECT_EQ(Tokenizer::kUnk, expected["unk"].get<int>());
  EXPECT_EQ(tok().mask_id(), expected["mask"].get<int>());
  EXPECT_EQ(tok().vocab_size(), expected["vocab_size"].get<int>());
  EXPECT_EQ(tok().id_to_piece(0), "<s>");
  EXPECT_EQ(tok().id_to_piece(tok().mask_id()), "<mask>");
  EXPECT_THROW(tok().id_to_piece(tok().vocab_size()), Error);
  EXPECT_THROW(tok().id_to_piece(-1), Error);
}

TEST(Tokenizer, MatchesEveryFixtureCase) {
  const auto cases = test::load_json(fixtures() / "expected" / "tokenize.json")["cases"];
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    SCOPED_TRACE(text.substr(0, 60));
    EXPECT_EQ(tok().encode(text, 512), c["ids"].get<TokenIds>());
    EXPECT_EQ(tok().encode(text, 16), c["ids_max_len_16"].get<TokenIds>());
  }
}

// 3,350 texts encoded by the SentencePiece library (tests/tools/make_test_data.py): ESCO labels
// and descriptions, Unicode edge cases, random character soup.
TEST(Tokenizer, MatchesSentencePieceOnGoldenFile) {
  std::ifstream in(test::test_data() / "tokenize_golden.jsonl");
  std::string line;
  std::size_t n = 0, failures = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string text = j["text"];
    const auto expected = j["ids"].get<TokenIds>();
    const TokenIds got = tok().encode_pieces(text);
    if (got != expected && ++failures <= 10) {
      ADD_FAILURE() << "text: " << nlohmann::json(text).dump()
                    << "\nexpected: " << nlohmann::json(expected).dump()
                    << "\n     got: " << nlohmann::json(got).dump();
    }
    ++n;
  }
  EXPECT_GE(n, 3000u);
  EXPECT_EQ(failures, 0u);
}

TEST(Tokenizer, PiecesAreTheNormalizedSurface) {
  const auto pieces = tok().pieces("Grundlagen der Buchhaltung");
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined,
            "\xE2\x96\x81Grundlagen\xE2\x96\x81"
            "der\xE2\x96\x81"
            "Buchhaltung");
  EXPECT_EQ(pieces.size(), tok().encode_pieces("Grundlagen der Buchhaltung").size());
}

TEST(Tokenizer, RunsOfUnknownCharactersBecomeOneUnk) {
  const TokenIds ids = tok().encode_pieces("\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97");  // 中文字
  ASSERT_FALSE(ids.empty());
  std::size_t unks = 0;
  for (auto id : ids) unks += id == Tokenizer::kUnk;
  EXPECT_EQ(unks, 1u);
}

TEST(Tokenizer, SingleLayoutAndTruncation) {
  const TokenIds content = tok().encode_pieces("Projektmanagement mit agilen Methoden");
  const TokenIds full = tok().encode("Projektmanagement mit agilen Methoden", 512);
  ASSERT_EQ(full.size(), content.size() + 2);
  EXPECT_EQ(full.front(), Tokenizer::kBos);
  EXPECT_EQ(full.back(), Tokenizer::kEos);
  const TokenIds cut = tok().encode("Projektmanagement mit agilen Methoden", 4);
  EXPECT_EQ(cut, (TokenIds{Tokenizer::kBos, content[0], content[1], Tokenizer::kEos}));
  EXPECT_EQ(tok().encode("", 512), (TokenIds{Tokenizer::kBos, Tokenizer::kEos}));
  EXPECT_THROW(tok().encode("x", 1), Error);
}

TEST(Tokenizer, PairLayoutMatchesRerankFixture) {
  const auto cases = test::load_json(fixtures() / "expected" / "rerank.json")["cases"];
  for (const auto& c : cases) {
    SCOPED_TRACE(c["query"].get<std::string>().substr(0, 40));
    EXPECT_EQ(tok().encode_pair(c["query"].get<std::string>(), c["passage"].get<std::string>(),
                                c["max_length"].get<std::size_t>()),
              c["ids"].get<TokenIds>());
  }
}

TEST(Tokenizer, PromptedTextsMatchEmbedFixture) {
  const auto models = test::load_json(fixtures() / "expected" / "embed.json");
  for (const auto& [name, m] : models.items()) {
    const auto max_len = m["max_seq_length"].get<std::size_t>();
    for (const auto& c : m["cases"]) {
      const std::string text = c["prompt"].get<std::string>() + c["text"].get<std::string>();
      EXPECT_EQ(tok().encode(text, max_len), c["ids"].get<TokenIds>()) << name << ": " << text;
    }
  }
}

// transformers' truncate_sequences, longest_first: remove one token at a time from the longer
// sequence, from the second one when both are equally long.
std::pair<std::size_t, std::size_t> reference_truncation(std::size_t a, std::size_t b,
                                                         std::size_t remove) {
  std::size_t da = 0, db = 0;
  for (std::size_t i = 0; i < remove; ++i) {
    if (a - da > b - db) {
      ++da;
    } else if (b - db > 0) {
      ++db;
    } else if (a - da > 0) {
      ++da;
    }
  }
  return {da, db};
}

TEST(Tokenizer, LongestFirstTruncationEqualsTransformersLoop) {
  for (std::size_t a = 0; a < 24; ++a) {
    for (std::size_t b = 0; b < 24; ++b) {
      for (std::size_t r = 0; r <= a + b; ++r) {
        EXPECT_EQ(longest_first_truncation(a, b, r), reference_truncation(a, b, r))
            << a << " " << b << " " << r;
      }
    }
  }
}

TEST(Tokenizer, PairTruncationKeepsLayout) {
  const std::string longer(2000, 'a');
  const TokenIds ids = tok().encode_pair("kurz", longer + " Text " + longer, 32);
  EXPECT_EQ(ids.size(), 32u);
  EXPECT_EQ(ids.front(), Tokenizer::kBos);
  EXPECT_EQ(ids.back(), Tokenizer::kEos);
  EXPECT_THROW(tok().encode_pair("a", "b", 3), Error);
}

TEST(Tokenizer, FarOver512TokensIsTruncatedNotRejected) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "Weiterbildung ";
  const TokenIds ids = tok().encode(text, 512);
  EXPECT_EQ(ids.size(), 512u);
  EXPECT_EQ(ids.back(), Tokenizer::kEos);
}

TEST(Tokenizer, RejectsInvalidUtf8NamingTheByte) {
  const std::vector<std::pair<std::string, std::size_t>> bad = {
      {"ab\xFF", 2},             // never valid
      {"\xC3", 0},               // truncated sequence
      {"ok \xC0\xAF", 3},        // overlong '/'
      {"\xED\xA0\x80", 0},       // UTF-16 surrogate
      {"x\xF4\x90\x80\x80", 1},  // above U+10FFFF
      {"\xE2\x82", 0},           // truncated 3-byte
      {"\x80 continuation", 0},  // lone continuation byte
  };
  for (const auto& [text, at] : bad) {
    try {
      tok().encode(text, 512);
      ADD_FAILURE() << "accepted invalid UTF-8 at " << at;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte " + std::to_string(at)),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_NO_THROW(validate_utf8("\xF0\x9F\x98\x80 \xC3\xBC"));  // 😀 ü
}

TEST(Tokenizer, LoadErrorsNameTheFile) {
  test::TempDir dir;
  try {
    Tokenizer::load(dir / "missing.model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("missing.model"), std::string::npos);
  }
  test::spit(dir / "garbage.model", "this is not a protobuf \xFF\xFF\xFF\xFF");
  try {
    Tokenizer::load(dir / "garbage.model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("garbage.model"), std::string::npos);
  }
  // A truncated model: the first half of the real file.
  const std::string real = test::slurp(fixtures() / "tokenizer" / "sentencepiece.bpe.model");
  test::spit(dir / "half.model", real.substr(0, real.size() / 2));
  EXPECT_THROW(Tokenizer::load(dir / "half.model"), Error);
  test::spit(dir / "empty.model", "");
  EXPECT_THROW(Tokenizer::load(dir / "empty.model"), Error);
}

// XLM-R's numbering needs <unk>, <s>, </s> as SentencePiece pieces 0, 1, 2: a model of one
// <unk> piece encoded every text to id 3 in a vocabulary of 3 ids (found by fuzz_spm_model).
TEST(Tokenizer, SentencePieceModelMustBeLaidOutLikeXlmR) {
  test::TempDir dir;
  auto piece = [](const std::string& text, char type) {
    const std::string body = std::string("\x0a") + static_cast<char>(text.size()) + text + "\x18" +
                             static_cast<char>(type);
    return std::string("\x0a") + static_cast<char>(body.size()) + body;
  };
  const std::string normalizer = std::string("\x1a\x0a\x0a\x08") + "identity";
  test::spit(dir / "one.model", piece("<unk>", 2) + normalizer);
  test::expect_error([&] { Tokenizer::load(dir / "one.model"); }, ErrorKind::kUnsupported,
                     {"one.model: not laid out like XLM-R's", "has 1 pieces"});
  test::spit(dir / "late.model",
             piece("<s>", 3) + piece("</s>", 3) + piece("<unk>", 2) + piece("a", 1) + normalizer);
  test::expect_error([&] { Tokenizer::load(dir / "late.model"); }, ErrorKind::kUnsupported,
                     {"late.model: not laid out like XLM-R's"});
  test::spit(dir / "ok.model",
             piece("<unk>", 2) + piece("<s>", 3) + piece("</s>", 3) + piece("a", 1) + normalizer);
  const Tokenizer t = Tokenizer::load(dir / "ok.model");
  EXPECT_EQ(t.vocab_size(), 6);
  EXPECT_EQ(t.encode_pieces("ab"), (TokenIds{Tokenizer::kUnk, 4, Tokenizer::kUnk}));  // ▁ a b
}

}  // namespace
}  // namespace skillmatch
