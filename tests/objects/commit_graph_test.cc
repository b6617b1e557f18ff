#include "objects/commit_graph.h"

#include <gtest/gtest.h>

#include <random>

#include "objects/object_format.h"

namespace larix {
namespace {

class CommitGraphTest : public ::testing::Test {
 protected:
  CommitGraphTest() : backend_(NewMemoryBackend()), odb_(backend_.get(), {}) {}

  // A commit with the given parents and the next transaction number.
  ObjectId Make(std::vector<ObjectId> parents, const std::string& msg = "") {
    Commit c;
    c.parents = std::move(parents);
    c.txn = ++txn_;
    c.time_us = 1000 * static_cast<int64_t>(txn_);
    c.message = msg.empty() ? "c" + std::to_string(txn_) : msg;
    WriteBatch b;
    ObjectId id = odb_.Stage(&b, EncodeCommit(c));
    EXPECT_TRUE(backend_->Apply(b, {}).ok());
    return id;
  }

  std::unique_ptr<Backend> backend_;
  Odb odb_;
  uint64_t txn_ = 0;
};

TEST_F(CommitGraphTest, FirstParentLogFollowsFirstParents) {
  CommitGraph g(&odb_);
  ObjectId a = Make({});
  ObjectId b = Make({a});
  ObjectId side = Make({a});
  ObjectId m = Make({b, side});
  std::vector<ObjectId> seen;
  ASSERT_TRUE(g.FirstParentLog(m, 0, [&](const ObjectId& id, const Commit&) {
                 seen.push_back(id);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<ObjectId>{m, b, a}));
  seen.clear();
  ASSERT_TRUE(g.Log({m}, 0, [&](const ObjectId& id, const Commit&) {
                 seen.push_back(id);
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<ObjectId>{m, side, b, a}));
}

TEST_F(CommitGraphTest, MergeBaseOfForkAndCrissCross) {
  CommitGraph g(&odb_);
  ObjectId root = Make({});
  ObjectId base = Make({root});
  ObjectId x1 = Make({base}), y1 = Make({base});
  ObjectId x2 = Make({x1}), y2 = Make({y1});
  EXPECT_EQ(*g.MergeBase(x2, y2), base);
  EXPECT_EQ(*g.MergeBase(x2, base), base);
  EXPECT_EQ(*g.MergeBase(x2, x2), x2);
  // After merging y2 into x (x3), the base of x3 and a new y3 is y2.
  ObjectId x3 = Make({x2, y2});
  ObjectId y3 = Make({y2});
  EXPECT_EQ(*g.MergeBase(x3, y3), y2);
  // Unrelated histories have no base.
  ObjectId other = Make({});
  EXPECT_TRUE(g.MergeBase(x3, other)->IsNull());
}

TEST_F(CommitGraphTest, IsAncestor) {
  CommitGraph g(&odb_);
  ObjectId a = Make({});
  ObjectId b = Make({a});
  ObjectId c = Make({a});
  ObjectId m = Make({b, c});
  EXPECT_TRUE(*g.IsAncestor(a, m));
  EXPECT_TRUE(*g.IsAncestor(c, m));
  EXPECT_TRUE(*g.IsAncestor(m, m));
  EXPECT_FALSE(*g.IsAncestor(m, a));
  EXPECT_FALSE(*g.IsAncestor(b, c));
}

// Randomized DAGs: MergeBase is a common ancestor and no other common
// ancestor descends from it; IsAncestor agrees with a brute-force closure.
TEST_F(CommitGraphTest, RandomDagsAgreeWithBruteForce) {
  CommitGraph g(&odb_);
  std::mt19937 rng(7);
  std::vector<ObjectId> ids;
  std::vector<std::vector<size_t>> parents;
  for (int i = 0; i < 120; i++) {
    std::vector<size_t> ps;
    if (i > 0 && rng() % 10 != 0) ps.push_back(rng() % i);
    if (i > 1 && rng() % 4 == 0) ps.push_back(rng() % i);
    std::vector<ObjectId> pids;
    for (size_t p : ps) pids.push_back(ids[p]);
    ids.push_back(Make(pids));
    parents.push_back(ps);
  }
  size_t n = ids.size();
  std::vector<std::vector<bool>> anc(n, std::vector<bool>(n));  // anc[d][a]
  for (size_t i = 0; i < n; i++) {
    anc[i][i] = true;
    for (size_t p : parents[i])
      for (size_t k = 0; k < n; k++)
        if (anc[p][k]) anc[i][k] = true;
  }
  for (int t = 0; t < 300; t++) {
    size_t a = rng() % n, b = rng() % n;
    EXPECT_EQ(*g.IsAncestor(ids[a], ids[b]), anc[b][a]);
    ObjectId mb = *g.MergeBase(ids[a], ids[b]);
    bool any_common = false;
    for (size_t k = 0; k < n; k++) any_common |= anc[a][k] && anc[b][k];
    if (!any_common) {
      EXPECT_TRUE(mb.IsNull());
      continue;
    }
    size_t m = std::find(ids.begin(), ids.end(), mb) - ids.begin();
    ASSERT_LT(m, n);
    EXPECT_TRUE(anc[a][m] && anc[b][m]);
    for (size_t k = 0; k < n; k++) {
      if (k != m && anc[a][k] && anc[b][k]) {
        EXPECT_FALSE(anc[k][m]);
      }
    }
  }
}

}  // namespace
}  // namespace larix
