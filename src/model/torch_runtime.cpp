// The parts of runtime.h that touch libtorch: its intra-op thread pool.
#include <ATen/Parallel.h>
#include <malloc.h>

#include <atomic>

#include "model/torch_runtime.h"
#include "skillmatch/model/runtime.h"

namespace skillmatch {
namespace {
std::atomic<bool> g_threads_chosen{false};
}  // namespace

void set_num_threads(int n) {
  at::set_num_threads(n > 0 ? n : available_cores());
  g_threads_chosen = true;
}

int num_threads() {
  return at::get_num_threads();
}

void init_runtime() {
  static const bool malloc_tuned = [] {
    // Activations of a forward pass are a few MiB each; glibc serves blocks above 128 KiB with
    // mmap and returns them on free, so every layer page-faults its buffers in again (measured:
    // 3.5x slower on 512-token inputs). Keep blocks up to 32 MiB in the heap instead.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    return true;
  }();
  (void)malloc_tuned;
  // Debian's libtorch starts with one thread; use every core unless the caller chose.
  bool expected = false;
  if (g_threads_chosen.compare_exchange_strong(expected, true)) {
    at::set_num_threads(available_cores());
  }
}

}  // namespace skillmatch
