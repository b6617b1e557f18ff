// Chooses a BLAKE2b lane kernel for the CPU and splits a call into groups
// of its width (blake2b_lanes.h).

#include "objects/blake2b_lanes.h"

#include <algorithm>
#include <cstring>

#include "larix/object_id.h"

namespace larix::blake2b_lanes {

// In blake2b_lanes_avx2.cc and blake2b_lanes_avx512.cc; at most 4 and 8
// messages a call.
void HashAvx2(const Message* messages, size_t n, size_t head_len,
              size_t body_len, uint8_t (*out)[32]);
void HashAvx512(const Message* messages, size_t n, size_t head_len,
                size_t body_len, uint8_t (*out)[32]);

namespace {

#if defined(__x86_64__)
bool CpuHas(const char* feature) {
  __builtin_cpu_init();  // may run before libgcc's own constructor
  if (feature[3] == '5') return __builtin_cpu_supports("avx512f") != 0;
  return __builtin_cpu_supports("avx2") != 0;
}
#endif

// libsodium, one message at a time.
void HashPortable(const Message* messages, size_t n, size_t head_len,
                  size_t body_len, uint8_t (*out)[32]) {
  for (size_t i = 0; i < n; i++) {
    ObjectId id = ObjectId::Hash(
        {reinterpret_cast<const char*>(messages[i].head), head_len},
        {reinterpret_cast<const char*>(messages[i].body), body_len});
    std::memcpy(out[i], id.data(), ObjectId::kSize);
  }
}

}  // namespace

bool Supported(Kernel kernel) {
  switch (kernel) {
    case Kernel::kPortable:
      return true;
#if defined(__x86_64__)
    case Kernel::kAvx2:
      return CpuHas("avx2");
    case Kernel::kAvx512:
      return CpuHas("avx512f");
#else
    default:
      return false;
#endif
  }
  return false;
}

Kernel Best() {
  static const Kernel best = Supported(Kernel::kAvx512) ? Kernel::kAvx512
                             : Supported(Kernel::kAvx2) ? Kernel::kAvx2
                                                        : Kernel::kPortable;
  return best;
}

size_t Lanes(Kernel kernel) {
  switch (kernel) {
    case Kernel::kAvx2:
      return 4;
    case Kernel::kAvx512:
      return 8;
    default:
      return 1;
  }
}

namespace {
bool HasAvx2() {
  static const bool has = Supported(Kernel::kAvx2);
  return has;
}
}  // namespace

void HashWith(Kernel kernel, const Message* messages, size_t n,
              size_t head_len, size_t body_len, uint8_t (*out)[32]) {
  const size_t width = Lanes(kernel);
  for (size_t i = 0; i < n; i += width) {
    size_t group = std::min(width, n - i);
    // A kernel costs the same for any number of its lanes in use
    // (bench/page_codec_bench.cc, 4 KiB pages: libsodium 3.6 us a page,
    // 4 lanes 6.2 us, 8 lanes 6.7 us a call), so a short last group
    // goes to the narrowest kernel that fits it.
    Kernel k = kernel;
    if (group == 1) {
      k = Kernel::kPortable;
    } else if (kernel == Kernel::kAvx512 && group <= 4 && HasAvx2()) {
      k = Kernel::kAvx2;
    }
    switch (k) {
#if defined(__x86_64__)
      case Kernel::kAvx512:
        HashAvx512(messages + i, group, head_len, body_len, out + i);
        break;
      case Kernel::kAvx2:
        HashAvx2(messages + i, group, head_len, body_len, out + i);
        break;
#endif
      default:
        HashPortable(messages + i, group, head_len, body_len, out + i);
        break;
    }
  }
}

void Hash(const Message* messages, size_t n, size_t head_len,
          size_t body_len, uint8_t (*out)[32]) {
  HashWith(Best(), messages, n, head_len, body_len, out);
}

}  // namespace larix::blake2b_lanes
