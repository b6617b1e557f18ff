#include "objects/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace larix::crc32c {
namespace {

// The state below is the CRC register without the pre- and
// post-inversion, so it is linear: crc(s, D) = shift(s, |D|) ^ crc(0, D),
// where shift(s, n) = crc(s, n zero bytes).  That is what lets separately
// computed blocks be joined.

constexpr uint32_t kPolynomial = 0x82f63b78u;  // reflected

constexpr std::array<uint32_t, 256> MakeByteTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (kPolynomial & (0u - (c & 1)));
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kByteTable = MakeByteTable();

uint32_t UpdatePortable(uint32_t state, const uint8_t* p, size_t n) {
  while (n--) state = kByteTable[(state ^ *p++) & 0xff] ^ (state >> 8);
  return state;
}

#if defined(__x86_64__)

bool HaveSse42() {
  static const bool have = [] {
    __builtin_cpu_init();  // may run before libgcc's own constructor
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return have;
}

__attribute__((target("sse4.2"))) uint32_t UpdateOneStream(uint32_t state,
                                                           const uint8_t* p,
                                                           size_t n) {
  uint64_t s = state;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    s = _mm_crc32_u64(s, v);
  }
  uint32_t s32 = static_cast<uint32_t>(s);
  for (; n > 0; n--) s32 = _mm_crc32_u8(s32, *p++);
  return s32;
}

// shift(s, kBlock) as four byte-indexed tables: shift is linear in s, so
// it is the xor of the shifts of s's bytes.
struct ShiftTable {
  uint32_t t[4][256];
  uint32_t operator()(uint32_t s) const {
    return t[0][s & 0xff] ^ t[1][(s >> 8) & 0xff] ^ t[2][(s >> 16) & 0xff] ^
           t[3][s >> 24];
  }
};

template <size_t kBlock>
const ShiftTable& Shift() {
  static const ShiftTable table = [] {
    static const uint8_t zeros[kBlock] = {};
    uint32_t bit[32];
    for (int i = 0; i < 32; i++) {
      bit[i] = UpdateOneStream(uint32_t{1} << i, zeros, kBlock);
    }
    ShiftTable st;
    for (int k = 0; k < 4; k++) {
      for (uint32_t b = 0; b < 256; b++) {
        uint32_t v = 0;
        for (int j = 0; j < 8; j++) {
          if (b & (1u << j)) v ^= bit[8 * k + j];
        }
        st.t[k][b] = v;
      }
    }
    return st;
  }();
  return table;
}

// Consumes whole runs of three kBlock-byte blocks from *p.
template <size_t kBlock>
__attribute__((target("sse4.2"))) uint32_t UpdateThreeStreams(
    uint32_t state, const uint8_t** p, size_t* n) {
  static_assert(kBlock % 8 == 0);
  const ShiftTable& shift = Shift<kBlock>();
  while (*n >= 3 * kBlock) {
    const uint8_t* a = *p;
    const uint8_t* b = a + kBlock;
    const uint8_t* c = b + kBlock;
    uint64_t sa = state, sb = 0, sc = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t va, vb, vc;
      std::memcpy(&va, a + i, 8);
      std::memcpy(&vb, b + i, 8);
      std::memcpy(&vc, c + i, 8);
      sa = _mm_crc32_u64(sa, va);
      sb = _mm_crc32_u64(sb, vb);
      sc = _mm_crc32_u64(sc, vc);
    }
    state = shift(shift(static_cast<uint32_t>(sa)) ^
                  static_cast<uint32_t>(sb)) ^
            static_cast<uint32_t>(sc);
    *p += 3 * kBlock;
    *n -= 3 * kBlock;
  }
  return state;
}

uint32_t UpdateHardware(uint32_t state, const uint8_t* p, size_t n) {
  state = UpdateThreeStreams<1024>(state, &p, &n);
  state = UpdateThreeStreams<128>(state, &p, &n);
  return UpdateOneStream(state, p, n);
}

#endif  // __x86_64__

}  // namespace

uint32_t Extend(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
#if defined(__x86_64__)
  if (HaveSse42()) return ~UpdateHardware(~crc, p, data.size());
#endif
  return ~UpdatePortable(~crc, p, data.size());
}

uint32_t ExtendPortable(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  return ~UpdatePortable(~crc, p, data.size());
}

}  // namespace larix::crc32c
