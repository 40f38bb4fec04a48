// JSON Lines output for the CLI (the reader is skillmatch/jsonl_reader.h).
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"
#include "skillmatch/core/jsonl_reader.h"

namespace skillmatch::cli {

using skillmatch::JsonlReader;

// Appends `values` as a JSON array of shortest round-trip float literals.
void append_float_array(std::string& out, const float* values, std::size_t n);
void append_float(std::string& out, float value);

// Writes all of `s` to `f`; throws kIo on failure (a closed pipe, a full disk).
void write_all(std::FILE* f, std::string_view s);

// Opens an output line, echoing the input's "id" member (null: none).
inline void begin_record(std::string& out, const nlohmann::json& id) {
  out += '{';
  if (!id.is_null()) {
    out += "\"id\":";
    out += id.dump();
    out += ',';
  }
}

// Runs `step` for the record last read and prefixes a failure with its input line.
template <class F>
auto at_line(const JsonlReader& reader, F&& step) -> decltype(step()) {
  try {
    return step();
  } catch (const Error& e) {
    rethrow_with_context(e, reader.where());
  }
}

// Streams the records of `reader` to `f` in chunks of `chunk`: `parse` turns one record into an
// input (errors are prefixed with its line), `compute` runs a whole chunk and
// `write_result(i, out)` appends the result members of the chunk's i-th record to its output
// line, which echoes the record's "id". Memory stays bounded for any input length.
// `keep(n)` (optional) says whether the n-th record (0-based) is this run's: the others are read
// and skipped (a shard of a larger job).
template <class Input, class Compute, class WriteResult>
void run_chunked(JsonlReader& reader, std::FILE* f, std::size_t chunk,
                 const std::function<Input(const nlohmann::json&)>& parse, Compute compute,
                 WriteResult write_result, const std::function<bool(std::size_t)>& keep = nullptr) {
  std::vector<Input> inputs;
  std::vector<nlohmann::json> ids;  // the "id" member of each record of the chunk
  auto flush = [&] {
    if (inputs.empty()) return;
    compute(inputs);
    std::string out;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      begin_record(out, ids[i]);
      write_result(i, out);
      out += "}\n";
    }
    write_all(f, out);
    inputs.clear();
    ids.clear();
  };
  nlohmann::json rec;
  for (std::size_t n = 0; reader.next(rec); ++n) {
    if (keep && !keep(n)) continue;
    inputs.push_back(at_line(reader, [&] { return parse(rec); }));
    ids.push_back(rec.value("id", nlohmann::json()));
    if (inputs.size() == chunk) flush();
  }
  flush();
}

}  // namespace skillmatch::cli
