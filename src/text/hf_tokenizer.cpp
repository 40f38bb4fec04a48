#include "text/hf_tokenizer.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "text/unicode.h"

namespace skillmatch::text {
namespace {

using json = nlohmann::json;

constexpr double kUnkPenalty = 10.0;  // tokenizers' K_UNK_PENALTY

const char* const kSupported =
    "skillmatch reads normalizers Sequence/Precompiled/Replace/Strip/Prepend, pre-tokenizer "
    "Metaspace, model Unigram, post-processors TemplateProcessing/RobertaProcessing and decoder "
    "Metaspace";

// Typed access to tokenizer.json with errors naming the file and the key path.
class Reader {
 public:
  explicit Reader(const std::string& what) : what_(what) {}

  [[noreturn]] void corrupt(const std::string& path, const std::string& message) const {
    throw Error(ErrorKind::kCorrupt, what_ + ": key '" + path + "' " + message);
  }
  [[noreturn]] void unsupported(const std::string& component, const std::string& path) const {
    throw Error(ErrorKind::kUnsupported,
                what_ + ": " + component + " (key '" + path + "') is not supported; " + kSupported);
  }

  const json& object(const json& j, const std::string& path) const {
    if (!j.is_object()) corrupt(path, std::string("must be an object, not ") + j.type_name());
    return j;
  }
  const json& array(const json& j, const std::string& path) const {
    if (!j.is_array()) corrupt(path, std::string("must be an array, not ") + j.type_name());
    return j;
  }
  const json& required(const json& obj, const char* key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end()) corrupt(join(path, key), "is missing");
    return *it;
  }
  // nullptr when missing or null.
  const json* optional(const json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) corrupt(path, std::string("must be a string, not ") + j.type_name());
    return j.get<std::string>();
  }
  bool boolean(const json& obj, const char* key, const std::string& path, bool dflt) const {
    const json* v = optional(obj, key);
    if (!v) return dflt;
    if (!v->is_boolean()) corrupt(join(path, key), "must be true or false");
    return v->get<bool>();
  }
  std::int32_t id(const json& j, const std::string& path) const {
    if (!j.is_number_integer() || j.get<std::int64_t>() < 0 ||
        j.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
      corrupt(path, "must be a token id (an integer from 0 to 2^31-1), not " + json_preview(j));
    }
    return static_cast<std::int32_t>(j.get<std::int64_t>());
  }
  std::string type(const json& obj, const std::string& path) const {
    return string(required(obj, "type", path), join(path, "type"));
  }

  // "file: key 'path'", the prefix of errors that other classes raise about a key.
  std::string at(const std::string& path) const { return what_ + ": key '" + path + "'"; }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string index(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

 private:
  const std::string& what_;
};

// Rust's regex::escape for a literal Replace pattern, in the syntax SimpleRegex reads.
std::string escape_literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u) && c != ' ' && u >= 0x21) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void parse_normalizer(const Reader& r, const json& j, const std::string& path,
                      std::vector<HfNormalizerStep>* steps) {
  r.object(j, path);
  const std::string type = r.type(j, path);
  HfNormalizerStep step;
  if (type == "Sequence") {
    const std::string p = Reader::join(path, "normalizers");
    const json& list = r.array(r.required(j, "normalizers", path), p);
    for (std::size_t i = 0; i < list.size(); ++i) {
      parse_normalizer(r, list[i], Reader::index(p, i), steps);
    }
    return;
  } else if (type == "Precompiled") {
    const std::string p = Reader::join(path, "precompiled_charsmap");
    const std::string text = r.string(r.required(j, "precompiled_charsmap", path), p);
    auto blob = base64_decode(text);
    if (!blob) r.corrupt(p, "is not valid base64");
    step.kind = HfNormalizerStep::Kind::kPrecompiled;
    step.charsmap = std::make_shared<const CharsMap>(*blob, r.at(p), true);
  } else if (type == "Replace") {
    const std::string p = Reader::join(path, "pattern");
    const json& pattern = r.object(r.required(j, "pattern", path), p);
    step.kind = HfNormalizerStep::Kind::kReplace;
    step.content = r.string(r.required(j, "content", path), Reader::join(path, "content"));
    std::string regex;
    if (pattern.size() == 1 && pattern.contains("String")) {
      regex = escape_literal(r.string(pattern["String"], Reader::join(p, "String")));
    } else if (pattern.size() == 1 && pattern.contains("Regex")) {
      regex = r.string(pattern["Regex"], Reader::join(p, "Regex"));
    } else {
      r.corrupt(p, "must be {\"String\": ...} or {\"Regex\": ...}");
    }
    step.regex = std::make_shared<const SimpleRegex>(regex, r.at(p));
  } else if (type == "Strip") {
    step.kind = HfNormalizerStep::Kind::kStrip;
    r.required(j, "strip_left", path);
    r.required(j, "strip_right", path);
    step.left = r.boolean(j, "strip_left", path, false);
    step.right = r.boolean(j, "strip_right", path, false);
  } else if (type == "Prepend") {
    step.kind = HfNormalizerStep::Kind::kPrepend;
    step.content = r.string(r.required(j, "prepend", path), Reader::join(path, "prepend"));
  } else {
    r.unsupported("normalizer " + type, path);
  }
  steps->push_back(std::move(step));
}

