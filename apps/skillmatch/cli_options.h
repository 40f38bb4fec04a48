// The bridge from the library's option tables (skillmatch/options.h) to CLI11: every option of a
// request becomes a flag with the same name, help and checks, so that the command line, eval's
// `key=value` configurations and the HTTP API accept the same things.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "skillmatch/core/error.h"
#include "skillmatch/options.h"

namespace skillmatch::cli {

struct FlagSpec {
  std::set<std::string> only;                      // if not empty: only these options
  std::set<std::string> except;                    // these options are left out
  std::map<std::string, std::string> short_names;  // "embedder" -> "-e"
  std::set<std::string> required;
};

// Adds the options of `table` to `cmd`, writing `target` (which must outlive parsing). A value
// the table refuses fails the parse with "--name: <reason>" (exit 2). A flag that is on by
// default appears as --no-<name>.
template <class T>
void add_table_options(CLI::App& cmd, const OptionTable<T>& table, T& target,
                       const FlagSpec& spec = {}) {
  for (const Option<T>& o : table.options()) {
    if ((!spec.only.empty() && !spec.only.count(o.name)) || spec.except.count(o.name)) continue;
    std::string flag = "--" + o.name;
    if (o.flag && o.default_on) flag = "--no-" + o.name;
    auto it = spec.short_names.find(o.name);
    if (it != spec.short_names.end()) flag = it->second + "," + flag;
    const Option<T>* opt = &o;
    auto set = [opt, &target](const std::string& value) {
      try {
        opt->set_text(target, value);
      } catch (const Error& e) {
        throw Error(e.kind(), std::string("--") + e.what());
      }
    };
    CLI::Option* added = nullptr;
    if (o.flag) {
      const std::string value = o.default_on ? "false" : "true";
      added = cmd.add_flag_callback(
          flag, [set, value] { set(value); }, o.help);
    } else if (o.list) {
      added = cmd.add_option_function<std::vector<std::string>>(
                     flag,
                     [set](const std::vector<std::string>& values) {
                       for (const auto& v : values) set(v);
                     },
                     o.help)
                  ->type_name(o.value_name)
                  ->expected(1)
                  ->allow_extra_args(false)
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      added = cmd.add_option_function<std::string>(flag, set, o.help)->type_name(o.value_name);
    }
    if (spec.required.count(o.name)) added->required();
  }
}

}  // namespace skillmatch::cli
