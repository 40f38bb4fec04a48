// File access used by every layer: whole-file reads, read-only memory maps, atomic writes.
//
// Errors: a missing path throws ErrorKind::kNotFound, an OS failure ErrorKind::kIo; each message
// names the path. Objects are movable, not copyable; a MappedFile may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

namespace skillmatch {

// Reads the whole file into a string.
std::string read_file(const std::filesystem::path& path);

// Throws kNotFound ("<what> <path> does not exist") unless `path` is an existing regular file.
void require_file(const std::filesystem::path& path, const std::string& what);

// Throws kNotFound unless `path` is an existing directory.
void require_directory(const std::filesystem::path& path, const std::string& what);

// A memory map of a whole file. An empty file maps to size() == 0, data() == nullptr.
// `copy_on_write`: the pages may be written, privately (MAP_PRIVATE): the file never changes.
// The file must not be truncated or rewritten in place while mapped (a read of a page past its
// new end raises SIGBUS); replace files by renaming a new one over them.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path, bool copy_on_write = false);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Writes a file so that readers see either the old content or the complete new one: `write`
// fills a temporary file beside `path` (same directory), which is flushed, fsync'ed and renamed
// over `path`. If `write` throws, the temporary file is removed and `path` is untouched.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::FILE*)>& write);

}  // namespace skillmatch
