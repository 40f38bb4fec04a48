#include "hub/hub_answers.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace hub {

namespace {

// The files of a model folder that skillmatch reads.
const std::set<std::string>& wanted_files() {
  static const std::set<std::string> files = {"config.json",
                                              "model.safetensors",
                                              "pytorch_model.bin",
                                              "sentencepiece.bpe.model",
                                              "tokenizer.json",
                                              "tokenizer_config.json",
                                              "special_tokens_map.json",
                                              "modules.json",
                                              "sentence_bert_config.json",
                                              "config_sentence_transformers.json",
                                              "1_Pooling/config.json"};
  return files;
}

std::string clean_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag.erase(0, 2);
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  SM_CHECK(
      !etag.empty() && etag.find('/') == std::string::npos && etag.find("..") == std::string::npos,
      ErrorKind::kIo, "the server sent an unusable ETag '" + etag + "'");
  return etag;
}

}  // namespace

RevisionInfo parse_revision_info(std::string_view body, const std::string& repo_id,
                                 const std::string& where) {
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kIo, where + ": the answer is not JSON");
  }
  RevisionInfo out;
  out.commit = info.value("sha", "");
  SM_CHECK(!out.commit.empty() && out.commit.find('/') == std::string::npos, ErrorKind::kIo,
           "pulling " + repo_id + ": the model info has no commit sha");
  std::vector<std::string>& files = out.files;
  bool has_safetensors = false;
  for (const auto& s : info.value("siblings", nlohmann::json::array())) {
    const std::string f = s.value("rfilename", "");
    if (wanted_files().count(f)) files.push_back(f);
    has_safetensors = has_safetensors || f == "model.safetensors";
  }
  if (has_safetensors) {
    files.erase(std::remove(files.begin(), files.end(), "pytorch_model.bin"), files.end());
  }
  auto has = [&](const char* f) { return std::find(files.begin(), files.end(), f) != files.end(); };
  SM_CHECK(has("config.json"), ErrorKind::kUnsupported,
           "model " + repo_id + " has no config.json; skillmatch runs XLM-R models");
  SM_CHECK(has("tokenizer.json") || has("sentencepiece.bpe.model"), ErrorKind::kUnsupported,
           "model " + repo_id +
               " has neither tokenizer.json nor sentencepiece.bpe.model; skillmatch runs XLM-R "
               "models");
  return out;
}

FileHead parse_file_head(const std::string& etag, const std::string& size,
                         const std::string& where) {
  SM_CHECK(!etag.empty() && !size.empty(), ErrorKind::kIo,
           where + ": the server sent no ETag or size");
  return {clean_etag(etag), std::stoull(size)};
}

}  // namespace hub

}  // namespace skillmatch
