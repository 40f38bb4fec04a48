// Running retrieval configurations over an evaluation dataset, and reporting the results as a
// table, Markdown, JSON, TREC run and qrels files, and an SVG bar chart.
//
// Each configuration is a ranking function: the Engine gives one that matches exactly as
// `skillmatch match` would with `--candidates depth --top depth` (no threshold or gap cut), so
// what is measured is what is deployed; with a reranker, all `depth` candidates are reranked.
// Thread-safety: evaluate() calls each configuration's function from the calling thread only.
// Errors: those of the ranking functions, prefixed with the configuration and query.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <functional>
#include "skillmatch/eval/dataset.h"
#include "skillmatch/eval/metrics.h"

#include "skillmatch/model/bi_encoder.h"  // ProgressFn

namespace skillmatch {

struct RankedSkill {
  std::int64_t skill_id = 0;
  double score = 0;  // what the list is ordered by: rerank logit, fused, cosine or BM25 score
};

// Ranks one query text: at most `depth` skills, best first.
using RankFn = std::function<std::vector<RankedSkill>(const std::string& text, std::size_t depth)>;

struct EvalConfig {
  std::string name;         // column title and run tag
  RankFn rank;              // called from the evaluating thread only
  std::string description;  // what it is, for the reports
};

struct QueryRun {
  std::vector<RankedSkill> ranking;  // best first
  double latency_ms = 0;             // wall time of the ranking function for this query
};

struct LatencySummary {
  double mean_ms = 0, p50_ms = 0, p95_ms = 0, max_ms = 0;
};

struct ConfigResult {
  std::string name, description;
  MetricValues metrics;        // means over the dataset's queries
  std::vector<QueryRun> runs;  // one per dataset query, in dataset order
  LatencySummary latency;
  double seconds = 0;  // whole run
};

// Ranks every query of `data` with every configuration. `depth` is the ranking length (0: the
// deepest cut-off of `cutoffs`). `progress(done, total)` counts queries over all configurations.
std::vector<ConfigResult> evaluate(const EvalDataset& data, const std::vector<EvalConfig>& configs,
                                   const MetricCutoffs& cutoffs, std::size_t depth = 0,
                                   const ProgressFn& progress = nullptr);

// Nearest-rank percentile (p in [0, 100]) of unsorted values; 0 for none.
double percentile(std::vector<double> values, double p);

// ---------------------------------------------------------------- reports
// Plain-text comparison table: one row per metric, one column per configuration, then the
// latency rows; the best value of each row is marked with '*'. hit_rate@k rows are left out
// of the table, Markdown and chart: they repeat accuracy@k (JSON has them).
std::string format_table(const EvalDataset& data, const std::vector<ConfigResult>& results);
// The same table in GitHub Markdown, best values in bold, with a line on the dataset.
std::string format_markdown(const EvalDataset& data, const std::vector<ConfigResult>& results);
// Everything as JSON: dataset summary (with every unresolved positive), cut-offs, and per
// configuration its metrics and latency.
std::string format_json(const EvalDataset& data, const std::vector<ConfigResult>& results,
                        std::size_t depth);
// TREC run file ("qid Q0 docid rank score tag"), docid = skill URI; the rank column is the
// order evaluated (ties in score keep the retriever's order).
std::string format_trec_run(const EvalDataset& data, const ConfigResult& result,
                            const SkillResolver& resolver);
// TREC qrels ("qid 0 docid 1") of the resolved relevant skills.
std::string format_trec_qrels(const EvalDataset& data, const SkillResolver& resolver);
// SVG bar chart: one group per metric (all but latency), one bar per configuration.
std::string format_svg(const EvalDataset& data, const std::vector<ConfigResult>& results);

}  // namespace skillmatch
