// One parser for the options of every request: the same names, defaults, ranges and errors
// whether an option comes from a command-line flag (--top 5), from a `key=value` list (eval's
// configurations: "mode=dense,top=5") or from a JSON request body ({"top": 5}).
//
// An OptionTable<T> lists the options of a request type T. Each option has a kebab-case name
// (JSON may write it with underscores: "dense_weight" and "dense-weight" are the same option),
// a help line that states its range and default, and setters from text and from JSON. Text
// values are parsed strictly: a whole number has digits only (no sign, no fraction), a number
// must be finite, both must lie in the stated range, a choice must be one of its values.
// JSON values must have the JSON type of the option (a number for a number, true/false for a
// flag, a string or a list of strings for a list).
//
// Thread-safety: a table is immutable once built; its setters write only the target object.
// Errors: every refusal is Error(kInvalidArgument) with a message that starts with the option's
// name ("top: expected a whole number from 1 to 10000, got 'abc'"); callers add where it came
// from (a flag, a configuration, a request field).
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace skillmatch {

// Strict parsers of one value, shared by all tables; `name` starts the error message.
std::size_t parse_count(std::string_view name, std::string_view text, std::size_t min,
                        std::size_t max);
double parse_number(std::string_view name, std::string_view text, double min, double max);
bool parse_flag(std::string_view name, std::string_view text);
std::size_t json_count(std::string_view name, const nlohmann::json& v, std::size_t min,
                       std::size_t max);
double json_number(std::string_view name, const nlohmann::json& v, double min, double max);
bool json_flag(std::string_view name, const nlohmann::json& v);
std::string json_text(std::string_view name, const nlohmann::json& v);
// A string, or a list of strings.
std::vector<std::string> json_text_list(std::string_view name, const nlohmann::json& v);
// One of `choices`, else an error listing them.
const std::string& check_choice(std::string_view name, const std::string& value,
                                const std::vector<std::string>& choices);
// "a, b or c"
std::string one_of(const std::vector<std::string>& choices);
// Splits "k1=v1,k2=v2" into pairs; a comma starts a new pair only when "key=" follows it, so
// values (templates, lists) may hold commas. Throws naming `what` for a part without '='.
std::vector<std::pair<std::string, std::string>> split_key_values(std::string_view text,
                                                                  std::string_view what);

namespace detail {
[[noreturn]] void throw_unknown_option(const std::string& name,
                                       const std::vector<std::string>& known);
[[noreturn]] void throw_refused_option(const std::string& name);
[[noreturn]] void throw_options_not_object();
}  // namespace detail

// Where an option may be set, besides the command line and a library call: a request to the
// HTTP service (not the models: they are the service's), an evaluation configuration (models
// and retrieval; filters and cut-offs are one for all configurations).
enum OptionScope : unsigned {
  kScopeRequest = 1,
  kScopeConfig = 2,
  kScopeEverywhere = kScopeRequest | kScopeConfig,
};

template <class T>
struct Option {
  std::string name;         // kebab-case: "dense-weight"
  std::string value_name;   // "N", "X", "MODEL", ...; empty for a flag
  std::string help;         // what it does, its range and default
  bool flag = false;        // a yes/no option: the command line takes --name (or --no-name)
  bool default_on = false;  // for a flag: its default
  bool list = false;        // each occurrence on the command line (or each comma item) adds
  unsigned scope = kScopeEverywhere;  // OptionScope bits
  std::function<void(T&, const std::string&)> set_text;
  std::function<void(T&, const nlohmann::json&)> set_json;
};

template <class T>
class OptionTable {
 public:
  OptionTable& add(Option<T> o) {
    options_.push_back(std::move(o));
    return *this;
  }
  const std::vector<Option<T>>& options() const noexcept { return options_; }

  // The option called `name` ('_' and '-' alike), nullptr if none.
  const Option<T>* find(std::string_view name) const {
    const std::string key = canonical(name);
    for (const auto& o : options_) {
      if (o.name == key) return &o;
    }
    return nullptr;
  }

  void set(T& target, std::string_view name, const std::string& value) const {
    require(name).set_text(target, value);
  }
  void set_json(T& target, std::string_view name, const nlohmann::json& value) const {
    require(name).set_json(target, value);
  }
  // "k1=v1,k2=v2" (see split_key_values); `what` names the source in errors.
  void set_pairs(T& target, std::string_view text, std::string_view what) const {
    for (const auto& [k, v] : split_key_values(text, what)) set(target, k, v);
  }
  // Every member of a JSON object; members named in `ignore` are skipped, those in `refuse`
  // are errors ("cannot be set here").
  void set_object(T& target, const nlohmann::json& object, const std::set<std::string>& ignore = {},
                  const std::set<std::string>& refuse = {}) const {
    if (!object.is_object()) detail::throw_options_not_object();
    for (const auto& item : object.items()) {
      const std::string key = canonical(item.key());
      if (ignore.count(key)) continue;
      if (refuse.count(key)) detail::throw_refused_option(key);
      set_json(target, key, item.value());
    }
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& o : options_) out.push_back(o.name);
    return out;
  }
  // The names of the options that may (or may not) be set in `scope`.
  std::set<std::string> names_in(OptionScope scope, bool in = true) const {
    std::set<std::string> out;
    for (const auto& o : options_) {
      if (((o.scope & scope) != 0) == in) out.insert(o.name);
    }
    return out;
  }
  // Limits where the options called `names` may be set.
  OptionTable& set_scope(std::initializer_list<std::string_view> names, unsigned scope) {
    for (const auto name : names) {
      for (auto& o : options_) {
        if (o.name == name) o.scope = scope;
      }
    }
    return *this;
  }

  static std::string canonical(std::string_view name) {
    std::string s(name);
    for (char& c : s) c = c == '_' ? '-' : c;
    return s;
  }

 private:
  const Option<T>& require(std::string_view name) const {
    const Option<T>* o = find(name);
    if (!o) detail::throw_unknown_option(std::string(name), names());
    return *o;
  }
  std::vector<Option<T>> options_;
};

