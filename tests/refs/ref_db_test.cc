// RefDb (refs/ref_db.h): compare-and-swap, atomic multi-ref transactions,
// symbolic refs, rename, reflog, the time index, expiry, concurrency.
// Every test runs on the memory backend and on the LevelDB backend (in a
// fresh temporary directory); the LevelDB run also checks that refs and
// reflogs survive closing and reopening the backend.

#include "refs/ref_db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "larix/sys/backend.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

ObjectId Id(int n) { return ObjectId::Hash("commit " + std::to_string(n)); }

// Forwards to another backend, counting Apply calls.
class CountingBackend : public Backend {
 public:
  explicit CountingBackend(Backend* base) : base_(base) {}
  const char* Name() const override { return base_->Name(); }
  Status ReadObject(const ObjectId& id, std::string* stored) override {
    return base_->ReadObject(id, stored);
  }
  Status ObjectExists(const ObjectId& id, bool* exists) override {
    return base_->ObjectExists(id, exists);
  }
  Status FindObjectsByPrefix(std::string_view hex_prefix, size_t limit,
                             std::vector<ObjectId>* out) override {
    return base_->FindObjectsByPrefix(hex_prefix, limit, out);
  }
  Status ForEachObject(
      const std::function<bool(const ObjectId&)>& fn) override {
    return base_->ForEachObject(fn);
  }
  Status GetRecord(std::string_view key, std::string* value) override {
    return base_->GetRecord(key, value);
  }
  std::unique_ptr<RecordIterator> NewRecordIterator() override {
    return base_->NewRecordIterator();
  }
  Status Apply(const WriteBatch& batch, const WriteOptions& opts) override {
    applies++;
    return base_->Apply(batch, opts);
  }
  Status Sync() override { return base_->Sync(); }
  Status GetStats(BackendStats* stats) override {
    return base_->GetStats(stats);
  }

  std::atomic<int> applies{0};

 private:
  Backend* base_;
};

class RefDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "leveldb") {
      // The parameterised test name ("Foo/leveldb") holds a '/'.
      std::string test =
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
      std::replace(test.begin(), test.end(), '/', '_');
      dir_ = std::filesystem::path(::testing::TempDir()) /
             ("larix_refs_" + std::to_string(::getpid()) + "_" + test);
      std::filesystem::remove_all(dir_);
    }
    Open();
  }

  void TearDown() override {
    Close();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Open() {
    if (GetParam() == "leveldb") {
      Status s = OpenLevelDbBackend(dir_.string(), BackendOptions(), &base_);
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      base_ = NewMemoryBackend();
    }
    backend_ = std::make_unique<CountingBackend>(base_.get());
    refs_ = std::make_unique<RefDb>(backend_.get());
  }

  void Close() {
    refs_.reset();
    backend_.reset();
    base_.reset();
  }

  // One-change transactions, committed at `t`.
  Status Update(const std::string& name, std::optional<ObjectId> expected,
                const ObjectId& id, int64_t t, const std::string& msg = "") {
    RefTransaction tx;
    tx.Update(name, expected, id, msg);
    return refs_->Commit(tx, t);
  }
  Status Delete(const std::string& name, std::optional<ObjectId> expected,
                int64_t t) {
    RefTransaction tx;
    tx.Delete(name, expected, "delete");
    return refs_->Commit(tx, t);
  }
  Status SetSymbolic(const std::string& name, const std::string& target,
                     std::optional<std::string> expected, int64_t t) {
    RefTransaction tx;
    tx.SetSymbolic(name, target, expected, "point " + name + " at " + target);
    return refs_->Commit(tx, t);
  }
  Status Rename(const std::string& from, const std::string& to, int64_t t) {
    RefTransaction tx;
    tx.Rename(from, to, "rename");
    return refs_->Commit(tx, t);
  }

  std::vector<ReflogEntry> Log(const std::string& name) {
    std::vector<ReflogEntry> log;
    EXPECT_TRUE(refs_->ReadReflog(name, &log).ok());
    return log;
  }

  ObjectId Current(const std::string& name) {
    auto r = refs_->Resolve(name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ObjectId();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Backend> base_;
  std::unique_ptr<CountingBackend> backend_;
  std::unique_ptr<RefDb> refs_;
};

const std::string kMain = "refs/heads/main";
const std::string kDev = "refs/heads/dev";

TEST_P(RefDbTest, ReadMissingAndInvalidNames) {
  EXPECT_TRUE(refs_->Read(kMain).status().IsNotFound());
  EXPECT_TRUE(refs_->Resolve(kMain).status().IsNotFound());
  EXPECT_TRUE(refs_->Read("refs/heads/a..b").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->Read("main").status().IsInvalidArgument());
  EXPECT_TRUE(refs_->ValueAt("refs/heads/x.lock", 0).status()
                  .IsInvalidArgument());

  Status s = Update("refs/heads/bad name", std::nullopt, Id(1), 1);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("refs/heads/bad name"), std::string::npos);
  EXPECT_TRUE(Update(kMain, std::nullopt, ObjectId(), 1).IsInvalidArgument());
  EXPECT_EQ(backend_->applies.load(), 0);
}

TEST_P(RefDbTest, CompareAndSwap) {
  // Create with "must not exist".
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 10, "create").ok());
  EXPECT_EQ(*refs_->Read(kMain), RefValue::Direct(Id(1)));
  Status s = Update(kMain, ObjectId(), Id(2), 11);
  ASSERT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_NE(s.message().find(kMain), std::string::npos);
  EXPECT_NE(s.message().find("expected nothing"), std::string::npos);
  EXPECT_NE(s.message().find(Id(1).ShortHex()), std::string::npos);

  // Right expectation moves it; a stale one fails naming both ids.
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 12).ok());
  s = Update(kMain, Id(1), Id(3), 13);
  ASSERT_TRUE(s.IsConflict());
  EXPECT_NE(s.message().find("expected " + Id(1).ShortHex()),
            std::string::npos);
  EXPECT_NE(s.message().find("found " + Id(2).ShortHex()), std::string::npos);
  EXPECT_EQ(Current(kMain), Id(2));

  // Expecting a value of a missing ref.
  s = Update(kDev, Id(1), Id(3), 14);
  ASSERT_TRUE(s.IsConflict());
  EXPECT_NE(s.message().find("found nothing"), std::string::npos);

  // Don't care.
  ASSERT_TRUE(Update(kMain, std::nullopt, Id(3), 15).ok());
  ASSERT_TRUE(Update(kDev, std::nullopt, Id(3), 15).ok());
  EXPECT_EQ(Current(kMain), Id(3));
  EXPECT_EQ(Current(kDev), Id(3));
  EXPECT_EQ(Log(kMain).size(), 3u);  // failed attempts leave no entries
}

