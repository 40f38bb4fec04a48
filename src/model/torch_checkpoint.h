// A check of PyTorch's zip checkpoints (what torch.save writes: <archive>/data.pkl, one
// <archive>/data/<key> record per storage) with skillmatch's own bounds-checked readers, before
// libtorch's unpickler sees the file. libtorch (1.13) trusts what a checkpoint states: it
// allocates the lengths written inside the pickle and the record sizes of the archive as they
// stand, and gives a storage the byte size the pickle claims whatever its record holds. A few
// damaged bytes could make it allocate gigabytes or read past a buffer; this check refuses such
// files first.
//
// Checked: every entry of the archive (local header, bounds, sizes, CRC: core/zip.h); exactly one
// data.pkl; its opcodes all known, every length inside the pickle, memo indexes in order, the
// stack never empty where a value is taken, a STOP at the end; every persistent id a
// ('storage', torch.<Type>Storage, key, location, numel) tuple whose record exists and holds
// numel elements of the type.
//
// Errors: kCorrupt naming the file (and the pickle's byte offset), kUnsupported for a storage
// type skillmatch does not know. Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch {

void check_torch_checkpoint(const std::filesystem::path& file);

// A storage a pickle refers to: ('storage', torch.<type>, key, location, numel).
struct PickledStorage {
  std::string key;
  std::string type;  // "FloatStorage", ...
  std::int64_t numel = 0;
};

// The pickle part of the check, on the bytes of data.pkl; `what` names it in errors. Returns the
// storages of its persistent ids in order.
std::vector<PickledStorage> check_pickle(std::string_view pickle, const std::string& what);

}  // namespace skillmatch