// ------------------------------------------------------------------ builders
// `get` returns the member an option writes.

// A whole number into any integer member (`get` returns its reference).
template <class T, class Get>
Option<T> count_option(std::string name, std::string help, Get get, std::size_t min,
                       std::size_t max) {
  using Member = std::remove_reference_t<decltype(get(std::declval<T&>()))>;
  Option<T> o;
  o.name = name;
  o.value_name = "N";
  o.help = std::move(help) + " (" + std::to_string(min) + " to " + std::to_string(max) + ")";
  o.set_text = [=](T& t, const std::string& v) {
    get(t) = static_cast<Member>(parse_count(name, v, min, max));
  };
  o.set_json = [=](T& t, const nlohmann::json& v) {
    get(t) = static_cast<Member>(json_count(name, v, min, max));
  };
  return o;
}

template <class T, class Get>
Option<T> number_option(std::string name, std::string help, Get get, double min, double max) {
  Option<T> o;
  o.name = name;
  o.value_name = "X";
  o.help = std::move(help);
  o.set_text = [=](T& t, const std::string& v) { get(t) = parse_number(name, v, min, max); };
  o.set_json = [=](T& t, const nlohmann::json& v) { get(t) = json_number(name, v, min, max); };
  return o;
}

template <class T, class Get>
Option<T> text_option(std::string name, std::string value_name, std::string help, Get get) {
  Option<T> o;
  o.name = name;
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.set_text = [=](T& t, const std::string& v) { get(t) = v; };
  o.set_json = [=](T& t, const nlohmann::json& v) { get(t) = json_text(name, v); };
  return o;
}

template <class T, class Get>
Option<T> flag_option(std::string name, std::string help, Get get, bool default_on) {
  Option<T> o;
  o.name = name;
  o.help = std::move(help);
  o.flag = true;
  o.default_on = default_on;
  o.set_text = [=](T& t, const std::string& v) { get(t) = parse_flag(name, v); };
  o.set_json = [=](T& t, const nlohmann::json& v) { get(t) = json_flag(name, v); };
  return o;
}

// A list of strings: text values add their comma-separated items, JSON replaces the list.
template <class T, class Get>
Option<T> list_option(std::string name, std::string value_name, std::string help, Get get) {
  Option<T> o;
  o.name = name;
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  o.list = true;
  o.set_text = [=](T& t, const std::string& v) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = v.find(',', start);
      const std::string item = v.substr(start, comma - start);
      if (!item.empty()) get(t).push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  };
  o.set_json = [=](T& t, const nlohmann::json& v) { get(t) = json_text_list(name, v); };
  return o;
}

// One of `choices`, handed to `set` as text.
template <class T, class Set>
Option<T> choice_option(std::string name, std::string help, std::vector<std::string> choices,
                        Set set) {
  Option<T> o;
  o.name = name;
  o.value_name = "{" + [&] {
    std::string s;
    for (const auto& c : choices) s += (s.empty() ? "" : "|") + c;
    return s;
  }() + "}";
  o.help = std::move(help);
  o.set_text = [=](T& t, const std::string& v) { set(t, check_choice(name, v, choices)); };
  o.set_json = [=](T& t, const nlohmann::json& v) {
    set(t, check_choice(name, json_text(name, v), choices));
  };
  return o;
}

}  // namespace skillmatch