TEST_P(RefDbTest, DeleteWithExpectation) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 10).ok());
  EXPECT_TRUE(Delete(kMain, Id(2), 11).IsConflict());
  EXPECT_TRUE(Delete(kMain, ObjectId(), 11).IsInvalidArgument());
  EXPECT_EQ(Current(kMain), Id(1));
  ASSERT_TRUE(Delete(kMain, Id(1), 12).ok());
  EXPECT_TRUE(refs_->Read(kMain).status().IsNotFound());
  EXPECT_TRUE(Delete(kMain, std::nullopt, 13).IsNotFound());
  EXPECT_TRUE(Delete(kMain, Id(1), 13).IsConflict());
  // Recreating needs "must not exist" to hold again.
  EXPECT_TRUE(Update(kMain, ObjectId(), Id(5), 14).ok());
}

TEST_P(RefDbTest, MultiRefTransactionIsAllOrNothing) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 10).ok());
  ASSERT_TRUE(Update(kDev, ObjectId(), Id(2), 10).ok());
  const int applies_before = backend_->applies.load();

  // The caller's objects ride in the same batch.
  WriteBatch batch;
  ObjectId obj = ObjectId::Hash("page");
  batch.PutObject(obj, "page");
  RefTransaction tx;
  tx.Update(kMain, Id(1), Id(11), "move main");
  tx.Update(kDev, Id(99), Id(12), "move dev (stale)");
  tx.Update("refs/tags/v1", ObjectId(), Id(11), "tag");
  Status s = refs_->Commit(tx, &batch, WriteOptions(), 20);
  ASSERT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_NE(s.message().find(kDev), std::string::npos);
  EXPECT_EQ(backend_->applies.load(), applies_before);
  EXPECT_EQ(batch.records().size(), 0u);  // nothing staged on failure
  EXPECT_EQ(Current(kMain), Id(1));
  EXPECT_EQ(Current(kDev), Id(2));
  EXPECT_TRUE(refs_->Read("refs/tags/v1").status().IsNotFound());
  EXPECT_EQ(Log(kMain).size(), 1u);
  EXPECT_EQ(Log(kDev).size(), 1u);
  bool exists = true;
  ASSERT_TRUE(backend_->ObjectExists(obj, &exists).ok());
  EXPECT_FALSE(exists);

  // Fixed expectation: everything lands in exactly one Apply.
  RefTransaction ok_tx;
  ok_tx.Update(kMain, Id(1), Id(11), "move main");
  ok_tx.Update(kDev, Id(2), Id(12), "move dev");
  ok_tx.Update("refs/tags/v1", ObjectId(), Id(11), "tag");
  ASSERT_TRUE(refs_->Commit(ok_tx, &batch, WriteOptions(), 21).ok());
  EXPECT_EQ(backend_->applies.load(), applies_before + 1);
  EXPECT_EQ(Current(kMain), Id(11));
  EXPECT_EQ(Current(kDev), Id(12));
  EXPECT_EQ(Current("refs/tags/v1"), Id(11));
  ASSERT_TRUE(backend_->ObjectExists(obj, &exists).ok());
  EXPECT_TRUE(exists);
  EXPECT_EQ(Log(kDev).back().message, "move dev");
  EXPECT_EQ(Log(kDev).back().time_us, 21);
}

