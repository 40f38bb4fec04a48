#include "skillmatch/text/tokenizer.h"

#include <algorithm>
#include <unordered_map>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/utf8.h"
#include "text/hf_tokenizer.h"
#include "text/normalizer.h"
#include "text/sentencepiece_model.h"
#include "text/unigram.h"

namespace skillmatch {

namespace {

constexpr const char* kSpmName = "sentencepiece.bpe.model";
constexpr const char* kJsonName = "tokenizer.json";

// The post-processor templates of XLMRobertaTokenizer: <s> A </s> and <s> A </s></s> B </s>.
text::Template xlmr_template(bool pair) {
  const text::TemplateItem bos{-1, {Tokenizer::kBos}}, eos{-1, {Tokenizer::kEos}};
  if (!pair) return {bos, {0, {}}, eos};
  return {bos, {0, {}}, eos, eos, {1, {}}, eos};
}

std::size_t special_count(const text::Template& t) {
  std::size_t n = 0;
  for (const auto& item : t) n += item.ids.size();
  return n;
}

TokenIds assemble(const text::Template& t, const TokenIds& a, const TokenIds* b) {
  TokenIds out;
  out.reserve(a.size() + (b ? b->size() : 0) + special_count(t));
  for (const auto& item : t) {
    if (item.sequence == 0) {
      out.insert(out.end(), a.begin(), a.end());
    } else if (item.sequence == 1) {
      if (b) out.insert(out.end(), b->begin(), b->end());
    } else {
      out.insert(out.end(), item.ids.begin(), item.ids.end());
    }
  }
  return out;
}

}  // namespace

struct Tokenizer::Impl {
  TokenizerSource source = TokenizerSource::kSentencePiece;
  std::filesystem::path file;
  text::Template single;
  text::Template pair;

  // SentencePiece
  struct Spm {
    Spm(const text::SentencePieceModel& model, std::vector<std::string> user_defined,
        const std::string& what)
        : normalizer(model.normalizer, model.treat_whitespace_as_suffix, std::move(user_defined),
                     what),
          unigram(model) {
      pieces.reserve(model.pieces.size());
      for (const auto& p : model.pieces) pieces.push_back(p.text);
    }
    text::Normalizer normalizer;
    text::UnigramModel unigram;
    std::vector<std::string> pieces;
    std::unordered_map<std::string, std::int32_t> ids;  // XLM-R id of each piece
  };
  std::unique_ptr<Spm> spm;

  // tokenizer.json
  std::unique_ptr<text::HfTokenizer> hf;

  // SentencePiece ids of `text` (validated, normalized, segmented).
  std::vector<std::int32_t> sp_ids(std::string_view text,
                                   std::vector<std::string>* piece_texts = nullptr) const {
    std::string normalized = spm->normalizer.normalize(text);
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    auto ids = spm->unigram.encode(normalized, piece_texts ? &spans : nullptr);
    if (piece_texts) {
      piece_texts->clear();
      for (auto [b, e] : spans) piece_texts->push_back(normalized.substr(b, e - b));
    }
    return ids;
  }

  // Content ids (and token strings) of valid or invalid UTF-8 `text`.
  TokenIds content(std::string_view text, std::vector<std::string>* tokens) const {
    validate_utf8(text);
    if (hf) {
      TokenIds ids;
      hf->encode(text, &ids, tokens);
      return ids;
    }
    auto ids = sp_ids(text, tokens);
    const std::int32_t unk = spm->unigram.unk_id();
    for (auto& id : ids) id = id == unk ? kUnk : id + 1;
    return ids;
  }

  std::int32_t vocab_size() const {
    return hf ? hf->vocab_size() : static_cast<std::int32_t>(spm->pieces.size()) + 2;
  }

  std::optional<std::string> piece(std::int32_t id) const {
    if (hf) return hf->id_to_token(id);
    if (id < 0 || id >= vocab_size()) return std::nullopt;
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
    if (id == vocab_size() - 1) return "<mask>";
    return spm->pieces[static_cast<std::size_t>(id - 1)];
  }

