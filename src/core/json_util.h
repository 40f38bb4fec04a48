// Reading JSON files and typed keys with errors that name the file and key.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"

namespace skillmatch {

// Parses a JSON file; throws kNotFound if missing, kCorrupt (naming file and position) if invalid.
nlohmann::json load_json_file(const std::filesystem::path& path);

// The message of a JSON library error without its "[json.exception.<kind>.<id>] " prefix. Parsing
// throws parse_error for syntax, but also out_of_range for a number beyond double's range
// ("1e999"): callers catch nlohmann::json::exception, the base of both.
std::string json_error_message(const nlohmann::json::exception& e);

// Reads `key` of object `j` into `out`. A missing key throws kCorrupt when `required`, else leaves
// `out` unchanged; a value of the wrong type always throws kCorrupt. `what` names the file.
template <class T>
bool get_key(const nlohmann::json& j, const char* key, T& out, bool required,
             const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    SM_CHECK(!required, ErrorKind::kCorrupt, what + ": key '" + key + "' is missing");
    return false;
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
