// A reader of ZIP archives (stored and deflated entries, no ZIP64, no encryption), for the
// official ESCO exports, which come as one .zip of CSV files.
//
// Errors: kNotFound (missing archive or entry), kCorrupt (a damaged archive or a CRC mismatch,
// naming archive and entry), kUnsupported (ZIP64, encryption, other compression methods).
// Thread-safety: const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "skillmatch/core/io.h"

namespace skillmatch {

class ZipReader {
 public:
  explicit ZipReader(const std::filesystem::path& archive);

  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // The uncompressed content of an entry, CRC-checked.
  std::string read(const std::string& name) const;
  // Checks an entry as read() does (bounds, sizes, method, CRC) without keeping its content:
  // memory stays bounded whatever the entry's size.
  void check(const std::string& name) const;
  // The uncompressed size an entry's header states (true once read() or check() passed).
  std::uint32_t size(const std::string& name) const;

 private:
  struct Entry {
    std::string name;
    std::uint16_t method = 0, flags = 0;
    std::uint32_t crc = 0, compressed = 0, size = 0, local_offset = 0;
  };
  const Entry& entry(const std::string& name) const;  // kNotFound naming archive and entry
  // Streams the content of an entry to `sink` as it is produced, checking everything.
  void extract(const std::string& name,
               const std::function<void(const char*, std::size_t)>& sink) const;

  MappedFile file_;
  std::vector<Entry> entries_;
};

}  // namespace skillmatch
