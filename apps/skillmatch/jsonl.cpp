#include "jsonl.h"

#include <charconv>
#include <cmath>

#include "skillmatch/core/error.h"

namespace skillmatch::cli {

void append_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";  // JSON has no NaN/Inf; never expected from a healthy model
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void append_float_array(std::string& out, const float* values, std::size_t n) {
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_float(out, values[i]);
  }
  out += ']';
}

void write_all(std::FILE* f, std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), f) != s.size()) {
    throw Error(ErrorKind::kIo, "cannot write the output (disk full or pipe closed?)");
  }
}

}  // namespace skillmatch::cli
