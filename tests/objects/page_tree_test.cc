// Tests for objects/page_tree.{h,cc}.
//
// Most tests run for every supported fanout (16..256) against a brute-force
// model (std::map<pgno, id>).  What they pin down:
//   1. Get/PageCount/ForEach agree with the model after any Apply.
//   2. Canonical form: the same mapping has the same root id however it was
//      built (order, batching, sets-then-deletes, truncation, growth and
//      shrinking).
//   3. Diff equals the model's diff, for trees of any heights, empty ones
//      included, and reads O(height) nodes for a one-page change.
//   4. Apply shares untouched nodes: one change stages exactly `height`
//      nodes.
//   5. Damaged nodes are Corruption naming the node.
// The one-million-page tree is built once for the suite.

#include "objects/page_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "larix/commit.h"
#include "larix/sys/backend.h"
#include "objects/object_format.h"
#include "objects/odb.h"

namespace larix {
namespace {

using Sets = std::vector<std::pair<uint32_t, ObjectId>>;
using Model = std::map<uint32_t, ObjectId>;

// A stand-in for the id of page `pgno`'s version `v`.
ObjectId PageId(uint32_t pgno, uint32_t v = 0) {
  return ObjectId::Hash("page " + std::to_string(pgno) + " v" +
                        std::to_string(v));
}

Sets SetsOf(const Model& m) { return Sets(m.begin(), m.end()); }

// Everything ForEach reports, as a model.
Model Dump(PageTree* tree, const ObjectId& root) {
  Model m;
  uint32_t last = 0;
  bool first = true;
  Status s = tree->ForEach(root, [&](uint32_t pgno, const ObjectId& id) {
    EXPECT_TRUE(first || pgno > last) << "ForEach out of order at " << pgno;
    first = false;
    last = pgno;
    m[pgno] = id;
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return m;
}

std::vector<PageChange> ModelDiff(const Model& a, const Model& b) {
  std::vector<PageChange> out;
  auto ia = a.begin(), ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      out.push_back({ia->first, ia->second, ObjectId()});
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      out.push_back({ib->first, ObjectId(), ib->second});
      ++ib;
    } else {
      if (ia->second != ib->second) {
        out.push_back({ia->first, ia->second, ib->second});
      }
      ++ia;
      ++ib;
    }
  }
  return out;
}

class Store {
 public:
  explicit Store(int bits, size_t cache_bytes = 64 << 20)
      : backend_(NewMemoryBackend()),
        odb_(backend_.get(), OdbOptions()),
        tree_(&odb_, cache_bytes, bits) {}

  PageTree* tree() { return &tree_; }
  Odb* odb() { return &odb_; }
  Backend* backend() { return backend_.get(); }

  // Applies and commits; the last batch is kept for inspection.
  ObjectId Apply(const ObjectId& root, const Sets& sets,
                 std::optional<uint32_t> truncate_to = std::nullopt) {
    batch_.Clear();
    Result<ObjectId> r = tree_.Apply(root, sets, truncate_to, &batch_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return ObjectId();
    Status s = backend_->Apply(batch_, WriteOptions{false});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return *r;
  }
  const WriteBatch& last_batch() const { return batch_; }

  // Puts raw canonical bytes in the store under their hash.
  ObjectId PutRaw(const std::string& canonical) {
    WriteBatch b;
    ObjectId id = odb_.Stage(&b, canonical);
    EXPECT_TRUE(backend_->Apply(b, WriteOptions{false}).ok());
    return id;
  }

  // Asserts the tree at `root` holds exactly `m`.
  void ExpectHolds(const ObjectId& root, const Model& m) {
    EXPECT_EQ(Dump(&tree_, root), m);
    Result<uint32_t> count = tree_.PageCount(root);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(*count, m.empty() ? 0u : m.rbegin()->first + 1);
    EXPECT_EQ(root.IsNull(), m.empty());
    for (const auto& [pgno, id] : m) {
      Result<ObjectId> got = tree_.Get(root, pgno);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, id) << "page " << pgno;
      Result<ObjectId> next = tree_.Get(root, pgno + 1);
      ASSERT_TRUE(next.ok());
      auto it = m.find(pgno + 1);
      EXPECT_EQ(*next, it == m.end() ? ObjectId() : it->second);
    }
  }

