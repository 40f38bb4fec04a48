#include <cpuid.h>
#include <sched.h>

#include <thread>

#include "skillmatch/core/cpu.h"

namespace skillmatch {
namespace {

struct CpuFlags {
  bool avx2 = false, fma = false, avx512f = false, avx512_bf16 = false, amx_bf16 = false;
  bool avx512_vnni = false, avx_vnni = false, amx_int8 = false;
};

CpuFlags detect() {
  CpuFlags f;
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) f.fma = (c >> 12) & 1;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = (b >> 5) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512_vnni = (c >> 11) & 1;
    f.amx_bf16 = (d >> 22) & 1;
    f.amx_int8 = (d >> 25) & 1;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = (a >> 4) & 1;
    f.avx512_bf16 = (a >> 5) & 1;
  }
  return f;
}

const CpuFlags& flags() {
  static const CpuFlags f = detect();
  return f;
}

}  // namespace

bool cpu_has_native_bf16() noexcept {
  return flags().amx_bf16 || flags().avx512_bf16;
}

bool cpu_has_int8_dot() noexcept {
  // AVX-VNNI alone (256-bit) is not enough: oneDNN 2.6's int8 matmul kernels use VNNI only in
  // their AVX-512 and AMX forms.
  return flags().avx512_vnni || flags().amx_int8;
}

std::string cpu_features() {
  const CpuFlags& f = flags();
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.avx512f, "avx512f");
  add(f.avx512_vnni, "avx512-vnni");
  add(f.avx_vnni, "avx-vnni");
  add(f.avx512_bf16, "avx512-bf16");
  add(f.amx_bf16, "amx-bf16");
  add(f.amx_int8, "amx-int8");
  return s.empty() ? "baseline x86-64" : s;
}

int available_cores() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

}  // namespace skillmatch
