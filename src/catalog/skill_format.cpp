#include "skillmatch/catalog/skill_format.h"

namespace skillmatch {

std::string format_skill(const std::string& template_text, const Skill& skill) {
  std::string alt;
  for (const auto& a : skill.record.alt_labels) alt += (alt.empty() ? "" : ", ") + a;
  // Fields are substituted in one pass over the template, so braces inside a field stay text.
  std::string out;
  std::size_t i = 0;
  while (i < template_text.size()) {
    auto field = [&](const char* name, const std::string& value) {
      const std::string token = std::string("{") + name + "}";
      if (template_text.compare(i, token.size(), token) != 0) return false;
      out += value;
      i += token.size();
      return true;
    };
    if (field("label", skill.record.label) || field("description", skill.record.description) ||
        field("uri", skill.record.uri) || field("alt_labels", alt) ||
        field("taxonomy", skill.taxonomy)) {
      continue;
    }
    out += template_text[i++];
  }
  return out;
}

}  // namespace skillmatch
