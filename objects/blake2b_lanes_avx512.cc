// The eight-lane BLAKE2b kernel (blake2b_lanes_kernel.inc) for AVX-512F.
// Compiled with -mavx512f (CMakeLists.txt); called only when the CPU has
// it (blake2b_lanes.cc).

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "objects/blake2b_lanes.h"

// GCC 12 warns of the deliberately undefined pass-through operand inside
// _mm512_ror_epi64 and _mm512_i64gather_epi64 (all lanes are written).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

struct Avx512 {
  using Reg = __m512i;
  static constexpr size_t kLanes = 8;
  static Reg Set1(uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static Reg Add(Reg a, Reg b) { return _mm512_add_epi64(a, b); }
  static Reg Xor(Reg a, Reg b) { return _mm512_xor_si512(a, b); }
  static Reg Ror32(Reg x) { return _mm512_ror_epi64(x, 32); }
  static Reg Ror24(Reg x) { return _mm512_ror_epi64(x, 24); }
  static Reg Ror16(Reg x) { return _mm512_ror_epi64(x, 16); }
  static Reg Ror63(Reg x) { return _mm512_ror_epi64(x, 63); }
  static Reg FromAddrs(const uint64_t* a) {
    return _mm512_loadu_si512(static_cast<const void*>(a));
  }
  static Reg Gather(Reg addrs) {
    return _mm512_i64gather_epi64(addrs, nullptr, 1);
  }
  static void Store(uint64_t* to, Reg x) {
    _mm512_storeu_si512(static_cast<void*>(to), x);
  }
};

#include "objects/blake2b_lanes_kernel.inc"

}  // namespace

namespace larix::blake2b_lanes {

void HashAvx512(const Message* messages, size_t n, size_t head_len,
                size_t body_len, uint8_t (*out)[32]) {
  HashLanes<Avx512>(messages, n, head_len, body_len, out);
}

}  // namespace larix::blake2b_lanes
