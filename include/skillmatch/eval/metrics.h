// Information-retrieval metrics with the semantics of sentence-transformers'
// InformationRetrievalEvaluator (the table of the model cards):
//
//  - relevance is binary; a query with no relevant item is skipped (not counted as a zero);
//  - accuracy@k: share of queries with at least one relevant item in the top k (hit_rate@k is the
//    same number under the name retrieval-augmented-generation tools use);
//  - precision@k: relevant in the top k / k (also when the ranking is shorter than k);
//  - recall@k: relevant in the top k / number of relevant items;
//  - MRR@k: 1 / rank of the first relevant item within the top k, 0 if none;
//  - NDCG@k: DCG of the top k (gain 1 / log2(rank + 1)) over the DCG of min(k, |relevant|)
//    relevant items at the top;
//  - MAP@k: sum of precision@rank at each relevant rank within the top k, divided by
//    min(k, |relevant|);
//  - every metric is the mean over the evaluated queries.
//
// A ranking is taken in the order given: ties in score must be broken by the caller (the
// evaluator keeps the retriever's order, which breaks ties by workspace order).
// Thread-safety: pure functions and value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace skillmatch {

// Which cut-offs to compute; the defaults are those of InformationRetrievalEvaluator.
struct MetricCutoffs {
  std::vector<std::size_t> accuracy{1, 3, 5, 10};
  std::vector<std::size_t> precision_recall{1, 3, 5, 10};
  std::vector<std::size_t> mrr{10};
  std::vector<std::size_t> ndcg{10};
  std::vector<std::size_t> map{100};

  // The deepest cut-off: how long a ranking must be for every metric to see all it can.
  std::size_t max_k() const;
  // Throws kInvalidArgument for a cut-off of 0 or an empty list.
  void validate() const;
};

// Metric name ("accuracy@1", "ndcg@10", ...) and value, in the order the model cards print them:
// accuracy, precision, recall, MRR, NDCG, MAP, hit rate.
using MetricValues = std::vector<std::pair<std::string, double>>;

// The metrics of one query. `ranking` is best first; `relevant` must not be empty.
MetricValues query_metrics(const std::vector<std::int64_t>& ranking,
                           const std::unordered_set<std::int64_t>& relevant,
                           const MetricCutoffs& cutoffs);

// Means over queries, accumulated one query at a time.
class MetricAccumulator {
 public:
  explicit MetricAccumulator(MetricCutoffs cutoffs) : cutoffs_(std::move(cutoffs)) {}
  // Adds one query.
  void add(const std::vector<std::int64_t>& ranking,
           const std::unordered_set<std::int64_t>& relevant);
  std::size_t queries() const noexcept { return queries_; }
  // The means; all zero when no query was added.
  MetricValues means() const;

 private:
  MetricCutoffs cutoffs_;
  MetricValues sums_;
  std::size_t queries_ = 0;
};

}  // namespace skillmatch
