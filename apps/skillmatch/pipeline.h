// What the workspace commands (index, match, eval) share: where the workspace is, opening it
// (with the shipped taxonomies on first use), a terminal progress bar, and loading the models
// of a retrieval pipeline by name.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/vector_store.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/search/matcher.h"

namespace skillmatch::cli {

// $SKILLMATCH_WORKSPACE, else $XDG_DATA_HOME/skillmatch, else ~/.local/share/skillmatch.
std::string default_workspace();

// Imports a taxonomy and, when it has one, its hierarchy.
ImportStats import_with_hierarchy(Workspace& ws, const TaxonomyData& d);

// Imports ESCO German with its collections and hierarchy, and GRETA, from the shipped data.
void import_shipped(Workspace& ws);

// Opens the workspace, creating it from the shipped data on first use, finishing a default
// import that was interrupted, and updating one made from an older revision of the data.
Workspace open_workspace(const std::string& dir);

// -w/--workspace
void add_workspace_option(CLI::App& sub, std::string& ws);

// A repeatable option taking one value per occurrence (--collection green --collection ict), so
// that it does not swallow the positional text after it.
CLI::Option* add_repeatable(CLI::App& sub, const std::string& name, std::vector<std::string>& v,
                            const std::string& help);

// --taxonomy, --collection, --skill-type, --group: the skill filter of match and eval.
void add_filter_options(CLI::App& sub, SkillFilter& filter);

// "dense", "bm25", "hybrid" and "rrf", "weighted" (the values the options accept).
RetrievalMode parse_mode(const std::string& name);
Fusion parse_fusion(const std::string& name);

// "L,A,D": BM25 weights of label, alternative labels, description.
Bm25Weights parse_bm25_weights(const std::string& text);

// "skillmatch: <s>" on stderr.
void note(const std::string& s);

InferenceOptions inference(const std::string& dtype, std::size_t batch);

// A progress bar with rate and ETA on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
  std::string what;
  void operator()(std::size_t done, std::size_t total);

 private:
  bool tty_ = is_terminal();
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
  static bool is_terminal();
};

// The models of one retrieval pipeline. Empty names load nothing.
struct Pipeline {
  std::unique_ptr<BiEncoder> encoder;
  std::unique_ptr<VectorStore> vectors;  // the encoder's skill vectors in the workspace
  std::unique_ptr<AnnIndex> ann;         // their approximate index, when asked for
  std::unique_ptr<CrossEncoder> reranker;
};

// The approximate index of the vectors `id` names; kInvalidArgument telling to run `index --ann`
// when there is none.
std::unique_ptr<AnnIndex> load_ann(const Workspace& ws, const VectorIdentity& id,
                                   const std::string& embedder);

// Loads the embedder (and its vectors, made by `skillmatch index` with `passage_template`, and
// with `ann` their approximate index) and the reranker. Throws kInvalidArgument naming the
// model when the workspace has no vectors of it, and which model made the vectors it has, or
// when the approximate index is missing.
Pipeline load_pipeline(const Workspace& ws, const std::string& embedder,
                       const std::string& reranker, const std::string& passage_template,
                       const std::string& dtype, bool ann = false);

}  // namespace skillmatch::cli
