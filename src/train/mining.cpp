// Which ranked candidates become hard negatives (pure C++: the ranking is the caller's).
#include <algorithm>
#include <limits>
#include <random>

#include "core/hash.h"
#include "skillmatch/core/error.h"
#include "skillmatch/train/trainer.h"

namespace skillmatch {

std::vector<RankedCandidate> select_negatives(const std::vector<RankedCandidate>& ranked,
                                              const std::function<bool(std::size_t)>& is_positive,
                                              std::optional<double> positive_score,
                                              const MiningSettings& s, std::size_t query_index,
                                              std::size_t corpus_size, MiningStats& stats) {
  SM_CHECK(s.range_min < s.range_max, ErrorKind::kInvalidArgument,
           "range-min must be below range-max");
  ++stats.queries;
  std::vector<RankedCandidate> pool;
  const std::size_t end = std::min(ranked.size(), s.range_max);
  for (std::size_t r = s.range_min; r < end; ++r) {
    const RankedCandidate& c = ranked[r];
    ++stats.candidates;
    if (is_positive && is_positive(c.id)) {
      ++stats.positives_skipped;
      continue;
    }
    // sentence-transformers' safeguards against unlabelled positives, against the query's
    // lowest positive score.
    if (positive_score &&
        ((s.absolute_margin && c.score + *s.absolute_margin > *positive_score) ||
         (s.relative_margin && c.score > *positive_score * (1 - *s.relative_margin)))) {
      ++stats.margin_skipped;
      continue;
    }
    if (s.max_score && c.score > *s.max_score) {
      ++stats.max_score_skipped;
      continue;
    }
    if (s.min_score && c.score < *s.min_score) {
      ++stats.min_score_skipped;
      continue;
    }
    pool.push_back(c);
  }
  std::uint64_t h = kFnvOffset;
  const std::uint64_t q = query_index;
  fnv1a_mix(h, &s.seed, sizeof s.seed);
  fnv1a_mix(h, &q, sizeof q);
  std::mt19937_64 rng(h);
  if (pool.size() > s.negatives) {
    if (s.random_sampling) {
      std::vector<std::size_t> idx(pool.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      for (std::size_t i = 0; i < s.negatives; ++i) {
        std::swap(idx[i], idx[i + static_cast<std::size_t>(rng() % (idx.size() - i))]);
      }
      idx.resize(s.negatives);
      std::sort(idx.begin(), idx.end());  // best-ranked first
      std::vector<RankedCandidate> picked;
      for (const std::size_t i : idx) picked.push_back(pool[i]);
      pool = std::move(picked);
    } else {
      pool.resize(s.negatives);
    }
  }
  if (pool.size() < s.negatives) {
    ++stats.short_queries;
    if (s.fill_random && corpus_size > 0) {
      // Random corpus entries that are neither positives nor picked already; give up after a
      // bounded number of draws (a corpus of positives only has none to give).
      std::vector<std::size_t> taken;
      for (const RankedCandidate& c : pool) taken.push_back(c.id);
      for (std::size_t tries = 0; pool.size() < s.negatives && tries < 20 * s.negatives; ++tries) {
        const auto id = static_cast<std::size_t>(rng() % corpus_size);
        if (std::find(taken.begin(), taken.end(), id) != taken.end() ||
            (is_positive && is_positive(id))) {
          continue;
        }
        taken.push_back(id);
        pool.push_back({id, std::numeric_limits<double>::quiet_NaN()});
        ++stats.random_filled;
      }
    }
  }
  stats.negatives += pool.size();
  return pool;
}

}  // namespace skillmatch
