// FNV-1a 64-bit hashing for change detection (content hashes, file keys). Not cryptographic.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace skillmatch {

inline constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;

// Continues hash `h` over `n` bytes.
inline void fnv1a_mix(std::uint64_t& h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}

inline std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = kFnvOffset;
  fnv1a_mix(h, s.data(), s.size());
  return h;
}

// 16 lower-case hex digits.
inline std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace skillmatch
