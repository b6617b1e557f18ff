// The crash sweep of the commit path (issue: "Durability").
//
// For every fault point n of a fixed workload of commits and ref moves:
// fail the nth write or sync, stop (the process "crashes" at its first
// error), drop everything that was not synced, reopen, and check that
//   1. fsck is clean;
//   2. every acknowledged commit and ref move is present;
//   3. every ref is at its acknowledged value, or -- for the one operation
//      that failed -- possibly at its new value (the commit landed before
//      the error was reported), never anywhere else;
//   4. the store accepts new commits.
// Run for both on-disk backends, with clean errors, torn writes and ENOSPC.

#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "larix/store.h"
#include "objects/commit_graph.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "support/fault_injection_env.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using test::FaultInjectionEnv;

struct Expected {
  std::map<std::string, ObjectId> refs;  // acknowledged values
  std::string failed_ref;                // the ref of the failed op, if any
  ObjectId failed_old;
};

std::string Page(int seed) {
  std::string p(4096, '\0');
  std::mt19937 rng(seed);
  for (int i = 0; i < 1500; i++) p[i] = static_cast<char>(rng());
  return p;
}

// Runs the workload until the first error.  Returns the state the caller
// was told about.
Expected RunWorkload(Store* store) {
  Expected e;
  e.refs[BranchRef("main")] = *store->refs()->Resolve(BranchRef("main"));
  for (int op = 0; op < 10; op++) {
    std::string branch = (op >= 4 && op % 2 == 1) ? "dev" : "main";
    std::string ref = BranchRef(branch);
    if (op == 3) {
      RefTransaction tx;
      tx.Update(BranchRef("dev"), ObjectId(), e.refs[ref], "create dev");
      Status s = store->UpdateRefs(tx);
      if (!s.ok()) {
        e.failed_ref = BranchRef("dev");
        return e;
      }
      e.refs[BranchRef("dev")] = e.refs[ref];
      continue;
    }
    ObjectId head = e.refs[ref];
    auto commit = store->commits()->Load(head);
    if (!commit.ok()) {
      e.failed_ref = ref;
      e.failed_old = head;
      return e;
    }
    CommitRequest req;
    req.ref = ref;
    req.expected_head = head;
    req.base_tree = (*commit)->tree;
    req.pages = {{static_cast<uint32_t>(op % 3), Page(op)},
                 {static_cast<uint32_t>(3 + op), Page(100 + op)}};
    req.message = "op " + std::to_string(op);
    auto r = store->CommitPages(req);
    if (!r.ok()) {
      e.failed_ref = ref;
      e.failed_old = head;
      return e;
    }
    e.refs[ref] = r->commit;
  }
  return e;
}

struct SweepCase {
  std::string backend;
  FaultInjectionEnv::FaultKind kind;
  bool torn;
};

