// What skillmatch reads from the Hugging Face Hub's answers, apart from the HTTP transfer: the
// model-info JSON of a revision (its commit and the files skillmatch wants) and the ETag and
// size of a file's HEAD answer. Kept apart from the client so that tests and fuzz targets can
// feed them any answer in memory.
//
// Errors: skillmatch::Error naming `where` (the request): kIo for an answer skillmatch cannot
// use, kUnsupported for a repository without the files skillmatch needs. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch::hub {

struct RevisionInfo {
  std::string commit;
  std::vector<std::string> files;  // the wanted files the revision has, in the answer's order
};

// The answer of GET <endpoint>/api/models/<repo_id>/revision/<revision>.
RevisionInfo parse_revision_info(std::string_view body, const std::string& repo_id,
                                 const std::string& where);

struct FileHead {
  std::string etag;  // without quotes and weak prefix: the blob's file name
  std::uint64_t size = 0;
};

// The ETag (X-Linked-Etag, else ETag) and size (X-Linked-Size, else Content-Length) header
// values of a HEAD answer; empty strings where the header was absent.
FileHead parse_file_head(const std::string& etag, const std::string& size,
                         const std::string& where);

}  // namespace skillmatch::hub
