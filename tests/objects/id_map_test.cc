// Tests for objects/id_map.h: agreement with std::unordered_map under
// random adds and updates, moves, clear and reserve, and ids that are not
// random.

#include "objects/id_map.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace larix {
namespace {

std::vector<ObjectId> RandomIds(size_t n) {
  std::vector<ObjectId> ids;
  for (size_t i = 0; i < n; i++) ids.push_back(ObjectId::Hash(std::to_string(i)));
  return ids;
}

TEST(IdMapTest, AgreesWithUnorderedMap) {
  std::vector<ObjectId> ids = RandomIds(3000);
  IdMap<int> map;
  std::unordered_map<ObjectId, int, ObjectIdHash> model;
  std::mt19937_64 rng(11);
  for (int op = 0; op < 50000; op++) {
    const ObjectId& id = ids[rng() % ids.size()];
    const int v = static_cast<int>(rng() % 1000);
    switch (rng() % 3) {
      case 0: {
        auto [stored, added] = map.TryEmplace(id, v);
        auto [it, model_added] = model.try_emplace(id, v);
        ASSERT_EQ(added, model_added);
        EXPECT_EQ(*stored, it->second);
        break;
      }
      case 1:
        map.Assign(id, v);
        model[id] = v;
        break;
      default: {
        const int* found = map.Find(id);
        auto it = model.find(id);
        ASSERT_EQ(found != nullptr, it != model.end());
        if (found) {
          EXPECT_EQ(*found, it->second);
        }
      }
    }
    ASSERT_EQ(map.size(), model.size());
  }
  // Iteration visits each entry once, in the order first added.
  std::unordered_map<ObjectId, int, ObjectIdHash> seen;
  for (const auto& [id, v] : map) EXPECT_TRUE(seen.emplace(id, v).second);
  EXPECT_EQ(seen, model);
}

TEST(IdMapTest, MoveClearAndReserveKeepItUsable) {
  std::vector<ObjectId> ids = RandomIds(100);
  IdMap<int> a;
  a.reserve(1000);
  for (int i = 0; i < 100; i++) a.TryEmplace(ids[i], i);
  IdMap<int> b = std::move(a);
  EXPECT_EQ(b.size(), 100u);
  ASSERT_NE(b.Find(ids[42]), nullptr);
  EXPECT_EQ(*b.Find(ids[42]), 42);
  // The moved-from map is empty and still works.
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.Find(ids[42]), nullptr);
  a.TryEmplace(ids[1], 7);
  EXPECT_EQ(*a.Find(ids[1]), 7);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.Find(ids[42]), nullptr);
  b.Assign(ids[42], 1);
  EXPECT_EQ(*b.Find(ids[42]), 1);
}

// Ids that differ in one byte only (not how real ids look): every one is
// still found, and none is found twice.
TEST(IdMapTest, IdsDifferingInOneByteAreDistinct) {
  IdMap<size_t> map;
  std::vector<ObjectId> ids;
  for (size_t pos = 0; pos < ObjectId::kSize; pos++) {
    for (int v = 1; v < 256; v += 7) {
      uint8_t raw[ObjectId::kSize] = {};
      raw[pos] = static_cast<uint8_t>(v);
      ids.push_back(ObjectId::FromRaw(raw));
    }
  }
  for (size_t i = 0; i < ids.size(); i++) {
    EXPECT_TRUE(map.TryEmplace(ids[i], i).second) << i;
  }
  for (size_t i = 0; i < ids.size(); i++) {
    ASSERT_NE(map.Find(ids[i]), nullptr) << i;
    EXPECT_EQ(*map.Find(ids[i]), i);
  }
  uint8_t zero[ObjectId::kSize] = {};
  EXPECT_EQ(map.Find(ObjectId::FromRaw(zero)), nullptr);
}

}  // namespace
}  // namespace larix
