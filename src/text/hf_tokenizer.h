// Hugging Face's tokenizer.json pipeline (the Rust `tokenizers` library, 0.22), for Unigram models
// such as XLM-R's: added tokens split out of the raw text (non-normalized ones) and out of each
// normalized piece (normalized ones), with single_word/lstrip/rstrip; normalizers Sequence,
// Precompiled, Replace, Strip, Prepend; pre-tokenizer Metaspace (alone or in a Sequence); the
// Unigram model (Viterbi in double precision, unknown characters fused, unk score = lowest score
// - 10); post-processors TemplateProcessing and RobertaProcessing; decoder Metaspace.
// Anything else is refused with kUnsupported naming the component and the file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/charsmap.h"
#include "text/simple_regex.h"
#include "text/unigram.h"

namespace skillmatch::text {

struct HfAddedToken {
  std::string content;
  std::int32_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

struct HfNormalizerStep {
  enum class Kind { kPrecompiled, kReplace, kStrip, kPrepend };
  Kind kind = Kind::kPrecompiled;
  std::shared_ptr<const CharsMap> charsmap;  // kPrecompiled
  std::shared_ptr<const SimpleRegex> regex;  // kReplace
  std::string content;                       // kReplace: replacement; kPrepend: prefix
  bool left = false;                         // kStrip
  bool right = false;                        // kStrip
};

enum class PrependScheme { kAlways, kFirst, kNever };

struct HfMetaspace {
  std::string replacement = "\xe2\x96\x81";  // one character
  PrependScheme prepend = PrependScheme::kAlways;
  bool split = true;
};

// One element of a post-processor template: a sequence ($A or $B) or special token ids.
struct TemplateItem {
  int sequence = -1;  // 0 for $A, 1 for $B, -1 for special tokens
  std::vector<std::int32_t> ids;
};
using Template = std::vector<TemplateItem>;

// How ids become text again (a Metaspace decoder, or none: tokens joined by spaces).
struct HfDecoderSpec {
  bool metaspace = true;
  std::string replacement = "\xe2\x96\x81";
  bool prepend = true;  // prepend scheme is not "never": the first token loses its replacement
};
std::string decode_tokens(const std::vector<std::string>& tokens, const HfDecoderSpec& spec);

// Hugging Face's Unigram model: Viterbi over all vocabulary entries (special ones included).
class HfUnigram {
 public:
  HfUnigram(std::vector<std::pair<std::string, double>> vocab, std::int32_t unk_id);
  // Appends the ids and token strings of one pre-tokenized word.
  void tokenize(std::string_view word, std::vector<std::int32_t>* ids,
                std::vector<std::string>* tokens) const;
  std::size_t size() const noexcept { return vocab_.size(); }
  const std::string& piece(std::int32_t id) const {
    return vocab_[static_cast<std::size_t>(id)].first;
  }
  double score(std::int32_t id) const { return vocab_[static_cast<std::size_t>(id)].second; }
  std::int32_t unk_id() const noexcept { return unk_id_; }
  std::optional<std::int32_t> find(std::string_view piece) const;

 private:
  std::vector<std::pair<std::string, double>> vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;  // last id of each string, as Rust's map
  PieceTrie trie_;
  std::int32_t unk_id_ = 0;
  double min_score_ = 0.0;
};

class HfTokenizer {
 public:
  // Parses the tokenizer.json text `json`; `what` (the file) is named in every error.
  HfTokenizer(std::string_view json, const std::string& what);

  // Ids and token strings of valid UTF-8 `text` without post-processing.
  void encode(std::string_view text, std::vector<std::int32_t>* ids,
              std::vector<std::string>* tokens) const;
  // The normalizer alone (for tests and the writers).
  std::string normalize(std::string_view text) const;

  const Template& single_template() const noexcept { return single_; }
  const Template& pair_template() const noexcept { return pair_; }
  const HfDecoderSpec& decoder() const noexcept { return decoder_; }
  const HfUnigram& model() const noexcept { return *model_; }
  const std::vector<HfAddedToken>& added_tokens() const noexcept { return added_; }
  const std::vector<HfNormalizerStep>& normalizer_steps() const noexcept { return normalizers_; }
  const std::vector<HfMetaspace>& pre_tokenizers() const noexcept { return metaspaces_; }

  // max(model size, largest added id + 1).
  std::int32_t vocab_size() const noexcept { return vocab_size_; }
  // The token of `id` (added token content or vocabulary piece), nullopt for an unused id.
  std::optional<std::string> id_to_token(std::int32_t id) const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  bool is_special(std::string_view token) const;

 private:
  struct Segment {
    std::string text;
    std::int32_t id = -1;    // an added token's id, else -1
    bool at_origin = false;  // starts at byte 0 of the original text (PrependScheme::kFirst)
  };
  void split_added(std::vector<Segment>* segments, bool normalized_pass) const;
  void pre_tokenize(const Segment& segment, std::vector<std::string>* words) const;

  std::string what_;
  std::vector<HfNormalizerStep> normalizers_;
  std::vector<HfMetaspace> metaspaces_;  // empty: no pre-tokenizer
  std::unique_ptr<HfUnigram> model_;
  std::vector<HfAddedToken> added_;               // in file order, ids as Rust assigns them
  std::vector<std::size_t> raw_patterns_;         // indexes into added_ (normalized = false)
  std::vector<std::size_t> normalized_patterns_;  // indexes into added_ (normalized = true)
  std::vector<std::string> normalized_contents_;  // normalized content per normalized pattern
  std::unique_ptr<PieceTrie> raw_trie_;           // raw_patterns_' contents -> their position
  std::unique_ptr<PieceTrie> normalized_trie_;    // normalized_contents_ -> their position
  std::unordered_map<std::string, std::int32_t> added_ids_;
  std::unordered_map<std::int32_t, std::size_t> added_by_id_;  // id -> index into added_
  Template single_;
  Template pair_;
  HfDecoderSpec decoder_;
  std::int32_t vocab_size_ = 0;
};

// Standard base64 (RFC 4648, padded) as Rust's base64 crate decodes it; nullopt if invalid.
std::optional<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

}  // namespace skillmatch::text
