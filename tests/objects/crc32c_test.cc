// Tests for objects/crc32c.{h,cc}: the interleaved hardware path agrees
// with the byte-wise table on every length and alignment, and both agree
// with the standard check value.

#include "objects/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace larix {
namespace {

TEST(Crc32cTest, StandardCheckValue) {
  // CRC-32C of "123456789" (RFC 3720, and every CRC catalogue).
  EXPECT_EQ(crc32c::Extend(0, "123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::ExtendPortable(0, "123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::Extend(0, ""), 0u);
  // 32 zero bytes (RFC 3720, B.4).
  EXPECT_EQ(crc32c::Extend(0, std::string(32, '\0')), 0x8a9136aau);
}

TEST(Crc32cTest, FastPathAgreesWithTheTableOnEveryLengthAndAlignment) {
  std::mt19937 rng(1);
  std::string data(3 * 3 * 1024 + 3 * 128 + 300, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  // Lengths around every block boundary of the three-stream path (3 x
  // 1024 and 3 x 128 bytes), at every alignment of the start.
  for (size_t offset = 0; offset < 8; offset++) {
    for (size_t n = 0; n + offset <= data.size(); n += (n < 800 ? 1 : 37)) {
      std::string_view v = std::string_view(data).substr(offset, n);
      ASSERT_EQ(crc32c::Extend(0, v), crc32c::ExtendPortable(0, v))
          << "offset " << offset << " length " << n;
    }
  }
}

TEST(Crc32cTest, ExtendContinuesAcrossSplits) {
  std::mt19937 rng(2);
  std::string data(10000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  uint32_t whole = crc32c::Extend(0, data);
  for (size_t split : {0, 1, 7, 8, 383, 384, 3072, 3073, 9999, 10000}) {
    std::string_view v(data);
    EXPECT_EQ(crc32c::Extend(crc32c::Extend(0, v.substr(0, split)),
                             v.substr(split)),
              whole)
        << "split at " << split;
  }
}

TEST(Crc32cTest, MaskIsNotTheIdentityAndIsStable) {
  uint32_t crc = crc32c::Extend(0, "larix");
  EXPECT_NE(crc32c::Mask(crc), crc);
  EXPECT_EQ(crc32c::Mask(crc), crc32c::Mask(crc));
  EXPECT_NE(crc32c::Mask(crc), crc32c::Mask(crc + 1));
}

}  // namespace
}  // namespace larix
