// eval: the metrics of the model cards for one or several retrieval configurations on a dataset.
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli_options.h"
#include "commands.h"
#include "common.h"
#include "jsonl.h"
#include "skillmatch/core/io.h"
#include "skillmatch/engine.h"

namespace fs = std::filesystem;

namespace skillmatch::cli {
namespace {

// The options a configuration may set (the corpus filter is one for all of them).
const std::set<std::string>& config_keys() {
  static const std::set<std::string> keys = match_option_table().names_in(kScopeConfig);
  return keys;
}

// One configuration as given on the command line: "name=x,mode=hybrid,reranker=DIR,...",
// read by the match options' table over the defaults; "reranker=none" and "ann=hnsw|exact"
// are accepted as they were before the table.
// The mode is the one given (here or by --mode), else hybrid with an embedder and bm25 without.
EvalRequest::Config parse_config(const std::string& text, const MatchOptions& defaults,
                                 bool mode_given) {
  EvalRequest::Config c;
  c.options = defaults;
  const std::string what = "--config '" + text + "'";
  for (auto [key, value] : split_key_values(text, what)) {
    key = OptionTable<MatchOptions>::canonical(key);
    mode_given = mode_given || key == "mode";
    if (key == "name") {
      c.name = value;
      continue;
    }
    if (key == "reranker" && value == "none") value = "";
    if (key == "ann" && (value == "hnsw" || value == "exact")) {
      value = value == "hnsw" ? "true" : "false";
    }
    try {
      SM_CHECK(
          config_keys().count(key),
          ErrorKind::kInvalidArgument, "unknown key '" + key + "' (name, " + [] {
            std::string s;
            for (const auto& k : config_keys()) s += (s.empty() ? "" : ", ") + k;
            return s;
          }() + ")");
      match_option_table().set(c.options, key, value);
    } catch (const Error& e) {
      rethrow_with_context(e, what);
    }
  }
  if (!mode_given) {
    c.options.search.mode =
        c.options.embedder.empty() ? RetrievalMode::kBm25 : RetrievalMode::kHybrid;
  }
  return c;
}

std::string file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
            c == '_')
               ? c
               : '_';
  }
  return out;
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomic(path, [&](std::FILE* f) { write_all(f, text); });
}

void report_unresolved(const EvalDataset& data) {
  if (data.unresolved.empty()) return;
  std::size_t mentions = 0;
  for (const auto& u : data.unresolved) mentions += u.count;
  std::string s = std::to_string(mentions) +
                  " positive(s) did not resolve to a skill of the workspace (" +
                  std::to_string(data.unresolved.size()) + " distinct):";
  for (std::size_t i = 0; i < data.unresolved.size() && i < 10; ++i) {
    s += "\n  '" + data.unresolved[i].value + "' x" + std::to_string(data.unresolved[i].count) +
         " (first at " + data.unresolved[i].where + ")";
  }
  if (data.unresolved.size() > 10) s += "\n  ... (all are listed in metrics.json with --out)";
  note(s);
  if (data.skipped_queries) {
    note(std::to_string(data.skipped_queries) +
         " query(ies) skipped: none of their positives resolved");
  }
}

struct EvalCommand {
  std::string workspace;
  std::string dataset;
  std::string format = "auto";
  std::vector<std::string> specs;
  MatchOptions defaults;
  EvalRequest request;
  std::string out_dir;
  bool json = false;

  void run() {
    request.cutoffs.validate();
    if (!out_dir.empty()) check_out_dir();
    request.dataset.format = parse_dataset_format(format);
    if (specs.empty()) specs.push_back("");
    for (const auto& s : specs) request.configs.push_back(parse_config(s, defaults, mode_given));
    const auto engine = open_engine(workspace);
    ProgressBar bar;
    bar.what = "evaluating";
    const EvalReport r = engine->evaluate(dataset, request, std::ref(bar));
    report_unresolved(r.data);
    std::cout << (json ? format_json(r.data, r.results, r.depth) : format_table(r.data, r.results));
    if (out_dir.empty()) return;
    const fs::path dir(out_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    SM_CHECK(!ec, ErrorKind::kIo,
             "cannot create the output folder " + out_dir + ": " + ec.message());
    write_text(dir / "metrics.json", format_json(r.data, r.results, r.depth));
    write_text(dir / "metrics.md", format_markdown(r.data, r.results));
    write_text(dir / "metrics.svg", format_svg(r.data, r.results));
    write_text(dir / "qrels.txt", format_trec_qrels(r.data, *r.resolver));
    for (const auto& res : r.results) {
      write_text(dir / (file_name(res.name) + ".run"), format_trec_run(r.data, res, *r.resolver));
    }
    note("wrote metrics.json, metrics.md, metrics.svg, qrels.txt and " +
         std::to_string(r.results.size()) + " TREC run file(s) to " + out_dir);
  }

  // Before the (possibly long) evaluation, without creating anything yet: the output folder
  // must be a folder or be creatable below an existing folder.
  void check_out_dir() const {
    fs::path p = fs::absolute(out_dir);
    while (!p.empty() && !fs::exists(p) && p != p.parent_path()) p = p.parent_path();
    SM_CHECK(fs::is_directory(p), ErrorKind::kIo,
             "cannot use " + out_dir + " as the output folder: " + p.string() + " is not a folder");
  }

  bool mode_given = false;
};

}  // namespace

