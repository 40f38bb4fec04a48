#include "hub/hub_answers.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
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

// The commit and the ETag name a folder and a file of the cache: one path component each.
bool one_path_component(const std::string& s) {
  return !s.empty() && s != "." && s != ".." &&
         s.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

}  // namespace

RevisionInfo parse_revision_info(std::string_view body, const std::string& repo_id,
                                 const std::string& where) {
  nlohmann::json info;
  try {
    info = parse_json(body);
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kIo, where + ": the answer is not JSON");
  }
  SM_CHECK(info.is_object(), ErrorKind::kIo,
           where + ": the answer is not a JSON object (" + info.type_name() + ")");
  RevisionInfo out;
  // A commit is 40 hex digits; anything else from a server is refused before it names a folder.
  const auto sha = info.find("sha");
  const std::string commit = sha != info.end() && sha->is_string() ? sha->get<std::string>() : "";
  SM_CHECK(commit.size() == 40 && commit.find_first_not_of("0123456789abcdef") == std::string::npos,
           ErrorKind::kIo,
           where + ": the model info names no commit (40 hex digits), got '" +
               commit.substr(0, 60) + "'");
  out.commit = commit;
  std::vector<std::string>& files = out.files;
  bool has_safetensors = false;
  const auto siblings = info.find("siblings");
  if (siblings != info.end()) {
    SM_CHECK(siblings->is_array(), ErrorKind::kIo,
             where + ": the model info's siblings are not a list (" + siblings->type_name() + ")");
    for (const auto& s : *siblings) {
      // Only the wanted files matter: an entry without a file name cannot be one.
      const auto name = s.is_object() ? s.find("rfilename") : s.end();
      if (!s.is_object() || name == s.end() || !name->is_string()) continue;
      const std::string& f = name->get_ref<const std::string&>();
      if (wanted_files().count(f) && std::find(files.begin(), files.end(), f) == files.end()) {
        files.push_back(f);
      }
      has_safetensors = has_safetensors || f == "model.safetensors";
    }
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
  FileHead head;
  head.etag = etag;
  if (head.etag.rfind("W/", 0) == 0) head.etag.erase(0, 2);
  head.etag.erase(std::remove(head.etag.begin(), head.etag.end(), '"'), head.etag.end());
  SM_CHECK(one_path_component(head.etag), ErrorKind::kIo,
           where + ": the server sent an unusable ETag '" + etag + "'");
  const bool digits =
      size.size() <= 19 && size.find_first_not_of("0123456789") == std::string::npos;
  SM_CHECK(digits, ErrorKind::kIo,
           where + ": the server sent a size that is not a number ('" + size.substr(0, 40) + "')");
  head.size = std::stoull(size);
  return head;
}

}  // namespace hub

}  // namespace skillmatch
