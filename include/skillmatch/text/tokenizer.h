// The XLM-RoBERTa tokenizer, read from either file a Hugging Face model folder carries:
//
// - `tokenizer.json` (what AutoTokenizer, sentence-transformers and FlagEmbedding run): encoded
//   exactly as Hugging Face's Rust `tokenizers` library does (see src/text/hf_tokenizer.h for the
//   supported components). Ids come straight from its vocabulary and added tokens.
// - `sentencepiece.bpe.model`: encoded exactly as SentencePiece does (the model's normalizer with
//   its precompiled character map, whitespace handling, dummy prefix and U+2581; unigram Viterbi;
//   consecutive unknown characters merged into one <unk>), with XLMRobertaTokenizer's ids: <s>=0,
//   <pad>=1, </s>=2, <unk>=3, SentencePiece id + 1 for every other piece, <mask> = the last id.
//
// The two differ on purpose where the files differ: tokenizer.json files written by older
// transformers converters (no Strip normalizer) give one more "▁" than SentencePiece for a text
// that ends in white space ("\n", " ", U+FEFF), and split "<s>", "<mask>", ... out of the text.
// A folder with both files is read through tokenizer.json.
//
// Thread-safety: a loaded Tokenizer is immutable; all const methods may be called concurrently.
// Copying is cheap (shared, immutable state).
// Errors: load() throws kNotFound / kCorrupt / kUnsupported naming the file (and the JSON key);
// encode functions throw kInvalidArgument for invalid UTF-8 (naming the byte offset).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch {

using TokenIds = std::vector<std::int32_t>;

enum class TokenizerSource { kSentencePiece, kTokenizerJson };

class Tokenizer {
 public:
  static constexpr std::int32_t kBos = 0;
  static constexpr std::int32_t kPad = 1;
  static constexpr std::int32_t kEos = 2;
  static constexpr std::int32_t kUnk = 3;

  // `path` is a model folder (its `tokenizer.json` if present, else its
  // `sentencepiece.bpe.model`; kNotFound naming both when it has neither), a SentencePiece model
  // file or a tokenizer.json file (recognised by its name ending in ".json"). SentencePiece:
  // only unigram models without byte fallback; tokenizer.json: only the components
  // XLM-R-style files use; anything else is refused by name (kUnsupported).
  static Tokenizer load(const std::filesystem::path& path);

  // Which kind of file was read, and the file itself (for a folder: the file chosen).
  TokenizerSource source() const noexcept;
  const std::filesystem::path& file() const noexcept;

  // Ids of `text` without special tokens of the post-processor and without truncation.
  // (tokenizer.json: added tokens written in the text, such as "<mask>", are still matched.)
  TokenIds encode_pieces(std::string_view text) const;

  // The token strings of `text`, one per id of encode_pieces: normalized surface strings with
  // U+2581 for spaces (and an added token's text as matched).
  std::vector<std::string> pieces(std::string_view text) const;

  // Single layout (`<s> text </s>` for XLM-R; tokenizer.json: its post-processor's single
  // template), content truncated from the right so that the result has at most `max_length` ids
  // (max_length >= the number of special tokens, 2 for XLM-R).
  TokenIds encode(std::string_view text, std::size_t max_length) const;

  // Pair layout (`<s> a </s></s> b </s>` for XLM-R; tokenizer.json: its pair template) truncated
  // longest-first to at most `max_length` ids (max_length >= the number of special tokens, 4 for
  // XLM-R): tokens are removed from the longer side until both are equal, then from both
  // alternately, as transformers' truncate_sequences does.
  TokenIds encode_pair(std::string_view a, std::string_view b, std::size_t max_length) const;
  // The same from the content ids of both sides (encode_pieces of each): lets a caller that
  // pairs one text with many tokenize it once.
  TokenIds encode_pair_ids(TokenIds a, TokenIds b, std::size_t max_length) const;

  // The single layout around content ids that are already truncated (`<s> a </s>` for XLM-R).
  TokenIds assemble_single(const TokenIds& content) const;
  // The pair layout around content ids that are already truncated (the pair template's special
  // tokens; `<s> a </s></s> b </s>` for XLM-R).
  TokenIds assemble_pair(const TokenIds& a, const TokenIds& b) const;

  // Text of `ids` as Hugging Face's decode gives it: special tokens dropped when
  // `skip_special_tokens`, ids outside the vocabulary skipped, Metaspace decoding ("▁" becomes a
  // space; every "▁" of the first token is dropped when a prefix space is prepended).
  std::string decode(const TokenIds& ids, bool skip_special_tokens = true) const;

  // Number of ids; the embedding matrix must have this many rows or more.
  std::int32_t vocab_size() const noexcept;
  // The id of "<mask>" (the last id for a SentencePiece model).
  std::int32_t mask_id() const noexcept;

  // The piece string of an id ("<s>", "▁Kurs", ...); throws kInvalidArgument if out of range.
  std::string id_to_piece(std::int32_t id) const;
  // True for a special token (<s>, </s>, <pad>, <unk>, <mask>, or one tokenizer.json marks
  // special); false for ids out of range.
  bool is_special(std::int32_t id) const;
  // The id of a piece or added token, nullopt if there is none.
  std::optional<std::int32_t> token_to_id(std::string_view piece) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Transformers' longest-first rule: how many ids to drop from the ends of two sequences of
// lengths `len_a` and `len_b` to remove `to_remove` ids in all. Returns {drop_a, drop_b}.
std::pair<std::size_t, std::size_t> longest_first_truncation(std::size_t len_a, std::size_t len_b,
                                                             std::size_t to_remove);

}  // namespace skillmatch
