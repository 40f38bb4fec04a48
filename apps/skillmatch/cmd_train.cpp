// train embedder, train reranker, mine-negatives: fine-tuning both models and mining hard
// negatives for them (docs/training.md).
#include <cstdio>
#include <memory>

#include "cli_options.h"
#include "commands.h"
#include "common.h"
#include "skillmatch/engine.h"

namespace skillmatch::cli {
namespace {

void print_progress(const TrainProgress& p) {
  std::fprintf(stderr, "step %zu/%zu  epoch %.2f  loss %.4f  lr %.3g  %.0f tokens/s  %.0f s\n",
               p.step, p.total_steps, p.epoch, p.loss, p.lr, p.tokens_per_second, p.seconds);
}

void print_report(const TrainReport& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "wrote %s: %zu steps over %zu examples%s, loss %.4f, %.0f tokens/s, %.1f s, peak "
                "memory %.2f GiB",
                r.out.string().c_str(), r.steps, r.examples,
                r.resumed_from_step
                    ? (" (resumed at step " + std::to_string(r.resumed_from_step) + ")").c_str()
                    : "",
                r.final_loss, r.tokens_per_second, r.seconds,
                double(r.peak_rss_bytes) / double(1u << 30));
  std::string s = buf;
  if (r.best_step) {
    std::snprintf(buf, sizeof buf, "; the best evaluation, %.4f, was at step %zu", *r.best_metric,
                  *r.best_step);
    s += buf;
  }
  note(s);
}

template <class Options>
CLI::App* add_train_subcommand(CLI::App& train, const char* name, const char* help,
                               const OptionTable<Options>& table, const std::shared_ptr<Options>& o,
                               const std::shared_ptr<std::string>& workspace) {
  CLI::App* sub = train.add_subcommand(name, help);
  add_workspace_option(*sub, *workspace);
  add_table_options(*sub, table, *o, {{}, {}, {}, {"base", "train", "out"}});
  return sub;
}

}  // namespace

void add_train_commands(CLI::App& app) {
  CLI::App* train = app.add_subcommand(
      "train", "Fine-tune the bi-encoder or the cross-encoder (writes a Hugging Face folder)");
  train->require_subcommand(1);
  auto ws = std::make_shared<std::string>();

  auto emb = std::make_shared<TrainEmbedderOptions>();
  add_train_subcommand(*train, "embedder",
                       "Train a bi-encoder with MultipleNegativesRankingLoss (or its cached "
                       "variant) on (anchor, positive, negatives) data",
                       train_embedder_option_table(), emb, ws)
      ->callback([emb, ws] {
        const auto engine = open_engine(*ws);
        print_report(engine->train_embedder(*emb, print_progress));
      });

  auto rr = std::make_shared<TrainRerankerOptions>();
  add_train_subcommand(*train, "reranker",
                       "Train a cross-encoder with FlagEmbedding's group cross-entropy or "
                       "binary cross-entropy on labelled pairs",
                       train_reranker_option_table(), rr, ws)
      ->callback([rr, ws] {
        const auto engine = open_engine(*ws);
        print_report(engine->train_reranker(*rr, print_progress));
      });

  auto mine = std::make_shared<MineOptions>();
  CLI::App* sub = app.add_subcommand(
      "mine-negatives",
      "Add hard negatives to (query, positive) rows: rank the skills (or a corpus) by the "
      "embedder, or BM25, and keep candidates from a rank window");
  add_workspace_option(*sub, *ws);
  add_table_options(
      *sub, mine_option_table(), *mine,
      {{}, {}, {{"embedder", "-e"}, {"input", "-i"}, {"out", "-o"}}, {"input", "out"}});
  sub->callback([mine, ws] {
    const auto engine = open_engine(*ws);
    ProgressBar bar;
    bar.what = "mining";
    const MineReport r = engine->mine_negatives(*mine, std::ref(bar));
    const MiningStats& s = r.stats;
    note("wrote " + mine->output.string() + ": " + std::to_string(s.negatives) + " negatives for " +
         std::to_string(r.rows) + " rows, ranked by " + r.ranking + " over " + r.corpus + "; of " +
         std::to_string(s.candidates) + " candidates in ranks " +
         std::to_string(mine->mining.range_min) + "-" + std::to_string(mine->mining.range_max) +
         ", skipped " + std::to_string(s.positives_skipped) + " positives, " +
         std::to_string(s.margin_skipped) + " by margin, " + std::to_string(s.max_score_skipped) +
         " by max-score, " + std::to_string(s.min_score_skipped) + " by min-score; " +
         std::to_string(s.short_queries) + " rows got fewer than " +
         std::to_string(mine->mining.negatives) + " from the window" +
         (s.random_filled ? " (" + std::to_string(s.random_filled) + " random negatives added)"
                          : std::string()));
  });
}

}  // namespace skillmatch::cli
