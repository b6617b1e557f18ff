// Store: creation and opening, the process lock, the commit path, GC and
// fsck.  Parameterised over the on-disk backends where it matters.

#include "larix/store.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "larix/sys/backend.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& tag) {
  static int n = 0;
  fs::path p = fs::temp_directory_path() /
               ("larix_store_" + tag + "_" + std::to_string(getpid()) + "_" +
                std::to_string(n++));
  fs::remove_all(p);
  return p.string();
}

std::string PageBytes(int seed, size_t size = 4096) {
  std::string p(size, '\0');
  std::mt19937 rng(seed);
  for (size_t i = 0; i < size / 2; i++) p[i] = static_cast<char>(rng());
  return p;
}

// Commits `pages` on top of the branch head.
Result<CommitResult> CommitOn(Store* store, const std::string& branch,
                              std::vector<PageWrite> pages,
                              bool sync = true) {
  std::string ref = BranchRef(branch);
  LARIX_ASSIGN_OR_RETURN(ObjectId head, store->refs()->Resolve(ref));
  LARIX_ASSIGN_OR_RETURN(auto commit, store->commits()->Load(head));
  CommitRequest req;
  req.ref = ref;
  req.expected_head = head;
  req.base_tree = commit->tree;
  req.pages = std::move(pages);
  req.message = "test";
  req.sync = sync;
  return store->CommitPages(req);
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { dir_ = TempDir(GetParam()); }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> OpenOrDie(bool create = true) {
    StoreOptions o;
    o.create_if_missing = create;
    o.backend = GetParam();
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir_, o, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  std::string dir_;
};

TEST_P(StoreTest, CreateThenReopenKeepsCommits) {
  ObjectId head;
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store);
    auto r = CommitOn(store.get(), "main", {{0, PageBytes(1)}, {1, PageBytes(2)}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->txn, 2u);  // the initial commit is transaction 1
    head = r->commit;
  }
  auto store = OpenOrDie(false);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->refs()->Resolve(BranchRef("main")), head);
  EXPECT_EQ(*store->refs()->ResolveName("HEAD"), BranchRef("main"));
  auto r = CommitOn(store.get(), "main", {{1, PageBytes(3)}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->txn, 3u);
  ObjectId tree = r->tree;
  EXPECT_EQ(*store->trees()->PageCount(tree), 2u);
  ObjectId p1 = *store->trees()->Get(tree, 1);
  EXPECT_EQ(*DecodePage(**store->odb()->Read(p1)), PageBytes(3));
}

TEST_P(StoreTest, OpenErrorsAreClear) {
  StoreOptions o;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir_, o, &store);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();

  fs::create_directories(dir_);
  std::ofstream(dir_ + "/unrelated.txt") << "hello";
  s = Store::Open(dir_, o, &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("not a Larix store"), std::string::npos);
  o.create_if_missing = true;
  s = Store::Open(dir_, o, &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(fs::exists(dir_ + "/unrelated.txt"));
  EXPECT_FALSE(fs::exists(dir_ + "/LARIX"));  // nothing written over it
}

TEST_P(StoreTest, NewerFormatIsRefused) {
  { OpenOrDie(); }
  std::ofstream(dir_ + "/LARIX", std::ios::trunc)
      << "larix-store 99 " << GetParam() << "\n";
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir_, {}, &store);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find("newer"), std::string::npos);
}

// Format 1 (before page deltas) is read as it is and marked as format 2
// when opened, so that an older build refuses the store from then on.
TEST_P(StoreTest, AFormatOneStoreIsUpgradedOnOpen) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(CommitOn(store.get(), "main", {{0, PageBytes(1)}}).ok());
  }
  std::ofstream(dir_ + "/LARIX", std::ios::trunc)
      << "larix-store 1 " << GetParam() << "\n";
  {
    auto store = OpenOrDie(false);
    ASSERT_TRUE(store);
    FsckReport report;
    ASSERT_TRUE(store->Fsck(&report).ok());
    EXPECT_TRUE(report.ok());
  }
  std::ifstream in(dir_ + "/LARIX");
  std::string magic, backend;
  uint32_t format = 0;
  in >> magic >> format >> backend;
  EXPECT_EQ(format, kStoreFormatVersion);
  EXPECT_EQ(backend, GetParam());
}