HfMetaspace parse_metaspace(const Reader& r, const json& j, const std::string& path) {
  HfMetaspace m;
  const std::string p = Reader::join(path, "replacement");
  m.replacement = r.string(r.required(j, "replacement", path), p);
  std::size_t len = 0;
  if (m.replacement.empty() || (decode_utf8(m.replacement, 0, &len), len != m.replacement.size())) {
    r.corrupt(p, "must be exactly one character");
  }
  const json* add_prefix_space = r.optional(j, "add_prefix_space");
  if (add_prefix_space && !add_prefix_space->is_boolean()) {
    r.corrupt(Reader::join(path, "add_prefix_space"), "must be true or false");
  }
  std::optional<PrependScheme> scheme;
  if (const json* s = r.optional(j, "prepend_scheme")) {
    const std::string v = r.string(*s, Reader::join(path, "prepend_scheme"));
    if (v == "always") {
      scheme = PrependScheme::kAlways;
    } else if (v == "first") {
      scheme = PrependScheme::kFirst;
    } else if (v == "never") {
      scheme = PrependScheme::kNever;
    } else {
      r.corrupt(Reader::join(path, "prepend_scheme"), "must be always, first or never");
    }
  }
  // Files written before prepend_scheme existed say add_prefix_space; false means never.
  if (add_prefix_space && !add_prefix_space->get<bool>()) {
    if (scheme == PrependScheme::kAlways) {
      r.corrupt(Reader::join(path, "add_prefix_space"),
                "is false but prepend_scheme is \"always\"");
    }
    scheme = PrependScheme::kNever;
  }
  m.prepend = scheme.value_or(PrependScheme::kAlways);
  m.split = r.boolean(j, "split", path, true);
  return m;
}

void parse_pre_tokenizer(const Reader& r, const json& j, const std::string& path,
                         std::vector<HfMetaspace>* out) {
  r.object(j, path);
  const std::string type = r.type(j, path);
  if (type == "Metaspace") {
    out->push_back(parse_metaspace(r, j, path));
  } else if (type == "Sequence") {
    const std::string p = Reader::join(path, "pretokenizers");
    const json& list = r.array(r.required(j, "pretokenizers", path), p);
    for (std::size_t i = 0; i < list.size(); ++i) {
      parse_pre_tokenizer(r, list[i], Reader::index(p, i), out);
    }
  } else {
    r.unsupported("pre-tokenizer " + type, path);
  }
}

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  std::size_t len = 0;
  return is_word_char(decode_utf8(s, i, &len));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t len = 0;
  return is_word_char(decode_utf8(s, 0, &len));
}

// Byte length of the White_Space run at the start of `s`.
std::size_t leading_space(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t len = 0;
    if (!is_white_space(decode_utf8(s, i, &len))) break;
    i += len;
  }
  return i;
}

// Byte offset where the White_Space run at the end of `s` starts.
std::size_t trailing_space_start(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    std::size_t i = end - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    std::size_t len = 0;
    if (!is_white_space(decode_utf8(s, i, &len))) break;
    end = i;
  }
  return end;
}

