#include "engine/caches.h"

#include <random>

namespace skillmatch {
namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

ScoreCache::ScoreCache(std::size_t capacity) : capacity_(capacity) {
  std::random_device rd;
  for (auto& s : seed_) s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

ScoreCache::Key ScoreCache::key(const std::string& model, const TokenIds& ids) const {
  Key k{seed_[0], seed_[1]};
  auto add = [&k](std::uint64_t v) {
    k[0] = mix64(k[0] ^ v) + 0x9e3779b97f4a7c15ull;
    k[1] = mix64(k[1] + v) ^ (k[0] >> 17);
  };
  for (const char c : model) add(static_cast<unsigned char>(c));
  add(~0ull);  // the model's name ends here
  for (const auto id : ids) add(static_cast<std::uint64_t>(static_cast<std::uint32_t>(id)));
  add(ids.size());
  return k;
}

std::optional<float> ScoreCache::get(const Key& key) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void ScoreCache::put(const Key& key, float value) {
  if (capacity_ == 0) return;
  const std::lock_guard<std::mutex> lock(mu_);
  if (map_.count(key)) return;
  order_.emplace_front(key, value);
  map_[key] = order_.begin();
  if (map_.size() > capacity_) {
    map_.erase(order_.back().first);
    order_.pop_back();
  }
}

std::pair<std::uint64_t, std::uint64_t> ScoreCache::hits_misses() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return {hits_, misses_};
}

}  // namespace skillmatch