TEST_P(RefDbTest, RefNamedTwiceInOneTransaction) {
  RefTransaction tx;
  tx.Update(kMain, std::nullopt, Id(1), "");
  tx.Update(kMain, std::nullopt, Id(2), "");
  EXPECT_TRUE(refs_->Commit(tx, 1).IsInvalidArgument());
  RefTransaction tx2;
  tx2.Update(kDev, std::nullopt, Id(1), "");
  tx2.Rename(kMain, kDev, "");
  EXPECT_TRUE(refs_->Commit(tx2, 1).IsInvalidArgument());
  EXPECT_TRUE(refs_->Read(kMain).status().IsNotFound());
}

TEST_P(RefDbTest, SymbolicRefsAndAliases) {
  // HEAD on an unborn branch.
  ASSERT_TRUE(SetSymbolic("HEAD", kMain, "", 1).ok());
  EXPECT_EQ(*refs_->Read("HEAD"), RefValue::Symbolic(kMain));
  Status s = refs_->Resolve("HEAD").status();
  ASSERT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find(kMain), std::string::npos) << s.ToString();
  EXPECT_EQ(*refs_->ResolveName("HEAD"), kMain);
  EXPECT_EQ(*refs_->ResolveName(kDev), kDev);  // missing, not symbolic
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 2).ok());
  EXPECT_EQ(Current("HEAD"), Id(1));

  // Blue-green: production -> blue, switched atomically with CAS.
  const std::string prod = AliasRef("production");
  const std::string blue = BranchRef("blue"), green = BranchRef("green");
  ASSERT_TRUE(Update(blue, ObjectId(), Id(10), 3).ok());
  ASSERT_TRUE(Update(green, ObjectId(), Id(20), 3).ok());
  ASSERT_TRUE(SetSymbolic(prod, blue, "", 4).ok());
  EXPECT_TRUE(SetSymbolic(prod, green, "", 5).IsConflict());
  s = SetSymbolic(prod, green, green, 5);
  ASSERT_TRUE(s.IsConflict());
  EXPECT_NE(s.message().find("found -> " + blue), std::string::npos);
  ASSERT_TRUE(SetSymbolic(prod, green, blue, 6).ok());
  EXPECT_EQ(Current(prod), Id(20));
  EXPECT_EQ(*refs_->ResolveName(prod), green);

  // The alias's reflog records target names.
  auto log = Log(prod);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log[0].created());
  EXPECT_EQ(log[0].new_target, blue);
  EXPECT_TRUE(log[0].new_id.IsNull());
  EXPECT_EQ(log[1].old_target, blue);
  EXPECT_EQ(log[1].new_target, green);
  EXPECT_EQ(log[1].time_us, 6);

  // Updating a symbolic ref by id: conflict when an id is expected, a
  // conversion to a direct ref when nothing is.
  EXPECT_TRUE(Update(prod, Id(20), Id(30), 7).IsConflict());
  ASSERT_TRUE(Update(prod, std::nullopt, Id(30), 7).ok());
  EXPECT_EQ(*refs_->Read(prod), RefValue::Direct(Id(30)));
  EXPECT_EQ(Log(prod).back().old_target, green);
  EXPECT_EQ(Log(prod).back().new_id, Id(30));

  // DeleteSymbolic with CAS on the target.
  ASSERT_TRUE(SetSymbolic(prod, blue, std::nullopt, 8).ok());
  RefTransaction del;
  del.DeleteSymbolic(prod, green, "drop alias");
  EXPECT_TRUE(refs_->Commit(del, 9).IsConflict());
  RefTransaction del2;
  del2.DeleteSymbolic(prod, blue, "drop alias");
  ASSERT_TRUE(refs_->Commit(del2, 9).ok());
  EXPECT_TRUE(refs_->Read(prod).status().IsNotFound());
  EXPECT_EQ(Current(blue), Id(10));  // the target is untouched
}

