#include "skillmatch/eval/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_set>

#include "skillmatch/core/error.h"

namespace skillmatch {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * double(values.size()));
  const std::size_t i = rank < 1 ? 0 : std::min(values.size() - 1, std::size_t(rank) - 1);
  return values[i];
}

std::vector<ConfigResult> evaluate(const EvalDataset& data, const std::vector<EvalConfig>& configs,
                                   const MetricCutoffs& cutoffs, std::size_t depth,
                                   const ProgressFn& progress) {
  cutoffs.validate();
  SM_CHECK(!data.queries.empty(), ErrorKind::kInvalidArgument,
           "the dataset " + data.name + " has no query with a relevant skill in the corpus");
  if (depth == 0) depth = cutoffs.max_k();
  const std::size_t total = data.queries.size() * configs.size();
  std::vector<std::unordered_set<std::int64_t>> relevant;  // per query, shared by the configs
  for (const EvalQuery& q : data.queries)
    relevant.emplace_back(q.relevant.begin(), q.relevant.end());
  std::size_t done = 0;
  std::vector<ConfigResult> out;
  for (const EvalConfig& c : configs) {
    SM_ASSERT(c.rank != nullptr);
    ConfigResult r;
    r.name = c.name;
    r.description = c.description;
    MetricAccumulator acc(cutoffs);
    std::vector<double> latencies;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t qi = 0; qi < data.queries.size(); ++qi) {
      const EvalQuery& q = data.queries[qi];
      const auto t0 = std::chrono::steady_clock::now();
      QueryRun run;
      try {
        run.ranking = c.rank(q.text, depth);
      } catch (const Error& e) {
        rethrow_with_context(e, c.name + ": query " + q.id + " (" + q.where + ")");
      }
      const auto t1 = std::chrono::steady_clock::now();
      run.latency_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
      std::vector<std::int64_t> ids;
      for (const RankedSkill& s : run.ranking) ids.push_back(s.skill_id);
      acc.add(ids, relevant[qi]);
      latencies.push_back(run.latency_ms);
      r.runs.push_back(std::move(run));
      if (progress) progress(++done, total);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.metrics = acc.means();
    double sum = 0;
    for (double l : latencies) sum += l;
    r.latency.mean_ms = sum / double(latencies.size());
    r.latency.p50_ms = percentile(latencies, 50);
    r.latency.p95_ms = percentile(latencies, 95);
    r.latency.max_ms = percentile(latencies, 100);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace skillmatch
