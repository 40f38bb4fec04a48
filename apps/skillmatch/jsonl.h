// JSON Lines output for the CLI (the reader is skillmatch/jsonl_reader.h).
#pragma once

#include <cstddef>
#include <cstdio>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "skillmatch/jsonl_reader.h"

namespace skillmatch::cli {

using skillmatch::JsonlReader;

// Appends `values` as a JSON array of shortest round-trip float literals.
void append_float_array(std::string& out, const float* values, std::size_t n);
void append_float(std::string& out, float value);

// Writes all of `s` to `f`; throws kIo on failure (a closed pipe, a full disk).
void write_all(std::FILE* f, std::string_view s);

}  // namespace skillmatch::cli