 private:
  std::unique_ptr<Backend> backend_;
  Odb odb_;
  PageTree tree_;
  WriteBatch batch_;
};

// Height a minimal tree of fanout 2^bits needs to hold page `last`.
int HeightFor(int bits, uint64_t last) {
  int h = 1;
  while ((last >> (bits * h)) != 0) h++;
  return h;
}

class PageTreeTest : public ::testing::TestWithParam<int> {
 protected:
  int bits() const { return GetParam(); }
  uint32_t fanout() const { return 1u << bits(); }
};

INSTANTIATE_TEST_SUITE_P(Fanouts, PageTreeTest, ::testing::Range(4, 9),
                         [](const auto& info) {
                           return "F" + std::to_string(1 << info.param);
                         });

TEST_P(PageTreeTest, EmptyTree) {
  Store st(bits());
  PageTree* t = st.tree();
  ObjectId empty;
  EXPECT_TRUE(t->Get(empty, 0)->IsNull());
  EXPECT_EQ(*t->PageCount(empty), 0u);
  EXPECT_EQ(*t->Height(empty), 0);
  st.ExpectHolds(empty, {});
  std::vector<PageChange> d;
  ASSERT_TRUE(t->Diff(empty, empty, &d).ok());
  EXPECT_TRUE(d.empty());

  // Nothing to do: same (null) root, nothing staged.
  WriteBatch b;
  EXPECT_TRUE(t->Apply(empty, {}, std::nullopt, &b)->IsNull());
  EXPECT_TRUE(t->Apply(empty, {{0, {}}, {1000000, {}}}, 0, &b)->IsNull());
  EXPECT_TRUE(t->Apply(empty, {{5, PageId(5)}}, 5, &b)->IsNull());
  EXPECT_TRUE(b.empty());

  // Back to empty by deleting the only page: the null root, not a node.
  ObjectId one = st.Apply(empty, {{7, PageId(7)}});
  EXPECT_FALSE(one.IsNull());
  EXPECT_TRUE(st.Apply(one, {{7, {}}}).IsNull());
  EXPECT_TRUE(st.Apply(one, {}, 0).IsNull());
}

TEST_P(PageTreeTest, GetSetDelete) {
  Store st(bits());
  Model m;
  ObjectId root;
  for (uint32_t p : {0u, 1u, 2u, 40u, 3000u}) m[p] = PageId(p);
  root = st.Apply(root, SetsOf(m));
  st.ExpectHolds(root, m);

  // Overwrite, delete, delete-absent, add in one call.
  Sets sets = {{1, PageId(1, 1)}, {2, {}}, {5, {}}, {3001, PageId(3001)}};
  root = st.Apply(root, sets);
  m[1] = PageId(1, 1);
  m.erase(2);
  m[3001] = PageId(3001);
  st.ExpectHolds(root, m);
  EXPECT_TRUE(st.tree()->Get(root, 2)->IsNull());
  EXPECT_TRUE(st.tree()->Get(root, 0xfffffffe)->IsNull());

  // Setting pages to the ids they already have changes nothing.
  WriteBatch b;
  Result<ObjectId> same = st.tree()->Apply(root, SetsOf(m), std::nullopt, &b);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, root);
  EXPECT_TRUE(b.empty());
}

TEST_P(PageTreeTest, HeightGrowsAndShrinks) {
  Store st(bits());
  PageTree* t = st.tree();
  const uint64_t f = fanout();
  ObjectId r1 = st.Apply({}, {{0, PageId(0)}});
  EXPECT_EQ(*t->Height(r1), 1);
  ObjectId r = st.Apply(r1, {{static_cast<uint32_t>(f - 1), PageId(1)}});
  EXPECT_EQ(*t->Height(r), 1);
  r = st.Apply(r1, {{static_cast<uint32_t>(f), PageId(2)}});
  EXPECT_EQ(*t->Height(r), 2);
  ObjectId r3 = st.Apply(r, {{static_cast<uint32_t>(f * f), PageId(3)}});
  EXPECT_EQ(*t->Height(r3), 3);
  // Shrinking back by deletes yields exactly the smaller trees' roots.
  EXPECT_EQ(st.Apply(r3, {{static_cast<uint32_t>(f * f), {}}}), r);
  EXPECT_EQ(st.Apply(r3, {{static_cast<uint32_t>(f), {}},
                          {static_cast<uint32_t>(f * f), {}}}),
            r1);
  EXPECT_EQ(st.Apply(r3, {}, 1), r1);
  // Shrinking through an existing (shared) node that has only child 0.
  ObjectId gap = st.Apply(r1, {{static_cast<uint32_t>(f * f), PageId(3)}});
  EXPECT_EQ(*t->Height(gap), 3);
  EXPECT_EQ(st.Apply(gap, {{static_cast<uint32_t>(f * f), {}}}), r1);
  EXPECT_EQ(st.Apply(gap, {}, static_cast<uint32_t>(f * f)), r1);
  EXPECT_EQ(st.Apply(r3, {}, static_cast<uint32_t>(f * f)), r);

  // The highest page number gives the tallest tree.
  ObjectId top = st.Apply(r1, {{PageTree::kMaxPageNumber, PageId(9)}});
  EXPECT_EQ(*t->Height(top), PageTree::MaxLevel(bits()) + 1);
  EXPECT_EQ(*t->PageCount(top), 0xffffffffu);
  EXPECT_EQ(*t->Get(top, PageTree::kMaxPageNumber), PageId(9));
  EXPECT_EQ(st.Apply(top, {{PageTree::kMaxPageNumber, {}}}), r1);
  EXPECT_EQ(st.Apply(top, {}, PageTree::kMaxPageNumber), r1);
}

TEST_P(PageTreeTest, Truncate) {
  Store st(bits());
  Model m;
  for (uint32_t p = 0; p < 5000; p += (p % 7) + 1) m[p] = PageId(p);
  ObjectId root = st.Apply({}, SetsOf(m));
  for (uint32_t n : {4999u, 4000u, 1234u, fanout() + 1, fanout(), 3u, 1u}) {
    Model cut(m.begin(), m.lower_bound(n));
    ObjectId t = st.Apply(root, {}, n);
    st.ExpectHolds(t, cut);
    EXPECT_EQ(t, st.Apply({}, SetsOf(cut))) << "truncate to " << n;
  }
  EXPECT_TRUE(st.Apply(root, {}, 0).IsNull());
  // Truncating at or past the end is a no-op that stages nothing.
  WriteBatch b;
  EXPECT_EQ(*st.tree()->Apply(root, {}, 5000, &b), root);
  EXPECT_EQ(*st.tree()->Apply(root, {}, 0xffffffff, &b), root);
  EXPECT_TRUE(b.empty());
  // Sets are applied first, so sets at or past the cut have no effect.
  ObjectId t = st.Apply(root, {{10, PageId(10, 1)}, {20000, PageId(1)}}, 100);
  Model cut(m.begin(), m.lower_bound(100));
  cut[10] = PageId(10, 1);
  st.ExpectHolds(t, cut);
}

// The same mapping reached along very different paths has one root id.
TEST_P(PageTreeTest, CanonicalRootsRandomized) {
  for (uint32_t seed = 1; seed <= 12; seed++) {
    Store st(bits());
    std::mt19937 rng(seed * 7919 + bits());
    const uint32_t range = seed % 3 == 0 ? 300 : (seed % 3 == 1 ? 20000 : 3);
    Model m;
    const int n = static_cast<int>(rng() % 400);
    for (int i = 0; i < n; i++) {
      uint32_t p = rng() % range;
      m[p] = PageId(p, rng() % 3);
    }
    const ObjectId direct = st.Apply({}, SetsOf(m));
    st.ExpectHolds(direct, m);

    // Path 2: random order in small batches, with noise pages that are
    // later deleted, pages first set to other ids, and a high tail that a
    // truncation removes.
    std::vector<std::pair<uint32_t, ObjectId>> items(m.begin(), m.end());
    std::shuffle(items.begin(), items.end(), rng);
    ObjectId root;
    Model noise;
    for (size_t i = 0; i < items.size();) {
      Model batch;
      size_t k = 1 + rng() % 20;
      for (; k > 0 && i < items.size(); k--, i++) {
        batch[items[i].first] =
            rng() % 4 == 0 ? PageId(items[i].first, 99) : items[i].second;
      }
      for (int j = 0; j < 3; j++) {
        uint32_t p = rng() % (range * 2);
        if (!m.count(p) && !batch.count(p)) {
          batch[p] = PageId(p, 7);
          noise[p] = PageId(p, 7);
        }
      }
      root = st.Apply(root, SetsOf(batch));
    }
    Sets fix;
    for (const auto& [p, id] : m) fix.push_back({p, id});
    for (const auto& [p, id] : noise) {
      if (!m.count(p) && (m.empty() || p < m.rbegin()->first)) {
        fix.push_back({p, ObjectId()});
      }
    }
    std::sort(fix.begin(), fix.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    uint32_t cut = m.empty() ? 0 : m.rbegin()->first + 1;
    root = st.Apply(root, fix, cut);
    EXPECT_EQ(root, direct) << "seed " << seed;

    // Path 3: all pages, plus one far beyond them, then delete that one.
    ObjectId tall = st.Apply({}, [&] {
      Sets s = SetsOf(m);
      s.push_back({0x7fffffff, PageId(1)});
      return s;
    }());
    EXPECT_EQ(st.Apply(tall, {{0x7fffffff, {}}}), direct) << "seed " << seed;
  }
}

// Diff against the model for random pairs of trees: overlapping edits,
// growth, shrinkage, truncation, empty trees, different heights.
TEST_P(PageTreeTest, DiffMatchesModelRandomized) {
  Store st(bits());
  PageTree* t = st.tree();
  for (uint32_t seed = 1; seed <= 40; seed++) {
    std::mt19937 rng(seed * 104729 + bits());
    auto random_model = [&](uint32_t range, int n) {
      Model m;
      for (int i = 0; i < n; i++) {
        uint32_t p = rng() % range;
        m[p] = PageId(p, rng() % 2);
      }
      return m;
    };
    const uint32_t ranges[] = {1, 16, 300, 5000, 100000};
    Model a = random_model(ranges[rng() % 5], static_cast<int>(rng() % 300));
    if (seed % 10 == 0) a.clear();
    Model b = a;
    switch (seed % 4) {
      case 0:  // unrelated tree
        b = random_model(ranges[rng() % 5], static_cast<int>(rng() % 300));
        break;
      case 1:  // a few edits and deletes
        for (int i = 0; i < 10 && !a.empty(); i++) {
          auto it = std::next(b.begin(), rng() % b.size());
          if (rng() % 2) {
            it->second = PageId(it->first, 5);
          } else {
            b.erase(it);
          }
          if (b.empty()) break;
        }
        break;
      case 2: {  // growth far beyond the end
        uint32_t p = 100000 + rng() % 10000000;
        b[p] = PageId(p);
        break;
      }
      case 3:  // truncation
        if (!b.empty()) b.erase(b.lower_bound(b.rbegin()->first / 2), b.end());
        break;
    }
    if (seed % 13 == 0) b.clear();
    const ObjectId ra = st.Apply({}, SetsOf(a));
    const ObjectId rb = st.Apply({}, SetsOf(b));
    std::vector<PageChange> d;
    DiffStats stats;
    ASSERT_TRUE(t->Diff(ra, rb, &d, &stats).ok());
    EXPECT_EQ(d, ModelDiff(a, b)) << "seed " << seed;
    d.clear();
    ASSERT_TRUE(t->Diff(rb, ra, &d).ok());
    EXPECT_EQ(d, ModelDiff(b, a)) << "seed " << seed;
    d.clear();
    ASSERT_TRUE(t->Diff(ra, ra, &d).ok());
    EXPECT_TRUE(d.empty());
  }
}

TEST_P(PageTreeTest, ForEachOrderAndStop) {
  Store st(bits());
  Model m;
  for (uint32_t p = 3; p < 100000; p = p * 3 + 1) m[p] = PageId(p);
  m[0] = PageId(0);
  ObjectId root = st.Apply({}, SetsOf(m));
  EXPECT_EQ(Dump(st.tree(), root), m);  // Dump checks ascending order
  std::vector<uint32_t> seen;
  ASSERT_TRUE(st.tree()
                  ->ForEach(root,
                            [&](uint32_t p, const ObjectId&) {
                              seen.push_back(p);
                              return seen.size() < 3;
                            })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint32_t>{0, 3, 10}));
}

TEST_P(PageTreeTest, WalkNodesVisitsEveryNodeAndPageAndCanSkip) {
  Store st(bits());
  Model m;
  for (uint32_t p = 0; p < 3 * fanout() * fanout(); p += 5) m[p] = PageId(p);
  ObjectId root = st.Apply({}, SetsOf(m));
  std::vector<ObjectId> nodes;
  size_t pages = 0;
  ASSERT_TRUE(st.tree()
                  ->WalkNodes(
                      root,
                      [&](const ObjectId& n) {
                        nodes.push_back(n);
                        return true;
                      },
                      [&](const ObjectId&) { pages++; })
                  .ok());
  EXPECT_EQ(pages, m.size());
  EXPECT_EQ(nodes.front(), root);
  // Every visited node is a tree node whose children ChildrenOf lists.
  size_t child_refs = 0;
  for (const ObjectId& n : nodes) {
    Result<Odb::Object> obj = st.odb()->Read(n);
    ASSERT_TRUE(obj.ok());
    int level = -1;
    Result<std::vector<ObjectId>> kids = PageTree::ChildrenOf(n, **obj, &level);
    ASSERT_TRUE(kids.ok());
    if (level > 0) child_refs += kids->size();
  }
  EXPECT_EQ(child_refs + 1, nodes.size());
  // Refusing the root skips everything.
  pages = 0;
  ASSERT_TRUE(st.tree()
                  ->WalkNodes(
                      root, [](const ObjectId&) { return false; },
                      [&](const ObjectId&) { pages++; })
                  .ok());
  EXPECT_EQ(pages, 0u);
}

TEST_P(PageTreeTest, OneChangeStagesExactlyHeightNodes) {
  Store st(bits());
  Model m;
  for (uint32_t p = 0; p < 50000; p++) m[p] = PageId(p);
  ObjectId root = st.Apply({}, SetsOf(m));
  const int height = *st.tree()->Height(root);
  EXPECT_EQ(height, HeightFor(bits(), 49999));
  ObjectId r2 = st.Apply(root, {{31337, PageId(31337, 1)}});
  EXPECT_EQ(st.last_batch().objects().size(), static_cast<size_t>(height));
  // Everything but the changed path is shared: count nodes not in root.
  std::set<ObjectId> old_nodes;
  ASSERT_TRUE(st.tree()
                  ->WalkNodes(
                      root,
                      [&](const ObjectId& n) {
                        old_nodes.insert(n);
                        return true;
                      },
                      [](const ObjectId&) {})
                  .ok());
  int fresh = 0;
  ASSERT_TRUE(st.tree()
                  ->WalkNodes(
                      r2,
                      [&](const ObjectId& n) {
                        if (old_nodes.count(n)) return false;
                        fresh++;
                        return true;
                      },
                      [](const ObjectId&) {})
                  .ok());
  EXPECT_EQ(fresh, height);
}

TEST_P(PageTreeTest, EncodeDecodeRoundTrip) {
  PageTreeNode n;
  n.level = 1;
  n.fanout_bits = static_cast<uint8_t>(bits());
  for (uint32_t i = 0; i < fanout(); i += 3) {
    n.bitmap[i >> 6] |= uint64_t{1} << (i & 63);
    n.children.push_back(PageId(i));
  }
  std::string enc = PageTree::EncodeNode(n);
  EXPECT_EQ(enc.size(),
            2 + 2 + fanout() / 8 + n.children.size() * ObjectId::kSize);
  EXPECT_EQ(enc[0], static_cast<char>(ObjectKind::kTreeNode));
  Result<PageTreeNode> dec = PageTree::DecodeNode(ObjectId::Hash(enc), enc);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->level, n.level);
  EXPECT_EQ(dec->bitmap, n.bitmap);
  EXPECT_EQ(dec->children, n.children);
  EXPECT_EQ(dec->Child(3), PageId(3));
  EXPECT_TRUE(dec->Child(4).IsNull());
}

