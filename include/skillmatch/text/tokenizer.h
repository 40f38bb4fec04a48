// The XLM-RoBERTa tokenizer: a SentencePiece unigram model mapped to fairseq/XLM-R ids.
//
// skillmatch reads `sentencepiece.bpe.model` itself (libsentencepiece cannot share a process with
// libtorch, see docs) and encodes exactly as SentencePiece does: the model's normalizer
// (precompiled character map, whitespace handling, dummy prefix, U+2581), unigram Viterbi over
// piece scores, consecutive unknown characters merged into one <unk>.
//
// Ids follow XLMRobertaTokenizer: <s>=0, <pad>=1, </s>=2, <unk>=3, SentencePiece id + 1 for every
// other piece, <mask> = number of pieces + 1 (the last id).
//
// Thread-safety: a loaded Tokenizer is immutable; all const methods may be called concurrently.
// Copying is cheap (shared, immutable state).
// Errors: load() throws kNotFound / kCorrupt / kUnsupported naming the file; encode functions
// throw kInvalidArgument for invalid UTF-8 (naming the byte offset).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch {

using TokenIds = std::vector<std::int32_t>;

class Tokenizer {
 public:
  static constexpr std::int32_t kBos = 0;
  static constexpr std::int32_t kPad = 1;
  static constexpr std::int32_t kEos = 2;
  static constexpr std::int32_t kUnk = 3;

  // Loads a SentencePiece model file (`sentencepiece.bpe.model`). Only unigram models without
  // byte fallback are accepted; others are refused by name.
  static Tokenizer load(const std::filesystem::path& model_file);

  // XLM-R ids of `text` without special tokens and without truncation.
  TokenIds encode_pieces(std::string_view text) const;

  // SentencePiece pieces (normalized surface strings, with U+2581 for spaces) of `text`.
  std::vector<std::string> pieces(std::string_view text) const;

  // Single layout `<s> text </s>`, content truncated from the right so that the result has at
  // most `max_length` ids (max_length >= 2).
  TokenIds encode(std::string_view text, std::size_t max_length) const;

  // Pair layout `<s> a </s></s> b </s>` truncated longest-first to at most `max_length` ids
  // (max_length >= 4): tokens are removed from the longer side until both are equal, then from
  // both alternately, as transformers' truncate_sequences does.
  TokenIds encode_pair(std::string_view a, std::string_view b, std::size_t max_length) const;

  // The pair layout `<s> a </s></s> b </s>` around content ids that are already truncated.
  TokenIds assemble_pair(const TokenIds& a, const TokenIds& b) const;

  // Number of ids (pieces + <pad> + <mask>); the embedding matrix must have this many rows or more.
  std::int32_t vocab_size() const noexcept;
  std::int32_t mask_id() const noexcept { return vocab_size() - 1; }

  // The piece string of an XLM-R id ("<s>", "▁Kurs", ...); throws kInvalidArgument if out of range.
  std::string id_to_piece(std::int32_t id) const;

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
