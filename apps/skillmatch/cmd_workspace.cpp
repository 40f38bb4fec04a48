// import, taxonomies, groups: the commands over a workspace's taxonomies.
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "commands.h"
#include "common.h"
#include "skillmatch/engine.h"

namespace skillmatch::cli {
namespace {

struct ImportCommand {
  std::string workspace;
  ImportRequest request;
  std::vector<std::string> collections;
  std::string file, hierarchy, groups;

  void run() {
    request.file = file;
    request.hierarchy = hierarchy;
    request.groups = groups;
    for (const auto& c : collections) request.collections.emplace_back(c);
    // The user's own import: the shipped taxonomies are not put beside it.
    const auto engine = open_engine(workspace, false);
    const ImportReport r = engine->import(request);
    if (request.format == "defaults") return;
    const ImportStats& s = r.stats;
    std::cout << r.taxonomy << ": " << s.added << " added, " << s.updated << " updated, "
              << s.unchanged << " unchanged, " << s.removed << " removed\n";
    if (r.groups || r.links) {
      std::cout << "hierarchy: " << r.groups << " groups, " << r.links << " broader links\n";
    }
    for (const auto& c : r.collections) {
      std::cout << "collection " << c.name << ": " << c.stored << " of " << c.listed << " skills\n";
    }
  }
};

struct GroupsCommand {
  std::string workspace;
  std::vector<std::string> taxonomies;
  std::string under;

  void run() const {
    const auto engine = open_engine(workspace);
    SkillFilter f;
    f.taxonomies = taxonomies;
    const auto all = engine->groups(f);
    if (all.empty()) {
      std::cout << "no skill groups (import a taxonomy with its hierarchy)\n";
      return;
    }
    // The groups --under names, as (taxonomy, URI).
    std::set<std::pair<std::string, std::string>> parents;
    for (const auto& g : all) {
      if (g.group.code == under || g.group.uri == under || g.group.label == under) {
        parents.insert({g.taxonomy, g.group.uri});
      }
    }
    SM_CHECK(under.empty() || !parents.empty(), ErrorKind::kInvalidArgument,
             "no skill group '" + under + "' (give a code, URI or label from `skillmatch groups`)");
    for (const auto& g : all) {
      // Top level only, unless --under: then the groups directly below it.
      const bool listed = under.empty()
                              ? g.broader.empty()
                              : std::any_of(g.broader.begin(), g.broader.end(), [&](const auto& b) {
                                  return parents.count({g.taxonomy, b}) > 0;
                                });
      if (!listed) continue;
      std::cout << g.taxonomy << "\t" << (g.group.code.empty() ? "-" : g.group.code) << "\t"
                << g.skills << " skills\t" << g.group.label << "\t" << g.group.uri << "\n";
    }
  }
};

struct TaxonomiesCommand {
  std::string workspace;

  void run() const {
    const auto engine = open_engine(workspace);
    for (const auto& t : engine->taxonomies()) {
      SkillFilter f;
      f.taxonomies = {t.name};
      std::cout << t.name << "\t" << engine->skill_count(f) << " skills\t" << t.title
                << (t.version.empty() ? "" : " " + t.version) << "\t" << t.attribution << "\n";
    }
  }
};

}  // namespace

void add_workspace_commands(CLI::App& app) {
  {
    auto cmd = std::make_shared<ImportCommand>();
    CLI::App* sub = app.add_subcommand(
        "import",
        "Import or update a taxonomy in the workspace (all files are read first; one "
        "transaction)");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("format", cmd->request.format,
                    "esco, greta, custom, or defaults (the shipped data)")
        ->required()
        ->check(CLI::IsMember({"esco", "greta", "custom", "defaults"}));
    sub->add_option("file", cmd->file,
                    "CSV file, JSON Lines for custom, or ESCO's official .zip export");
    sub->add_option("--name", cmd->request.name, "taxonomy name (default esco-<language>, greta)");
    sub->add_option("--language", cmd->request.language,
                    "the taxonomy's language: ESCO's column suffix and the BM25 analysis (de: "
                    "German, en: English)")
        ->capture_default_str();
    sub->add_option("--version", cmd->request.version, "version to record");
    sub->add_option("--collection", cmd->collections, "ESCO collection CSV file to attach")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_option("--hierarchy", cmd->hierarchy,
                    "ESCO broaderRelationsSkillPillar CSV (with --groups): the skill hierarchy");
    sub->add_option("--groups", cmd->groups, "ESCO skillGroups_<lang>.csv (with --hierarchy)");
    sub->add_flag("--replace", cmd->request.replace,
                  "allow the import to remove skills the new file no longer has");
    ColumnMapping& m = cmd->request.mapping;
    sub->add_option("--uri-column", m.uri)->capture_default_str();
    sub->add_option("--label-column", m.label)->capture_default_str();
    sub->add_option("--description-column", m.description)->capture_default_str();
    sub->add_option("--alt-labels-column", m.alt_labels)->capture_default_str();
    sub->add_option("--skill-type-column", m.skill_type)->capture_default_str();
    sub->add_option("--alt-separator", m.alt_separator)->capture_default_str();
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<TaxonomiesCommand>();
    CLI::App* sub = app.add_subcommand("taxonomies", "List the taxonomies of the workspace");
    add_workspace_option(*sub, cmd->workspace);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<GroupsCommand>();
    CLI::App* sub = app.add_subcommand(
        "groups", "List the skill groups of the hierarchy (top level, or those under a group)");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("--taxonomy", cmd->taxonomies, "only this taxonomy")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_option("--under", cmd->under, "the groups directly below this code, URI or label");
    sub->callback([cmd] { cmd->run(); });
  }
}

}  // namespace skillmatch::cli
