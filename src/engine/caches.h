// The engine's two caches: loaded models (one load per key, concurrent callers wait for it) and
// reranker scores (least recently used dropped first). Both are safe to use from many threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

// A value loaded once per key: later callers wait for the first load instead of loading again. A
// failed load is not kept (the next caller tries again). Entries are never evicted.
template <class T>
class ModelCache {
 public:
  template <class Load>
  std::shared_ptr<const T> get(const std::string& key, Load load) {
    std::promise<std::shared_ptr<const T>> promise;
    std::shared_future<std::shared_ptr<const T>> future;
    bool mine = false;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) {
        future = it->second;
      } else {
        future = promise.get_future().share();
        map_.emplace(key, future);
        mine = true;
      }
    }
    if (mine) {
      try {
        promise.set_value(load());
      } catch (...) {
        promise.set_exception(std::current_exception());
        const std::lock_guard<std::mutex> lock(mu_);
        map_.erase(key);
      }
    }
    return future.get();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_future<std::shared_ptr<const T>>> map_;
};

// Reranker logits by (model, pair token ids). A pair is kept as a 128-bit keyed hash (seeded per
// process, so that colliding pairs cannot be prepared in advance), so an entry costs about 100
// bytes whatever the pair's length; `capacity` entries at most.
class ScoreCache {
 public:
  using Key = std::array<std::uint64_t, 2>;

  explicit ScoreCache(std::size_t capacity);

  // The key of `ids` scored by the model that `model` names (its folder and settings).
  Key key(const std::string& model, const TokenIds& ids) const;

  std::optional<float> get(const Key& key);
  void put(const Key& key, float value);

  // Lookups so far that found a score, and that did not.
  std::pair<std::uint64_t, std::uint64_t> hits_misses() const;

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return static_cast<std::size_t>(k[0]); }
  };
  std::size_t capacity_;
  std::uint64_t seed_[2];
  mutable std::mutex mu_;
  std::list<std::pair<Key, float>> order_;  // most recently used first
  std::unordered_map<Key, std::list<std::pair<Key, float>>::iterator, KeyHash> map_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace skillmatch
