// Reading JSON files and typed keys with errors that name the file and key.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"

namespace skillmatch {

// The deepest nesting of arrays and objects skillmatch reads (serde_json, which Hugging Face's
// tokenizers uses, stops at 128 as well). Deeper JSON is refused while it is parsed, before
// anything recurses over it (a reader's own recursion, dump() in a message): a file of nested
// brackets would otherwise overflow the stack.
inline constexpr std::size_t kMaxJsonDepth = 128;

// What parse_json throws for nesting deeper than kMaxJsonDepth: a nlohmann::json::exception, so
// that the readers' handlers of the library's errors take it too.
class JsonTooDeep : public nlohmann::json::exception {
 public:
  JsonTooDeep();
};

// nlohmann's DOM builder with the depth limit; parse_json uses it, and readers with a SAX parser
// of their own (tokenizer.json) derive from it.
class JsonDomBuilder : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
 public:
  using Base = nlohmann::detail::json_sax_dom_parser<nlohmann::json>;
  explicit JsonDomBuilder(nlohmann::json& result) : Base(result, true) {}
  bool start_object(std::size_t n) {
    enter();
    return Base::start_object(n);
  }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool start_array(std::size_t n) {
    enter();
    return Base::start_array(n);
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }

 private:
  void enter() {
    if (++depth_ > kMaxJsonDepth) throw JsonTooDeep();
  }
  std::size_t depth_ = 0;
};

// nlohmann::json::parse(text) with the depth limit. Throws nlohmann::json::exception:
// parse_error for syntax, out_of_range for a number beyond double's range ("1e999"), JsonTooDeep.
nlohmann::json parse_json(std::string_view text);

// `v` as JSON for an error message: at most `max_bytes` bytes (then "..."), not cut inside a
// character. It writes only as far as it shows, so its cost and its recursion are bounded by
// `max_bytes` whatever `v` holds (nlohmann's dump() recurses through all of it).
std::string json_preview(const nlohmann::json& v, std::size_t max_bytes = 64);

// Parses a JSON file; throws kNotFound if missing, kCorrupt (naming file and position) if invalid.
nlohmann::json load_json_file(const std::filesystem::path& path);

// The message of a JSON library error without its "[json.exception.<kind>.<id>] " prefix. Parsing
// throws parse_error for syntax, but also out_of_range for a number beyond double's range
// ("1e999"): callers catch nlohmann::json::exception, the base of both.
std::string json_error_message(const nlohmann::json::exception& e);

// Reads `key` of object `j` into `out`. A missing key throws kCorrupt when `required`, else leaves
// `out` unchanged; a value of the wrong type always throws kCorrupt. An integer key takes a
// JSON integer, or a number with a whole value, inside the range of T (nlohmann's get<T>()
// would convert 1e300 or true without a word). `what` names the file.
template <class T>
bool get_key(const nlohmann::json& j, const char* key, T& out, bool required,
             const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    SM_CHECK(!required, ErrorKind::kCorrupt, what + ": key '" + key + "' is missing");
    return false;
  }
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using Limits = std::numeric_limits<T>;
    // 2^digits: the first value above T's range, exact in a double.
    const double above = std::ldexp(1.0, Limits::digits);
    const double below = Limits::is_signed ? -above : 0.0;
    bool ok = false;
    if (it->is_number_unsigned()) {
      ok = it->template get<std::uint64_t>() <= static_cast<std::uint64_t>(Limits::max());
    } else if (it->is_number_integer()) {
      const auto v = it->template get<std::int64_t>();
      ok = v >= 0 ? static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(Limits::max())
                  : Limits::is_signed && v >= static_cast<std::int64_t>(Limits::min());
    } else if (it->is_number_float()) {
      const double d = it->template get<double>();
      ok = std::isfinite(d) && d == std::floor(d) && d >= below && d < above;
    } else {
      throw Error(ErrorKind::kCorrupt,
                  what + ": key '" + key + "' has the wrong type (" + it->type_name() + ")");
    }
    SM_CHECK(ok, ErrorKind::kCorrupt,
             what + ": key '" + key + "' must be a whole number from " +
                 std::to_string(Limits::min()) + " to " + std::to_string(Limits::max()) + ", not " +
                 json_preview(*it));
    out =
        it->is_number_float() ? static_cast<T>(it->template get<double>()) : it->template get<T>();
    return true;
  }
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kCorrupt,
                what + ": key '" + key + "' has the wrong type (" + it->type_name() + ")");
  }
  return true;
}

}  // namespace skillmatch
