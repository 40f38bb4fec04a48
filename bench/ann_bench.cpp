// Exact scan against the approximate (FAISS HNSW) index for dense retrieval, at ESCO size and
// beyond: build time, query latency p50/p95 and recall@k of HNSW against the exact top k.
//
// The vectors are synthetic (real skill vectors of larger taxonomies are not at hand): unit
// vectors of dimension 768 drawn around 1 centre per 20 vectors, so that neighbours are
// clustered as sentence embeddings are; queries come from the same distribution.
//
//   skillmatch_bench_ann [--sizes 13914,100000] [--queries 200] [--k 30] [--threads 2]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_set>

#include "skillmatch/eval/evaluator.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/dense_index.h"
#include "skillmatch/model/runtime.h"

using namespace skillmatch;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void normalise(float* v, std::size_t d) {
  double n = 0;
  for (std::size_t i = 0; i < d; ++i) n += double(v[i]) * v[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(n));
  for (std::size_t i = 0; i < d; ++i) v[i] *= inv;
}

// `rows` unit vectors around rows/20 random centres; spread 0.8 of the centre's norm.
Matrix clustered(std::size_t rows, std::size_t d, std::mt19937& rng, const Matrix& centres) {
  std::normal_distribution<float> noise(0.0f, 0.8f / std::sqrt(float(d)));
  std::uniform_int_distribution<std::size_t> pick(0, centres.rows - 1);
  Matrix m(rows, d);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* c = centres.row(pick(rng));
    float* v = m.row(r);
    for (std::size_t i = 0; i < d; ++i) v[i] = c[i] + noise(rng);
    normalise(v, d);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"exact scan vs FAISS HNSW for dense skill retrieval"};
  std::vector<std::size_t> sizes{13914, 100000};
  std::size_t queries = 200, k = 30, dim = 768;
  int threads = 2;
  AnnOptions ann;
  std::vector<int> efs{64, 128, 256};
  app.add_option("--sizes", sizes)->delimiter(',')->capture_default_str();
  app.add_option("--queries", queries)->capture_default_str();
  app.add_option("--k", k)->capture_default_str();
  app.add_option("--dim", dim)->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--ef-search", efs)->delimiter(',')->capture_default_str();
  app.add_option("--m", ann.m)->capture_default_str();
  app.add_option("--ef-construction", ann.ef_construction)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  std::printf("| skills | search | build | p50 | p95 | recall@%zu |\n", k);
  std::printf("|---:|---|---:|---:|---:|---:|\n");
  for (const std::size_t n : sizes) {
    std::mt19937 rng(42);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    Matrix centres(std::max<std::size_t>(1, n / 20), dim);
    for (float& x : centres.data) x = gauss(rng);
    for (std::size_t r = 0; r < centres.rows; ++r) normalise(centres.row(r), dim);
    const Matrix vectors = clustered(n, dim, rng, centres);
    const Matrix qs = clustered(queries, dim, rng, centres);

    std::vector<std::vector<std::pair<float, std::size_t>>> truth(queries);
    std::vector<double> exact_ms;
    for (std::size_t q = 0; q < queries; ++q) {
      const auto t = Clock::now();
      truth[q] = exact_top_k(vectors, qs.row(q), k);
      exact_ms.push_back(ms_since(t));
    }
    std::printf("| %zu | exact scan | - | %.2f ms | %.2f ms | 1.000 |\n", n,
                percentile(exact_ms, 50), percentile(exact_ms, 95));
    std::fflush(stdout);

    const auto tb = Clock::now();
    const AnnIndex index = AnnIndex::build(vectors, 0, ann);
    const double build_s = ms_since(tb) / 1000;
    for (const int ef : efs) {
      std::vector<double> ms;
      double found = 0;
      for (std::size_t q = 0; q < queries; ++q) {
        const auto t = Clock::now();
        const auto got = index.search(qs.row(q), k, nullptr, ef);
        ms.push_back(ms_since(t));
        std::unordered_set<std::size_t> want;
        for (const auto& p : truth[q]) want.insert(p.second);
        for (const auto& p : got) found += want.count(p.second);
      }
      std::printf("| %zu | HNSW M=%d efSearch=%d | %.1f s | %.2f ms | %.2f ms | %.3f |\n", n, ann.m,
                  ef, build_s, percentile(ms, 50), percentile(ms, 95), found / double(queries * k));
      std::fflush(stdout);
    }
  }
  return 0;
}