TEST_P(StoreTest, SecondProcessGetsBusyNamingTheHolder) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t child = fork();
  if (child == 0) {
    std::unique_ptr<Store> other;
    Status s = Store::Open(dir_, {}, &other);
    std::string msg = s.ToString();
    ssize_t n = write(pipefd[1], msg.data(), msg.size());
    (void)n;
    _exit(s.IsBusy() ? 0 : 1);
  }
  close(pipefd[1]);
  char buf[512] = {0};
  ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
  (void)n;
  close(pipefd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << buf;
  EXPECT_NE(std::string(buf).find("process " + std::to_string(getpid())),
            std::string::npos)
      << buf;
}

TEST_P(StoreTest, CompareAndSwapRejectsAStaleHead) {
  auto store = OpenOrDie();
  ObjectId head = *store->refs()->Resolve(BranchRef("main"));
  ASSERT_TRUE(CommitOn(store.get(), "main", {{0, PageBytes(1)}}).ok());
  CommitRequest req;
  req.ref = BranchRef("main");
  req.expected_head = head;  // stale
  req.pages = {{0, PageBytes(2)}};
  auto r = store->CommitPages(req);
  EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
}

TEST_P(StoreTest, FsckIsCleanAndGcKeepsEverythingReachable) {
  auto store = OpenOrDie();
  for (int i = 0; i < 20; i++) {
    ASSERT_TRUE(CommitOn(store.get(), "main", {{static_cast<uint32_t>(i % 5), PageBytes(i)}}).ok());
  }
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0].where << ": "
                           << report.problems[0].what;
  GcStats stats;
  ASSERT_TRUE(store->Gc({}, &stats).ok());
  EXPECT_EQ(stats.swept, 0u);  // all history is reachable from main
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok());
}

TEST_P(StoreTest, GcSweepsWhatOnlyAnExpiredBranchReached) {
  auto store = OpenOrDie();
  ASSERT_TRUE(CommitOn(store.get(), "main", {{0, PageBytes(1)}}).ok());
  ObjectId main_head = *store->refs()->Resolve(BranchRef("main"));
  RefTransaction tx;
  tx.Update(BranchRef("tmp"), ObjectId(), main_head, "create");
  ASSERT_TRUE(store->UpdateRefs(tx).ok());
  auto side = CommitOn(store.get(), "tmp", {{0, PageBytes(99)}, {1, PageBytes(98)}});
  ASSERT_TRUE(side.ok());
  RefTransaction drop;
  drop.Delete(BranchRef("tmp"), side->commit, "drop");
  ASSERT_TRUE(store->UpdateRefs(drop).ok());

  // Within retention, the dropped branch's history is kept.
  GcStats stats;
  ASSERT_TRUE(store->Gc({}, &stats).ok());
  EXPECT_EQ(stats.swept, 0u);
  EXPECT_TRUE(*store->odb()->Exists(side->commit));

  // With no retention it goes: commit, tree nodes and the two pages.
  GcOptions now;
  now.retention_us = -1000000;  // the cutoff is in the future
  ASSERT_TRUE(store->Gc(now, &stats).ok());
  EXPECT_GE(stats.swept, 4u);
  EXPECT_FALSE(*store->odb()->Exists(side->commit));
  EXPECT_TRUE(*store->odb()->Exists(main_head));
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0].where << ": "
                           << report.problems[0].what;
}

