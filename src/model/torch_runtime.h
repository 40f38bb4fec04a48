// Process-wide libtorch settings used by the model layer.
#pragma once

namespace skillmatch {

// Called when a model is loaded; cheap after the first call. Sets libtorch's intra-op threads to
// all available cores unless set_num_threads() was called before, and raises glibc's mmap
// threshold to 32 MiB so that activation buffers are reused instead of page-faulted anew.
void init_runtime();

}  // namespace skillmatch
