// How a skill is rendered as text for a model: the passage a bi-encoder embeds and the text a
// cross-encoder scores, by a template with {label}, {description}, {uri}, {alt_labels} and
// {taxonomy}. Pure functions, thread-safe.
#pragma once

#include <string>

#include "skillmatch/catalog/workspace.h"

namespace skillmatch {

inline constexpr const char* kDefaultPassageTemplate = "passage: {label}: {description}";

// `template_text` with {label}, {description}, {uri}, {alt_labels} (comma-separated) and
// {taxonomy} replaced by the skill's fields.
std::string format_skill(const std::string& template_text, const Skill& skill);

}  // namespace skillmatch