  bool is_special(std::int32_t id, const std::string& token) const {
    if (hf) return hf->is_special(token);
    return id <= kUnk || id == vocab_size() - 1;
  }
};

Tokenizer Tokenizer::load(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  fs::path file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / kJsonName, ec)) {
      file = path / kJsonName;
    } else if (fs::exists(path / kSpmName, ec)) {
      file = path / kSpmName;
    } else {
      throw Error(ErrorKind::kNotFound, path.string() + ": no tokenizer: neither " + kJsonName +
                                            " nor " + kSpmName + " is in the folder");
    }
  }
  const std::string what = file.string();
  auto impl = std::make_shared<Impl>();
  impl->file = file;
  if (file.extension() == ".json") {
    require_file(file, "tokenizer.json");
    const std::string data = read_file(file);
    impl->source = TokenizerSource::kTokenizerJson;
    impl->hf = std::make_unique<text::HfTokenizer>(data, what);
    impl->single = impl->hf->single_template();
    impl->pair = impl->hf->pair_template();
    return Tokenizer(std::move(impl));
  }
  require_file(file, "SentencePiece model");
  std::string data = read_file(file);
  auto model = text::parse_sentencepiece_model(data, what);
  // XLM-R's ids (<s> 0, <pad> 1, </s> 2, <unk> 3, SentencePiece id + 1 for the rest) need the
  // unknown piece at 0 and <s>, </s> after it: with fewer pieces <unk> (3) fell outside the
  // vocabulary (pieces + 2), and elsewhere ids would name other pieces.
  SM_CHECK(model.pieces.size() >= 3 && model.pieces[0].type == text::PieceType::kUnknown,
           ErrorKind::kUnsupported,
           what +
               ": not laid out like XLM-R's SentencePiece model (the unknown piece must be "
               "piece 0, followed by <s> and </s>; this model has " +
               std::to_string(model.pieces.size()) + " pieces)");
  std::vector<std::string> user_defined;
  for (const auto& p : model.pieces) {
    if (p.type == text::PieceType::kUserDefined) user_defined.push_back(p.text);
  }
  impl->spm = std::make_unique<Impl::Spm>(model, std::move(user_defined), what);
  impl->single = xlmr_template(false);
  impl->pair = xlmr_template(true);
  const auto size = impl->vocab_size();
  for (std::int32_t id = size - 1; id >= 0; --id) impl->spm->ids[*impl->piece(id)] = id;
  return Tokenizer(std::move(impl));
}

TokenizerSource Tokenizer::source() const noexcept {
  return impl_->source;
}

const std::filesystem::path& Tokenizer::file() const noexcept {
  return impl_->file;
}

TokenIds Tokenizer::encode_pieces(std::string_view text) const {
  return impl_->content(text, nullptr);
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) const {
  std::vector<std::string> out;
  impl_->content(text, &out);
  return out;
}

TokenIds Tokenizer::encode(std::string_view text, std::size_t max_length) const {
  const std::size_t specials = special_count(impl_->single);
  SM_CHECK(max_length >= std::max<std::size_t>(specials, 1), ErrorKind::kInvalidArgument,
           "max length must be at least " + std::to_string(std::max<std::size_t>(specials, 1)) +
               ", got " + std::to_string(max_length));
  TokenIds content = encode_pieces(text);
  if (content.size() > max_length - specials) content.resize(max_length - specials);
  return assemble(impl_->single, content, nullptr);
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
  return encode_pair_ids(encode_pieces(a), encode_pieces(b), max_length);
}

TokenIds Tokenizer::encode_pair_ids(TokenIds ia, TokenIds ib, std::size_t max_length) const {
  const std::size_t specials = special_count(impl_->pair);
  SM_CHECK(max_length >= std::max<std::size_t>(specials, 2), ErrorKind::kInvalidArgument,
           "max length of a pair must be at least " +
               std::to_string(std::max<std::size_t>(specials, 2)) + ", got " +
               std::to_string(max_length));
  const std::size_t total = ia.size() + ib.size() + specials;
  if (total > max_length) {
    auto [drop_a, drop_b] = longest_first_truncation(ia.size(), ib.size(), total - max_length);
    ia.resize(ia.size() - drop_a);
    ib.resize(ib.size() - drop_b);
  }
  return assemble_pair(ia, ib);
}

TokenIds Tokenizer::assemble_single(const TokenIds& content) const {
  return assemble(impl_->single, content, nullptr);
}

TokenIds Tokenizer::assemble_pair(const TokenIds& a, const TokenIds& b) const {
  return assemble(impl_->pair, a, &b);
}

bool Tokenizer::is_special(std::int32_t id) const {
  const auto token = impl_->piece(id);
  return token && impl_->is_special(id, *token);
}

std::string Tokenizer::decode(const TokenIds& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (auto id : ids) {
    auto token = impl_->piece(id);
    if (!token) continue;
    if (skip_special_tokens && impl_->is_special(id, *token)) continue;
    tokens.push_back(std::move(*token));
  }
  // A SentencePiece model decodes as the tokenizer.json transformers writes for it.
  static const text::HfDecoderSpec kMetaspace;
  return text::decode_tokens(tokens, impl_->hf ? impl_->hf->decoder() : kMetaspace);
}

std::int32_t Tokenizer::vocab_size() const noexcept {
  return impl_->vocab_size();
}

std::int32_t Tokenizer::mask_id() const noexcept {
  if (impl_->hf) {
    if (auto id = impl_->hf->token_to_id("<mask>")) return *id;
  }
  return vocab_size() - 1;
}

std::string Tokenizer::id_to_piece(std::int32_t id) const {
  auto piece = impl_->piece(id);
  SM_CHECK(piece.has_value(), ErrorKind::kInvalidArgument,
           "token id " + std::to_string(id) + " is out of range [0, " +
               std::to_string(vocab_size()) + ")");
  return *piece;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view piece) const {
  if (impl_->hf) return impl_->hf->token_to_id(piece);
  auto it = impl_->spm->ids.find(std::string(piece));
  if (it == impl_->spm->ids.end()) return std::nullopt;
  return it->second;
}

}  // namespace skillmatch