// The worked example of docs/format.md, "Page tree nodes".
TEST(PageTreeApiTest, MatchesFormatDocExample) {
  Store st(4);
  const ObjectId p0 = PageId(0), p17 = PageId(17);
  ObjectId root = st.Apply({}, {{0, p0}, {17, p17}});
  auto hex = [](std::string_view s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
      out += digits[c >> 4];
      out += digits[c & 15];
    }
    return out;
  };
  std::string leaf_a = std::string("\x02\x01\x00\x04\x01\x00", 6) +
                       std::string(p0.AsBytes());
  std::string leaf_b = std::string("\x02\x01\x00\x04\x02\x00", 6) +
                       std::string(p17.AsBytes());
  std::string top = std::string("\x02\x01\x01\x04\x03\x00", 6) +
                    std::string(ObjectId::Hash(leaf_a).AsBytes()) +
                    std::string(ObjectId::Hash(leaf_b).AsBytes());
  EXPECT_EQ(leaf_a.size(), 38u);
  EXPECT_EQ(top.size(), 70u);
  EXPECT_EQ(root, ObjectId::Hash(top));
  EXPECT_EQ(hex(**st.odb()->Read(root)), hex(top));
  EXPECT_EQ(st.Apply(root, {{17, {}}}), ObjectId::Hash(leaf_a));
}

