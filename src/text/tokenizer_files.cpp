#include "skillmatch/text/tokenizer_files.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "text/hf_tokenizer.h"
#include "text/sentencepiece_model.h"

namespace skillmatch {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581

// ---------------------------------------------------------------------------------------------
// JSON as serde_json's PrettyFormatter writes it.

// A double as Rust's ryu prints it (shortest round-trip digits; "0.0", "-3.25", "1e-7").
std::string rust_float(double v) {
  if (v == 0.0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  SM_ASSERT(res.ec == std::errc());
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const std::size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp10 = std::stoi(sci.substr(e + 1));  // value = d.ddd * 10^exp10
  const int length = static_cast<int>(digits.size());
  const int kk = exp10 + 1;  // position of the decimal point after the first kk digits
  std::string out = sign;
  if (length <= kk && kk <= 16) {
    out += digits + std::string(static_cast<std::size_t>(kk - length), '0') + ".0";
  } else if (0 < kk && kk <= 16) {
    out += digits.substr(0, static_cast<std::size_t>(kk)) + "." +
           digits.substr(static_cast<std::size_t>(kk));
  } else if (-5 < kk && kk <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-kk), '0') + digits;
  } else if (length == 1) {
    out += digits + "e" + std::to_string(kk - 1);
  } else {
    out += digits.substr(0, 1) + "." + digits.substr(1) + "e" + std::to_string(kk - 1);
  }
  return out;
}

void write_string(std::string& out, const std::string& s) {
  static const char* const kHex = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void write_pretty(std::string& out, const ojson& j, std::size_t indent) {
  const std::string pad(indent + 2, ' ');
  switch (j.type()) {
    case ojson::value_t::null:
      out += "null";
      return;
    case ojson::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case ojson::value_t::number_integer:
      out += std::to_string(j.get<std::int64_t>());
      return;
    case ojson::value_t::number_unsigned:
      out += std::to_string(j.get<std::uint64_t>());
      return;
    case ojson::value_t::number_float:
      out += rust_float(j.get<double>());
      return;
    case ojson::value_t::string:
      write_string(out, j.get<std::string>());
      return;
    case ojson::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ",\n";
        first = false;
        out += pad;
        write_pretty(out, v, indent + 2);
      }
      out += "\n" + std::string(indent, ' ') + "]";
      return;
    }
    case ojson::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out += ",\n";
        first = false;
        out += pad;
        write_string(out, k);
        out += ": ";
        write_pretty(out, v, indent + 2);
      }
      out += "\n" + std::string(indent, ' ') + "}";
      return;
    }
    default:
      SM_ASSERT(false);
  }
}

ojson added_token(std::int32_t id, const char* content, bool lstrip, bool normalized,
                  TokenizerJsonLayout layout) {
  ojson t = ojson::object();
  t["id"] = id;
  // tokenizers 0.13 wrote `special` right after the id; later versions write it last.
  if (layout == TokenizerJsonLayout::kLegacy) t["special"] = true;
  t["content"] = content;
  t["single_word"] = false;
  t["lstrip"] = lstrip;
  t["rstrip"] = false;
  t["normalized"] = normalized;
  if (layout == TokenizerJsonLayout::kCurrent) t["special"] = true;
  return t;
}

ojson metaspace(TokenizerJsonLayout layout) {
  ojson m = ojson::object();
  m["type"] = "Metaspace";
  m["replacement"] = kSpace;
  if (layout == TokenizerJsonLayout::kLegacy) {
    m["add_prefix_space"] = true;
  } else {
    m["prepend_scheme"] = "always";
    m["split"] = true;
  }
  return m;
}

ojson template_item(const char* kind, const char* id) {
  ojson inner = ojson::object();
  inner["id"] = id;
  inner["type_id"] = 0;
  ojson item = ojson::object();
  item[kind] = inner;
  return item;
}

