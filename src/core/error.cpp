#include "skillmatch/core/error.h"

namespace skillmatch {

const char* error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "invalid argument";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kCorrupt:
      return "corrupt";
    case ErrorKind::kUnsupported:
      return "unsupported";
    case ErrorKind::kIo:
      return "I/O error";
    case ErrorKind::kBusy:
      return "busy";
    case ErrorKind::kInternal:
      return "internal error";
  }
  return "error";
}

int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return 2;
    case ErrorKind::kNotFound:
      return 3;
    case ErrorKind::kCorrupt:
      return 4;
    case ErrorKind::kUnsupported:
      return 5;
    case ErrorKind::kIo:
      return 6;
    case ErrorKind::kBusy:
      return 75;
    case ErrorKind::kInternal:
      return 70;
  }
  return 1;
}

void rethrow_with_context(const Error& e, const std::string& context) {
  throw Error(e.kind(), context + ": " + e.what());
}

}  // namespace skillmatch
