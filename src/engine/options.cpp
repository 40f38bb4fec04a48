#include "skillmatch/options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch {
namespace {

[[noreturn]] void fail(std::string_view name, const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, std::string(name) + ": " + message);
}

std::string shown(std::string_view v) {
  const std::string_view head = utf8_prefix(v, 64);
  return "'" + std::string(head) + (head.size() < v.size() ? "...'" : "'");
}

std::string range_text(double min, double max) {
  auto fmt = [](double v) {
    if (v == std::numeric_limits<double>::infinity()) return std::string("infinity");
    if (v == -std::numeric_limits<double>::infinity()) return std::string("-infinity");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  return "from " + fmt(min) + " to " + fmt(max);
}

}  // namespace

std::size_t parse_count(std::string_view name, std::string_view text, std::size_t min,
                        std::size_t max) {
  const std::string expected =
      "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    fail(name, expected + ", got " + shown(text));
  }
  const std::size_t v = std::stoull(std::string(text));
  if (v < min || v > max) fail(name, expected + ", got " + std::string(text));
  return v;
}

double parse_number(std::string_view name, std::string_view text, double min, double max) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || errno == ERANGE ||
      std::isspace(static_cast<unsigned char>(s.front()))) {
    fail(name, "expected a number " + range_text(min, max) + ", got " + shown(text));
  }
  if (v < min || v > max) {
    fail(name, "expected a number " + range_text(min, max) + ", got " + s);
  }
  return v;
}

bool parse_flag(std::string_view name, std::string_view text) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  fail(name, "expected true or false, got " + shown(text));
}

std::size_t json_count(std::string_view name, const nlohmann::json& v, std::size_t min,
                       std::size_t max) {
  const std::string expected =
      "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() || v.get<std::int64_t>() >= 0) {
      const auto n = v.get<std::uint64_t>();
      if (n >= min && n <= max) return static_cast<std::size_t>(n);
    }
    fail(name, expected + ", got " + json_preview(v));
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= double(min) && d <= double(max)) {
      return static_cast<std::size_t>(d);
    }
  }
  fail(name, expected + ", got " + std::string(v.type_name()) + " " + json_preview(v));
}

double json_number(std::string_view name, const nlohmann::json& v, double min, double max) {
  if (!v.is_number()) {
    fail(name, "expected a number " + range_text(min, max) + ", got " + std::string(v.type_name()) +
                   " " + json_preview(v));
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(name, "expected a number " + range_text(min, max) + ", got " + json_preview(v));
  }
  return d;
}

bool json_flag(std::string_view name, const nlohmann::json& v) {
  if (!v.is_boolean()) {
    fail(name, "expected true or false, got " + std::string(v.type_name()) + " " + json_preview(v));
  }
  return v.get<bool>();
}

std::string json_text(std::string_view name, const nlohmann::json& v) {
  if (!v.is_string()) {
    fail(name, "expected a string, got " + std::string(v.type_name()) + " " + json_preview(v));
  }
  return v.get<std::string>();
}

std::vector<std::string> json_text_list(std::string_view name, const nlohmann::json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) {
    fail(name, "expected a string or a list of strings, got " + std::string(v.type_name()));
  }
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) {
      fail(name, "expected a list of strings, found " + std::string(item.type_name()) + " " +
                     json_preview(item));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string one_of(const std::vector<std::string>& choices) {
  std::string s;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i) s += i + 1 == choices.size() ? " or " : ", ";
    s += choices[i];
  }
  return s;
}

const std::string& check_choice(std::string_view name, const std::string& value,
                                const std::vector<std::string>& choices) {
  for (const auto& c : choices) {
    if (c == value) return c;
  }
  fail(name, "expected " + one_of(choices) + ", got " + shown(value));
}

std::vector<std::pair<std::string, std::string>> split_key_values(std::string_view text,
                                                                  std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    while (comma != std::string_view::npos) {
      const std::size_t next_comma = text.find(',', comma + 1);
      const std::size_t eq = text.find('=', comma + 1);
      if (eq != std::string_view::npos && eq < next_comma) break;  // ",key=" starts a pair
      comma = next_comma;
    }
    const std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      SM_CHECK(eq != std::string_view::npos && eq > 0, ErrorKind::kInvalidArgument,
               std::string(what) + ": '" + std::string(part) + "' is not key=value");
      out.emplace_back(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace detail {

void throw_unknown_option(const std::string& name, const std::vector<std::string>& known) {
  throw Error(ErrorKind::kInvalidArgument,
              "unknown option '" + name + "' (known: " + one_of(known) + ")");
}

void throw_refused_option(const std::string& name) {
  throw Error(ErrorKind::kInvalidArgument, name + ": cannot be set here");
}

void throw_options_not_object() {
  throw Error(ErrorKind::kInvalidArgument, "expected a JSON object of options");
}

}  // namespace detail
}  // namespace skillmatch
