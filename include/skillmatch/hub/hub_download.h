// `skillmatch pull`: downloading a model from the Hugging Face Hub into the cache layout that
// huggingface_hub uses, so that Python and skillmatch share one copy:
//   <cache>/models--org--name/blobs/<etag>               the file content
//   <cache>/models--org--name/snapshots/<commit>/<path>  relative symlink to the blob
//   <cache>/models--org--name/refs/<revision>            the commit the revision points to
//
// Only the files skillmatch reads are fetched (config, weights, tokenizer.json and the
// SentencePiece model, whichever the repository has, sentence-transformers configs). A download
// goes to blobs/<etag>.incomplete and resumes from its size with an HTTP Range request; a blob is
// renamed into place only when its size equals the size the server announced. The endpoint is
// $HF_ENDPOINT (default https://huggingface.co); a token in $HF_TOKEN is sent for private models.
//
// Every name that comes from the server (the commit, ETags) is checked before it touches the file
// system: a commit is 40 hex digits, an ETag has no '/' or "..". A revision must be a branch, tag
// or commit name (no "..", no leading '/').
//
// Errors: kInvalidArgument (a bad id, revision or endpoint URL), kNotFound (unknown model or
// revision), kUnsupported (a repository without the files skillmatch needs), kIo (network, a
// stalled or misbehaving server, disk, size mismatch), each naming the model and file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace skillmatch {

struct PullOptions {
  std::string endpoint;           // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string revision = "main";  // branch, tag or commit
  std::string token;              // empty: $HF_TOKEN
  std::filesystem::path cache;    // empty: hf_hub_cache()
  int timeout_seconds = 30;       // connecting, and waiting for the next bytes of an answer
  // Called while downloading: file, bytes of it so far, its size.
  std::function<void(const std::string&, std::uint64_t, std::uint64_t)> progress;
};

struct PullResult {
  std::filesystem::path snapshot;  // the model folder to load
  std::string commit;
  std::size_t files = 0;
  std::uint64_t bytes_downloaded = 0;  // 0 when everything was already in the cache
};

PullResult pull_model(const std::string& repo_id, const PullOptions& options = {});

}  // namespace skillmatch