// A JSON number as serde_json reads it without its float_roundtrip feature (as tokenizers does):
// up to 19 significant digits into a u64, then one multiplication or division by a power of ten,
// so that "-3.5034096240997314" becomes -3.503409624099731, one unit in the last place away from
// the nearest double. Vocabulary scores must be read this way to score the lattice as Rust does.
double serde_json_f64(std::string_view s) {
  static const std::vector<double> kPow10 = [] {
    std::vector<double> p;
    for (int i = 0; i <= 308; ++i)
      p.push_back(std::strtod(("1e" + std::to_string(i)).c_str(), nullptr));
    return p;
  }();
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::size_t i = 0;
  const bool positive = !(i < s.size() && s[i] == '-');
  if (!positive) ++i;
  auto digit = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  auto overflows = [&](std::uint64_t a, std::uint64_t d) {
    return a >= kMax / 10 && (a > kMax / 10 || d > kMax % 10);
  };
  std::uint64_t significand = 0;
  std::int64_t exponent = 0;
  bool dropping = false;  // past 19-20 digits: further integer digits only move the exponent
  while (digit(i)) {
    const auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (dropping || overflows(significand, d)) {
      dropping = true;
      ++exponent;
    } else {
      significand = significand * 10 + d;
    }
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    dropping = false;  // serde tries the fraction's digits again, up to the first overflow
    while (digit(i)) {
      const auto d = static_cast<std::uint64_t>(s[i] - '0');
      if (!dropping && overflows(significand, d)) dropping = true;
      if (!dropping) {
        significand = significand * 10 + d;
        --exponent;
      }
      ++i;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool positive_exp = true;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) positive_exp = s[i++] == '+';
    std::int64_t e = 0;
    while (digit(i)) {
      e = std::min<std::int64_t>(e * 10 + (s[i] - '0'), std::int64_t{1} << 40);
      ++i;
    }
    exponent += positive_exp ? e : -e;
  }
  double f = static_cast<double>(significand);
  while (true) {
    const std::uint64_t mag = static_cast<std::uint64_t>(exponent < 0 ? -exponent : exponent);
    if (mag < kPow10.size()) {
      if (exponent >= 0) {
        f *= kPow10[mag];
      } else {
        f /= kPow10[mag];
      }
      break;
    }
    if (f == 0.0) break;
    if (exponent >= 0) {
      f = std::numeric_limits<double>::infinity();
      break;
    }
    f /= 1e308;
    exponent += 308;
  }
  return positive ? f : -f;
}

