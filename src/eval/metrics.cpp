#include "skillmatch/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

// DCG of binary gains: sum over the first min(k, n) positions of rel_i / log2(i + 2).
double dcg(const std::vector<char>& relevance, std::size_t k) {
  double sum = 0;
  const std::size_t n = std::min(k, relevance.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (relevance[i]) sum += 1.0 / std::log2(double(i) + 2.0);
  }
  return sum;
}

}  // namespace

std::size_t MetricCutoffs::max_k() const {
  std::size_t m = 0;
  for (const auto* list : {&accuracy, &precision_recall, &mrr, &ndcg, &map}) {
    for (std::size_t k : *list) m = std::max(m, k);
  }
  return m;
}

void MetricCutoffs::validate() const {
  const std::pair<const char*, const std::vector<std::size_t>*> lists[] = {
      {"accuracy", &accuracy},
      {"precision/recall", &precision_recall},
      {"MRR", &mrr},
      {"NDCG", &ndcg},
      {"MAP", &map}};
  for (const auto& [name, list] : lists) {
    SM_CHECK(!list->empty(), ErrorKind::kInvalidArgument,
             std::string("no cut-off given for ") + name);
    for (std::size_t k : *list) {
      SM_CHECK(k > 0, ErrorKind::kInvalidArgument,
               std::string("a cut-off of 0 for ") + name + " (k must be at least 1)");
    }
  }
}

MetricValues query_metrics(const std::vector<std::int64_t>& ranking,
                           const std::unordered_set<std::int64_t>& relevant,
                           const MetricCutoffs& c) {
  SM_CHECK(!relevant.empty(), ErrorKind::kInvalidArgument,
           "a query without relevant items has no metrics");
  std::vector<char> hit(ranking.size());
  for (std::size_t i = 0; i < ranking.size(); ++i) hit[i] = relevant.count(ranking[i]) > 0;
  const double n_rel = double(relevant.size());
  // Relevant items among the first k.
  auto correct = [&](std::size_t k) {
    return double(
        std::count(hit.begin(), hit.begin() + std::ptrdiff_t(std::min(k, hit.size())), char(1)));
  };
  MetricValues out;
  for (std::size_t k : c.accuracy) {
    out.emplace_back("accuracy@" + std::to_string(k), correct(k) > 0 ? 1.0 : 0.0);
  }
  for (std::size_t k : c.precision_recall) {
    out.emplace_back("precision@" + std::to_string(k), correct(k) / double(k));
  }
  for (std::size_t k : c.precision_recall) {
    out.emplace_back("recall@" + std::to_string(k), correct(k) / n_rel);
  }
  for (std::size_t k : c.mrr) {
    double rr = 0;
    for (std::size_t i = 0; i < std::min(k, hit.size()); ++i) {
      if (hit[i]) {
        rr = 1.0 / double(i + 1);
        break;
      }
    }
    out.emplace_back("mrr@" + std::to_string(k), rr);
  }
  for (std::size_t k : c.ndcg) {
    const std::vector<char> ideal(relevant.size(), 1);
    out.emplace_back("ndcg@" + std::to_string(k), dcg(hit, k) / dcg(ideal, k));
  }
  for (std::size_t k : c.map) {
    double found = 0, sum = 0;
    for (std::size_t i = 0; i < std::min(k, hit.size()); ++i) {
      if (hit[i]) {
        found += 1;
        sum += found / double(i + 1);
      }
    }
    out.emplace_back("map@" + std::to_string(k), sum / std::min(double(k), n_rel));
  }
  for (std::size_t k : c.accuracy) {
    out.emplace_back("hit_rate@" + std::to_string(k), correct(k) > 0 ? 1.0 : 0.0);
  }
  return out;
}

void MetricAccumulator::add(const std::vector<std::int64_t>& ranking,
                            const std::unordered_set<std::int64_t>& relevant) {
  const MetricValues q = query_metrics(ranking, relevant, cutoffs_);
  if (sums_.empty()) {
    sums_ = q;
  } else {
    for (std::size_t i = 0; i < q.size(); ++i) sums_[i].second += q[i].second;
  }
  ++queries_;
}

MetricValues MetricAccumulator::means() const {
  if (queries_ == 0) {
    // Names only: the metrics of an empty set are reported as zero.
    MetricValues names = query_metrics({}, {0}, cutoffs_);
    for (auto& [name, value] : names) value = 0;
    return names;
  }
  MetricValues out = sums_;
  for (auto& [name, value] : out) value /= double(queries_);
  return out;
}

}  // namespace skillmatch