ojson special_entry(const char* token, std::int32_t id) {
  ojson e = ojson::object();
  e["id"] = token;
  e["ids"] = ojson::array({id});
  e["tokens"] = ojson::array({token});
  return e;
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, std::uint32_t field, std::uint32_t wire) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | wire);
}
void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}
void put_int(std::string& out, std::uint32_t field, std::int64_t v) {
  put_tag(out, field, 0);
  put_varint(out, static_cast<std::uint64_t>(v));  // negative int32: ten bytes, as protobuf does
}
void put_float(std::string& out, std::uint32_t field, float f) {
  put_tag(out, field, 5);
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

}  // namespace

std::string tokenizer_json_from_sentencepiece(const std::filesystem::path& spm_model,
                                              TokenizerJsonLayout layout) {
  const std::string what = spm_model.string();
  require_file(spm_model, "SentencePiece model");
  const std::string data = read_file(spm_model);
  const auto model = text::parse_sentencepiece_model(data, what);
  SM_CHECK(model.pieces.size() > 3 && model.pieces[0].text == "<unk>" &&
               model.pieces[1].text == "<s>" && model.pieces[2].text == "</s>",
           ErrorKind::kUnsupported,
           what +
               ": not laid out like XLM-R's SentencePiece model (pieces 0, 1, 2 must be <unk>, "
               "<s>, </s>)");
  const bool legacy = layout == TokenizerJsonLayout::kLegacy;
  const auto mask_id = static_cast<std::int32_t>(model.pieces.size()) + 1;

  ojson j = ojson::object();
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = ojson::array({
      added_token(0, "<s>", false, false, layout),
      added_token(1, "<pad>", false, false, layout),
      added_token(2, "</s>", false, false, layout),
      added_token(3, "<unk>", false, false, layout),
      added_token(mask_id, "<mask>", true, legacy, layout),
  });

  ojson normalizers = ojson::array();
  if (!model.normalizer.precompiled_charsmap.empty()) {
    ojson pre = ojson::object();
    pre["type"] = "Precompiled";
    pre["precompiled_charsmap"] = text::base64_encode(model.normalizer.precompiled_charsmap);
    normalizers.push_back(pre);
  }
  if (!legacy) {
    ojson strip = ojson::object();
    strip["type"] = "Strip";
    strip["strip_left"] = false;
    strip["strip_right"] = true;
    normalizers.push_back(strip);
  }
  ojson replace = ojson::object();
  replace["type"] = "Replace";
  replace["pattern"] = ojson::object({{"Regex", " {2,}"}});
  replace["content"] = legacy ? " " : kSpace;
  normalizers.push_back(replace);
  ojson normalizer = ojson::object();
  normalizer["type"] = "Sequence";
  normalizer["normalizers"] = normalizers;
  j["normalizer"] = normalizer;

  j["pre_tokenizer"] = metaspace(layout);

  ojson post = ojson::object();
  post["type"] = "TemplateProcessing";
  post["single"] =
      ojson::array({template_item("SpecialToken", "<s>"), template_item("Sequence", "A"),
                    template_item("SpecialToken", "</s>")});
  post["pair"] =
      ojson::array({template_item("SpecialToken", "<s>"), template_item("Sequence", "A"),
                    template_item("SpecialToken", "</s>"), template_item("SpecialToken", "</s>"),
                    template_item("Sequence", "B"), template_item("SpecialToken", "</s>")});
  ojson specials = ojson::object();
  specials["</s>"] = special_entry("</s>", 2);
  specials["<s>"] = special_entry("<s>", 0);
  post["special_tokens"] = specials;
  j["post_processor"] = post;

  j["decoder"] = metaspace(layout);

  ojson vocab = ojson::array();
  for (const char* special : {"<s>", "<pad>", "</s>", "<unk>"}) {
    vocab.push_back(ojson::array({special, 0.0}));
  }
  for (std::size_t i = 3; i < model.pieces.size(); ++i) {
    vocab.push_back(
        ojson::array({model.pieces[i].text, static_cast<double>(model.pieces[i].score)}));
  }
  vocab.push_back(ojson::array({"<mask>", 0.0}));
  ojson m = ojson::object();
  m["type"] = "Unigram";
  m["unk_id"] = 3;
  m["vocab"] = std::move(vocab);
  if (!legacy) m["byte_fallback"] = false;
  j["model"] = std::move(m);

  std::string out;
  write_pretty(out, j, 0);
  return out;
}

