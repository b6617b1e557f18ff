// Tests for objects/lru_cache.h: eviction order, the byte bound, and that
// an entry whose nodes were reused for a newer one never shows through.

#include "objects/lru_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace larix {
namespace {

// Ids that all fall in shard 0 (the cache shards by the first byte).
std::vector<ObjectId> SameShardIds(size_t n) {
  std::vector<ObjectId> ids;
  for (uint64_t seed = 0; ids.size() < n; seed++) {
    ObjectId id = ObjectId::Hash(std::to_string(seed));
    if (id.data()[0] % 16 == 0) ids.push_back(id);
  }
  return ids;
}

TEST(LruCacheTest, AFullCacheKeepsTheMostRecentAndTheirOwnValues) {
  constexpr size_t kPerShard = 10;  // entries of charge 100 per shard
  LruCache<std::string> cache(16 * kPerShard * 100);
  std::vector<ObjectId> ids = SameShardIds(50);
  for (size_t i = 0; i < ids.size(); i++) {
    cache.Insert(ids[i], std::make_shared<const std::string>(std::to_string(i)),
                 100);
    EXPECT_LE(cache.Usage(), kPerShard * 100);
  }
  for (size_t i = 0; i < ids.size(); i++) {
    auto v = cache.Lookup(ids[i]);
    if (i + kPerShard < ids.size()) {
      EXPECT_EQ(v, nullptr) << i;
    } else {
      ASSERT_NE(v, nullptr) << i;
      EXPECT_EQ(*v, std::to_string(i));
    }
  }
}

TEST(LruCacheTest, ALargeEntryEvictsAsManyAsItNeeds) {
  LruCache<std::string> cache(16 * 1000);
  std::vector<ObjectId> ids = SameShardIds(11);
  for (size_t i = 0; i < 10; i++) {
    cache.Insert(ids[i], std::make_shared<const std::string>("small"), 100);
  }
  cache.Lookup(ids[0]);  // the least recent is now ids[1]
  cache.Insert(ids[10], std::make_shared<const std::string>("large"), 450);
  EXPECT_LE(cache.Usage(), 1000u);
  // Room for 450 bytes took the five least recent, ids[1..5]; ids[0] had
  // just been used.
  for (size_t i = 1; i <= 5; i++) EXPECT_EQ(cache.Lookup(ids[i]), nullptr) << i;
  EXPECT_NE(cache.Lookup(ids[0]), nullptr);
  for (size_t i = 6; i < 10; i++) EXPECT_NE(cache.Lookup(ids[i]), nullptr) << i;
  auto large = cache.Lookup(ids[10]);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(*large, "large");
}

TEST(LruCacheTest, AnEvictedValueStaysValidForItsHolder) {
  LruCache<std::string> cache(16 * 100);
  std::vector<ObjectId> ids = SameShardIds(2);
  cache.Insert(ids[0], std::make_shared<const std::string>("first"), 100);
  auto held = cache.Lookup(ids[0]);
  cache.Insert(ids[1], std::make_shared<const std::string>("second"), 100);
  EXPECT_EQ(cache.Lookup(ids[0]), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(*held, "first");
  EXPECT_EQ(*cache.Lookup(ids[1]), "second");
}

}  // namespace
}  // namespace larix
