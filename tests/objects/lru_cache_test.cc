// Tests for objects/lru_cache.h: eviction order, the byte bound, and that
// an entry whose nodes were reused for a newer one never shows through.

#include "objects/lru_cache.h"

#include <gtest/gtest.h>

#include <list>
#include <map>
#include <memory>
#include <random>
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

// Random inserts, lookups, demotions and erasures on one shard, against a
// plain model of an LRU list: every lookup agrees, and so does the byte
// count.  Small charges keep thousands of entries in the shard, so the
// table grows, wraps around and shifts runs back on deletion.
TEST(LruCacheTest, AgreesWithAModelUnderRandomOperations) {
  constexpr size_t kShardBytes = 3000;
  LruCache<std::string> cache(16 * kShardBytes);
  std::vector<ObjectId> ids = SameShardIds(4000);
  std::list<std::pair<size_t, size_t>> model;  // (id index, charge), MRU first
  size_t usage = 0;
  auto find = [&](size_t k) {
    for (auto it = model.begin(); it != model.end(); ++it) {
      if (it->first == k) return it;
    }
    return model.end();
  };
  std::mt19937_64 rng(7);
  for (int op = 0; op < 60000; op++) {
    const size_t k = rng() % ids.size();
    const int what = static_cast<int>(rng() % 10);
    auto it = find(k);
    if (what < 4) {  // insert
      const size_t charge = 1 + rng() % 3;
      cache.Insert(ids[k], std::make_shared<const std::string>(
                               std::to_string(k)), charge);
      if (it != model.end()) continue;
      while (!model.empty() && usage + charge > kShardBytes) {
        usage -= model.back().second;
        model.pop_back();
      }
      model.emplace_front(k, charge);
      usage += charge;
    } else if (what < 8) {  // lookup
      auto v = cache.Lookup(ids[k]);
      ASSERT_EQ(v != nullptr, it != model.end()) << "op " << op;
      if (!v) continue;
      EXPECT_EQ(*v, std::to_string(k));
      model.splice(model.begin(), model, it);
    } else if (what == 8) {  // demote
      cache.Demote(ids[k]);
      if (it != model.end()) model.splice(model.end(), model, it);
    } else {  // erase
      cache.Erase(ids[k]);
      if (it == model.end()) continue;
      usage -= it->second;
      model.erase(it);
    }
    ASSERT_EQ(cache.Usage(), usage) << "op " << op;
  }
  for (size_t k = 0; k < ids.size(); k++) {
    EXPECT_EQ(cache.Lookup(ids[k]) != nullptr, find(k) != model.end()) << k;
  }
}

}  // namespace
}  // namespace larix
