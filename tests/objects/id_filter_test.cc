// Tests for objects/id_filter.h: no false negatives, a false-positive
// rate near the design's at the designed load, and the overfull signal.

#include "objects/id_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace larix {
namespace {

ObjectId IdNumber(uint64_t i, char tag) {
  return ObjectId::Hash(std::string(1, tag).append(std::to_string(i)));
}

TEST(IdFilterTest, EveryAddedIdIsReportedAndFewOthersAre) {
  constexpr uint64_t kIds = 200000;
  IdFilter f(kIds);
  EXPECT_GE(f.bytes() * 8, 2 * kIds * IdFilter::kBitsPerId);
  for (uint64_t i = 0; i < kIds; i++) f.Add(IdNumber(i, 'a'));
  EXPECT_EQ(f.added(), kIds);
  for (uint64_t i = 0; i < kIds; i++) {
    ASSERT_TRUE(f.MayContain(IdNumber(i, 'a'))) << i;
  }
  uint64_t false_positives = 0;
  for (uint64_t i = 0; i < kIds; i++) {
    false_positives += f.MayContain(IdNumber(i, 'b'));
  }
  // Half full (32 bits an id): well under 1%.
  EXPECT_LT(false_positives, kIds / 200) << false_positives;
  EXPECT_FALSE(f.Overfull());
}

TEST(IdFilterTest, PastItsCapacityItIsOverfullButStillCorrect) {
  IdFilter f(0);  // the minimum: kMinIds ids at 16 bits each
  const uint64_t n = IdFilter::kMinIds + 1;
  for (uint64_t i = 0; i < n; i++) f.Add(IdNumber(i, 'a'));
  EXPECT_TRUE(f.Overfull());
  for (uint64_t i = 0; i < n; i++) ASSERT_TRUE(f.MayContain(IdNumber(i, 'a')));
  uint64_t false_positives = 0;
  for (uint64_t i = 0; i < 100000; i++) {
    false_positives += f.MayContain(IdNumber(i, 'b'));
  }
  // At its designed load (16 bits an id), under 1%.
  EXPECT_LT(false_positives, 1000u) << false_positives;
}

TEST(IdFilterTest, AnEmptyFilterReportsNothing) {
  IdFilter f(10);
  for (uint64_t i = 0; i < 1000; i++) {
    EXPECT_FALSE(f.MayContain(IdNumber(i, 'a')));
  }
  EXPECT_FALSE(f.MayContain(ObjectId()));
}

}  // namespace
}  // namespace larix