// CommitPages hashes the pages it is given and skips those whose id is
// their base's (written back unchanged); a request of only such pages
// writes nothing.  page_ids gives every page's id in request order.
TEST_P(StoreTest, UnchangedPagesAreSkipped) {
  auto store = OpenOrDie();
  auto c0 = CommitOn(store.get(), "main",
                     {{0, PageBytes(1)}, {1, PageBytes(2)}, {2, PageBytes(3)}});
  ASSERT_TRUE(c0.ok()) << c0.status().ToString();
  ASSERT_EQ(c0->page_ids.size(), 3u);
  const ObjectId p0 = c0->page_ids[0], p1 = c0->page_ids[1];
  EXPECT_EQ(*store->trees()->Get(c0->tree, 1), p1);
  auto request = [&](std::vector<PageWrite> pages) {
    CommitRequest req;
    req.ref = BranchRef("main");
    req.expected_head = c0->commit;
    req.base_tree = c0->tree;
    req.unchanged_if_tree = c0->tree;
    req.pages = std::move(pages);
    req.message = "test";
    return req;
  };
  // Pages 0 and 1 as they were: nothing is written.
  auto none = store->CommitPages(request(
      {{0, PageBytes(1), ObjectId(), p0}, {1, PageBytes(2), ObjectId(), p1}}));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->txn, 0u);
  EXPECT_EQ(none->commit, c0->commit);
  ASSERT_EQ(none->page_ids.size(), 2u);
  EXPECT_EQ(none->page_ids[1], p1);
  EXPECT_EQ(*store->refs()->Resolve(BranchRef("main")), c0->commit);
  // With page 2 changed, all three are in the request; pages 0 and 1 are
  // skipped, page 2 stored.
  auto some = store->CommitPages(request(
      {{0, PageBytes(1), ObjectId(), p0}, {1, PageBytes(2), ObjectId(), p1},
       {2, PageBytes(4), ObjectId(), c0->page_ids[2]}}));
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_GT(some->txn, c0->txn);
  ASSERT_EQ(some->page_ids.size(), 3u);
  EXPECT_EQ(some->page_ids[0], p0);
  EXPECT_EQ(some->page_ids[1], p1);
  EXPECT_NE(some->page_ids[2], c0->page_ids[2]);
  EXPECT_EQ(*store->trees()->Get(some->tree, 0), p0);
  EXPECT_EQ(*store->trees()->Get(some->tree, 1), p1);
  EXPECT_EQ(*store->trees()->Get(some->tree, 2), some->page_ids[2]);
  auto page = store->odb()->Read(some->page_ids[2]);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(**page, EncodePage(PageBytes(4)));
}

// A page may come as its object (PageWrite::object) instead of its bytes:
// the same tree follows, with objects only and mixed with bytes, and the
// store caches the very object it was given.
TEST_P(StoreTest, PagesGivenAsObjectsCommitAsTheirBytesDo) {
  auto store = OpenOrDie();
  auto write = [](uint32_t pgno, int seed, bool as_object) {
    if (!as_object) return PageWrite(pgno, PageBytes(seed));
    PageWrite w(pgno, std::string());
    w.object = std::make_shared<const std::string>(EncodePage(PageBytes(seed)));
    return w;
  };
  for (const char* branch : {"objects", "mixed"}) {
    RefTransaction tx;
    tx.Update(BranchRef(branch), ObjectId(),
              *store->refs()->Resolve(BranchRef("main")), "branch: created");
    ASSERT_TRUE(store->UpdateRefs(tx).ok());
  }
  std::vector<ObjectId> trees;
  for (int variant = 0; variant < 3; variant++) {
    const std::string branch =
        variant == 0 ? "main" : variant == 1 ? "objects" : "mixed";
    std::vector<PageWrite> pages;
    for (uint32_t pgno = 0; pgno < 64; pgno++) {
      const bool as_object = variant == 1 || (variant == 2 && pgno % 2 == 1);
      pages.push_back(write(pgno, static_cast<int>(pgno) + 100, as_object));
    }
    auto c = CommitOn(store.get(), branch, std::move(pages));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    trees.push_back(c->tree);
    for (uint32_t pgno = 0; pgno < 64; pgno++) {
      auto page = store->odb()->Read(c->page_ids[pgno]);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(**page, EncodePage(PageBytes(static_cast<int>(pgno) + 100)));
    }
  }
  EXPECT_EQ(trees[0], trees[1]);
  EXPECT_EQ(trees[0], trees[2]);
  // A new page's object is cached as given: no copy was made.
  PageWrite fresh = write(64, 999, true);
  const std::shared_ptr<const std::string> given = fresh.object;
  auto c = CommitOn(store.get(), "objects", {fresh});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(store->odb()->Read(c->page_ids[0])->get(), given.get());
}