TEST(PageTreeApiTest, RejectsBadSets) {
  Store st(PageTree::kDefaultFanoutBits);
  WriteBatch b;
  PageTree* t = st.tree();
  EXPECT_TRUE(t->Apply({}, {{5, PageId(5)}, {3, PageId(3)}}, std::nullopt, &b)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(t->Apply({}, {{5, PageId(5)}, {5, PageId(3)}}, std::nullopt, &b)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(t->Apply({}, {{0xffffffff, PageId(5)}}, std::nullopt, &b)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(b.empty());
}

TEST(PageTreeApiTest, NewRootReadableBeforeBatchIsApplied) {
  Store st(PageTree::kDefaultFanoutBits);
  WriteBatch b;
  Result<ObjectId> root =
      st.tree()->Apply({}, {{0, PageId(0)}, {100000, PageId(1)}},
                       std::nullopt, &b);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*st.tree()->Get(*root, 100000), PageId(1));
  EXPECT_EQ(*st.tree()->PageCount(*root), 100001u);
  // A tree without a cache must wait for the batch.
  PageTree uncached(st.odb(), 0);
  EXPECT_TRUE(uncached.Get(*root, 0).status().IsNotFound());
  ASSERT_TRUE(st.backend()->Apply(b, WriteOptions{false}).ok());
  EXPECT_EQ(*uncached.Get(*root, 0), PageId(0));
}

TEST(PageTreeApiTest, ConcurrentReaders) {
  Store st(PageTree::kDefaultFanoutBits, 1 << 16);  // small: forces misses
  Sets sets;
  for (uint32_t p = 0; p < 20000; p++) sets.push_back({p, PageId(p)});
  ObjectId root = st.Apply({}, sets);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(i);
      for (int k = 0; k < 3000; k++) {
        uint32_t p = rng() % 20000;
        Result<ObjectId> got = st.tree()->Get(root, p);
        if (!got.ok() || *got != PageId(p)) bad++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

// --- Corruption --------------------------------------------------------

class PageTreeCorruptionTest : public ::testing::Test {
 protected:
  static constexpr int kBits = 4;  // 16 children: 2 bitmap bytes
  Store st_{kBits};

  // A level-`level` node with children at `indices`, hand-encoded.
  std::string Node(uint8_t level, std::vector<uint32_t> indices,
                   uint8_t bits = kBits) {
    std::string s;
    PutObjectHeader(&s, ObjectKind::kTreeNode);
    s.push_back(static_cast<char>(level));
    s.push_back(static_cast<char>(bits));
    std::string bitmap((1u << bits) / 8, '\0');
    for (uint32_t i : indices) bitmap[i / 8] |= static_cast<char>(1 << (i % 8));
    s += bitmap;
    for (uint32_t i : indices) s += PageId(i).AsBytes();
    return s;
  }

  void ExpectCorrupt(const ObjectId& root, const std::string& what) {
    Result<ObjectId> got = st_.tree()->Get(root, 1);
    EXPECT_TRUE(got.status().IsCorruption())
        << what << ": " << got.status().ToString();
    EXPECT_NE(got.status().message().find(root.ToHex()), std::string::npos)
        << what << ": message must name the node: "
        << got.status().ToString();
    std::vector<PageChange> d;
    EXPECT_TRUE(st_.tree()->Diff(ObjectId(), root, &d).IsCorruption()) << what;
  }
};

TEST_F(PageTreeCorruptionTest, WellFormedHandNodeIsAccepted) {
  ObjectId root = st_.PutRaw(Node(0, {1, 2}));
  EXPECT_EQ(*st_.tree()->Get(root, 1), PageId(1));
  // Matches what Apply builds.
  EXPECT_EQ(st_.Apply({}, {{1, PageId(1)}, {2, PageId(2)}}), root);
}

TEST_F(PageTreeCorruptionTest, BadNodesAreCorruptionNamingTheNode) {
  std::string good = Node(0, {1, 2});
  std::string extra = good + "x";
  std::string shorter = good.substr(0, good.size() - 1);
  std::string popcount = good;
  popcount[4] |= 1;  // bit 0: three children claimed, two ids present
  std::string null_child = Node(0, {1});
  std::fill(null_child.end() - 32, null_child.end(), '\0');
  std::string wrong_kind = good;
  wrong_kind[0] = static_cast<char>(ObjectKind::kPage);
  std::string fanout_bits = Node(0, {1}, 9);
  std::string high_level = Node(8, {1});  // fanout 16: levels 0..7
  const std::pair<std::string, std::string> cases[] = {
      {extra, "trailing byte"},
      {shorter, "short ids"},
      {popcount, "popcount mismatch"},
      {Node(0, {}), "empty node"},
      {null_child, "null child"},
      {wrong_kind, "wrong kind"},
      {fanout_bits, "fanout bits out of range"},
      {high_level, "level above max"},
      {Node(0, {1}, 5), "fanout differs from the tree's"},
      {Node(1, {0}), "root not minimal"},
  };
  for (const auto& [bytes, what] : cases) {
    ExpectCorrupt(st_.PutRaw(bytes), what);
  }
}

TEST_F(PageTreeCorruptionTest, TopLevelIndexBeyondPageRange) {
  // Fanout 32 (5 bits): the top level is 6 and only indices 0..3 exist.
  Store st(5);
  std::string s;
  PutObjectHeader(&s, ObjectKind::kTreeNode);
  s.push_back(6);
  s.push_back(5);
  std::string bitmap(4, '\0');
  bitmap[0] = 1 << 4;  // index 4: page 4 * 2^30 > 2^32
  s += bitmap;
  s += PageId(0).AsBytes();
  ObjectId id = ObjectId::Hash(s);
  EXPECT_TRUE(PageTree::DecodeNode(id, s).status().IsCorruption());
  bitmap[0] = 1 << 3;  // index 3 is fine
  std::string ok = s;
  ok.replace(4, 4, bitmap);
  EXPECT_TRUE(PageTree::DecodeNode(ObjectId::Hash(ok), ok).ok());
}

TEST_F(PageTreeCorruptionTest, ChildAtWrongLevel) {
  ObjectId leaf = st_.PutRaw(Node(0, {1}));
  // A level-2 root whose child claims to be level 1 but is level 0.
  std::string s;
  PutObjectHeader(&s, ObjectKind::kTreeNode);
  s.push_back(2);
  s.push_back(kBits);
  s += std::string("\x02\x00", 2);  // child 1 only
  s += leaf.AsBytes();
  ObjectId root = st_.PutRaw(s);
  Result<ObjectId> got = st_.tree()->Get(root, 256 + 16 + 1);
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_NE(got.status().message().find(leaf.ToHex()), std::string::npos);
}

TEST_F(PageTreeCorruptionTest, MissingNodeIsNotFoundNamingIt) {
  ObjectId missing = PageId(12345);
  Result<ObjectId> got = st_.tree()->Get(missing, 0);
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_NE(got.status().message().find(missing.ToHex()), std::string::npos);
}

// --- The one-million-page tree -----------------------------------------

class MillionPageTreeTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kPages = 1 << 20;

  static void SetUpTestSuite() {
    store_ = new Store(PageTree::kDefaultFanoutBits, 256 << 20);
    ObjectId root;
    for (uint32_t base = 0; base < kPages; base += 1 << 16) {
      Sets sets;
      sets.reserve(1 << 16);
      for (uint32_t p = base; p < base + (1 << 16); p++) {
        sets.push_back({p, PageId(p)});
      }
      root = store_->Apply(root, sets);
    }
    root_ = new ObjectId(root);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete root_;
    store_ = nullptr;
    root_ = nullptr;
  }

  static Store* store_;
  static ObjectId* root_;
};
Store* MillionPageTreeTest::store_ = nullptr;
ObjectId* MillionPageTreeTest::root_ = nullptr;

TEST_F(MillionPageTreeTest, ShapeAndSpotChecks) {
  PageTree* t = store_->tree();
  EXPECT_EQ(*t->PageCount(*root_), kPages);
  EXPECT_EQ(*t->Height(*root_), HeightFor(t->fanout_bits(), kPages - 1));
  for (uint32_t p : {0u, 1u, 4095u, 777777u, kPages - 1}) {
    EXPECT_EQ(*t->Get(*root_, p), PageId(p));
  }
  EXPECT_TRUE(t->Get(*root_, kPages)->IsNull());
}

TEST_F(MillionPageTreeTest, OnePageChangeDiffReadsOnlyThePath) {
  PageTree* t = store_->tree();
  const int height = *t->Height(*root_);
  std::mt19937 rng(42);
  std::vector<double> micros;
  for (int run = 0; run < 51; run++) {
    uint32_t p = rng() % kPages;
    ObjectId changed = store_->Apply(*root_, {{p, PageId(p, 1)}});
    EXPECT_EQ(store_->last_batch().objects().size(),
              static_cast<size_t>(height));
    std::vector<PageChange> d;
    DiffStats stats;
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(t->Diff(*root_, changed, &d, &stats).ok());
    auto end = std::chrono::steady_clock::now();
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0], (PageChange{p, PageId(p), PageId(p, 1)}));
    // Two nodes per level (old and new path), nothing else.
    EXPECT_EQ(stats.nodes_read, 2u * height);
  }
  std::sort(micros.begin(), micros.end());
  EXPECT_LT(micros[micros.size() / 2], 1000.0)
      << "median Diff of a one-page change took " << micros[micros.size() / 2]
      << " us";
}

TEST_F(MillionPageTreeTest, TruncateStagesOnlyTheBoundaryPath) {
  PageTree* t = store_->tree();
  const int height = *t->Height(*root_);
  ObjectId half = store_->Apply(*root_, {}, kPages / 2 + 17);
  EXPECT_LE(store_->last_batch().objects().size(),
            static_cast<size_t>(height));
  EXPECT_EQ(*t->PageCount(half), kPages / 2 + 17);
  std::vector<PageChange> d;
  ASSERT_TRUE(t->Diff(half, *root_, &d).ok());
  ASSERT_EQ(d.size(), kPages / 2 - 17);
  EXPECT_EQ(d.front().pgno, kPages / 2 + 17);
  EXPECT_TRUE(d.front().before.IsNull());
  // Truncating to a few pages collapses the height.
  ObjectId tiny = store_->Apply(*root_, {}, 3);
  EXPECT_EQ(*t->Height(tiny), 1);
  EXPECT_EQ(tiny, store_->Apply(
                      {}, {{0, PageId(0)}, {1, PageId(1)}, {2, PageId(2)}}));
}

// A node that replaces another is stored as a delta against it (decision
// 0007), and a reader with nothing cached still gets the same mapping, for
// longer chains than the depth limit.
TEST(PageTreeDeltaTest, ChangedNodesAreDeltasAndReadBackCold) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions());
  PageTree tree(&odb, 64 << 20, 4);
  Model m;
  for (uint32_t p = 0; p < 5000; p++) m[p] = PageId(p);
  WriteBatch batch;
  Result<ObjectId> root = tree.Apply(ObjectId(), SetsOf(m), std::nullopt,
                                     &batch);
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  std::mt19937 rng(3);
  size_t total_deltas = 0;
  for (uint32_t v = 1; v <= 3 * Odb::kMaxDeltaDepth; v++) {
    uint32_t p = rng() % 5000;
    m[p] = PageId(p, v);
    WriteBatch b;
    root = tree.Apply(*root, {{p, m[p]}}, std::nullopt, &b);
    ASSERT_TRUE(root.ok());
    size_t deltas = 0, bytes = 0;
    for (const auto& put : b.objects()) {
      ObjectId base;
      deltas += StoredDeltaBase(put.Joined(), &base);
      bytes += put.size();
    }
    // Height 4: the leaf and its three ancestors.  The two lower ones hold
    // 16 children (518 bytes) and are deltas unless their base is at the
    // depth limit; the upper two hold a few (a delta of one id would not
    // be a quarter of them).
    EXPECT_EQ(b.objects().size(), 4u);
    EXPECT_GE(deltas, 1u) << v;
    EXPECT_LT(bytes, 2 * 600u + 2 * 150u) << v;
    total_deltas += deltas;
    ASSERT_TRUE(backend->Apply(b, WriteOptions{true}).ok());
  }
  Odb cold_odb(backend.get(), OdbOptions());
  PageTree cold(&cold_odb, 64 << 20, 4);
  EXPECT_EQ(Dump(&cold, *root), m);
  EXPECT_GE(total_deltas, 2u * 3 * Odb::kMaxDeltaDepth - 6);
}

}  // namespace
}  // namespace larix
