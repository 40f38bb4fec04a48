#include "skillmatch/text/tokenizer.h"

#include <algorithm>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/utf8.h"
#include "text/normalizer.h"
#include "text/sentencepiece_model.h"
#include "text/unigram.h"

namespace skillmatch {

struct Tokenizer::Impl {
  Impl(const text::SentencePieceModel& model, std::vector<std::string> user_defined,
       const std::string& what)
      : normalizer(model.normalizer, model.treat_whitespace_as_suffix, std::move(user_defined),
                   what),
        unigram(model) {
    pieces.reserve(model.pieces.size());
    for (const auto& p : model.pieces) pieces.push_back(p.text);
  }

  // SentencePiece ids of `text` (validated, normalized, segmented).
  std::vector<std::int32_t> sp_ids(std::string_view text,
                                   std::vector<std::string>* piece_texts = nullptr) const {
    validate_utf8(text);
    std::string normalized = normalizer.normalize(text);
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    auto ids = unigram.encode(normalized, piece_texts ? &spans : nullptr);
    if (piece_texts) {
      piece_texts->clear();
      for (auto [b, e] : spans) piece_texts->push_back(normalized.substr(b, e - b));
    }
    return ids;
  }

  text::Normalizer normalizer;
  text::UnigramModel unigram;
  std::vector<std::string> pieces;
};

Tokenizer Tokenizer::load(const std::filesystem::path& model_file) {
  const std::string what = model_file.string();
  require_file(model_file, "SentencePiece model");
  std::string data = read_file(model_file);
  auto model = text::parse_sentencepiece_model(data, what);
  std::vector<std::string> user_defined;
  for (const auto& p : model.pieces) {
    if (p.type == text::PieceType::kUserDefined) user_defined.push_back(p.text);
  }
  return Tokenizer(std::make_shared<const Impl>(model, std::move(user_defined), what));
}

TokenIds Tokenizer::encode_pieces(std::string_view text) const {
  auto ids = impl_->sp_ids(text);
  const std::int32_t unk = impl_->unigram.unk_id();
  for (auto& id : ids) id = id == unk ? kUnk : id + 1;
  return ids;
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) const {
  std::vector<std::string> out;
  impl_->sp_ids(text, &out);
  return out;
}

TokenIds Tokenizer::encode(std::string_view text, std::size_t max_length) const {
  SM_CHECK(max_length >= 2, ErrorKind::kInvalidArgument,
           "max length must be at least 2, got " + std::to_string(max_length));
  TokenIds content = encode_pieces(text);
  if (content.size() > max_length - 2) content.resize(max_length - 2);
  TokenIds out;
  out.reserve(content.size() + 2);
  out.push_back(kBos);
  out.insert(out.end(), content.begin(), content.end());
  out.push_back(kEos);
  return out;
}

std::pair<std::size_t, std::size_t> longest_first_truncation(std::size_t len_a, std::size_t len_b,
                                                             std::size_t to_remove) {
  to_remove = std::min(to_remove, len_a + len_b);
  const std::size_t diff = len_a > len_b ? len_a - len_b : len_b - len_a;
  const std::size_t first = std::min(diff, to_remove);
  const std::size_t second = to_remove - first;
  if (len_a > len_b) return {first + second / 2, second - second / 2};
  return {second / 2, first + second - second / 2};
}

TokenIds Tokenizer::encode_pair(std::string_view a, std::string_view b,
                                std::size_t max_length) const {
  SM_CHECK(max_length >= 4, ErrorKind::kInvalidArgument,
           "max length of a pair must be at least 4, got " + std::to_string(max_length));
  TokenIds ia = encode_pieces(a);
  TokenIds ib = encode_pieces(b);
  const std::size_t total = ia.size() + ib.size() + 4;
  if (total > max_length) {
    auto [drop_a, drop_b] = longest_first_truncation(ia.size(), ib.size(), total - max_length);
    ia.resize(ia.size() - drop_a);
    ib.resize(ib.size() - drop_b);
  }
  return assemble_pair(ia, ib);
}

TokenIds Tokenizer::assemble_pair(const TokenIds& a, const TokenIds& b) const {
  TokenIds out;
  out.reserve(a.size() + b.size() + 4);
  out.push_back(kBos);
  out.insert(out.end(), a.begin(), a.end());
  out.push_back(kEos);
  out.push_back(kEos);
  out.insert(out.end(), b.begin(), b.end());
  out.push_back(kEos);
  return out;
}

std::int32_t Tokenizer::vocab_size() const noexcept {
  return static_cast<std::int32_t>(impl_->pieces.size()) + 2;
}

std::string Tokenizer::id_to_piece(std::int32_t id) const {
  SM_CHECK(id >= 0 && id < vocab_size(), ErrorKind::kInvalidArgument,
           "token id " + std::to_string(id) + " is out of range [0, " +
               std::to_string(vocab_size()) + ")");
  switch (id) {
    case kBos:
      return "<s>";
    case kPad:
      return "<pad>";
    case kEos:
      return "</s>";
    case kUnk:
      return "<unk>";
    default:
      break;
  }
  if (id == mask_id()) return "<mask>";
  return impl_->pieces[static_cast<std::size_t>(id - 1)];
}

}  // namespace skillmatch
