// What the evaluation dataset targets share: the resolver over the sample skills and the checks
// of a dataset that loaded.
#pragma once

#include <algorithm>
#include <filesystem>

#include "fuzz_util.h"
#include "skillmatch/eval/dataset.h"

namespace skillmatch::fuzz {

inline const SkillResolver& sample_resolver() {
  static const SkillResolver resolver(sample_skills(), "{label}: {description}");
  return resolver;
}

// Loads `path` in `format` and checks the counts and queries the header promises.
inline void check_dataset(const std::filesystem::path& path, DatasetFormat format) {
  DatasetOptions options;
  options.format = format;
  try {
    const EvalDataset d = load_dataset(path, sample_resolver(), options);
    std::size_t unresolved = 0;
    for (const auto& u : d.unresolved) unresolved += u.count;
    FUZZ_CHECK(d.resolved_positives + unresolved == d.positives);
    for (const EvalQuery& q : d.queries) {
      FUZZ_CHECK(!q.relevant.empty() && std::is_sorted(q.relevant.begin(), q.relevant.end()));
      FUZZ_CHECK(std::adjacent_find(q.relevant.begin(), q.relevant.end()) == q.relevant.end());
      for (const auto id : q.relevant) sample_resolver().uri(id);
    }
  } catch (const Error& e) {
    expect_error(e, path.string());
  }
}

}  // namespace skillmatch::fuzz
