// Training data for the trainer: the JSON Lines formats that sentence-transformers and
// FlagEmbedding users already have, read into one shape with every mistake reported by file and
// line.
//
// Formats (one JSON object per line; blank lines are skipped; each line may use any of them):
//  - sentence-transformers triples: "anchor" (or "query"), "positive" (a text or a list of texts),
//    optional "negative" (a text or a list) or "negative_1" ... "negative_N".
//  - FlagEmbedding: "query", "pos" (a list of texts), optional "neg" (a list); also what the
//    service's /v1/feedback/export writes (its "pos_uris", "neg_uris", "id", "created" are
//    ignored).
//  - labelled pairs for binary cross-entropy (sentence-transformers' CrossEncoder): "query",
//    "passage", "label" (a number from 0 to 1, or true/false).
// Texts are taken literally. A value that is a URI (scheme://..., no white space) is a skill of
// the workspace: it is resolved by the caller's resolver and rendered there (with the index
// template for the bi-encoder), and marked `rendered` so that no prompt is put before it again.
// Negatives are optional.
//
// Errors: kNotFound for a missing file; kInvalidArgument "<file> line N: <reason>" for malformed
// JSON, a missing or mistyped key, an empty text, an empty list of positives, a URI that does
// not resolve ("unresolvable positive"), and for a file with no example at all.
// Thread-safety: pure functions over value types.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace skillmatch {

// One text of an example.
struct TrainText {
  std::string text;
  bool rendered = false;  // a workspace skill rendered by a template: no prompt is added
};

// A query with its positives and (possibly no) negatives, or a labelled pair (one passage in
// `positives`, `label` set).
struct TrainExample {
  TrainText query;
  std::vector<TrainText> positives;
  std::vector<TrainText> negatives;
  std::optional<double> label;  // labelled pairs only
  std::string where;            // "<file> line N"
};

// Renders the skill a URI names; nullopt when the workspace has no such skill.
using UriResolver = std::function<std::optional<std::string>(const std::string& uri)>;

// True for "scheme://rest" without white space: a value the resolver is asked about.
bool looks_like_uri(const std::string& value);

// Reads every example of `file`. `resolver` may be null: a URI is then an error naming it.
std::vector<TrainExample> load_train_data(const std::filesystem::path& file,
                                          const UriResolver& resolver);

}  // namespace skillmatch