TEST_P(RefDbTest, SymbolicLoopsAndDepth) {
  EXPECT_TRUE(SetSymbolic("refs/aliases/a", "refs/aliases/a", "", 1)
                  .IsInvalidArgument());
  ASSERT_TRUE(SetSymbolic("refs/aliases/a", "refs/aliases/b", "", 1).ok());
  ASSERT_TRUE(SetSymbolic("refs/aliases/b", "refs/aliases/c", "", 1).ok());
  Status s = SetSymbolic("refs/aliases/c", "refs/aliases/a", "", 2);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("loop"), std::string::npos) << s.ToString();
  EXPECT_TRUE(refs_->Read("refs/aliases/c").status().IsNotFound());

  // Both halves of a loop in one transaction.
  RefTransaction tx;
  tx.SetSymbolic("refs/aliases/x", "refs/aliases/y", std::nullopt, "");
  tx.SetSymbolic("refs/aliases/y", "refs/aliases/x", std::nullopt, "");
  EXPECT_TRUE(refs_->Commit(tx, 3).IsInvalidArgument());

  // A rename can close a loop too: r -> t where t -> q dangles; q := r.
  ASSERT_TRUE(SetSymbolic("refs/aliases/r", "refs/aliases/t", "", 4).ok());
  ASSERT_TRUE(SetSymbolic("refs/aliases/t", "refs/aliases/q", "", 4).ok());
  EXPECT_TRUE(Rename("refs/aliases/r", "refs/aliases/q", 5)
                  .IsInvalidArgument());

  // A chain built link by link: s1 -> s2 -> ... -> s6 -> main.  Five
  // symbolic refs may be followed, not six.
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 6).ok());
  for (int i = 1; i <= 6; i++) {
    std::string target = i == 6 ? kMain : "refs/aliases/s" +
                                              std::to_string(i + 1);
    ASSERT_TRUE(
        SetSymbolic("refs/aliases/s" + std::to_string(i), target, "", 7).ok());
  }
  EXPECT_EQ(Current("refs/aliases/s2"), Id(1));
  s = refs_->Resolve("refs/aliases/s1").status();
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("more than 5"), std::string::npos);
  EXPECT_TRUE(refs_->ResolveName("refs/aliases/s1").status()
                  .IsInvalidArgument());
  EXPECT_TRUE(refs_->ValueAt("refs/aliases/s1", 7).status()
                  .IsInvalidArgument());
  EXPECT_EQ(*refs_->ValueAt("refs/aliases/s2", 7), Id(1));
}

TEST_P(RefDbTest, RenameCarriesTheReflog) {
  ASSERT_TRUE(Update(kDev, ObjectId(), Id(1), 100, "create").ok());
  ASSERT_TRUE(Update(kDev, Id(1), Id(2), 200, "second").ok());
  ASSERT_TRUE(Update(kDev, Id(2), Id(3), 300, "third").ok());
  const std::string feature = BranchRef("feature");
  ASSERT_TRUE(Rename(kDev, feature, 400).ok());

  EXPECT_TRUE(refs_->Read(kDev).status().IsNotFound());
  EXPECT_EQ(Current(feature), Id(3));
  EXPECT_TRUE(Log(kDev).empty());
  auto log = Log(feature);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].message, "create");
  EXPECT_EQ(log[0].time_us, 100);
  EXPECT_EQ(log[2].new_id, Id(3));
  EXPECT_EQ(log[3].message, "rename");
  EXPECT_EQ(log[3].old_id, Id(3));
  EXPECT_EQ(log[3].new_id, Id(3));
  EXPECT_EQ(log[3].time_us, 400);
  for (size_t i = 1; i < log.size(); i++) {
    EXPECT_EQ(log[i].seq, log[i - 1].seq + 1);
  }
  // Time travel follows the branch to its new name.
  EXPECT_EQ(*refs_->ValueAt(feature, 150), Id(1));
  EXPECT_EQ(*refs_->ValueAt(feature, 450), Id(3));
  EXPECT_TRUE(refs_->ValueAt(kDev, 150).status().IsNotFound());

  // Errors: missing source, existing target.
  EXPECT_TRUE(Rename(kDev, BranchRef("x"), 500).IsNotFound());
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(9), 500).ok());
  EXPECT_TRUE(Rename(kMain, feature, 500).IsAlreadyExists());

  // A target name with a kept reflog (dropped branch) must be cleared first.
  ASSERT_TRUE(Delete(feature, Id(3), 600).ok());
  Status s = Rename(kMain, feature, 700);
  ASSERT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_NE(s.message().find("reflog"), std::string::npos);
  WriteBatch clear;
  ASSERT_TRUE(refs_->DeleteReflog(feature, &clear).ok());
  ASSERT_TRUE(backend_->Apply(clear, WriteOptions()).ok());
  ASSERT_TRUE(Rename(kMain, feature, 700).ok());
  EXPECT_EQ(Current(feature), Id(9));
  log = Log(feature);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_GT(log[0].seq, 4u);  // numbering continues, never reused
  EXPECT_EQ(log[0].new_id, Id(9));

  // The old name can be created again with a fresh log.
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(10), 800).ok());
  ASSERT_EQ(Log(kMain).size(), 1u);
  EXPECT_TRUE(Log(kMain)[0].created());
}