void add_eval_command(CLI::App& app) {
  auto cmd = std::make_shared<EvalCommand>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Evaluate retrieval configurations on a dataset (metrics of the model cards)");
  add_workspace_option(*sub, cmd->workspace);
  sub->add_option("dataset", cmd->dataset,
                  "triples .jsonl, labels .csv (text,label) or a BEIR folder")
      ->required();
  DatasetOptions& d = cmd->request.dataset;
  sub->add_option("--format", cmd->format, "auto, triples, beir or labels")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "triples", "beir", "labels"}));
  sub->add_option("--split", d.beir_split, "BEIR qrels split")->capture_default_str();
  sub->add_option("--text-column", d.text_column)->capture_default_str();
  sub->add_option("--label-column", d.label_column)->capture_default_str();
  sub->add_option("--positive-template", d.positive_template,
                  "how positives given as skill text render a skill (after URI and label)")
      ->capture_default_str();
  sub->add_option("-c,--config", cmd->specs,
                  "a configuration: name=NAME plus match options as key=value, e.g. "
                  "name=hyb,mode=hybrid,reranker=DIR,dense-weight=0.3 (repeatable; unset keys "
                  "take the options below; reranker=none, ann=hnsw|exact)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  FlagSpec config_flags{config_keys(), {}, {{"embedder", "-e"}, {"reranker", "-r"}}, {}};
  add_table_options(*sub, match_option_table(), cmd->defaults, config_flags);
  // The corpus: the skills positives resolve to and rankings return.
  add_table_options(*sub, match_option_table(), cmd->defaults,
                    {{"taxonomy", "collection", "skill-type", "group"}, {}, {}, {}});
  sub->parse_complete_callback([cmd] { cmd->request.corpus = cmd->defaults.search.filter; });
  MetricCutoffs& k = cmd->request.cutoffs;
  auto ks = [&](const char* name, std::vector<std::size_t>& v) {
    sub->add_option_function<std::vector<std::string>>(
           name,
           [&v, name](const std::vector<std::string>& values) {
             v.clear();
             for (const auto& x : values) {
               v.push_back(parse_count(std::string(name), x, 1, 10000));
             }
           },
           "cut-offs, comma-separated (1 to 10000)")
        ->delimiter(',')
        ->type_name("K,...");
  };
  ks("--accuracy-at", k.accuracy);
  ks("--precision-recall-at", k.precision_recall);
  ks("--mrr-at", k.mrr);
  ks("--ndcg-at", k.ndcg);
  ks("--map-at", k.map);
  sub->add_option_function<std::string>(
      "--depth",
      [cmd](const std::string& v) { cmd->request.depth = parse_count("--depth", v, 1, 10000); },
      "ranking length = candidates retrieved and reranked (default: largest k; 1 to 10000)");
  sub->add_option_function<std::string>(
      "--limit",
      [cmd](const std::string& v) {
        cmd->request.limit = parse_count("--limit", v, 1, std::size_t{1} << 40);
      },
      "evaluate only the first N queries");
  sub->add_option("-o,--out", cmd->out_dir,
                  "folder for metrics.json/.md/.svg, qrels.txt and one TREC run file per "
                  "configuration");
  sub->add_flag("--json", cmd->json, "print JSON instead of the table");
  sub->callback([cmd, sub] {
    cmd->mode_given = sub->count("--mode") > 0;
    cmd->run();
  });
}

}  // namespace skillmatch::cli
