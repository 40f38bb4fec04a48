// The one error model of skillmatch.
//
// Every failure a user can cause (a wrong path, a corrupt file, invalid text, an unsupported model)
// is thrown as skillmatch::Error carrying a kind and a message that names the file, key or field.
// Internal invariants that only a bug can break use SM_ASSERT, which throws ErrorKind::kInternal.
// Boundaries convert once: the CLI maps an Error to one line on stderr and exit code
// exit_code(kind); the HTTP layer maps kInvalidArgument/kNotFound/kCorrupt/kUnsupported to 4xx
// and kBusy to 429.
#pragma once

#include <stdexcept>
#include <string>

namespace skillmatch {

enum class ErrorKind {
  kInvalidArgument,  // the caller passed something malformed (bad UTF-8, bad option, bad JSON)
  kNotFound,         // a file, folder, tensor or key that must exist does not
  kCorrupt,          // a file exists but its content is inconsistent or truncated
  kUnsupported,      // well-formed, but a feature skillmatch does not implement (named)
  kIo,               // the operating system refused a read or write
  kBusy,             // too much work queued: try again later (a service's 429)
  kInternal,         // a bug in skillmatch
};

// Short lower-case name of a kind ("invalid argument", "not found", ...).
const char* error_kind_name(ErrorKind kind) noexcept;

// Process exit code the CLI uses for a kind: 2 invalid argument, 3 not found, 4 corrupt,
// 5 unsupported, 6 I/O, 75 busy (EX_TEMPFAIL), 70 internal.
int exit_code(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Re-throws `e` with `context + ": "` prepended, keeping its kind. For staged loading:
// "loading /models/e5: config.json: key hidden_size is missing".
[[noreturn]] void rethrow_with_context(const Error& e, const std::string& context);

}  // namespace skillmatch

// Throws skillmatch::Error(kind, message) when `cond` is false. `message` is any expression
// convertible to std::string and is only evaluated on failure.
#define SM_CHECK(cond, kind, message)                          \
  do {                                                         \
    if (!(cond)) throw ::skillmatch::Error((kind), (message)); \
  } while (0)

// Internal invariant: a failure is a bug in skillmatch, reported with file and line.
#define SM_ASSERT(cond)                                                                   \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::skillmatch::Error(::skillmatch::ErrorKind::kInternal,                       \
                                std::string("internal error: ") + #cond + " failed at " + \
                                    __FILE__ + ":" + std::to_string(__LINE__));           \
  } while (0)