class CrashSweepTest : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CrashSweepTest, EveryFaultPointLeavesOldOrNewState) {
  const SweepCase& c = GetParam();
  fs::path dir = fs::temp_directory_path() /
                 ("larix_crash_" + c.backend + std::to_string(getpid()));
  int sweeps = 0;
  for (uint64_t n = 1;; n++) {
    fs::remove_all(dir);
    FaultInjectionEnv env;
    StoreOptions o;
    o.create_if_missing = true;
    o.backend = c.backend;
    o.env = &env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.string(), o, &store).ok());
    env.ResetState();
    env.FailNthFaultPoint(n, c.kind, c.torn);
    Expected e = RunWorkload(store.get());
    bool fired = env.fault_fired();

    // Crash: the power goes off, the process dies, unsynced data is lost.
    env.SetFilesystemActive(false);
    store.reset();
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    env.SetFilesystemActive(true);
    env.ClearFault();
    env.ResetState();

    o.create_if_missing = false;
    Status s = Store::Open(dir.string(), o, &store);
    ASSERT_TRUE(s.ok()) << "fault point " << n << ": " << s.ToString();
    FsckReport report;
    ASSERT_TRUE(store->Fsck(&report).ok());
    ASSERT_TRUE(report.ok()) << "fault point " << n << ": "
                             << report.problems[0].where << ": "
                             << report.problems[0].what;
    for (const auto& [ref, want] : e.refs) {
      Result<ObjectId> got = store->refs()->Resolve(ref);
      if (ref == e.failed_ref) {
        ASSERT_TRUE(got.ok());
        if (*got != want) {
          // The failed commit may have landed: then it sits on top of the
          // acknowledged head.
          auto commit = store->commits()->Load(*got);
          ASSERT_TRUE(commit.ok());
          ASSERT_EQ((*commit)->parents.at(0), want)
              << "fault point " << n << ": " << ref << " moved elsewhere";
        }
        continue;
      }
      ASSERT_TRUE(got.ok()) << "fault point " << n << ": " << ref
                            << " lost: " << got.status().ToString();
      ASSERT_EQ(*got, want) << "fault point " << n << ": " << ref;
    }
    if (e.failed_ref == BranchRef("dev") && e.refs.count(e.failed_ref) == 0) {
      // A failed branch creation: absent, or at main's acknowledged head.
      Result<ObjectId> dev = store->refs()->Resolve(BranchRef("dev"));
      if (dev.ok()) {
        EXPECT_EQ(*dev, e.refs[BranchRef("main")]);
      }
    }
    // The store still takes commits.
    ObjectId head = *store->refs()->Resolve(BranchRef("main"));
    CommitRequest req;
    req.ref = BranchRef("main");
    req.expected_head = head;
    req.base_tree = (*store->commits()->Load(head))->tree;
    req.pages = {{0, Page(999)}};
    auto r = store->CommitPages(req);
    ASSERT_TRUE(r.ok()) << "fault point " << n << ": " << r.status().ToString();
    store.reset();
    sweeps++;
    if (!fired) break;  // the workload ran past every fault point
  }
  fs::remove_all(dir);
  EXPECT_GT(sweeps, 10);  // the workload has many write and sync points
}

INSTANTIATE_TEST_SUITE_P(
    Backends, CrashSweepTest,
    ::testing::Values(
        SweepCase{"pack", FaultInjectionEnv::FaultKind::kIOError, false},
        SweepCase{"pack", FaultInjectionEnv::FaultKind::kIOError, true},
        SweepCase{"pack", FaultInjectionEnv::FaultKind::kNoSpace, false},
        SweepCase{"leveldb", FaultInjectionEnv::FaultKind::kIOError, false},
        SweepCase{"leveldb", FaultInjectionEnv::FaultKind::kIOError, true},
        SweepCase{"leveldb", FaultInjectionEnv::FaultKind::kNoSpace, false}),
    [](const auto& info) {
      return info.param.backend +
             (info.param.kind == FaultInjectionEnv::FaultKind::kNoSpace
                  ? "_nospace"
                  : info.param.torn ? "_torn" : "_ioerror");
    });

// A full disk during a commit is reported as Full and leaves the head.
TEST(CrashTest, FullDiskIsReportedAndChangesNothing) {
  for (std::string backend : {"pack", "leveldb"}) {
    fs::path dir = fs::temp_directory_path() /
                   ("larix_full_" + backend + std::to_string(getpid()));
    fs::remove_all(dir);
    FaultInjectionEnv env;
    StoreOptions o;
    o.create_if_missing = true;
    o.backend = backend;
    o.env = &env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.string(), o, &store).ok());
    ObjectId head = *store->refs()->Resolve(BranchRef("main"));
    env.FailNthFaultPoint(1, FaultInjectionEnv::FaultKind::kNoSpace, false,
                          /*sticky=*/true);
    CommitRequest req;
    req.ref = BranchRef("main");
    req.expected_head = head;
    req.pages = {{0, Page(1)}};
    auto r = store->CommitPages(req);
    EXPECT_TRUE(r.status().IsFull()) << backend << ": " << r.status().ToString();
    env.ClearFault();
    EXPECT_EQ(*store->refs()->Resolve(BranchRef("main")), head);
    store.reset();
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace larix
