#include "fuzz_util.h"

#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "skillmatch/core/utf8.h"

namespace fs = std::filesystem;

namespace skillmatch::fuzz {
namespace {

fs::path make_scratch_dir() {
  fs::path base;
  const char* tmpdir = std::getenv("TMPDIR");
  std::error_code ec;
  if (tmpdir && *tmpdir) {
    base = tmpdir;
  } else if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  } else {
    base = fs::temp_directory_path();
  }
  // Folders of earlier runs that ended without their exit handler (a crash, libFuzzer's _Exit)
  // are removed when the process that made them is gone.
  const std::string prefix = "skillmatch-fuzz-";
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) {
      fs::remove_all(e.path(), ec);
    }
  }
  fs::path dir = base / (prefix + std::to_string(::getpid()));
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir;
}

void remove_scratch_dir() {
  std::error_code ec;
  fs::remove_all(scratch_dir(), ec);
}

}  // namespace

const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    fs::path d = make_scratch_dir();
    std::atexit(remove_scratch_dir);
    return d;
  }();
  return dir;
}

fs::path write_scratch(const std::string& name, std::string_view bytes) {
  const fs::path path = scratch_dir() / name;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = scratch_dir() / name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string_view> split_parts(std::string_view data, std::size_t count) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < count) {
    const std::size_t pos = data.find(kPartSeparator);
    if (pos == std::string_view::npos) break;
    parts.push_back(data.substr(0, pos));
    data.remove_prefix(pos + kPartSeparator.size());
  }
  parts.push_back(data);
  parts.resize(count);
  return parts;
}

std::string stored_zip(const std::vector<std::pair<std::string, std::string_view>>& entries) {
  std::string out, central;
  auto put = [](std::string& s, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  for (const auto& [name, data] : entries) {
    const auto crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto size = static_cast<std::uint32_t>(data.size());
    const auto offset = static_cast<std::uint32_t>(out.size());
    const auto name_len = static_cast<std::uint32_t>(name.size());
    put(out, 0x04034b50, 4);
    put(out, 20, 2), put(out, 0, 2), put(out, 0, 2),
        put(out, 0, 4);  // version, flags, method, time
    put(out, crc, 4), put(out, size, 4), put(out, size, 4), put(out, name_len, 2), put(out, 0, 2);
    out += name;
    out.append(data);
    put(central, 0x02014b50, 4);
    put(central, 20, 2), put(central, 20, 2), put(central, 0, 2), put(central, 0, 2);
    put(central, 0, 4), put(central, crc, 4), put(central, size, 4), put(central, size, 4);
    put(central, name_len, 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 2);
    put(central, 0, 2), put(central, 0, 4), put(central, offset, 4);
    central += name;
  }
  const auto at = static_cast<std::uint32_t>(out.size());
  const auto count = static_cast<std::uint32_t>(entries.size());
  out += central;
  put(out, 0x06054b50, 4);
  put(out, 0, 2), put(out, 0, 2), put(out, count, 2), put(out, count, 2);
  put(out, static_cast<std::uint32_t>(central.size()), 4), put(out, at, 4), put(out, 0, 2);
  return out;
}

void expect_error(const Error& e, const std::string& subject) {
  static const bool verbose = std::getenv("SKILLMATCH_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "fuzz: %s: %s\n", error_kind_name(e.kind()), e.what());
  if (e.kind() == ErrorKind::kInternal) {
    std::fprintf(stderr, "fuzz: internal error: %s\n", e.what());
    std::abort();
  }
  if (!subject.empty() && std::string_view(e.what()).find(subject) == std::string_view::npos) {
    std::fprintf(stderr, "fuzz: the error does not name %s: %s\n", subject.c_str(), e.what());
    std::abort();
  }
}

void invariant_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz: invariant %s does not hold (%s:%d)\n", what, file, line);
  std::abort();
}

const std::vector<Skill>& sample_skills() {
  static const std::vector<Skill> skills = [] {
    auto skill = [](std::int64_t id, std::string uri, std::string label, std::string description,
                    std::vector<std::string> alt) {
      Skill s;
      s.id = id;
      s.taxonomy = "sample";
      s.record.uri = std::move(uri);
      s.record.label = std::move(label);
      s.record.description = std::move(description);
      s.record.alt_labels = std::move(alt);
      s.record.skill_type = "skill/competence";
      return s;
    };
    return std::vector<Skill>{
        skill(1, "http://data.europa.eu/esco/skill/s1", "Tabellenkalkulation verwenden",
              "Mit Excel Tabellen erstellen", {"Excel nutzen", "Spreadsheets"}),
        skill(2, "http://data.europa.eu/esco/skill/s2", "Python", "Programmieren in Python", {}),
        skill(3, "http://data.europa.eu/esco/skill/s3", "Python", "Die Schlange pflegen", {}),
        skill(4, "GRETA-1-2-3", "Lernprozesse begleiten", "Lernende beraten; Feedback geben", {}),
        skill(5, "u5", "日本語", "", {"にほんご"}),
    };
  }();
  return skills;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // The longest valid sequence starting at i: 4, 3, 2 or 1 bytes.
    std::size_t n = 0;
    for (std::size_t len = 1; len <= 4 && i + len <= text.size(); ++len) {
      if (is_valid_utf8(text.substr(i, len))) n = len;
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace skillmatch::fuzz