// nlohmann's DOM builder with serde_json's reading of floating-point numbers (and the depth
// limit of skillmatch's other JSON readers, which serde_json has as well).
class SerdeDomParser : public JsonDomBuilder {
 public:
  using JsonDomBuilder::JsonDomBuilder;
  bool number_float(double, const std::string& text) {
    return Base::number_float(serde_json_f64(text), text);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Base64

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const std::uint32_t bits =
        (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
        (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    // Canonical encoding: the bits after the last byte must be zero.
    if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0)) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>((bits >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(bits & 0xFF));
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t bits = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      bits = (bits << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    }
    out.push_back(kAlphabet[(bits >> 18) & 63]);
    out.push_back(kAlphabet[(bits >> 12) & 63]);
    out.push_back(n > 1 ? kAlphabet[(bits >> 6) & 63] : '=');
    out.push_back(n > 2 ? kAlphabet[bits & 63] : '=');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

std::string decode_tokens(const std::vector<std::string>& tokens, const HfDecoderSpec& spec) {
  std::string out;
  if (!spec.metaspace) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  const std::string& rep = spec.replacement;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    for (std::size_t k = 0; k < t.size();) {
      if (t.compare(k, rep.size(), rep) == 0) {
        if (!(i == 0 && spec.prepend)) out.push_back(' ');
        k += rep.size();
      } else {
        out.push_back(t[k]);
        ++k;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Unigram

namespace {

std::vector<std::pair<std::string_view, std::int32_t>> unique_entries(
    const std::vector<std::pair<std::string, double>>& vocab,
    const std::unordered_map<std::string, std::int32_t>& ids) {
  std::vector<std::pair<std::string_view, std::int32_t>> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    const auto it = ids.find(vocab[i].first);
    if (it->second == static_cast<std::int32_t>(i) && !vocab[i].first.empty()) {
      out.emplace_back(vocab[i].first, static_cast<std::int32_t>(i));
    }
  }
  return out;
}

std::unordered_map<std::string, std::int32_t> last_ids(
    const std::vector<std::pair<std::string, double>>& vocab) {
  std::unordered_map<std::string, std::int32_t> ids;
  ids.reserve(vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    ids[vocab[i].first] = static_cast<std::int32_t>(i);
  }
  return ids;
}

}  // namespace

HfUnigram::HfUnigram(std::vector<std::pair<std::string, double>> vocab, std::int32_t unk_id)
    : vocab_(std::move(vocab)),
      ids_(last_ids(vocab_)),
      trie_(unique_entries(vocab_, ids_)),
      unk_id_(unk_id) {
  min_score_ = std::numeric_limits<double>::infinity();
  for (const auto& [piece, score] : vocab_) min_score_ = std::min(min_score_, score);
}

std::optional<std::int32_t> HfUnigram::find(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// The forward pass of UnigramModel::encode (SentencePiece) again, on purpose: tokenizers'
// encode_optimized sums f64 scores over every vocabulary entry (special ones included, no
// user-defined or unused pieces), SentencePiece sums f32 scores over normal pieces.
void HfUnigram::tokenize(std::string_view s, std::vector<std::int32_t>* ids,
                         std::vector<std::string>* tokens) const {
  if (s.empty()) return;
  struct Best {
    std::int32_t id = 0;
    double score = 0.0;
    std::int64_t starts_at = -1;
  };
  const std::size_t size = s.size();
  std::vector<Best> best(size + 1);
  const double unk_score = min_score_ - kUnkPenalty;
  std::size_t starts_at = 0;
  while (starts_at < size) {
    const double here = best[starts_at].score;
    std::size_t mblen = 0;
    decode_utf8(s, starts_at, &mblen);
    bool has_single_node = false;
    trie_.common_prefixes(s.substr(starts_at), [&](std::int32_t id, std::size_t length) {
      Best& target = best[starts_at + length];
      const double candidate = vocab_[static_cast<std::size_t>(id)].second + here;
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<std::int64_t>(starts_at);
        target.id = id;
      }
      if (length == mblen) has_single_node = true;
    });
    if (!has_single_node) {
      Best& target = best[starts_at + mblen];
      const double candidate = unk_score + here;
      if (target.starts_at < 0 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<std::int64_t>(starts_at);
        target.id = unk_id_;
      }
    }
    starts_at += mblen;
  }

  // Backtrack; runs of unknown nodes are fused into one token (fuse_unk): the nodes are
  // contiguous, so a run is the text from where its first node starts to where its last ends
  // (taken once: growing the token at its front per node took quadratic time).
  std::vector<std::string> pieces;
  std::size_t unk_end = 0;  // where the run of unknown nodes being walked ends
  bool in_unk = false;
  for (std::size_t end = size; end > 0;) {
    const Best& node = best[end];
    SM_ASSERT(node.starts_at >= 0);
    const auto start = static_cast<std::size_t>(node.starts_at);
    if (node.id == unk_id_) {
      if (!in_unk) unk_end = end;
      in_unk = true;
    } else {
      if (in_unk) pieces.emplace_back(s.substr(end, unk_end - end));
      in_unk = false;
      pieces.emplace_back(s.substr(start, end - start));
    }
    end = start;
  }
  if (in_unk) pieces.emplace_back(s.substr(0, unk_end));
  std::reverse(pieces.begin(), pieces.end());
  // Rust maps every token string back through its vocabulary; unknown strings are <unk>.
  for (auto& p : pieces) {
    auto it = ids_.find(p);
    ids->push_back(it == ids_.end() ? unk_id_ : it->second);
    if (tokens) tokens->push_back(std::move(p));
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

std::unique_ptr<HfUnigram> parse_model(const Reader& r, const json& j, const std::string& path) {
  r.object(j, path);
  const json* type = r.optional(j, "type");
  const std::string t = type ? r.string(*type, Reader::join(path, "type")) : "";
  if (t != "Unigram" && !(t.empty() && j.contains("vocab") && j["vocab"].is_array())) {
    r.unsupported("model " + (t.empty() ? std::string("without a type") : t), path);
  }
  if (r.boolean(j, "byte_fallback", path, false)) {
    r.unsupported("Unigram with byte_fallback", Reader::join(path, "byte_fallback"));
  }
  const std::string vp = Reader::join(path, "vocab");
  const json& list = r.array(r.required(j, "vocab", path), vp);
  if (list.empty()) r.corrupt(vp, "is empty");
  std::vector<std::pair<std::string, double>> vocab;
  vocab.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
      r.corrupt(Reader::index(vp, i), "must be [piece, score], not " + json_preview(e));
    }
    vocab.emplace_back(e[0].get<std::string>(), e[1].get<double>());
  }
  const json* unk = r.optional(j, "unk_id");
  if (!unk) r.unsupported("Unigram without unk_id", Reader::join(path, "unk_id"));
  const std::int32_t unk_id = r.id(*unk, Reader::join(path, "unk_id"));
  if (static_cast<std::size_t>(unk_id) >= vocab.size()) {
    r.corrupt(Reader::join(path, "unk_id"), "is " + std::to_string(unk_id) +
                                                ", outside the vocabulary of " +
                                                std::to_string(vocab.size()) + " pieces");
  }
  return std::make_unique<HfUnigram>(std::move(vocab), unk_id);
}

Template parse_template(const Reader& r, const json& j, const std::string& path,
                        const std::unordered_map<std::string, std::vector<std::int32_t>>& specials,
                        bool pair) {
  Template out;
  bool seen[2] = {false, false};  // $A, $B
  r.array(j, path);
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string p = Reader::index(path, i);
    const json& item = r.object(j[i], p);
    if (item.size() != 1) r.corrupt(p, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    TemplateItem t;
    if (item.contains("Sequence")) {
      const std::string sp = Reader::join(p, "Sequence");
      const json& seq = r.object(item["Sequence"], sp);
      const std::string id = r.string(r.required(seq, "id", sp), Reader::join(sp, "id"));
      if (id == "A") {
        t.sequence = 0;
      } else if (id == "B" && pair) {
        t.sequence = 1;
      } else {
        r.corrupt(Reader::join(sp, "id"), "must be " + std::string(pair ? "A or B" : "A"));
      }
      // Truncation makes room for each sequence once; a second copy would make the result
      // longer than the max length it was cut to.
      if (seen[t.sequence]) r.unsupported("a template with $" + id + " twice", sp);
      seen[t.sequence] = true;
    } else if (item.contains("SpecialToken")) {
      const std::string sp = Reader::join(p, "SpecialToken");
      const json& tok = r.object(item["SpecialToken"], sp);
      const std::string id = r.string(r.required(tok, "id", sp), Reader::join(sp, "id"));
      auto it = specials.find(id);
      if (it == specials.end()) {
        r.corrupt(Reader::join(sp, "id"), "names \"" + id + "\", which special_tokens lacks");
      }
      t.ids = it->second;
    } else {
      r.corrupt(p, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::pair<std::string, std::int32_t> parse_roberta_token(const Reader& r, const json& obj,
                                                         const char* key, const std::string& path) {
  const std::string p = Reader::join(path, key);
  const json& v = r.array(r.required(obj, key, path), p);
  if (v.size() != 2) r.corrupt(p, "must be [token, id]");
  return {r.string(v[0], Reader::index(p, 0)), r.id(v[1], Reader::index(p, 1))};
}

void check_ids(const Reader& r, const Template& t, std::int32_t vocab_size,
               const std::string& path) {
  for (const auto& item : t) {
    for (auto id : item.ids) {
      if (id >= vocab_size) {
        r.corrupt(path, "adds token id " + std::to_string(id) + ", outside the vocabulary of " +
                            std::to_string(vocab_size));
      }
    }
  }
}

}  // namespace

HfTokenizer::HfTokenizer(std::string_view text, const std::string& what) : what_(what) {
  json j;
  try {
    SerdeDomParser sax(j);
    json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const json::parse_error& e) {
    throw Error(ErrorKind::kCorrupt, what + ": invalid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception& e) {
    // A number beyond double's range ("1e999"): out_of_range, which serde_json refuses too.
    throw Error(ErrorKind::kCorrupt, what + ": invalid JSON (" + json_error_message(e) + ")");
  }
  const Reader r(what_);
  if (!j.is_object()) {
    throw Error(ErrorKind::kCorrupt,
                what + ": not a tokenizer.json (the top level must be an object)");
  }
  if (const json* v = r.optional(j, "version")) {
    const std::string version = r.string(*v, "version");
    SM_CHECK(version == "1.0", ErrorKind::kUnsupported,
             what + ": tokenizer.json version \"" + version + "\" is not supported (only 1.0)");
  }
  model_ = parse_model(r, r.required(j, "model", ""), "model");
  if (const json* n = r.optional(j, "normalizer"))
    parse_normalizer(r, *n, "normalizer", &normalizers_);
  if (const json* p = r.optional(j, "pre_tokenizer")) {
    parse_pre_tokenizer(r, *p, "pre_tokenizer", &metaspaces_);
  }

  // Added tokens, one at a time in file order, with the ids AddedVocabulary::add_tokens gives.
  // Lookups are by hash, never by scanning what came before: a file may hold many tokens.
  std::vector<std::size_t> special_order, normal_order;
  std::vector<bool> in_special_order, in_normal_order;  // by index into added_
  auto key = [](const HfAddedToken& t) {
    return t.content + '\0' + char('0' + t.single_word) + char('0' + t.lstrip) +
           char('0' + t.rstrip) + char('0' + t.normalized) + char('0' + t.special);
  };
  std::unordered_map<std::string, std::size_t> live;  // key -> how many of added_ have it
  const auto model_size = static_cast<std::int32_t>(model_->size());
  std::int32_t next_id = model_size;  // after the largest added id outside the model
  if (const json* list = r.optional(j, "added_tokens")) {
    r.array(*list, "added_tokens");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string p = Reader::index("added_tokens", i);
      const json& e = r.object((*list)[i], p);
      HfAddedToken t;
      t.content = r.string(r.required(e, "content", p), Reader::join(p, "content"));
      r.id(r.required(e, "id", p), Reader::join(p, "id"));
      t.single_word = r.boolean(e, "single_word", p, false);
      t.lstrip = r.boolean(e, "lstrip", p, false);
      t.rstrip = r.boolean(e, "rstrip", p, false);
      t.normalized = r.boolean(e, "normalized", p, true);
      t.special = r.boolean(e, "special", p, false);
      if (t.content.empty()) continue;
      // A token equal in every field to one already added is skipped.
      if (auto it = live.find(key(t)); it != live.end() && it->second > 0) continue;
      std::int32_t id = 0;
      if (auto it = added_ids_.find(t.content); it != added_ids_.end()) {
        id = it->second;
      } else if (auto mid = model_->find(t.content)) {
        id = *mid;
      } else {
        id = next_id;
      }
      if (id >= model_size) next_id = std::max(next_id, id + 1);
      t.id = id;
      added_ids_[t.content] = id;
      if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
        --live[key(added_[it->second])];
        added_[it->second] = t;
      } else {
        added_by_id_[id] = added_.size();
        added_.push_back(t);
        in_special_order.push_back(false);
        in_normal_order.push_back(false);
      }
      ++live[key(t)];
      const std::size_t index = added_by_id_[id];
      auto& order = t.special ? special_order : normal_order;
      auto& in_order = t.special ? in_special_order : in_normal_order;
      if (!in_order[index]) {
        in_order[index] = true;
        order.push_back(index);
      }
    }
  }
  vocab_size_ = static_cast<std::int32_t>(model_->size());
  for (const auto& t : added_) vocab_size_ = std::max(vocab_size_, t.id + 1);
  // Matching sets: special tokens first, then the others, split by `normalized`.
  for (auto list : {&special_order, &normal_order}) {
    for (std::size_t index : *list) {
      if (added_[index].normalized) {
        normalized_patterns_.push_back(index);
        normalized_contents_.push_back(normalize(added_[index].content));
      } else {
        raw_patterns_.push_back(index);
      }
    }
  }
  // Tries of the patterns, by their position in the matching set.
  std::vector<std::pair<std::string_view, std::int32_t>> raw, normalized;
  for (std::size_t k = 0; k < raw_patterns_.size(); ++k) {
    raw.emplace_back(added_[raw_patterns_[k]].content, static_cast<std::int32_t>(k));
  }
  for (std::size_t k = 0; k < normalized_contents_.size(); ++k) {
    if (normalized_contents_[k].empty()) continue;  // a pattern normalized to nothing
    normalized.emplace_back(normalized_contents_[k], static_cast<std::int32_t>(k));
  }
  raw_trie_ = std::make_unique<PieceTrie>(std::move(raw));
  normalized_trie_ = std::make_unique<PieceTrie>(std::move(normalized));

  if (const json* pp = r.optional(j, "post_processor")) {
    r.object(*pp, "post_processor");
    const std::string type = r.type(*pp, "post_processor");
    if (type == "TemplateProcessing") {
      std::unordered_map<std::string, std::vector<std::int32_t>> specials;
      const std::string sp = "post_processor.special_tokens";
      const json& st = r.object(r.required(*pp, "special_tokens", "post_processor"), sp);
      for (const auto& [name, tok] : st.items()) {
        const std::string p = Reader::join(sp, name);
        r.object(tok, p);
        const json& ids = r.array(r.required(tok, "ids", p), Reader::join(p, "ids"));
        std::vector<std::int32_t> v;
        for (std::size_t i = 0; i < ids.size(); ++i) {
          v.push_back(r.id(ids[i], Reader::index(Reader::join(p, "ids"), i)));
        }
        specials[name] = std::move(v);
      }
      single_ = parse_template(r, r.required(*pp, "single", "post_processor"),
                               "post_processor.single", specials, false);
      pair_ = parse_template(r, r.required(*pp, "pair", "post_processor"), "post_processor.pair",
                             specials, true);
      check_ids(r, single_, vocab_size_, "post_processor.single");
      check_ids(r, pair_, vocab_size_, "post_processor.pair");
    } else if (type == "RobertaProcessing") {
      const auto sep = parse_roberta_token(r, *pp, "sep", "post_processor");
      const auto cls = parse_roberta_token(r, *pp, "cls", "post_processor");
      const TemplateItem c{-1, {cls.second}}, s{-1, {sep.second}};
      single_ = {c, {0, {}}, s};
      pair_ = {c, {0, {}}, s, s, {1, {}}, s};
      check_ids(r, single_, vocab_size_, "post_processor");
    } else {
      r.unsupported("post-processor " + type, "post_processor");
    }
  } else {
    single_ = {{0, {}}};
    pair_ = {{0, {}}, {1, {}}};
  }

  if (const json* d = r.optional(j, "decoder")) {
    r.object(*d, "decoder");
    const std::string type = r.type(*d, "decoder");
    if (type != "Metaspace") r.unsupported("decoder " + type, "decoder");
    const HfMetaspace m = parse_metaspace(r, *d, "decoder");
    decoder_.metaspace = true;
    decoder_.replacement = m.replacement;
    decoder_.prepend = m.prepend != PrependScheme::kNever;
  } else {
    decoder_.metaspace = false;
  }
}

std::string HfTokenizer::normalize(std::string_view text) const {
  std::string s(text);
  for (const auto& step : normalizers_) {
    switch (step.kind) {
      case HfNormalizerStep::Kind::kPrecompiled:
        s = step.charsmap->normalize_graphemes(s);
        break;
      case HfNormalizerStep::Kind::kReplace: {
        const auto matches = step.regex->find_all(s);
        if (matches.empty()) break;
        std::string out;
        std::size_t last = 0;
        for (const auto& [b, e] : matches) {
          out.append(s, last, b - last);
          out += step.content;
          last = e;
        }
        out.append(s, last, std::string::npos);
        s = std::move(out);
        break;
      }
      case HfNormalizerStep::Kind::kStrip: {
        std::size_t b = step.left ? leading_space(s) : 0;
        std::size_t e = step.right ? trailing_space_start(s) : s.size();
        s = e > b ? s.substr(b, e - b) : std::string();
        break;
      }
      case HfNormalizerStep::Kind::kPrepend:
        if (!s.empty()) s.insert(0, step.content);
        break;
    }
  }
  return s;
}

void HfTokenizer::split_added(std::vector<Segment>* segments, bool normalized_pass) const {
  const auto& patterns = normalized_pass ? normalized_patterns_ : raw_patterns_;
  std::vector<Segment> out;
  for (auto& seg : *segments) {
    if (seg.id >= 0) {
      out.push_back(std::move(seg));
      continue;
    }
    if (normalized_pass) seg.text = normalize(seg.text);
    const std::string& s = seg.text;
    std::size_t start_offset = 0;
    std::vector<Segment> parts;
    auto push = [&](std::size_t b, std::size_t e, std::int32_t id) {
      if (e <= b) return;
      parts.push_back({s.substr(b, e - b), id, seg.at_origin && b == 0});
    };
    // Leftmost-longest matches, as an Aho-Corasick automaton with MatchKind::LeftmostLongest
    // (of patterns of one length, the first in the set): the trie offers the patterns that
    // start at a position shortest first, so the last one offered is the longest.
    const PieceTrie& trie = normalized_pass ? *normalized_trie_ : *raw_trie_;
    for (std::size_t pos = 0; pos < s.size() && !patterns.empty();) {
      std::size_t best = patterns.size(), best_len = 0;
      trie.common_prefixes(std::string_view(s).substr(pos), [&](std::int32_t k, std::size_t len) {
        best = static_cast<std::size_t>(k);
        best_len = len;
      });
      if (best == patterns.size()) {
        ++pos;
        continue;
      }
      const HfAddedToken& tok = added_[patterns[best]];
      std::size_t start = pos, stop = pos + best_len;
      pos = stop;
      if (tok.single_word) {
        const bool start_space =
            start == 0 || !ends_with_word(std::string_view(s).substr(0, start));
        const bool stop_space =
            stop == s.size() || !starts_with_word(std::string_view(s).substr(stop));
        if (!start_space || !stop_space) continue;
      }
      if (tok.lstrip) {
        start = std::max(trailing_space_start(std::string_view(s).substr(0, start)), start_offset);
      }
      if (tok.rstrip) stop += leading_space(std::string_view(s).substr(stop));
      push(start_offset, start, -1);
      push(start, stop, tok.id);
      start_offset = stop;
    }
    push(start_offset, s.size(), -1);
    for (auto& p : parts) out.push_back(std::move(p));
  }
  *segments = std::move(out);
}

void HfTokenizer::pre_tokenize(const Segment& segment, std::vector<std::string>* words) const {
  std::vector<std::pair<std::string, bool>> current{{segment.text, segment.at_origin}};
  for (const auto& m : metaspaces_) {
    const std::string& rep = m.replacement;
    std::vector<std::pair<std::string, bool>> next;
    for (auto& [w, origin] : current) {
      std::string s;
      s.reserve(w.size() + rep.size() * 4);
      for (char c : w) {
        if (c == ' ') {
          s += rep;
        } else {
          s.push_back(c);
        }
      }
      const bool starts = s.compare(0, rep.size(), rep) == 0;
      if (!starts &&
          (m.prepend == PrependScheme::kAlways || (m.prepend == PrependScheme::kFirst && origin))) {
        s.insert(0, rep);
      }
      if (!m.split) {
        if (!s.empty()) next.emplace_back(std::move(s), origin);
        continue;
      }
      // Split on the replacement, each one merged with what follows (MergedWithNext).
      std::vector<std::pair<std::pair<std::size_t, std::size_t>, bool>> runs;
      std::size_t last = 0;
      for (std::size_t k = 0; k < s.size();) {
        if (s.compare(k, rep.size(), rep) == 0) {
          if (last < k) runs.push_back({{last, k}, false});
          runs.push_back({{k, k + rep.size()}, true});
          k += rep.size();
          last = k;
        } else {
          ++k;
        }
      }
      if (last < s.size()) runs.push_back({{last, s.size()}, false});
      std::vector<std::pair<std::size_t, std::size_t>> pieces;
      bool previous_match = false;
      for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
        if (it->second && !previous_match && !pieces.empty()) {
          pieces.back().first = it->first.first;
        } else {
          pieces.push_back(it->first);
        }
        previous_match = it->second;
      }
      std::reverse(pieces.begin(), pieces.end());
      for (std::size_t k = 0; k < pieces.size(); ++k) {
        const auto [b, e] = pieces[k];
        if (e > b) next.emplace_back(s.substr(b, e - b), origin && k == 0);
      }
    }
    current = std::move(next);
  }
  for (auto& [w, origin] : current) {
    if (!w.empty()) words->push_back(std::move(w));
  }
}

void HfTokenizer::encode(std::string_view text, std::vector<std::int32_t>* ids,
                         std::vector<std::string>* tokens) const {
  std::vector<Segment> segments{{std::string(text), -1, true}};
  split_added(&segments, false);
  split_added(&segments, true);
  std::vector<std::string> words;
  for (const auto& seg : segments) {
    if (seg.id >= 0) {
      ids->push_back(seg.id);
      if (tokens) tokens->push_back(seg.text);
      continue;
    }
    words.clear();
    pre_tokenize(seg, &words);
    for (const auto& w : words) model_->tokenize(w, ids, tokens);
  }
}

std::optional<std::string> HfTokenizer::id_to_token(std::int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_[it->second].content;
  if (id >= 0 && static_cast<std::size_t>(id) < model_->size()) return model_->piece(id);
  return std::nullopt;
}

std::optional<std::int32_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_ids_.find(std::string(token)); it != added_ids_.end()) return it->second;
  return model_->find(token);
}

bool HfTokenizer::is_special(std::string_view token) const {
  for (const auto& t : added_) {
    if (t.special && t.content == token) return true;
  }
  return false;
}

}  // namespace skillmatch::text
