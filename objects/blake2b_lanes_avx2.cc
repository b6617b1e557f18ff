// The four-lane BLAKE2b kernel (blake2b_lanes_kernel.inc) for AVX2, which
// has no 64-bit rotation: rotations by whole bytes are byte shuffles, the
// rotation by 63 is a shift, an add and an or.  Compiled with -mavx2
// (CMakeLists.txt); called only when the CPU has it (blake2b_lanes.cc).

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "objects/blake2b_lanes.h"

namespace {

struct Avx2 {
  using Reg = __m256i;
  static constexpr size_t kLanes = 4;
  static Reg Set1(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static Reg Add(Reg a, Reg b) { return _mm256_add_epi64(a, b); }
  static Reg Xor(Reg a, Reg b) { return _mm256_xor_si256(a, b); }
  static Reg Ror32(Reg x) { return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)); }
  static Reg Ror24(Reg x) {
    const Reg k = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15,
                                   8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12,
                                   13, 14, 15, 8, 9, 10);
    return _mm256_shuffle_epi8(x, k);
  }
  static Reg Ror16(Reg x) {
    const Reg k = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14,
                                   15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11,
                                   12, 13, 14, 15, 8, 9);
    return _mm256_shuffle_epi8(x, k);
  }
  static Reg Ror63(Reg x) {
    return _mm256_or_si256(_mm256_add_epi64(x, x), _mm256_srli_epi64(x, 63));
  }
  static Reg FromAddrs(const uint64_t* a) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  }
  static Reg Gather(Reg addrs) {
    return _mm256_i64gather_epi64(nullptr, addrs, 1);
  }
  static void Store(uint64_t* to, Reg x) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(to), x);
  }
};

#include "objects/blake2b_lanes_kernel.inc"

}  // namespace

namespace larix::blake2b_lanes {

void HashAvx2(const Message* messages, size_t n, size_t head_len,
              size_t body_len, uint8_t (*out)[32]) {
  HashLanes<Avx2>(messages, n, head_len, body_len, out);
}

}  // namespace larix::blake2b_lanes
