// Wall-clock time as skillmatch writes it into files and logs. Thread-safe.
#pragma once

#include <string>

namespace skillmatch {

// The current UTC time as ISO 8601 with seconds: "2026-11-28T02:41:41Z".
std::string utc_now();

}  // namespace skillmatch