TEST_P(RefDbTest, RenameSymbolicRef) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 1).ok());
  ASSERT_TRUE(SetSymbolic(AliasRef("old"), kMain, "", 2).ok());
  ASSERT_TRUE(Rename(AliasRef("old"), AliasRef("new"), 3).ok());
  EXPECT_EQ(*refs_->Read(AliasRef("new")), RefValue::Symbolic(kMain));
  EXPECT_EQ(Log(AliasRef("new")).back().old_target, kMain);
  EXPECT_EQ(Log(AliasRef("new")).back().new_target, kMain);
}

TEST_P(RefDbTest, ReflogRecordsEveryChange) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 100, "create").ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 200, "commit: two").ok());
  ASSERT_TRUE(Delete(kMain, Id(2), 300).ok());
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(3), 400, "recreate").ok());

  auto log = Log(kMain);
  ASSERT_EQ(log.size(), 4u);
  const ReflogEntry want[] = {
      {0, 100, ObjectId(), Id(1), "", "", "create"},
      {1, 200, Id(1), Id(2), "", "", "commit: two"},
      {2, 300, Id(2), ObjectId(), "", "", "delete"},
      {3, 400, ObjectId(), Id(3), "", "", "recreate"},
  };
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(log[i], want[i]) << i;
  EXPECT_TRUE(log[0].created());
  EXPECT_TRUE(log[2].deleted());
  EXPECT_TRUE(log[3].created());

  // A ref that never existed has an empty log.
  EXPECT_TRUE(Log(kDev).empty());
}

TEST_P(RefDbTest, ValueAtAcrossDropAndRecreate) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 100).ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 200).ok());
  ASSERT_TRUE(Delete(kMain, Id(2), 300).ok());
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(3), 400).ok());
  ASSERT_TRUE(Update(kMain, Id(3), Id(4), 500).ok());
  ASSERT_TRUE(Update(kMain, Id(4), Id(5), 500).ok());  // same microsecond

  auto at = [&](int64_t t) { return refs_->ValueAt(kMain, t); };
  EXPECT_TRUE(at(INT64_MIN).status().IsNotFound());
  EXPECT_TRUE(at(99).status().IsNotFound());  // before creation
  EXPECT_EQ(*at(100), Id(1));                 // exact time
  EXPECT_EQ(*at(150), Id(1));                 // between entries
  EXPECT_EQ(*at(199), Id(1));
  EXPECT_EQ(*at(200), Id(2));
  EXPECT_EQ(*at(299), Id(2));
  Status s = at(300).status();  // the entry at 300 is the delete
  ASSERT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("deleted"), std::string::npos) << s.ToString();
  EXPECT_TRUE(at(399).status().IsNotFound());  // dropped
  EXPECT_EQ(*at(400), Id(3));                  // recreated
  EXPECT_EQ(*at(500), Id(5));                  // last of equal times wins
  EXPECT_EQ(*at(INT64_MAX), Id(5));
  EXPECT_TRUE(refs_->ValueAt(kDev, 1000).status().IsNotFound());

  auto raw = refs_->ValueAtRaw(kMain, 250);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, RefValue::Direct(Id(2)));
}

TEST_P(RefDbTest, ValueAtThroughAnAlias) {
  // The alias's value at T is its target at T, read from the target's log.
  const std::string prod = AliasRef("production");
  const std::string blue = BranchRef("blue"), green = BranchRef("green");
  ASSERT_TRUE(Update(blue, ObjectId(), Id(1), 50).ok());
  ASSERT_TRUE(Update(green, ObjectId(), Id(3), 60).ok());
  ASSERT_TRUE(SetSymbolic(prod, blue, "", 100).ok());
  ASSERT_TRUE(Update(blue, Id(1), Id(2), 150).ok());
  ASSERT_TRUE(SetSymbolic(prod, green, blue, 200).ok());
  ASSERT_TRUE(Update(blue, Id(2), Id(4), 250).ok());

  EXPECT_TRUE(refs_->ValueAt(prod, 99).status().IsNotFound());
  EXPECT_EQ(*refs_->ValueAt(prod, 120), Id(1));
  EXPECT_EQ(*refs_->ValueAt(prod, 160), Id(2));
  EXPECT_EQ(*refs_->ValueAt(prod, 210), Id(3));
  EXPECT_EQ(*refs_->ValueAt(prod, 260), Id(3));  // blue moved, alias did not
  EXPECT_EQ(*refs_->ValueAtRaw(prod, 160), RefValue::Symbolic(blue));
}