std::string sentencepiece_model_from_tokenizer_json(const std::filesystem::path& tokenizer_json) {
  const std::string what = tokenizer_json.string();
  require_file(tokenizer_json, "tokenizer.json");
  const text::HfTokenizer tok(read_file(tokenizer_json), what);
  const text::HfUnigram& model = tok.model();
  const char* const kHead[] = {"<s>", "<pad>", "</s>", "<unk>"};
  bool xlmr = model.size() > 4 && model.unk_id() == 3;
  for (std::int32_t i = 0; i < 4 && xlmr; ++i) xlmr = model.piece(i) == kHead[i];
  SM_CHECK(xlmr, ErrorKind::kUnsupported,
           what +
               ": the Unigram vocabulary is not laid out like XLM-R's (<s> <pad> </s> <unk> "
               "first, unk_id 3), so it has no SentencePiece equivalent");
  std::size_t end = model.size();
  if (model.piece(static_cast<std::int32_t>(end - 1)) == "<mask>") --end;

  std::string charsmap;
  bool strip_or_collapse = false;
  bool has_charsmap = false;
  for (const auto& step : tok.normalizer_steps()) {
    if (step.kind == text::HfNormalizerStep::Kind::kPrecompiled) {
      SM_CHECK(!has_charsmap, ErrorKind::kUnsupported,
               what + ": more than one Precompiled normalizer");
      has_charsmap = true;
      charsmap = step.charsmap->blob();
    } else if (step.kind == text::HfNormalizerStep::Kind::kReplace ||
               step.kind == text::HfNormalizerStep::Kind::kStrip) {
      strip_or_collapse = true;
    } else {
      throw Error(ErrorKind::kUnsupported,
                  what + ": a Prepend normalizer has no SentencePiece equivalent");
    }
  }
  bool add_dummy_prefix = false;
  bool escape = false;
  for (const auto& m : tok.pre_tokenizers()) {
    escape = escape || m.replacement == kSpace;
    add_dummy_prefix = add_dummy_prefix || m.prepend != text::PrependScheme::kNever;
  }

  std::string out;
  auto piece = [&](std::string_view text, float score, text::PieceType type) {
    std::string p;
    put_bytes(p, 1, text);
    put_float(p, 2, score);
    if (type != text::PieceType::kNormal) put_int(p, 3, static_cast<std::int64_t>(type));
    put_bytes(out, 1, p);
  };
  piece("<unk>", 0.0f, text::PieceType::kUnknown);
  piece("<s>", 0.0f, text::PieceType::kControl);
  piece("</s>", 0.0f, text::PieceType::kControl);
  std::size_t pieces = 3;
  for (std::size_t i = 4; i < end; ++i) {
    const auto id = static_cast<std::int32_t>(i);
    const std::string& text = model.piece(id);
    auto type = text::PieceType::kNormal;
    for (const auto& a : tok.added_tokens()) {
      if (a.id == id && a.content == text && !a.special) type = text::PieceType::kUserDefined;
    }
    piece(text, static_cast<float>(model.score(id)), type);
    ++pieces;
  }
  std::string trainer;
  put_int(trainer, 3, 1);  // model_type UNIGRAM
  put_int(trainer, 4, static_cast<std::int64_t>(pieces));
  put_int(trainer, 40, 0);   // unk_id
  put_int(trainer, 41, 1);   // bos_id
  put_int(trainer, 42, 2);   // eos_id
  put_int(trainer, 43, -1);  // pad_id: none
  put_bytes(out, 2, trainer);
  std::string normalizer;
  put_bytes(normalizer, 1, has_charsmap ? "nmt_nfkc" : "identity");
  if (has_charsmap) put_bytes(normalizer, 2, charsmap);
  put_int(normalizer, 3, add_dummy_prefix ? 1 : 0);
  put_int(normalizer, 4, strip_or_collapse ? 1 : 0);
  put_int(normalizer, 5, escape ? 1 : 0);
  put_bytes(out, 3, normalizer);
  return out;
}

}  // namespace skillmatch