// A page stored as a delta keeps its base through GC even when nothing
// reachable names the base: here the delta's page is reachable only from a
// branch that re-used it by id, after the branch that wrote it is gone.
TEST_P(StoreTest, GcKeepsTheBaseOfALiveDelta) {
  std::string v0 = PageBytes(7);
  std::string v1 = v0;
  for (int i = 100; i < 140; i++) v1[i] = static_cast<char>(i);
  ObjectId id1;
  {
    auto store = OpenOrDie();
    RefTransaction tx;
    tx.Update(BranchRef("tmp"), ObjectId(),
              *store->refs()->Resolve(BranchRef("main")), "create");
    ASSERT_TRUE(store->UpdateRefs(tx).ok());
    auto c0 = CommitOn(store.get(), "tmp", {{0, v0}});
    ASSERT_TRUE(c0.ok());
    ObjectId id0 = *store->trees()->Get(c0->tree, 0);
    auto c1 = CommitOn(store.get(), "tmp", {{0, v1, ObjectId(), id0}});
    ASSERT_TRUE(c1.ok());
    id1 = *store->trees()->Get(c1->tree, 0);
    std::string stored;
    ASSERT_TRUE(store->backend()->ReadObject(id1, &stored).ok());
    ObjectId base;
    ASSERT_TRUE(StoredDeltaBase(stored, &base)) << "not stored as a delta";
    EXPECT_EQ(base, id0);

    // main gets the same page content (the object is re-used by id), then
    // tmp and its history go.
    ASSERT_TRUE(CommitOn(store.get(), "main", {{0, v1}}).ok());
    RefTransaction drop;
    drop.Delete(BranchRef("tmp"), c1->commit, "drop");
    ASSERT_TRUE(store->UpdateRefs(drop).ok());
    GcOptions now;
    now.retention_us = -1000000;
    GcStats stats;
    ASSERT_TRUE(store->Gc(now, &stats).ok());
    EXPECT_GE(stats.swept, 2u);  // tmp's two commits at least
    EXPECT_FALSE(*store->odb()->Exists(c1->commit));
    EXPECT_TRUE(*store->odb()->Exists(id0)) << "the delta's base was swept";
  }
  auto store = OpenOrDie(false);  // a cold cache: the delta needs its base
  auto page = store->odb()->Read(id1);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(**page, EncodePage(v1));
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0].where << ": "
                           << report.problems[0].what;
}

TEST_P(StoreTest, PinnedSnapshotSurvivesGc) {
  auto store = OpenOrDie();
  auto r = CommitOn(store.get(), "main", {{0, PageBytes(1)}});
  ASSERT_TRUE(r.ok());
  auto pin = store->PinCommit(r->commit);
  ObjectId head = r->commit;
  RefTransaction tx;  // move main away: only the pin keeps r alive
  ObjectId init = (*store->commits()->Load(head))->parents[0];
  tx.Update(BranchRef("main"), head, init, "reset");
  ASSERT_TRUE(store->UpdateRefs(tx).ok());
  GcOptions now;
  now.retention_us = -1000000;
  GcStats stats;
  ASSERT_TRUE(store->Gc(now, &stats).ok());
  EXPECT_TRUE(*store->odb()->Exists(r->commit));
  pin.reset();
  ASSERT_TRUE(store->Gc(now, &stats).ok());
  EXPECT_FALSE(*store->odb()->Exists(r->commit));
}

TEST_P(StoreTest, GcWhileCommittingNeverLosesAReachableObject) {
  auto store = OpenOrDie();
  std::atomic<bool> done{false};
  std::atomic<int> commits{0};
  std::thread writer([&] {
    for (int i = 0; i < 300; i++) {
      if (i % 10 == 9) {
        // Throw the last commits away: their objects become garbage.
        ObjectId head = *store->refs()->Resolve(BranchRef("main"));
        ObjectId back = head;
        for (int k = 0; k < 3; k++) {
          auto c = store->commits()->Load(back);
          ASSERT_TRUE(c.ok()) << c.status().ToString();
          back = (*c)->parents[0];
        }
        RefTransaction tx;
        tx.Update(BranchRef("main"), head, back, "reset");
        ASSERT_TRUE(store->UpdateRefs(tx).ok());
      }
      // Re-use page contents on purpose: a commit may re-create garbage.
      auto r = CommitOn(store.get(), "main",
                        {{static_cast<uint32_t>(i % 7), PageBytes(i % 13)}},
                        /*sync=*/false);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      commits++;
    }
    done = true;
  });
  GcOptions now;
  now.retention_us = -1000000;
  int rounds = 0;
  uint64_t swept = 0;
  while (!done || rounds < 3) {
    GcStats stats;
    ASSERT_TRUE(store->Gc(now, &stats).ok());
    swept += stats.swept;
    rounds++;
  }
  writer.join();
  EXPECT_EQ(commits.load(), 300);
  EXPECT_GT(swept, 0u);  // history was collected while commits went on
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0].where << ": "
                           << report.problems[0].what;
}