TEST_P(RefDbTest, ClockGoingBackwardsIsClamped) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 1000).ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 500).ok());  // clock stepped back
  ASSERT_TRUE(Update(kDev, ObjectId(), Id(7), 500).ok());  // another ref
  auto log = Log(kMain);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].time_us, 1000);
  EXPECT_EQ(Log(kDev)[0].time_us, 500);  // clamping is per ref
  EXPECT_TRUE(refs_->ValueAt(kMain, 999).status().IsNotFound());
  EXPECT_EQ(*refs_->ValueAt(kMain, 1000), Id(2));
  ASSERT_TRUE(Update(kMain, Id(2), Id(3), 1001).ok());
  EXPECT_EQ(Log(kMain)[2].time_us, 1001);
}

TEST_P(RefDbTest, ListIsSortedAndFiltered) {
  ASSERT_TRUE(Update(BranchRef("zeta"), ObjectId(), Id(1), 1).ok());
  ASSERT_TRUE(Update(BranchRef("alpha"), ObjectId(), Id(2), 1).ok());
  ASSERT_TRUE(Update(BranchRef("alpha/x"), ObjectId(), Id(3), 1).ok());
  ASSERT_TRUE(Update(TagRef("v1"), ObjectId(), Id(4), 1).ok());
  ASSERT_TRUE(SetSymbolic("HEAD", BranchRef("alpha"), "", 1).ok());

  std::vector<std::pair<std::string, RefValue>> out;
  ASSERT_TRUE(refs_->List("refs/heads/", &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, "refs/heads/alpha");
  EXPECT_EQ(out[1].first, "refs/heads/alpha/x");
  EXPECT_EQ(out[2].first, "refs/heads/zeta");
  EXPECT_EQ(out[2].second, RefValue::Direct(Id(1)));

  ASSERT_TRUE(refs_->List("", &out).ok());
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].first, "HEAD");
  EXPECT_EQ(out[0].second, RefValue::Symbolic("refs/heads/alpha"));
  ASSERT_TRUE(refs_->List("refs/tags/", &out).ok());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(refs_->List("refs/nothing/", &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_P(RefDbTest, ExpireKeepsTheBoundaryEntry) {
  for (int i = 1; i <= 5; i++) {
    ASSERT_TRUE(Update(kMain, i == 1 ? ObjectId() : Id(i - 1), Id(i),
                       i * 100)
                    .ok());
  }
  WriteBatch batch;
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 350, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  auto log = Log(kMain);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].time_us, 300);  // newest entry at or before the cutoff
  EXPECT_EQ(*refs_->ValueAt(kMain, 350), Id(3));
  EXPECT_EQ(*refs_->ValueAt(kMain, 300), Id(3));
  EXPECT_TRUE(refs_->ValueAt(kMain, 250).status().IsNotFound());
  EXPECT_EQ(*refs_->ValueAt(kMain, 450), Id(4));

  // Cutoff exactly on an entry: that entry is the boundary.
  batch.Clear();
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 400, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  log = Log(kMain);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].time_us, 400);
  EXPECT_EQ(*refs_->ValueAt(kMain, 400), Id(4));

  // Expiring again, or before the log starts, changes nothing.
  batch.Clear();
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 400, &batch).ok());
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 10, &batch).ok());
  EXPECT_TRUE(batch.empty());

  // A cutoff after everything keeps just the newest entry.
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 10000, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  ASSERT_EQ(Log(kMain).size(), 1u);
  EXPECT_EQ(*refs_->ValueAt(kMain, 10000), Id(5));
  EXPECT_EQ(Current(kMain), Id(5));
}

