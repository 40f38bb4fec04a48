#include "skillmatch/train/train_data.h"

#include <cctype>
#include <fstream>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/core/utf8.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

struct LineReader {
  const UriResolver& resolver;
  std::string where;

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(ErrorKind::kInvalidArgument, where + ": " + message);
  }

  TrainText text(const nlohmann::json& v, const std::string& key, bool resolve) const {
    if (!v.is_string()) {
      fail("\"" + key + "\" must be a string, got " + std::string(v.type_name()));
    }
    std::string s = v.get<std::string>();
    try {
      validate_utf8(s);
    } catch (const Error& e) {
      fail("\"" + key + "\": " + e.what());
    }
    if (s.find_first_not_of(" \t\r\n") == std::string::npos) fail("\"" + key + "\" is empty");
    if (resolve && looks_like_uri(s)) {
      std::optional<std::string> rendered = resolver ? resolver(s) : std::nullopt;
      if (!rendered) {
        fail("unresolvable " + key + " '" + s + "': no skill of the workspace has this URI" +
             (resolver ? "" : " (no workspace to resolve it in)"));
      }
      return {*rendered, true};
    }
    return {std::move(s), false};
  }

  // A text or a list of texts.
  std::vector<TrainText> texts(const nlohmann::json& v, const std::string& key) const {
    std::vector<TrainText> out;
    if (v.is_array()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(text(v[i], key + "[" + std::to_string(i) + "]", true));
      }
    } else {
      out.push_back(text(v, key, true));
    }
    return out;
  }
};

const nlohmann::json* member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

TrainExample read_example(const nlohmann::json& obj, const LineReader& r) {
  TrainExample ex;
  ex.where = r.where;
  const nlohmann::json* query = member(obj, "anchor");
  const char* query_key = "anchor";
  if (!query) {
    query = member(obj, "query");
    query_key = "query";
  }
  if (!query) {
    r.fail(
        "no query: expected \"anchor\" or \"query\" (sentence-transformers triples, "
        "FlagEmbedding {query, pos, neg}, or labelled pairs {query, passage, label})");
  }
  ex.query = r.text(*query, query_key, false);

  if (const nlohmann::json* label = member(obj, "label")) {
    const nlohmann::json* passage = member(obj, "passage");
    if (!passage) r.fail("a labelled pair needs \"passage\" beside \"label\"");
    ex.positives.push_back(r.text(*passage, "passage", true));
    double value = 0;
    if (label->is_boolean()) {
      value = label->get<bool>() ? 1.0 : 0.0;
    } else if (label->is_number()) {
      value = label->get<double>();
      if (!(value >= 0 && value <= 1)) {
        r.fail("\"label\" must be from 0 to 1, got " + label->dump());
      }
    } else {
      r.fail("\"label\" must be a number from 0 to 1 or true/false, got " +
             std::string(label->type_name()));
    }
    ex.label = value;
    return ex;
  }

  if (const nlohmann::json* pos = member(obj, "pos")) {
    if (!pos->is_array()) r.fail("\"pos\" must be a list of texts");
    ex.positives = r.texts(*pos, "pos");
    if (const nlohmann::json* neg = member(obj, "neg")) {
      if (!neg->is_array()) r.fail("\"neg\" must be a list of texts");
      ex.negatives = r.texts(*neg, "neg");
    }
  } else if (const nlohmann::json* positive = member(obj, "positive")) {
    ex.positives = r.texts(*positive, "positive");
    if (const nlohmann::json* negative = member(obj, "negative")) {
      ex.negatives = r.texts(*negative, "negative");
    }
    for (int i = 1;; ++i) {
      const std::string key = "negative_" + std::to_string(i);
      const nlohmann::json* n = member(obj, key.c_str());
      if (!n) break;
      for (TrainText& t : r.texts(*n, key)) ex.negatives.push_back(std::move(t));
    }
  } else {
    r.fail(
        "no positive: expected \"positive\" (triples), \"pos\" (FlagEmbedding) or "
        "\"passage\" with \"label\" (labelled pairs)");
  }
  if (ex.positives.empty()) r.fail("the list of positives is empty");
  return ex;
}

}  // namespace

bool looks_like_uri(const std::string& value) {
  const std::size_t sep = value.find("://");
  if (sep == std::string::npos || sep == 0 || sep + 3 >= value.size()) return false;
  if (!std::isalpha(static_cast<unsigned char>(value[0]))) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (const char c : value) {
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<TrainExample> load_train_data(const fs::path& file, const UriResolver& resolver) {
  require_file(file, "training data");
  std::ifstream in(file, std::ios::binary);
  SM_CHECK(in, ErrorKind::kIo, "cannot open " + file.string());
  JsonlReader reader(in, file.string());
  std::vector<TrainExample> out;
  nlohmann::json obj;
  while (reader.next(obj)) {
    out.push_back(read_example(obj, LineReader{resolver, reader.where()}));
  }
  SM_CHECK(!out.empty(), ErrorKind::kInvalidArgument,
           file.string() + ": no training example (the file is empty)");
  return out;
}

}  // namespace skillmatch
