// CRC-32C (Castagnoli), the checksum of pack records and entries
// (docs/format.md, "Pack file"), masked for storage as in LevelDB's logs.
//
// On x86-64 with SSE4.2 it runs three independent crc32 instruction
// streams over three adjacent blocks and joins them, which keeps the
// instruction's three-cycle latency busy; elsewhere, a byte-wise table.
// Both give the same value for every input (tests/objects/crc32c_test.cc).

#ifndef LARIX_OBJECTS_CRC32C_H_
#define LARIX_OBJECTS_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace larix::crc32c {

// The crc32c of `data` continuing from a previous result `crc` (0 to
// start): Extend(Extend(0, a), b) == Extend(0, a + b).
uint32_t Extend(uint32_t crc, std::string_view data);

// The same by the byte-wise table, whatever the CPU (for tests).
uint32_t ExtendPortable(uint32_t crc, std::string_view data);

// A crc stored next to data that itself contains crcs is masked, so that
// the crc of a string with embedded crcs stays well distributed.
inline uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace larix::crc32c

#endif  // LARIX_OBJECTS_CRC32C_H_