TEST_P(RefDbTest, ExpireKeepsEntriesAtTheCutoffAndDropsOldDeletions) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 100).ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 200).ok());
  ASSERT_TRUE(Update(kMain, Id(2), Id(3), 200).ok());
  WriteBatch batch;
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 200, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  ASSERT_EQ(Log(kMain).size(), 2u);  // both entries at 200 are not "older"
  EXPECT_EQ(*refs_->ValueAt(kMain, 200), Id(3));

  // A dropped branch: once its deletion is older than the cutoff the whole
  // log goes, and the name is free for a rename.
  ASSERT_TRUE(Update(kDev, ObjectId(), Id(7), 100).ok());
  ASSERT_TRUE(Delete(kDev, Id(7), 150).ok());
  batch.Clear();
  ASSERT_TRUE(refs_->ExpireReflog(kDev, 150, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  ASSERT_EQ(Log(kDev).size(), 1u);  // the deletion at the cutoff stays
  batch.Clear();
  ASSERT_TRUE(refs_->ExpireReflog(kDev, 151, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  EXPECT_TRUE(Log(kDev).empty());
  EXPECT_TRUE(refs_->ValueAt(kDev, 151).status().IsNotFound());
  std::vector<std::string> names;
  ASSERT_TRUE(refs_->ListReflogs(&names).ok());
  EXPECT_EQ(names, std::vector<std::string>{kMain});
  EXPECT_TRUE(Rename(kMain, kDev, 300).ok());
}

TEST_P(RefDbTest, ExpiryStagedBeforeACommitDoesNotLoseTheCommit) {
  for (int i = 1; i <= 4; i++) {
    ASSERT_TRUE(Update(kMain, std::nullopt, Id(i), i * 100).ok());
  }
  WriteBatch expire;
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 1000, &expire).ok());
  ASSERT_TRUE(Update(kMain, Id(4), Id(5), 1100).ok());  // lands in between
  ASSERT_TRUE(backend_->Apply(expire, WriteOptions()).ok());
  auto log = Log(kMain);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].new_id, Id(4));
  EXPECT_EQ(log[1].new_id, Id(5));
  EXPECT_EQ(*refs_->ValueAt(kMain, 1000), Id(4));
  EXPECT_EQ(*refs_->ValueAt(kMain, 1100), Id(5));
}

TEST_P(RefDbTest, ForEachReflogIdAndListReflogs) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 100).ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 200).ok());
  ASSERT_TRUE(Update("refs/heads/main-2", ObjectId(), Id(3), 100).ok());
  ASSERT_TRUE(Update("refs/heads/main/x", ObjectId(), Id(4), 100).ok());
  ASSERT_TRUE(Delete("refs/heads/main/x", Id(4), 150).ok());
  ASSERT_TRUE(SetSymbolic("HEAD", kMain, "", 100).ok());

  std::vector<std::pair<std::string, ObjectId>> seen;
  ASSERT_TRUE(refs_
                  ->ForEachReflogId([&](const std::string& ref,
                                       const ObjectId& id) {
                    seen.emplace_back(ref, id);
                  })
                  .ok());
  std::vector<std::pair<std::string, ObjectId>> want = {
      {kMain, Id(1)},
      {kMain, Id(2)},
      {"refs/heads/main-2", Id(3)},
      {"refs/heads/main/x", Id(4)},  // deleted refs' logs still count
  };
  EXPECT_EQ(seen, want);

  std::vector<std::string> names;
  ASSERT_TRUE(refs_->ListReflogs(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"HEAD", kMain,
                                             "refs/heads/main-2",
                                             "refs/heads/main/x"}));

  WriteBatch batch;
  ASSERT_TRUE(refs_->ExpireReflog(kMain, 250, &batch).ok());
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  seen.clear();
  ASSERT_TRUE(refs_
                  ->ForEachReflogId([&](const std::string& ref,
                                       const ObjectId& id) {
                    if (ref == kMain) seen.emplace_back(ref, id);
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, ObjectId>>{
                      {kMain, Id(2)}}));
}

TEST_P(RefDbTest, CorruptRecordsAreReportedWithTheKey) {
  WriteBatch batch;
  batch.PutRecord("ref/refs/heads/broken", std::string("\x01\x07", 2));
  batch.PutRecord("reflog-meta/refs/heads/broken2", "short");
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions()).ok());
  Status s = refs_->Read("refs/heads/broken").status();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("ref/refs/heads/broken"), std::string::npos);
  std::vector<std::pair<std::string, RefValue>> out;
  EXPECT_TRUE(refs_->List("", &out).IsCorruption());
  EXPECT_TRUE(refs_->ValueAt("refs/heads/broken2", 1).status().IsCorruption());
  EXPECT_TRUE(Update("refs/heads/broken2", std::nullopt, Id(1), 1)
                  .IsCorruption());
}

// The time index is O(log n): 100k entries, ValueAt well under 1 ms.
TEST_P(RefDbTest, ValueAtIsFastOnALongReflog) {
  constexpr int kEntries = 100000;
  for (int i = 0; i < kEntries; i++) {
    RefTransaction tx;
    tx.Update(kMain, std::nullopt, Id(i), "");
    WriteBatch batch;
    ASSERT_TRUE(refs_->Commit(tx, &batch, WriteOptions{false},
                              int64_t{i} * 10)
                    .ok());
  }
  ASSERT_TRUE(backend_->Sync().ok());
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, kEntries - 1);
  std::vector<double> micros;
  for (int q = 0; q < 1000; q++) {
    int i = pick(rng);
    auto start = std::chrono::steady_clock::now();
    auto r = refs_->ValueAt(kMain, int64_t{i} * 10 + 5);
    auto end = std::chrono::steady_clock::now();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(*r, Id(i));
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::nth_element(micros.begin(), micros.begin() + micros.size() / 2,
                   micros.end());
  const double median = micros[micros.size() / 2];
  RecordProperty("value_at_median_us", std::to_string(median));
  EXPECT_LT(median, 1000.0);
  std::printf("ValueAt over %d entries (%s): median %.1f us\n", kEntries,
              GetParam().c_str(), median);

  EXPECT_TRUE(refs_->ValueAt(kMain, -1).status().IsNotFound());
  EXPECT_EQ(*refs_->ValueAt(kMain, int64_t{kEntries} * 10), Id(kEntries - 1));
}

