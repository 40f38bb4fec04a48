// What the option table targets share: the tables by name, and the ranges the options promise,
// checked on every request that an input set without error.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/engine.h"

namespace skillmatch::fuzz {

inline void check_options(const MatchOptions& o) {
  const SearchOptions& s = o.search;
  FUZZ_CHECK(s.rrf_k >= 0 && s.rrf_k <= 100000);
  FUZZ_CHECK(s.dense_weight >= 0 && s.dense_weight <= 1);
  FUZZ_CHECK(s.candidates >= 1 && s.candidates <= 1000 && s.top >= 1 && s.top <= 1000);
  FUZZ_CHECK(!s.threshold || std::isfinite(*s.threshold));
  FUZZ_CHECK(s.ef_search >= 1 && s.ef_search <= 100000);
  FUZZ_CHECK(o.settings.batch_size >= 1 && o.settings.batch_size <= 4096);
  const Bm25Weights& w = s.bm25_weights;
  FUZZ_CHECK(w.label >= 0 && w.alt_labels >= 0 && w.description >= 0 &&
             w.label + w.alt_labels + w.description > 0);
  for (const Skill& skill : sample_skills()) {
    format_skill(o.passage_template, skill);
    format_skill(s.rerank_template, skill);
  }
}
inline void check_options(const EmbedOptions& o) {
  FUZZ_CHECK(o.settings.batch_size >= 1 && o.settings.batch_size <= 4096);
}
inline void check_options(const RerankOptions& o) {
  FUZZ_CHECK(o.pair.max_length == 0 || (o.pair.max_length >= 4 && o.pair.max_length <= 8192));
}
inline void check_options(const TokenizeOptions& o) {
  FUZZ_CHECK(o.max_length >= 4);
}
inline void check_options(const IndexOptions& o) {
  FUZZ_CHECK(o.ann_options.m >= 4 && o.ann_options.m <= 256);
  for (const Skill& skill : sample_skills()) format_skill(o.passage_template, skill);
}

// Splits "<table>\n<rest>" and calls run(table, rest) with the table named by the first line
// (match, embed, rerank, tokenize or index; anything else: match).
template <class Run>
void with_table(std::string_view input, Run&& run) {
  const std::size_t nl = input.find('\n');
  const std::string_view name = input.substr(0, nl);
  const std::string_view rest = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  if (name == "embed") return run(embed_option_table(), EmbedOptions{}, rest);
  if (name == "rerank") return run(rerank_option_table(), RerankOptions{}, rest);
  if (name == "tokenize") return run(tokenize_option_table(), TokenizeOptions{}, rest);
  if (name == "index") return run(index_option_table(), IndexOptions{}, rest);
  return run(match_option_table(), MatchOptions{}, rest);
}

}  // namespace skillmatch::fuzz