TEST_P(StoreTest, ResolveRevision) {
  auto store = OpenOrDie();
  auto r = CommitOn(store.get(), "main", {{0, PageBytes(1)}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*store->ResolveRevision("main"), r->commit);
  EXPECT_EQ(*store->ResolveRevision("refs/heads/main"), r->commit);
  EXPECT_EQ(*store->ResolveRevision(r->commit.ToHex().substr(0, 10)), r->commit);
  ASSERT_TRUE(store->CreateTag("v1", r->commit, "first", false).ok());
  EXPECT_EQ(*store->ResolveRevision("v1"), r->commit);
  EXPECT_TRUE(store->CreateTag("v1", r->commit, "again", false)
                  .status()
                  .IsAlreadyExists());
  EXPECT_TRUE(store->ResolveRevision("nope").status().IsNotFound());
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  EXPECT_TRUE(report.ok());
}

// A commit larger than one backend batch (64 MiB of pages) is written in
// chunks; the result is one commit with every page.
TEST_P(StoreTest, LargeCommitIsWrittenInChunks) {
  auto store = OpenOrDie();
  std::vector<PageWrite> pages;
  for (uint32_t i = 0; i < 20000; i++) pages.push_back({i, PageBytes(i)});
  auto r = CommitOn(store.get(), "main", std::move(pages), /*sync=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*store->trees()->PageCount(r->tree), 20000u);
  ObjectId last = *store->trees()->Get(r->tree, 19999);
  EXPECT_EQ(*DecodePage(**store->odb()->Read(last)), PageBytes(19999));
  size_t commits = 0;
  ASSERT_TRUE(store->commits()->FirstParentLog(r->commit, 0,
      [&](const ObjectId&, const Commit&) { commits++; return true; }).ok());
  EXPECT_EQ(commits, 2u);  // the initial commit and this one
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values("pack", "leveldb"));

// --- fsck on damaged stores (memory backend: damage is easy to inject) ----

TEST(StoreFsckTest, ReportsDamagedAndMissingObjects) {
  auto store = Store::OpenInMemory();
  auto r = CommitOn(store.get(), "main", {{0, PageBytes(1)}, {1, PageBytes(2)}});
  ASSERT_TRUE(r.ok());
  ObjectId page0 = *store->trees()->Get(r->tree, 0);
  ObjectId page1 = *store->trees()->Get(r->tree, 1);
  // Replace page 0's stored bytes with a bit-flipped copy, delete page 1.
  std::string stored;
  ASSERT_TRUE(store->backend()->ReadObject(page0, &stored).ok());
  stored[stored.size() / 2] ^= 0x40;
  WriteBatch b;
  b.DeleteObject(page0);
  b.DeleteObject(page1);
  ASSERT_TRUE(store->backend()->Apply(b, {}).ok());
  WriteBatch b2;
  b2.PutObject(page0, stored);
  ASSERT_TRUE(store->backend()->Apply(b2, {}).ok());
  store->odb()->Forget(page0);

  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  ASSERT_EQ(report.problems.size(), 2u);
  std::string all;
  for (auto& p : report.problems) all += p.where + ": " + p.what + "\n";
  EXPECT_NE(all.find("object " + page0.ToHex()), std::string::npos) << all;
  EXPECT_NE(all.find("hash mismatch"), std::string::npos) << all;
  EXPECT_NE(all.find(page1.ToHex() + " is missing"), std::string::npos) << all;
  // Reading the damaged page is an error naming it, never the bad data.
  auto read = store->odb()->Read(page0);
  EXPECT_TRUE(read.status().IsCorruption());
  EXPECT_NE(read.status().message().find(page0.ToHex()), std::string::npos);
}

TEST(StoreFsckTest, ReportsARefToAMissingCommit) {
  auto store = Store::OpenInMemory();
  RefTransaction tx;
  tx.Update(BranchRef("ghost"), ObjectId(), ObjectId::Hash("nothing"), "x");
  ASSERT_TRUE(store->UpdateRefs(tx).ok());
  FsckReport report;
  ASSERT_TRUE(store->Fsck(&report).ok());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].where, "ref refs/heads/ghost");
}

}  // namespace
}  // namespace larix