// 8 threads race to advance a counter-like chain id(k) -> id(k+1) by CAS.
// Each step must have exactly one winner and the reflog must be the chain.
TEST_P(RefDbTest, ConcurrentCompareAndSwap) {
  constexpr int kThreads = 8;
  constexpr int kSteps = 2000;
  std::vector<ObjectId> ids;
  std::unordered_map<ObjectId, int> step_of;
  for (int k = 0; k <= kSteps; k++) {
    ids.push_back(ObjectId::Hash("counter " + std::to_string(k)));
    step_of[ids.back()] = k;
  }
  ASSERT_TRUE(Update(kMain, ObjectId(), ids[0], 0).ok());

  std::vector<std::atomic<int>> winners(kSteps);
  std::atomic<int> conflicts{0}, errors{0}, ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      // Start together, and yield between read and CAS, so that the
      // threads really race for the same step.
      ready++;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (;;) {
        auto cur = refs_->Resolve(kMain);
        if (!cur.ok()) {
          errors++;
          return;
        }
        int k = step_of.at(*cur);
        if (k == kSteps) return;
        std::this_thread::yield();
        RefTransaction tx;
        tx.Update(kMain, ids[k], ids[k + 1], "step " + std::to_string(k));
        WriteBatch batch;
        Status s = refs_->Commit(tx, &batch, WriteOptions{false}, k + 1);
        if (s.ok()) {
          winners[k]++;
        } else if (s.IsConflict()) {
          conflicts++;
        } else {
          errors++;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kSteps; k++) ASSERT_EQ(winners[k].load(), 1) << k;
  EXPECT_EQ(Current(kMain), ids[kSteps]);
  auto log = Log(kMain);
  ASSERT_EQ(log.size(), size_t{kSteps} + 1);
  for (int k = 0; k < kSteps; k++) {
    ASSERT_EQ(log[k + 1].old_id, ids[k]);
    ASSERT_EQ(log[k + 1].new_id, ids[k + 1]);
  }
  std::printf("%d steps, %d conflicts\n", kSteps, conflicts.load());
}

INSTANTIATE_TEST_SUITE_P(Backends, RefDbTest,
                         ::testing::Values("memory", "leveldb"),
                         [](const auto& info) { return info.param; });

// Tests that close and reopen the backend: persistent backends only.
using PersistentRefDbTest = RefDbTest;

// Refs, symbolic refs, reflogs and the time index survive a reopen.
TEST_P(PersistentRefDbTest, SurvivesReopen) {
  ASSERT_TRUE(Update(kMain, ObjectId(), Id(1), 100, "create").ok());
  ASSERT_TRUE(Update(kMain, Id(1), Id(2), 200, "second").ok());
  ASSERT_TRUE(SetSymbolic("HEAD", kMain, "", 100).ok());
  ASSERT_TRUE(Update(kDev, ObjectId(), Id(3), 150).ok());
  ASSERT_TRUE(Delete(kDev, Id(3), 250).ok());
  const std::vector<ReflogEntry> log_before = Log(kMain);

  Close();
  Open();
  EXPECT_EQ(*refs_->Read("HEAD"), RefValue::Symbolic(kMain));
  EXPECT_EQ(Current("HEAD"), Id(2));
  EXPECT_EQ(Log(kMain), log_before);
  EXPECT_EQ(*refs_->ValueAt("HEAD", 150), Id(1));
  EXPECT_EQ(*refs_->ValueAt(kDev, 200), Id(3));
  EXPECT_TRUE(refs_->ValueAt(kDev, 250).status().IsNotFound());
  EXPECT_TRUE(refs_->Read(kDev).status().IsNotFound());
  // Numbering and clamping continue from the stored meta record.
  ASSERT_TRUE(Update(kMain, Id(2), Id(4), 50, "after reopen").ok());
  EXPECT_EQ(Log(kMain).back().seq, 2u);
  EXPECT_EQ(Log(kMain).back().time_us, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, PersistentRefDbTest,
                         ::testing::Values("leveldb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace larix
