// The option tables of the Engine's requests: the one place where option names, defaults,
// ranges and help texts are defined.
#include <cstdio>

#include "skillmatch/engine.h"

namespace skillmatch {
namespace {

const std::vector<std::string> kDTypes = {"auto", "float32", "bfloat16", "int8"};

// "L,A,D": BM25 weights of label, alternative labels and description.
Bm25Weights parse_bm25_weights(const std::string& name, const std::string& text) {
  double v[3];
  char end = 0;
  const std::string form =
      "expected three numbers LABEL,ALT_LABELS,DESCRIPTION from 0 to 100, "
      "not all 0 (e.g. 3,2,1), got '" +
      text + "'";
  SM_CHECK(std::sscanf(text.c_str(), "%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &end) == 3,
           ErrorKind::kInvalidArgument, name + ": " + form);
  for (double x : v) {
    SM_CHECK(x >= 0 && x <= 100, ErrorKind::kInvalidArgument, name + ": " + form);
  }
  SM_CHECK(v[0] + v[1] + v[2] > 0, ErrorKind::kInvalidArgument, name + ": " + form);
  return {v[0], v[1], v[2]};
}

template <class T, class Get>
void add_settings(OptionTable<T>& t, Get get) {
  t.add(choice_option<T>(
      "dtype",
      "number type: auto (bfloat16 where the CPU has AMX or AVX512-BF16, else float32), "
      "float32, bfloat16 (default auto)",
      kDTypes, [get](T& o, const std::string& v) { get(o).dtype = parse_dtype(v); }));
  t.add(count_option<T>(
      "batch-size", "sequences per forward pass (default 32)",
      [get](T& o) -> std::size_t& { return get(o).batch_size; }, 1, 4096));
}

template <class T, class Get>
void add_filter(OptionTable<T>& t, Get get) {
  t.add(list_option<T>("taxonomy", "NAME", "only skills of this taxonomy (repeatable)",
                       [get](T& o) -> std::vector<std::string>& { return get(o).taxonomies; }));
  t.add(list_option<T>(
      "collection", "NAME",
      "only skills of this ESCO collection: green, digcomp, ict, language, research, "
      "transversal (repeatable)",
      [get](T& o) -> std::vector<std::string>& { return get(o).collections; }));
  t.add(list_option<T>("skill-type", "TYPE",
                       "only skills of this type: skill/competence, knowledge (repeatable)",
                       [get](T& o) -> std::vector<std::string>& { return get(o).skill_types; }));
  t.add(list_option<T>(
      "group", "GROUP",
      "only skills below this group of the hierarchy: a code such as S1.2, a URI or a label "
      "(repeatable; `skillmatch groups` lists them)",
      [get](T& o) -> std::vector<std::string>& { return get(o).groups; }));
}

template <class T, class Get>
void add_pair_options(OptionTable<T>& t, Get get, const std::string& max_length_help) {
  t.add(count_option<T>(
      "max-length", max_length_help, [get](T& o) -> std::size_t& { return get(o).max_length; }, 4,
      8192));
  t.add(count_option<T>(
      "query-max-length",
      "flagembedding truncation: at most this many query ids (default max-length * 3 / 4)",
      [get](T& o) -> std::size_t& { return get(o).query_max_length; }, 1, 8192));
  t.add(choice_option<T>(
      "pair-truncation",
      "how a pair is cut to max-length: flagembedding (FlagReranker.compute_score today: the "
      "query to query-max-length, then the passage) or longest-first (sentence-transformers' "
      "CrossEncoder, FlagEmbedding before 1.3) (default flagembedding)",
      {"flagembedding", "longest-first"},
      [get](T& o, const std::string& v) { get(o).truncation = parse_pair_truncation(v); }));
}

// --embedder and --template: the model whose vectors are used and the passage they embed.
template <class T>
void add_embedder(OptionTable<T>& t, const std::string& help) {
  t.add(text_option<T>("embedder", "MODEL", help, [](T& o) -> std::string& { return o.embedder; }));
  t.add(text_option<T>("template", "TEXT",
                       "the passage each skill vector embeds: {label} {description} "
                       "{alt_labels} {uri} {taxonomy} (default \"passage: {label}: "
                       "{description}\")",
                       [](T& o) -> std::string& { return o.passage_template; }));
}

OptionTable<MatchOptions> make_match_table() {
  using O = MatchOptions;
  OptionTable<O> t;
  add_embedder(t, "bi-encoder folder or Hugging Face id (dense and hybrid retrieval)");
  t.add(text_option<O>("reranker", "MODEL", "cross-encoder folder or Hugging Face id",
                       [](O& o) -> std::string& { return o.reranker; }));
  add_settings(t, [](O& o) -> ModelSettings& { return o.settings; });
  t.add(flag_option<O>(
      "auto-index", "embed the skills the embedder has no vectors for before matching (default on)",
      [](O& o) -> bool& { return o.auto_index; }, true));
  t.add(choice_option<O>("mode", "retrieval: dense, bm25 or hybrid (default hybrid)",
                         {"dense", "bm25", "hybrid"}, [](O& o, const std::string& v) {
                           o.search.mode = v == "dense"  ? RetrievalMode::kDense
                                           : v == "bm25" ? RetrievalMode::kBm25
                                                         : RetrievalMode::kHybrid;
                         }));
  t.add(choice_option<O>(
      "fusion",
      "hybrid fusion: rrf (reciprocal rank) or weighted (min-max normalised scores) "
      "(default rrf)",
      {"rrf", "weighted"}, [](O& o, const std::string& v) {
        o.search.fusion = v == "weighted" ? Fusion::kWeighted : Fusion::kRrf;
      }));
  t.add(number_option<O>(
      "rrf-k", "RRF constant k in 1 / (k + rank) (0 to 100000, default 60)",
      [](O& o) -> double& { return o.search.rrf_k; }, 0, 100000));
  t.add(number_option<O>(
      "dense-weight", "weighted fusion: the dense share (0 to 1, default 0.5)",
      [](O& o) -> double& { return o.search.dense_weight; }, 0, 1));
  {
    Option<O> w;
    w.name = "bm25-weights";
    w.value_name = "L,A,D";
    w.help =
        "BM25 weights of label, alternative labels and description, each 0 to 100; 0 leaves a "
        "field out (default 3,2,1)";
    w.set_text = [](O& o, const std::string& v) {
      o.search.bm25_weights = parse_bm25_weights("bm25-weights", v);
    };
    w.set_json = [](O& o, const nlohmann::json& v) {
      o.search.bm25_weights = parse_bm25_weights("bm25-weights", json_text("bm25-weights", v));
    };
    t.add(w);
  }
  t.add(count_option<O>(
      "candidates", "skills kept after retrieval and reranked (default 30)",
      [](O& o) -> std::size_t& { return o.search.candidates; }, 1, 1000));
  t.add(count_option<O>(
      "fusion-depth",
      "hybrid with rrf: how deep each retriever's ranking is fused (at least --candidates; "
      "default 100)",
      [](O& o) -> std::size_t& { return o.search.fusion_depth; }, 1, 10000));
  t.add(count_option<O>(
      "top", "at most this many results (default 10)",
      [](O& o) -> std::size_t& { return o.search.top; }, 1, 1000));
  {
    Option<O> th = number_option<O>(
        "threshold",
        "minimum final score: the reranker's sigmoid (0 to 1) when reranked, else the "
        "retrieval score",
        [](O& o) -> std::optional<double>& { return o.search.threshold; }, -1e9, 1e9);
    t.add(th);
  }
  t.add(flag_option<O>(
      "gap", "cut the list at the largest gap between consecutive scores",
      [](O& o) -> bool& { return o.search.cut_at_largest_gap; }, false));
  t.add(flag_option<O>(
      "rerank", "rerank the candidates when a reranker is given (default on)",
      [](O& o) -> bool& { return o.search.rerank; }, true));
  t.add(text_option<O>("rerank-template", "TEXT",
                       "what the reranker sees of a skill (default \"{label}\")",
                       [](O& o) -> std::string& { return o.search.rerank_template; }));
  add_pair_options(
      t, [](O& o) -> PairOptions& { return o.search.pair; },
      "reranker: ids per (course, skill) pair (default: the model's, 512)");
  t.add(flag_option<O>(
      "ann",
      "dense retrieval through the approximate HNSW index (`index --ann`) instead of the "
      "exact scan",
      [](O& o) -> bool& { return o.search.ann; }, false));
  t.add(count_option<O>(
      "ef-search", "HNSW search breadth with --ann (default 128)",
      [](O& o) -> int& { return o.search.ef_search; }, 1, 100000));
  add_filter(t, [](O& o) -> SkillFilter& { return o.search.filter; });
  t.add(flag_option<O>(
      "explain",
      "give each result the sentence or words of the text that support it best (by the "
      "embedder, else by the label's words)",
      [](O& o) -> bool& { return o.search.explain; }, false));
  t.set_scope({"embedder", "reranker", "template", "dtype", "batch-size"}, kScopeConfig);
  t.set_scope({"auto-index"}, 0);
  t.set_scope({"candidates", "fusion-depth", "top", "threshold", "gap", "taxonomy", "collection",
               "skill-type", "group", "explain"},
              kScopeRequest);
  return t;
}

OptionTable<EmbedOptions> make_embed_table() {
  using O = EmbedOptions;
  OptionTable<O> t;
  t.add(text_option<O>("model", "MODEL",
                       "bi-encoder folder (Hugging Face layout) or Hub id in the Hugging Face "
                       "cache",
                       [](O& o) -> std::string& { return o.model; }));
  t.add(text_option<O>("prompt", "NAME",
                       "named prompt of the model (query, passage) or none (default: the "
                       "model's default_prompt_name, else none)",
                       [](O& o) -> std::string& { return o.prompt_name; }));
  {
    Option<O> p;
    p.name = "prompt-text";
    p.value_name = "TEXT";
    p.help = "literal prompt text put before each text (wins over --prompt)";
    p.set_text = [](O& o, const std::string& v) { o.prompt_text = v; };
    p.set_json = [](O& o, const nlohmann::json& v) { o.prompt_text = json_text("prompt-text", v); };
    t.add(p);
  }
  t.add(flag_option<O>(
      "normalize", "L2-normalise as the model's Normalize module does (default on)",
      [](O& o) -> bool& { return o.normalize; }, true));
  t.add(flag_option<O>(
      "truncate",
      "cut texts to the model's max_seq_length; off: a longer text is an error "
      "(default on)",
      [](O& o) -> bool& { return o.truncate; }, true));
  add_settings(t, [](O& o) -> ModelSettings& { return o.settings; });
  return t;
}

OptionTable<RerankOptions> make_rerank_table() {
  using O = RerankOptions;
  OptionTable<O> t;
  t.add(text_option<O>("model", "MODEL",
                       "cross-encoder folder (Hugging Face layout) or Hub id in the Hugging "
                       "Face cache",
                       [](O& o) -> std::string& { return o.model; }));
  add_pair_options(
      t, [](O& o) -> PairOptions& { return o.pair; },
      "ids per pair, specials included (default: the model's limit, 512)");
  add_settings(t, [](O& o) -> ModelSettings& { return o.settings; });
  return t;
}

OptionTable<TokenizeOptions> make_tokenize_table() {
  using O = TokenizeOptions;
  OptionTable<O> t;
  t.add(text_option<O>("model", "MODEL",
                       "model folder, Hub id in the cache, sentencepiece.bpe.model or "
                       "tokenizer.json",
                       [](O& o) -> std::string& { return o.model; }));
  t.add(count_option<O>(
      "max-length", "ids per text or pair, specials included (default 512)",
      [](O& o) -> std::size_t& { return o.max_length; }, 4, std::size_t{1} << 30));
  return t;
}

OptionTable<IndexOptions> make_index_table() {
  using O = IndexOptions;
  OptionTable<O> t;
  add_embedder(t, "bi-encoder folder or Hugging Face id");
  add_settings(t, [](O& o) -> ModelSettings& { return o.settings; });
  t.add(flag_option<O>(
      "ann", "also build the approximate (FAISS HNSW) index that --ann uses",
      [](O& o) -> bool& { return o.ann; }, false));
  t.add(count_option<O>(
      "ann-m", "HNSW graph degree M (default 16)", [](O& o) -> int& { return o.ann_options.m; }, 4,
      256));
  t.add(count_option<O>(
      "ann-ef-construction", "HNSW candidate list while building (default 100)",
      [](O& o) -> int& { return o.ann_options.ef_construction; }, 4, 10000));
  t.add(text_option<O>(
      "export-vectors", "FILE",
      "also write the vectors of the indexed skills to FILE, keyed by passage (put it in the "
      "model folder as skill-vectors.bin and every workspace with these skills takes them "
      "instead of embedding)",
      [](O& o) -> std::string& { return o.export_vectors; }));
  add_filter(t, [](O& o) -> SkillFilter& { return o.filter; });
  return t;
}

}  // namespace

const OptionTable<MatchOptions>& match_option_table() {
  static const OptionTable<MatchOptions> t = make_match_table();
  return t;
}
const OptionTable<EmbedOptions>& embed_option_table() {
  static const OptionTable<EmbedOptions> t = make_embed_table();
  return t;
}
const OptionTable<RerankOptions>& rerank_option_table() {
  static const OptionTable<RerankOptions> t = make_rerank_table();
  return t;
}
const OptionTable<TokenizeOptions>& tokenize_option_table() {
  static const OptionTable<TokenizeOptions> t = make_tokenize_table();
  return t;
}
const OptionTable<IndexOptions>& index_option_table() {
  static const OptionTable<IndexOptions> t = make_index_table();
  return t;
}

}  // namespace skillmatch
