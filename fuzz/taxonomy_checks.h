// What the taxonomy reader targets check of the data a reader returns: what Workspace::import
// relies on (unique, non-empty URIs; non-empty labels; valid UTF-8 without NUL bytes).
#pragma once

#include <string>
#include <unordered_set>

#include "fuzz_util.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch::fuzz {

inline void check_text(const std::string& s) {
  FUZZ_CHECK(is_valid_utf8(s) && s.find('\0') == std::string::npos);
}

inline void check_taxonomy(const TaxonomyData& d) {
  std::unordered_set<std::string> uris;
  for (const SkillRecord& r : d.skills) {
    FUZZ_CHECK(!r.uri.empty() && uris.insert(r.uri).second);
    FUZZ_CHECK(!r.label.empty());
    for (const std::string* s : {&r.uri, &r.label, &r.description, &r.skill_type, &r.reuse_level}) {
      check_text(*s);
    }
    for (const auto& a : r.alt_labels) check_text(a);
    for (const auto& b : r.broader) check_text(b);
  }
  for (const SkillGroup& g : d.groups) {
    FUZZ_CHECK(!g.uri.empty());
    check_text(g.uri);
    check_text(g.code);
    check_text(g.label);
  }
  for (const BroaderLink& l : d.links) {
    check_text(l.uri);
    check_text(l.broader);
  }
  for (const auto& [name, members] : d.collections) {
    check_text(name);
    for (const auto& m : members) check_text(m);
  }
}

}  // namespace skillmatch::fuzz
