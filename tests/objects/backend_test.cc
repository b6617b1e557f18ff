// The Backend conformance suite, and what only the on-disk backends owe.
//
//   BackendTest         every backend (memory, leveldb, pack): the contract in
//                       include/larix/sys/backend.h, one test per promise.
//   OnDiskBackendTest   leveldb and pack: persistence, refusing foreign
//                       directories, the single-process lock, power loss
//                       (FaultInjectionEnv) and a crash sweep that fails
//                       every write/sync point of a sequence of commits.
//   PackBackendTest     the pack journal: replay, torn tails, damaged bytes
//                       and index entries, rotation, Compact(), and the
//                       byte format documented in docs/format.md.
//
// On-disk backends run in a fresh temporary directory per test.

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/helpers/memenv.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "larix/sys/backend.h"
#include "objects/coding.h"
#include "objects/id_filter.h"
#include "objects/leveldb_env.h"
#include "objects/odb.h"
#include "tests/support/fault_injection_env.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using test::FaultInjectionEnv;

// ---- fixtures and helpers ---------------------------------------------------

// A fresh directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "larix_backend_XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestObject {
  ObjectId id;
  std::string stored;
};

// A deterministic object of `size` bytes; its id is the hash of its bytes,
// so any read can be checked without remembering the object.
TestObject MakeObject(uint64_t seed, size_t size) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + size);
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return {ObjectId::Hash(s), s};
}

// Writes `n` objects of `size` bytes from seed `first`, each in a synced
// batch of its own that also sets record "ref" to its seed.
std::vector<TestObject> ApplySynced(Backend* b, int first, int n,
                                    size_t size) {
  std::vector<TestObject> objects;
  for (int i = first; i < first + n; i++) {
    objects.push_back(MakeObject(i, size));
    WriteBatch batch;
    batch.PutObject(objects.back().id, objects.back().stored);
    batch.PutRecord("ref", std::to_string(i));
    EXPECT_TRUE(b->Apply(batch, WriteOptions{true}).ok());
  }
  return objects;
}

bool HashMatches(const ObjectId& id, const std::string& stored) {
  return ObjectId::Hash(stored) == id;
}

Status OpenBackend(const std::string& kind, const std::string& dir,
                   const BackendOptions& options,
                   std::unique_ptr<Backend>* out) {
  if (kind == "memory") {
    *out = NewMemoryBackend();
    return Status::OK();
  }
  if (kind == "leveldb") return OpenLevelDbBackend(dir, options, out);
  return OpenPackBackend(dir, options, out);
}

Status ApplyObjects(Backend* b, const std::vector<TestObject>& objects,
                    bool sync = true) {
  WriteBatch batch;
  for (const auto& o : objects) batch.PutObject(o.id, o.stored);
  return b->Apply(batch, WriteOptions{sync});
}

std::vector<std::pair<std::string, std::string>> AllRecords(Backend* b) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = b->NewRecordIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

std::vector<std::pair<std::string, std::string>> AllRecordsBackwards(
    Backend* b) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = b->NewRecordIterator();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

void AppendFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << data;
}

std::map<std::string, uintmax_t> ListDir(const std::string& dir) {
  std::map<std::string, uintmax_t> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out[e.path().string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return out;
}

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = dir_.path() + "/store";
    Reopen();
  }

  // Closes and reopens the backend (the memory backend starts empty).
  void Reopen(BackendOptions options = {}) {
    backend_.reset();
    Status s = OpenBackend(GetParam(), store_, options, &backend_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  bool on_disk() const { return GetParam() != "memory"; }

  // Declared before backend_, which may use them, so they outlive it.
  TempDir dir_;
  std::unique_ptr<leveldb::Env> mem_env_;  // per crash-sweep iteration
  std::unique_ptr<FaultInjectionEnv> env_;
  std::string store_;
  std::unique_ptr<Backend> backend_;
};

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// ---- the conformance suite ------------------------------------------------

TEST_P(BackendTest, WriteReadExists) {
  std::vector<TestObject> objects = {MakeObject(1, 4096), MakeObject(2, 120),
                                     MakeObject(3, 1), MakeObject(4, 0)};
  ASSERT_TRUE(ApplyObjects(backend_.get(), objects).ok());
  for (const auto& o : objects) {
    std::string stored;
    Status s = backend_->ReadObject(o.id, &stored);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(stored, o.stored);
    bool exists = false;
    ASSERT_TRUE(backend_->ObjectExists(o.id, &exists).ok());
    EXPECT_TRUE(exists);
  }
}

TEST_P(BackendTest, ATwoPartPutIsStoredWhole) {
  // The Odb hands over an uncompressed page as a one-byte head and the
  // page it shares with its cache; the backend stores the two as one.
  std::vector<TestObject> objects = {MakeObject(1, 4097), MakeObject(2, 1)};
  WriteBatch batch;
  for (const TestObject& o : objects) {
    batch.PutObject(o.id, o.stored.substr(0, 1),
                    std::make_shared<const std::string>(o.stored.substr(1)));
  }
  EXPECT_EQ(batch.objects()[0].size(), 4097u);
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions{true}).ok());
  BackendStats stats;
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 2u);
  EXPECT_EQ(stats.stored_bytes, 4097u + 1u);
  for (const auto& o : objects) {
    std::string stored;
    Status s = backend_->ReadObject(o.id, &stored);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(stored, o.stored);
  }
}

TEST_P(BackendTest, MissingObjectIsNotFoundNamingIt) {
  ASSERT_TRUE(ApplyObjects(backend_.get(), {MakeObject(1, 100)}).ok());
  ObjectId missing = MakeObject(2, 100).id;
  std::string stored;
  Status s = backend_->ReadObject(missing, &stored);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find(missing.ToHex()), std::string::npos);
  bool exists = true;
  ASSERT_TRUE(backend_->ObjectExists(missing, &exists).ok());
  EXPECT_FALSE(exists);
}

TEST_P(BackendTest, PuttingAnExistingObjectIsHarmless) {
  TestObject o = MakeObject(7, 3000);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {o, o}).ok());
  ASSERT_TRUE(ApplyObjects(backend_.get(), {o}, /*sync=*/false).ok());
  BackendStats before;
  ASSERT_TRUE(backend_->GetStats(&before).ok());
  ASSERT_TRUE(ApplyObjects(backend_.get(), {o}).ok());
  BackendStats stats;
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 1u);
  EXPECT_EQ(stats.stored_bytes, o.stored.size());
  std::string stored;
  ASSERT_TRUE(backend_->ReadObject(o.id, &stored).ok());
  EXPECT_EQ(stored, o.stored);
  if (GetParam() == "pack") {
    // The second put is not even journaled.
    EXPECT_EQ(stats.disk_bytes, before.disk_bytes);
  }
}

// WriteOptions::while_syncing runs exactly once per successful Apply:
// for small and large batches (a large one's sync runs on a helper in the
// pack backend), synced or not, and for batches with nothing new.
TEST_P(BackendTest, WhileSyncingRunsOncePerApply) {
  TestObject small = MakeObject(1, 300), large = MakeObject(2, 200 << 10);
  int calls = 0;
  bool was_written = false;
  WriteOptions opts(true, [&] {
    calls++;
    // Nothing to check through the backend (the hook must not call it);
    // the batch's bytes are written, so the object is there after Apply.
    was_written = true;
  });
  for (bool sync : {true, false}) {
    opts.sync = sync;
    calls = 0;
    for (const TestObject* o : {&small, &large}) {
      WriteBatch batch;
      batch.PutObject(o->id, o->stored);
      batch.PutRecord("ref", o->id.ToHex());
      ASSERT_TRUE(backend_->Apply(batch, opts).ok());
    }
    WriteBatch again;  // nothing new: both stored already
    again.PutObject(large.id, large.stored);
    ASSERT_TRUE(backend_->Apply(again, opts).ok());
    ASSERT_TRUE(backend_->Apply(WriteBatch(), opts).ok());
    EXPECT_EQ(calls, 4) << "sync=" << sync;
  }
  EXPECT_TRUE(was_written);
  std::string stored;
  ASSERT_TRUE(backend_->ReadObject(large.id, &stored).ok());
  EXPECT_EQ(stored, large.stored);
}

TEST_P(BackendTest, PrefixLookupOddAndEvenDigits) {
  std::vector<TestObject> objects;
  std::vector<std::string> hexes;
  for (int i = 0; i < 300; i++) {
    objects.push_back(MakeObject(100 + i, 40));
    hexes.push_back(objects.back().id.ToHex());
  }
  ASSERT_TRUE(ApplyObjects(backend_.get(), objects).ok());
  for (int i = 0; i < 20; i++) {
    for (size_t len : {1, 2, 3, 4, 5, 8, 63, 64}) {
      const std::string prefix = hexes[i].substr(0, len);
      std::set<std::string> expected;
      for (const auto& h : hexes) {
        if (h.compare(0, len, prefix) == 0) expected.insert(h);
      }
      std::vector<ObjectId> found;
      Status s = backend_->FindObjectsByPrefix(prefix, 1000, &found);
      ASSERT_TRUE(s.ok()) << s.ToString();
      std::set<std::string> got;
      for (const auto& id : found) got.insert(id.ToHex());
      EXPECT_EQ(got, expected) << "prefix " << prefix;
      EXPECT_EQ(found.size(), got.size()) << "duplicates for " << prefix;
    }
  }
  // `limit` is respected, and what is returned matches.
  const std::string one = hexes[0].substr(0, 1);
  std::vector<ObjectId> found;
  ASSERT_TRUE(backend_->FindObjectsByPrefix(one, 5, &found).ok());
  EXPECT_EQ(found.size(), 5u);
  for (const auto& id : found) EXPECT_EQ(id.ToHex().substr(0, 1), one);
  // A prefix nobody has.
  std::set<std::string> firsts;
  for (const auto& h : hexes) firsts.insert(h.substr(0, 3));
  std::string none = "000";
  while (firsts.count(none)) none[2]++;
  found.clear();
  ASSERT_TRUE(backend_->FindObjectsByPrefix(none, 10, &found).ok());
  EXPECT_TRUE(found.empty());
}

TEST_P(BackendTest, AmbiguousPrefixThroughOdb) {
  // Backends do not check that ids are hashes, so ids can be chosen.
  auto id_of = [](const std::string& hex) {
    return ObjectId::FromHex(hex + std::string(64 - hex.size(), '0')).value();
  };
  ObjectId a = id_of("abcd1"), b = id_of("abcd2"), c = id_of("abce");
  WriteBatch batch;
  for (const ObjectId& id : {a, b, c}) batch.PutObject(id, "x");
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  Odb odb(backend_.get(), OdbOptions{});
  auto r = odb.ResolvePrefix("abcd");
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(a.ToHex()), std::string::npos);
  EXPECT_NE(r.status().message().find(b.ToHex()), std::string::npos);
  EXPECT_EQ(r.status().message().find(c.ToHex()), std::string::npos);
  auto one = odb.ResolvePrefix("ABCD2");  // odd length, any case
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, b);
  EXPECT_TRUE(odb.ResolvePrefix("abcf").status().IsNotFound());
}

TEST_P(BackendTest, ForEachObjectVisitsEveryObjectOnce) {
  std::set<ObjectId> expected;
  for (int round = 0; round < 2; round++) {
    std::vector<TestObject> objects;
    for (int i = 0; i < 50; i++) {
      objects.push_back(MakeObject(round * 1000 + i, 64));
      expected.insert(objects.back().id);
    }
    // One synced batch and one unsynced, so overlays are covered too.
    ASSERT_TRUE(ApplyObjects(backend_.get(), objects, round == 0).ok());
  }
  std::multiset<ObjectId> seen;
  ASSERT_TRUE(backend_
                  ->ForEachObject([&](const ObjectId& id) {
                    seen.insert(id);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(std::set<ObjectId>(seen.begin(), seen.end()), expected);
  EXPECT_EQ(seen.size(), expected.size());
  int calls = 0;
  ASSERT_TRUE(backend_->ForEachObject([&](const ObjectId&) {
                return ++calls < 3;
              }).ok());
  EXPECT_EQ(calls, 3);
}

// A stored form that is a delta (first byte kStoredDeltaCodec) names its
// base; ForEachDelta lists exactly those, from the journal, from the index
// after a checkpoint (Compact), and after a reopen (replay).
TEST_P(BackendTest, ForEachDeltaListsEveryDeltaWithItsBase) {
  std::map<ObjectId, ObjectId> expected;
  for (int round = 0; round < 2; round++) {
    WriteBatch batch;
    for (int i = 0; i < 20; i++) {
      TestObject o = MakeObject(round * 1000 + i, 64);
      if (i % 3 == 0) {
        ObjectId base = MakeObject(5000 + round * 100 + i, 8).id;
        std::string stored(1, static_cast<char>(kStoredDeltaCodec));
        stored += base.AsBytes();
        stored += std::string("\x01patches", 8);
        batch.PutObject(o.id, stored);
        expected[o.id] = base;
      } else {
        batch.PutObject(o.id, o.stored);
      }
    }
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{round == 0}).ok());
    if (round == 0) {
      ASSERT_TRUE(backend_->Compact().ok());
    }
  }
  auto listed = [&] {
    std::map<ObjectId, ObjectId> got;
    EXPECT_TRUE(backend_
                    ->ForEachDelta([&](const ObjectId& id, const ObjectId& b) {
                      EXPECT_TRUE(got.emplace(id, b).second);
                      return true;
                    })
                    .ok());
    return got;
  };
  EXPECT_EQ(listed(), expected);
  if (on_disk()) {
    ASSERT_TRUE(backend_->Sync().ok());
    Reopen();
    EXPECT_EQ(listed(), expected);
  }
  // A deleted delta is no longer listed.
  WriteBatch del;
  del.DeleteObject(expected.begin()->first);
  ASSERT_TRUE(backend_->Apply(del, WriteOptions{true}).ok());
  expected.erase(expected.begin());
  EXPECT_EQ(listed(), expected);
}

TEST_P(BackendTest, RecordsGetSeekIterateBothWays) {
  // Keys chosen to sit at the edges of a prefixed keyspace.
  std::map<std::string, std::string> expected = {
      {"", "empty"},
      {std::string("\0", 1), "nul"},
      {"a", "1"},
      {std::string("a\0", 2), "2"},
      {"b", "3"},
      {"refs/heads/main", "4"},
      {"\xff", "5"},
      {"\xff\xff", "6"},
  };
  // Objects too, so record iteration must not wander into them.
  ASSERT_TRUE(ApplyObjects(backend_.get(), {MakeObject(1, 10)}).ok());
  for (bool sync : {true, false}) {
    WriteBatch batch;
    for (const auto& [k, v] : expected) batch.PutRecord(k, v);
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{sync}).ok());

    std::string value;
    ASSERT_TRUE(backend_->GetRecord("b", &value).ok());
    EXPECT_EQ(value, "3");
    Status s = backend_->GetRecord("c", &value);
    EXPECT_TRUE(s.IsNotFound()) << s.ToString();

    using Pairs = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(AllRecords(backend_.get()),
              Pairs(expected.begin(), expected.end()));
    EXPECT_EQ(AllRecordsBackwards(backend_.get()),
              Pairs(expected.rbegin(), expected.rend()));

    auto it = backend_->NewRecordIterator();
    it->Seek(std::string("a\x01", 2));
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), "b");
    it->Prev();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), std::string("a\0", 2));
    it->Seek("refs/");
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), "refs/heads/main");
    EXPECT_EQ(it->value(), "4");
    it->Seek(std::string("\xff\xff\xff", 3));
    EXPECT_FALSE(it->Valid());
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), "");
    it->Prev();
    EXPECT_FALSE(it->Valid());
    it->SeekToLast();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), "\xff\xff");
    it->Next();
    EXPECT_FALSE(it->Valid());
    EXPECT_TRUE(it->status().ok());
  }
}

// Random puts and deletes over a small key space, with Compact() now and
// then (for pack, a checkpoint: some records then live in LevelDB, newer
// ones shadow or delete them from memory), checked against a std::map by
// random walks that change direction.
TEST_P(BackendTest, RecordIteratorMatchesAModel) {
  std::map<std::string, std::string> model;
  std::mt19937 rng(7);
  auto key = [&] {
    char k[8];
    std::snprintf(k, sizeof(k), "k%02u", static_cast<unsigned>(rng() % 40));
    return std::string(k);
  };
  for (int round = 0; round < 30; round++) {
    WriteBatch batch;
    for (int op = 0; op < 8; op++) {
      std::string k = key();
      if (rng() % 3 == 0) {
        batch.DeleteRecord(k);
        model.erase(k);
      } else {
        std::string v = std::to_string(round * 100 + op);
        batch.PutRecord(k, v);
        model[k] = v;
      }
    }
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{rng() % 2 == 0}).ok());
    if (round % 7 == 3) {
      ASSERT_TRUE(backend_->Compact().ok());
    }
    for (int walk = 0; walk < 6; walk++) {
      auto it = backend_->NewRecordIterator();
      auto m = model.begin();
      switch (walk % 3) {
        case 0: {
          std::string k = key();
          it->Seek(k);
          m = model.lower_bound(k);
          break;
        }
        case 1:
          it->SeekToFirst();
          m = model.begin();
          break;
        default:
          it->SeekToLast();
          m = model.empty() ? model.end() : std::prev(model.end());
      }
      for (int step = 0; step < 25; step++) {
        const bool model_valid = m != model.end();
        ASSERT_EQ(it->Valid(), model_valid) << "round " << round;
        if (!model_valid) break;
        ASSERT_EQ(it->key(), m->first) << "round " << round;
        ASSERT_EQ(it->value(), m->second) << "round " << round;
        if (rng() % 2 == 0) {
          it->Next();
          ++m;
        } else {
          it->Prev();
          m = m == model.begin() ? model.end() : std::prev(m);
        }
      }
      ASSERT_TRUE(it->status().ok());
    }
  }
}

TEST_P(BackendTest, RecordOpsApplyInOrderAndDelete) {
  WriteBatch batch;
  batch.PutRecord("k", "1");
  batch.PutRecord("k", "2");
  batch.PutRecord("gone", "x");
  batch.DeleteRecord("gone");
  batch.PutRecord("keep", "y");
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  std::string value;
  ASSERT_TRUE(backend_->GetRecord("k", &value).ok());
  EXPECT_EQ(value, "2");
  EXPECT_TRUE(backend_->GetRecord("gone", &value).IsNotFound());

  for (bool sync : {false, true}) {
    WriteBatch del;
    del.DeleteRecord("keep");
    del.DeleteRecord("never-existed");
    del.PutRecord("later", sync ? "s" : "u");
    ASSERT_TRUE(backend_->Apply(del, WriteOptions{sync}).ok());
    EXPECT_TRUE(backend_->GetRecord("keep", &value).IsNotFound());
    auto all = AllRecords(backend_.get());
    std::vector<std::pair<std::string, std::string>> want = {
        {"k", "2"}, {"later", sync ? "s" : "u"}};
    EXPECT_EQ(all, want);
  }
}

TEST_P(BackendTest, RecordIteratorIsASnapshot) {
  WriteBatch batch;
  batch.PutRecord("a", "old");
  batch.PutRecord("b", "old");
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  for (bool sync : {true, false}) {
    auto it = backend_->NewRecordIterator();
    WriteBatch change;
    change.PutRecord("a", "new");
    change.DeleteRecord("b");
    change.PutRecord("c", "new");
    ASSERT_TRUE(backend_->Apply(change, WriteOptions{sync}).ok());
    if (!sync) {
      ASSERT_TRUE(backend_->Sync().ok());  // a flush, for pack
    }
    std::vector<std::string> seen;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      seen.push_back(std::string(it->key()) + "=" + std::string(it->value()));
    }
    // Round one starts from {a=old, b=old}, round two from {a=new}.
    if (sync) {
      EXPECT_EQ(seen, (std::vector<std::string>{"a=old", "b=old"}));
    } else {
      EXPECT_EQ(seen, (std::vector<std::string>{"a=new"}));
    }
    auto now = AllRecords(backend_.get());
    std::vector<std::pair<std::string, std::string>> want = {{"a", "new"},
                                                             {"c", "new"}};
    EXPECT_EQ(now, want);
    WriteBatch restore;
    restore.DeleteRecord("c");
    ASSERT_TRUE(backend_->Apply(restore, {}).ok());
  }
}

TEST_P(BackendTest, DeletesAndStats) {
  std::vector<TestObject> objects;
  for (int i = 0; i < 10; i++) objects.push_back(MakeObject(i, 100 + i));
  ASSERT_TRUE(ApplyObjects(backend_.get(), objects).ok());
  BackendStats stats;
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  uint64_t total = 0;
  for (const auto& o : objects) total += o.stored.size();
  EXPECT_EQ(stats.objects, 10u);
  EXPECT_EQ(stats.stored_bytes, total);
  if (on_disk()) {
    EXPECT_GT(stats.disk_bytes, 0u);
  }

  for (bool sync : {true, false}) {
    WriteBatch batch;
    const TestObject& victim = objects[sync ? 0 : 1];
    batch.DeleteObject(victim.id);
    batch.DeleteObject(MakeObject(999, 5).id);  // absent: harmless
    TestObject fleeting = MakeObject(sync ? 500 : 501, 50);
    batch.PutObject(fleeting.id, fleeting.stored);  // put then delete
    batch.DeleteObject(fleeting.id);
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{sync}).ok());
    for (const ObjectId& id : {victim.id, fleeting.id}) {
      std::string stored;
      EXPECT_TRUE(backend_->ReadObject(id, &stored).IsNotFound());
      bool exists = true;
      ASSERT_TRUE(backend_->ObjectExists(id, &exists).ok());
      EXPECT_FALSE(exists);
      std::vector<ObjectId> found;
      ASSERT_TRUE(
          backend_->FindObjectsByPrefix(id.ToHex().substr(0, 10), 10, &found)
              .ok());
      EXPECT_TRUE(found.empty());
    }
    total -= victim.stored.size();
  }
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 8u);
  EXPECT_EQ(stats.stored_bytes, total);
  size_t seen = 0;
  ASSERT_TRUE(backend_->ForEachObject([&](const ObjectId&) {
                seen++;
                return true;
              }).ok());
  EXPECT_EQ(seen, 8u);
  // A deleted object can be stored again.
  ASSERT_TRUE(ApplyObjects(backend_.get(), {objects[0]}).ok());
  std::string stored;
  ASSERT_TRUE(backend_->ReadObject(objects[0].id, &stored).ok());
  EXPECT_EQ(stored, objects[0].stored);
}

TEST_P(BackendTest, OdbRoundTripAndLargeBodies) {
  Odb odb(backend_.get(), OdbOptions{});
  WriteBatch batch;
  std::string half_zero(4096, '\0');
  for (size_t i = 0; i < 2048; i++) half_zero[i] = static_cast<char>(i * 7);
  std::vector<std::pair<ObjectId, std::string>> written;
  for (const std::string& canonical :
       {half_zero, MakeObject(1, 4096).stored, MakeObject(2, 1 << 20).stored}) {
    written.emplace_back(odb.Stage(&batch, canonical), canonical);
  }
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  Odb fresh(backend_.get(), OdbOptions{});  // nothing cached
  for (const auto& [id, canonical] : written) {
    auto r = fresh.Read(id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(**r, canonical);
  }
}

// A pack is read while it is appended to: objects written after the first
// read of the same pack must be readable too (the reader sees the file
// grow), and reading them must not disturb the older ones.
TEST_P(BackendTest, ReadsFollowAppendsToTheSamePack) {
  std::vector<TestObject> written;
  for (uint64_t i = 0; i < 50; i++) {
    TestObject o = MakeObject(100 + i, 64 + i * 97 % 5000);
    WriteBatch batch;
    batch.PutObject(o.id, o.stored);
    ASSERT_TRUE(backend_->Apply(batch, {}).ok());
    written.push_back(o);
    for (size_t j : {size_t{0}, written.size() / 2, written.size() - 1}) {
      std::string got;
      ASSERT_TRUE(backend_->ReadObject(written[j].id, &got).ok()) << i;
      EXPECT_EQ(got, written[j].stored);
    }
  }
}

// Each batch sets three records to the same value and points "head" at an
// object written in the same batch; a reader must never see a mix.
TEST_P(BackendTest, BatchesAreAtomicForConcurrentReaders) {
  constexpr int kBatches = 300;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, checks{0};
  auto reader = [&] {
    do {
      auto it = backend_->NewRecordIterator();
      std::vector<std::string> values;
      for (it->Seek("atomic/");
           it->Valid() && it->key().substr(0, 7) == "atomic/"; it->Next()) {
        values.emplace_back(it->value());
      }
      if (!values.empty() &&
          (values.size() != 3 || values[0] != values[1] ||
           values[1] != values[2])) {
        failures++;
      }
      std::string head;
      if (backend_->GetRecord("head", &head).ok()) {
        auto id = ObjectId::FromHex(head);
        std::string stored;
        if (!id.ok() || !backend_->ReadObject(*id, &stored).ok() ||
            !HashMatches(*id, stored)) {
          failures++;
        }
      }
      checks++;
    } while (!done.load());
  };
  std::thread r1(reader), r2(reader);
  for (int i = 1; i <= kBatches; i++) {
    TestObject o = MakeObject(i, 256 + i % 7);
    WriteBatch batch;
    batch.PutObject(o.id, o.stored);
    for (const char* k : {"atomic/a", "atomic/b", "atomic/c"}) {
      batch.PutRecord(k, std::to_string(i));
    }
    batch.PutRecord("head", o.id.ToHex());
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{i % 3 == 0}).ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(checks.load(), 0);
}

TEST_P(BackendTest, ManyReadersWhileOneWrites) {
  constexpr int kBatches = 200, kPerBatch = 3;
  std::vector<TestObject> objects;
  for (int i = 0; i < kBatches * kPerBatch; i++) {
    objects.push_back(MakeObject(i, i % 5 == 0 ? 4096 : 200));
  }
  std::atomic<int> acked{0};  // objects [0, acked) are committed
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  auto reader = [&](int seed) {
    std::mt19937 rng(seed);
    // Keep going past the writer's end until this thread has read a bit.
    for (int mine = 0; !done.load() || mine < 100; mine++) {
      int n = acked.load();
      if (n == 0) continue;
      const TestObject& o = objects[rng() % n];
      std::string stored;
      Status s = backend_->ReadObject(o.id, &stored);
      if (!s.ok() || stored != o.stored) failures++;
      // Not too often: the memory backend's prefix look-up scans every
      // object under its shared lock, and glibc's shared_mutex prefers
      // readers, so constant scans starve the writer.
      if (rng() % 128 == 0) {
        std::vector<ObjectId> found;
        if (!backend_->FindObjectsByPrefix(o.id.ToHex().substr(0, 7), 4, &found)
                 .ok() ||
            std::find(found.begin(), found.end(), o.id) == found.end()) {
          failures++;
        }
      }
      reads++;
      std::this_thread::yield();  // see above: let the writer in
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; t++) readers.emplace_back(reader, t);
  for (int b = 0; b < kBatches; b++) {
    WriteBatch batch;
    for (int j = 0; j < kPerBatch; j++) {
      const TestObject& o = objects[b * kPerBatch + j];
      batch.PutObject(o.id, o.stored);
    }
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{b % 10 == 0}).ok());
    acked = (b + 1) * kPerBatch;
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendTest,
                         ::testing::Values("memory", "leveldb", "pack"),
                         ParamName);

// ---- on-disk backends ------------------------------------------------------

class OnDiskBackendTest : public BackendTest {
 protected:
  // Opens the store through `env`, then forgets the history, so that a
  // crash now keeps everything written so far.
  void OpenWithEnv(FaultInjectionEnv* env, BackendOptions options = {}) {
    options.env = env;
    Reopen(options);
    env->ResetState();
  }

  // Power failure: nothing more reaches the disk, the process dies, and
  // everything not synced is gone.  Then reopen through `env`.
  void PowerLoss(FaultInjectionEnv* env, BackendOptions options = {},
                 bool drop_unsynced = true) {
    env->SetFilesystemActive(false);
    backend_.reset();
    if (drop_unsynced) {
      ASSERT_TRUE(env->DropUnsyncedData().ok());
    }
    env->SetFilesystemActive(true);
    env->ClearFault();
    OpenWithEnv(env, options);
  }
};

// Only the on-disk backends persist anything.
TEST_P(OnDiskBackendTest, ReopenKeepsEverything) {
  std::vector<TestObject> objects;
  for (int i = 0; i < 30; i++) objects.push_back(MakeObject(i, 500 + i));
  for (int i = 0; i < 30; i += 3) {
    WriteBatch batch;
    for (int j = i; j < i + 3; j++) {
      batch.PutObject(objects[j].id, objects[j].stored);
    }
    batch.PutRecord("ref", std::to_string(i));
    batch.PutRecord("log/" + std::to_string(100 + i), "entry");
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{i % 2 == 0}).ok());
  }
  WriteBatch del;
  del.DeleteObject(objects[0].id);
  del.DeleteRecord("log/100");
  ASSERT_TRUE(backend_->Apply(del, WriteOptions{false}).ok());
  ASSERT_TRUE(backend_->Sync().ok());
  // And one more without Sync: a process exit (no power loss) keeps it.
  TestObject last = MakeObject(77, 77);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {last}, /*sync=*/false).ok());
  BackendStats before;
  ASSERT_TRUE(backend_->GetStats(&before).ok());
  auto records_before = AllRecords(backend_.get());

  Reopen();
  for (size_t i = 1; i < objects.size(); i++) {
    std::string stored;
    ASSERT_TRUE(backend_->ReadObject(objects[i].id, &stored).ok()) << i;
    EXPECT_EQ(stored, objects[i].stored);
  }
  std::string stored;
  EXPECT_TRUE(backend_->ReadObject(objects[0].id, &stored).IsNotFound());
  ASSERT_TRUE(backend_->ReadObject(last.id, &stored).ok());
  EXPECT_EQ(AllRecords(backend_.get()), records_before);
  BackendStats after;
  ASSERT_TRUE(backend_->GetStats(&after).ok());
  EXPECT_EQ(after.objects, before.objects);
  EXPECT_EQ(after.stored_bytes, before.stored_bytes);
}

TEST_P(OnDiskBackendTest, ForeignDirectoryIsRefusedAndUntouched) {
  backend_.reset();
  const std::string foreign = dir_.path() + "/foreign";
  fs::create_directories(foreign + "/sub");
  WriteFile(foreign + "/notes.txt", "my notes");
  WriteFile(foreign + "/data.bin", std::string(1000, 'x'));
  const auto before = ListDir(foreign);
  std::unique_ptr<Backend> b;
  Status s = OpenBackend(GetParam(), foreign, BackendOptions{}, &b);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(foreign), std::string::npos) << s.ToString();
  EXPECT_EQ(ListDir(foreign), before);
}

TEST_P(OnDiskBackendTest, MissingStoreWithoutCreateIsNotFound) {
  backend_.reset();
  BackendOptions options;
  options.create_if_missing = false;
  std::unique_ptr<Backend> b;
  Status s = OpenBackend(GetParam(), dir_.path() + "/nothing", options, &b);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(fs::exists(dir_.path() + "/nothing"));
}

TEST_P(OnDiskBackendTest, SecondOpenIsBusy) {
  std::unique_ptr<Backend> second;
  Status s = OpenBackend(GetParam(), store_, BackendOptions{}, &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find(store_), std::string::npos) << s.ToString();
}

TEST_P(OnDiskBackendTest, SyncedBatchesSurvivePowerLoss) {
  env_ = std::make_unique<FaultInjectionEnv>();
  FaultInjectionEnv& env = *env_;
  OpenWithEnv(&env);
  std::vector<TestObject> objects = ApplySynced(backend_.get(), 0, 20, 1000);
  ASSERT_FALSE(HasFailure());
  BackendStats before;
  ASSERT_TRUE(backend_->GetStats(&before).ok());
  PowerLoss(&env);
  for (const auto& o : objects) {
    std::string stored;
    Status s = backend_->ReadObject(o.id, &stored);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(stored, o.stored);
  }
  std::string ref;
  ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
  EXPECT_EQ(ref, "19");
  BackendStats after;
  ASSERT_TRUE(backend_->GetStats(&after).ok());
  EXPECT_EQ(after.objects, before.objects);
  EXPECT_EQ(after.stored_bytes, before.stored_bytes);
}

// Batches applied with sync=false may be lost, but only together with all
// later ones; Sync() makes everything before it durable.  Run against
// power failures that drop all unsynced data and against ones that keep a
// random part of each file's unsynced data, so that no ordering between
// the pack files' and LevelDB's unsynced writes is assumed.
TEST_P(OnDiskBackendTest, UnsyncedBatchesAreLostOnlyAsASuffix) {
  constexpr int kSynced = 10, kTotal = 40;
  BackendOptions options;
  options.pack_file_bytes = 32 << 10;  // some rotations, too
  for (uint64_t seed = 0; seed < 24; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    backend_.reset();
    env_.reset();
    mem_env_.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    store_ = "/suffix/store";
    env_ = std::make_unique<FaultInjectionEnv>(mem_env_.get());
    OpenWithEnv(env_.get(), options);
    std::vector<TestObject> objects;
    for (int i = 0; i < kTotal; i++) {
      objects.push_back(MakeObject(i, 2000));
      WriteBatch batch;
      batch.PutObject(objects.back().id, objects.back().stored);
      batch.PutRecord("log/" + std::to_string(100 + i), "x");
      batch.PutRecord("ref", std::to_string(i));
      ASSERT_TRUE(backend_->Apply(batch, WriteOptions{false}).ok());
      if (i + 1 == kSynced) {
        ASSERT_TRUE(backend_->Sync().ok());
      }
    }
    env_->SetFilesystemActive(false);
    backend_.reset();
    ASSERT_TRUE((seed == 0 ? env_->DropUnsyncedData()
                           : env_->DropRandomUnsyncedData(seed))
                    .ok());
    env_->SetFilesystemActive(true);
    OpenWithEnv(env_.get(), options);
    ASSERT_TRUE(backend_);
    int present = 0;
    for (int i = 0; i < kTotal; i++) {
      std::string v;
      Status s = backend_->ReadObject(objects[i].id, &v);
      ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
      const bool has_record =
          backend_->GetRecord("log/" + std::to_string(100 + i), &v).ok();
      EXPECT_EQ(s.ok(), has_record) << "torn batch " << i;
      if (s.ok()) {
        EXPECT_EQ(present, i) << "batch " << i << " survived a lost batch";
        present = i + 1;
      }
    }
    EXPECT_GE(present, kSynced);  // more if a pack rotation synced
    std::string ref;
    ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
    EXPECT_EQ(ref, std::to_string(present - 1));
    BackendStats stats;
    ASSERT_TRUE(backend_->GetStats(&stats).ok());
    EXPECT_EQ(stats.objects, static_cast<uint64_t>(present));
  }
}

// The batch a crash sweep commits: two objects and three records.  A
// large batch (over 64 KiB) is synced on a helper thread by the pack
// backend while it updates its index.
WriteBatch SweepBatch(int i, std::vector<TestObject>* objects,
                      bool large = false) {
  WriteBatch batch;
  for (size_t size : {large ? size_t{70000} : size_t{4096}, size_t{300}}) {
    TestObject o = MakeObject(i * 10 + size, size);
    batch.PutObject(o.id, o.stored);
    objects->push_back(o);
  }
  batch.PutRecord("ref", std::to_string(i));
  batch.PutRecord("log/" + std::to_string(100 + i), "entry");
  if (i > 0) batch.DeleteRecord("log/" + std::to_string(100 + i - 1));
  return batch;
}

// For every write/sync point n of a sequence of synced commits: fail the
// nth, crash, reopen, and check that every acknowledged batch is there
// whole, the failed one is all or nothing, and nothing later exists.
TEST_P(OnDiskBackendTest, CrashSweepOverEveryWriteAndSyncPoint) {
  struct Variant {
    const char* name;
    FaultInjectionEnv::FaultKind kind;
    bool torn_write;
    bool power_loss;  // else the process dies but the OS keeps its cache
    bool sticky = false;  // every later point fails too (a full disk)
  };
  const Variant variants[] = {
      {"io-error/power-loss", FaultInjectionEnv::FaultKind::kIOError, false,
       true},
      {"enospc-torn/power-loss", FaultInjectionEnv::FaultKind::kNoSpace, true,
       true},
      {"io-error-torn/process-crash", FaultInjectionEnv::FaultKind::kIOError,
       true, false},
      {"disk-stays-full/power-loss", FaultInjectionEnv::FaultKind::kNoSpace,
       false, true, /*sticky=*/true},
  };
  constexpr int kBatches = 10;
  for (bool large : {false, true}) {
  BackendOptions options;
  // Rotate every ~2 batches.
  options.pack_file_bytes = large ? 150 << 10 : 12 << 10;
  for (const Variant& v : variants) {
    uint64_t n = 1;
    for (; n < 400; n++) {
      SCOPED_TRACE(std::string(v.name) + (large ? " large" : "") +
                   " n=" + std::to_string(n));
      // In memory: the sweep checks the backends' logic against the
      // durability model, and thousands of real fsyncs would only make it
      // slow.  The other power-loss tests run on the real filesystem.
      backend_.reset();
      env_.reset();
      mem_env_.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
      store_ = "/sweep/store";
      env_ = std::make_unique<FaultInjectionEnv>(mem_env_.get());
      FaultInjectionEnv& env = *env_;
      OpenWithEnv(&env, options);
      env.FailNthFaultPoint(n, v.kind, v.torn_write, v.sticky);
      std::vector<TestObject> objects;
      int acked = 0;
      for (int i = 0; i < kBatches; i++) {
        Status s =
            backend_->Apply(SweepBatch(i, &objects, large), WriteOptions{true});
        if (!s.ok()) {
          if (v.kind == FaultInjectionEnv::FaultKind::kNoSpace) {
            EXPECT_TRUE(s.IsFull()) << s.ToString();
          }
          break;
        }
        acked++;
      }
      const bool fired = env.fault_fired();
      PowerLoss(&env, options, v.power_loss);
      if (!backend_) break;  // reopen failed; reported by PowerLoss

      int present_batches = 0;
      for (int i = 0; i < static_cast<int>(objects.size() / 2); i++) {
        int found = 0;
        for (int j = 0; j < 2; j++) {
          std::string stored;
          Status s = backend_->ReadObject(objects[2 * i + j].id, &stored);
          ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
          if (s.ok()) {
            EXPECT_EQ(stored, objects[2 * i + j].stored);
            found++;
          }
        }
        if (i < acked) {
          EXPECT_EQ(found, 2) << "acknowledged batch " << i << " lost";
        } else {
          EXPECT_TRUE(found == 0 || found == 2) << "batch " << i << " torn";
        }
        if (found == 2) {
          EXPECT_EQ(present_batches, i) << "batch " << i << " after a gap";
          present_batches = i + 1;
        }
      }
      EXPECT_GE(present_batches, acked);
      EXPECT_LE(present_batches, acked + 1);
      // Records: "ref" names the last batch, and only its "log/" entry is
      // left (each batch deletes its predecessor's).
      std::string ref;
      if (present_batches > 0) {
        ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
        EXPECT_EQ(ref, std::to_string(present_batches - 1));
        std::vector<std::pair<std::string, std::string>> want = {
            {"log/" + std::to_string(99 + present_batches), "entry"},
            {"ref", ref}};
        EXPECT_EQ(AllRecords(backend_.get()), want);
      } else {
        EXPECT_TRUE(backend_->GetRecord("ref", &ref).IsNotFound());
      }
      BackendStats stats;
      ASSERT_TRUE(backend_->GetStats(&stats).ok());
      EXPECT_EQ(stats.objects, 2u * present_batches);
      // The store takes new commits after recovery.
      std::vector<TestObject> more;
      ASSERT_TRUE(
          backend_->Apply(SweepBatch(50, &more), WriteOptions{true}).ok());
      backend_.reset();
      if (!fired) break;  // the sequence has fewer than n points: done
    }
    EXPECT_GT(n, 20u) << v.name << ": suspiciously few fault points";
  }
  }
}

INSTANTIATE_TEST_SUITE_P(OnDisk, OnDiskBackendTest,
                         ::testing::Values("leveldb", "pack"), ParamName);

// ---- the pack backend ------------------------------------------------------

class PackBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = dir_.path() + "/store";
    Open();
  }
  void Open(BackendOptions options = {}) {
    backend_.reset();
    Status s = OpenPackBackend(store_, options, &backend_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Reopens the store through env_, counting what is on disk as synced;
  // returns the options, for reopening the same way.
  BackendOptions OpenWithFaultEnv(BackendOptions options = {}) {
    options.env = &env_;
    Open(options);
    env_.ResetState();
    return options;
  }
  // The power fails: nothing more reaches the disk, the process goes away,
  // and with `drop_unsynced` what was not synced is gone.  No reopen.
  void PowerFailure(bool drop_unsynced) {
    env_.SetFilesystemActive(false);
    backend_.reset();
    if (drop_unsynced) {
      ASSERT_TRUE(env_.DropUnsyncedData().ok());
    }
    env_.SetFilesystemActive(true);
  }
  std::string PackPath(int n) const {
    char name[32];
    std::snprintf(name, sizeof(name), "/packs/pack-%06d.lpk", n);
    return store_ + name;
  }
  int CountPacks() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(store_ + "/packs")) {
      if (e.path().extension() == ".lpk") n++;
    }
    return n;
  }
  // Rewrites the index entry of `id` through LevelDB directly (the key
  // layout is in docs/format.md); the backend must be closed.
  using EntryEdit = std::function<void(uint32_t*, uint64_t*, uint32_t*)>;
  void EditIndexEntry(const ObjectId& id, const EntryEdit& edit) {
    leveldb::DB* raw = nullptr;
    leveldb::Options o;
    ASSERT_TRUE(leveldb::DB::Open(o, store_ + "/index", &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    const std::string key = "o" + std::string(id.AsBytes());
    std::string value;
    ASSERT_TRUE(db->Get({}, key, &value).ok());
    ASSERT_EQ(value.size(), 16u);
    uint32_t pack = coding::DecodeFixed32(value.data());
    uint64_t offset = coding::DecodeFixed64(value.data() + 4);
    uint32_t length = coding::DecodeFixed32(value.data() + 12);
    edit(&pack, &offset, &length);
    value.clear();
    coding::PutFixed32(&value, pack);
    coding::PutFixed64(&value, offset);
    coding::PutFixed32(&value, length);
    ASSERT_TRUE(db->Put({}, key, value).ok());
  }

  // Declared before backend_, which may use it, so it outlives it.
  TempDir dir_;
  FaultInjectionEnv env_;
  std::string store_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(PackBackendTest, ReplayRebuildsAnIndexThatLostItsLog) {
  FaultInjectionEnv& env = env_;
  BackendOptions options = OpenWithFaultEnv();
  std::vector<TestObject> objects;
  for (int i = 0; i < 10; i++) {
    objects.push_back(MakeObject(i, 4096));
    WriteBatch batch;
    batch.PutObject(objects.back().id, objects.back().stored);
    batch.PutRecord("ref", std::to_string(i));
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{true}).ok());
    // Compact() with nothing to compact is just a checkpoint: it writes the
    // index changes so far to LevelDB (without sync).
    if (i == 5) {
      ASSERT_TRUE(backend_->Compact().ok());
    }
  }
  // The index was written without sync: everything after open is at risk.
  uint64_t unsynced_index = 0;
  for (const auto& e : fs::directory_iterator(store_ + "/index")) {
    unsynced_index += env.UnsyncedBytes(e.path().string());
  }
  EXPECT_GT(unsynced_index, 0u);
  EXPECT_EQ(env.UnsyncedBytes(PackPath(1)), 0u);

  PowerFailure(/*drop_unsynced=*/true);
  Open(options);
  for (const auto& o : objects) {
    std::string stored;
    ASSERT_TRUE(backend_->ReadObject(o.id, &stored).ok());
    EXPECT_EQ(stored, o.stored);
  }
  std::string ref;
  ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
  EXPECT_EQ(ref, "9");
  BackendStats stats;
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 10u);
}

// The overlay is written to LevelDB every ~1 MB of index changes, on a
// thread of its own while later records go on.  Nothing may be invisible
// at any moment: a reader thread checks acknowledged objects and records
// all along, and everything is there after the flushes and after reopen.
TEST_F(PackBackendTest, BackgroundIndexFlushesKeepEverythingVisible) {
  constexpr int kBatches = 120, kPerBatch = 400;  // ~2.6 MB of index
  std::vector<std::vector<TestObject>> batches(kBatches);
  for (int i = 0; i < kBatches; i++) {
    for (int j = 0; j < kPerBatch; j++) {
      batches[i].push_back(MakeObject(i * kPerBatch + j, 48));
    }
  }
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0}, checks{0};
  std::thread reader([&] {
    std::mt19937 rng(5);
    while (!stop.load()) {
      int n = acked.load();
      if (n == 0) continue;
      const int i = static_cast<int>(rng() % n);
      const TestObject& o = batches[i][rng() % kPerBatch];
      bool exists = false;
      std::string value;
      if (!backend_->ObjectExists(o.id, &exists).ok() || !exists ||
          !backend_->GetRecord("log/" + std::to_string(i), &value).ok() ||
          value != std::to_string(i)) {
        misses++;
      }
      checks++;
    }
  });
  for (int i = 0; i < kBatches; i++) {
    WriteBatch batch;
    for (const auto& o : batches[i]) batch.PutObject(o.id, o.stored);
    batch.PutRecord("log/" + std::to_string(i), std::to_string(i));
    batch.PutRecord("ref", std::to_string(i));
    ASSERT_TRUE(backend_->Apply(batch, WriteOptions{i % 2 == 0}).ok());
    acked = i + 1;
  }
  stop = true;
  reader.join();
  EXPECT_EQ(misses.load(), 0) << "of " << checks.load();
  EXPECT_GT(checks.load(), 0);

  auto check_all = [&] {
    uint64_t n = 0;
    ASSERT_TRUE(backend_->ForEachObject([&](const ObjectId&) {
      n++;
      return true;
    }).ok());
    EXPECT_EQ(n, uint64_t{kBatches} * kPerBatch);
    BackendStats stats;
    ASSERT_TRUE(backend_->GetStats(&stats).ok());
    EXPECT_EQ(stats.objects, uint64_t{kBatches} * kPerBatch);
    auto records = AllRecords(backend_.get());
    ASSERT_EQ(records.size(), size_t{kBatches} + 1);
    EXPECT_EQ(records.back(),
              std::make_pair(std::string("ref"), std::to_string(kBatches - 1)));
    std::vector<ObjectId> found;
    const ObjectId& id = batches[kBatches / 2][7].id;
    ASSERT_TRUE(
        backend_->FindObjectsByPrefix(id.ToHex().substr(0, 12), 10, &found)
            .ok());
    EXPECT_EQ(found, std::vector<ObjectId>{id});
    for (int i = 0; i < kBatches; i += 7) {
      std::string stored;
      ASSERT_TRUE(backend_->ReadObject(batches[i][i % kPerBatch].id, &stored)
                      .ok());
      EXPECT_EQ(stored, batches[i][i % kPerBatch].stored);
    }
  };
  check_all();
  Open();
  check_all();
}

// ---- pre-filled pack space (docs/decisions/0004-pack-prefill.md) ----------

// Writes `n` small objects in synced batches of one, from seed `first`.
std::vector<TestObject> ApplySmallSynced(Backend* b, int first, int n) {
  return ApplySynced(b, first, n, 3000);
}

void ExpectReadable(Backend* b, const std::vector<TestObject>& objects) {
  for (const auto& o : objects) {
    std::string stored;
    Status s = b->ReadObject(o.id, &stored);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(stored, o.stored);
  }
}

bool AllZero(const std::string& data, size_t from) {
  return data.find_first_not_of('\0', from) == std::string::npos;
}

TEST_F(PackBackendTest, SmallRecordsGoIntoPrefilledZerosTrimmedAtClose) {
  std::vector<TestObject> objects = ApplySmallSynced(backend_.get(), 0, 5);
  // Open: the file runs past the journal with synced zeros, whole pages.
  const uint64_t open_size = fs::file_size(PackPath(1));
  EXPECT_GE(open_size, 512u << 10);
  EXPECT_EQ(open_size % 4096, 0u);
  const std::string open_bytes = ReadFile(PackPath(1));
  EXPECT_TRUE(AllZero(open_bytes, 16 + 5 * 3000 + 5 * 200));
  EXPECT_FALSE(AllZero(open_bytes, 16 + 4 * 3000));
  backend_.reset();
  // Closed: cut back to the journal's end.
  const uint64_t closed_size = fs::file_size(PackPath(1));
  EXPECT_LT(closed_size, 5 * 3000 + 5 * 200u);
  EXPECT_EQ(ReadFile(PackPath(1)), open_bytes.substr(0, closed_size));
  Open();
  ExpectReadable(backend_.get(), objects);
  std::string ref;
  ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
  EXPECT_EQ(ref, "4");
}

// Past the first 512 KiB, zeros are filled ahead on a thread of their own
// (StartFillLocked).  Whatever the timing, the bytes past the journal are
// zeros, records larger than the pre-fill limit (appends) are never
// overwritten by a fill still running, and close cuts the zeros off.
TEST_F(PackBackendTest, ZerosFilledInTheBackgroundStayAheadOfTheJournal) {
  std::vector<TestObject> objects;
  for (int round = 0; round < 40; round++) {
    // A few small records (one of which may start a fill), then at once
    // an append of 200 KB, over the space a fill may be writing.
    auto small = ApplySmallSynced(backend_.get(), round * 100, 1 + round % 7);
    objects.insert(objects.end(), small.begin(), small.end());
    objects.push_back(MakeObject(10000 + round, 200 << 10));
    ASSERT_TRUE(ApplyObjects(backend_.get(), {objects.back()}).ok());
  }
  auto tail = ApplySmallSynced(backend_.get(), 5000, 100);
  objects.insert(objects.end(), tail.begin(), tail.end());
  const std::string open_bytes = ReadFile(PackPath(1));
  ExpectReadable(backend_.get(), objects);
  backend_.reset();
  const std::string closed_bytes = ReadFile(PackPath(1));
  EXPECT_GT(closed_bytes.size(), 40 * (200u << 10));
  EXPECT_GE(open_bytes.size(), closed_bytes.size());
  EXPECT_EQ(open_bytes.substr(0, closed_bytes.size()), closed_bytes);
  EXPECT_TRUE(AllZero(open_bytes, closed_bytes.size()));
  Open();
  ExpectReadable(backend_.get(), objects);
  EXPECT_EQ(CountPacks(), 1);
}

// PositionalFile::FillZeros as PreadEnv() implements it, concurrent with
// writes before the filled range.
TEST(PositionalFileTest, FillZerosRunsBesideWritesElsewhere) {
  TempDir dir;
  auto* env = dynamic_cast<PositionalFileEnv*>(PreadEnv());
  ASSERT_NE(env, nullptr);
  std::unique_ptr<PositionalFile> file;
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(env->NewPositionalFile(path, true, &file).ok());
  ASSERT_TRUE(file->ConcurrentFill());
  const uint64_t from = 64 << 10, length = 300 << 10;
  leveldb::Status filled;
  std::thread filler([&] { filled = file->FillZeros(from, length); });
  std::string expected(from, '\0');
  for (uint64_t at = 0; at < from; at += 1000) {
    std::string piece(std::min<uint64_t>(1000, from - at),
                      static_cast<char>('a' + at % 26));
    ASSERT_TRUE(file->Write(at, piece).ok());
    expected.replace(at, piece.size(), piece);
  }
  filler.join();
  ASSERT_TRUE(filled.ok()) << filled.ToString();
  uint64_t size = 0;
  ASSERT_TRUE(file->Size(&size).ok());
  EXPECT_EQ(size, from + length);
  const std::string bytes = ReadFile(path);
  EXPECT_EQ(bytes.substr(0, from), expected);
  EXPECT_TRUE(AllZero(bytes, from));
}

// A crash leaves the zeros in place; the journal ends at the first of them
// and appends go on in the same pack.
TEST_F(PackBackendTest, APowerLossKeepsTheZerosAndTheSamePack) {
  FaultInjectionEnv& env = env_;
  BackendOptions options = OpenWithFaultEnv();
  std::vector<TestObject> objects = ApplySmallSynced(backend_.get(), 0, 6);
  TestObject lost = MakeObject(100, 3000);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {lost}, /*sync=*/false).ok());
  EXPECT_GT(env.UnsyncedBytes(PackPath(1)), 0u);

  PowerFailure(/*drop_unsynced=*/true);
  env.ResetState();
  // The unsynced record over the zeros was undone: zeros again.
  EXPECT_GE(fs::file_size(PackPath(1)), 512u << 10);
  EXPECT_TRUE(AllZero(ReadFile(PackPath(1)), 16 + 6 * 3000 + 6 * 200));

  Open(options);
  ExpectReadable(backend_.get(), objects);
  bool exists = true;
  ASSERT_TRUE(backend_->ObjectExists(lost.id, &exists).ok());
  EXPECT_FALSE(exists);
  std::vector<TestObject> more = ApplySmallSynced(backend_.get(), 10, 3);
  EXPECT_EQ(CountPacks(), 1);
  backend_.reset();
  Open(options);
  ExpectReadable(backend_.get(), objects);
  ExpectReadable(backend_.get(), more);
  EXPECT_EQ(CountPacks(), 1);
}

// Bytes other than zeros after the journal's end are a torn write, in the
// pre-filled space as anywhere: a new pack takes the appends.
TEST_F(PackBackendTest, GarbageInPrefilledZerosIsATornTail) {
  BackendOptions options = OpenWithFaultEnv();
  std::vector<TestObject> objects = ApplySmallSynced(backend_.get(), 0, 4);
  PowerFailure(/*drop_unsynced=*/false);
  env_.ResetState();
  {
    std::fstream f(PackPath(1), std::ios::in | std::ios::out |
                                    std::ios::binary);
    f.seekp(200 << 10);
    f.write("\x01", 1);
  }
  Open(options);
  ExpectReadable(backend_.get(), objects);
  EXPECT_EQ(CountPacks(), 2);
  std::vector<TestObject> more = ApplySmallSynced(backend_.get(), 10, 2);
  backend_.reset();
  Open(options);
  ExpectReadable(backend_.get(), objects);
  ExpectReadable(backend_.get(), more);
}

// An Env without positional files (here: LevelDB's default one) cannot
// write over the zeros a crash left behind, so it starts a new pack.
TEST_F(PackBackendTest, AnAppendOnlyEnvStartsANewPackAfterZeros) {
  OpenWithFaultEnv();
  std::vector<TestObject> objects = ApplySmallSynced(backend_.get(), 0, 4);
  PowerFailure(/*drop_unsynced=*/false);
  ASSERT_GE(fs::file_size(PackPath(1)), 512u << 10);

  FaultInjectionEnv append_only(leveldb::Env::Default());
  ASSERT_FALSE(append_only.SupportsPositionalFiles());
  BackendOptions plain;
  plain.env = &append_only;
  Open(plain);
  ExpectReadable(backend_.get(), objects);
  EXPECT_EQ(CountPacks(), 2);
  std::vector<TestObject> more = ApplySmallSynced(backend_.get(), 10, 3);
  // Appends only: nothing pre-filled.
  EXPECT_LT(fs::file_size(PackPath(2)), 4 * 3000 + 16u);
  backend_.reset();
  Open();
  ExpectReadable(backend_.get(), objects);
  ExpectReadable(backend_.get(), more);
}

TEST_F(PackBackendTest, TornTrailingRecordIsCutOff) {
  std::vector<TestObject> objects;
  for (int i = 0; i < 5; i++) objects.push_back(MakeObject(i, 3000));
  ASSERT_TRUE(ApplyObjects(backend_.get(), objects).ok());
  backend_.reset();
  const uint64_t good_size = fs::file_size(PackPath(1));

  // A record header promising 1000 bytes, followed by only 100.
  std::string torn;
  coding::PutFixed32(&torn, 0x12345678);
  coding::PutFixed32(&torn, 1000);
  torn.push_back(1);
  torn.append(100, 'z');
  AppendFile(PackPath(1), torn);

  Open();
  for (const auto& o : objects) {
    std::string stored;
    ASSERT_TRUE(backend_->ReadObject(o.id, &stored).ok());
  }
  // New commits go to a new pack; the torn bytes are never read again.
  EXPECT_TRUE(fs::exists(PackPath(2)));
  TestObject after = MakeObject(99, 3000);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {after}).ok());
  backend_.reset();
  EXPECT_EQ(fs::file_size(PackPath(1)), good_size + torn.size());
  Open();
  std::string stored;
  ASSERT_TRUE(backend_->ReadObject(after.id, &stored).ok());
  EXPECT_EQ(stored, after.stored);
  ASSERT_TRUE(backend_->ReadObject(objects[4].id, &stored).ok());

  // A complete-looking record with a bad crc at the tail is torn too.
  backend_.reset();
  std::string bad = ReadFile(PackPath(2));
  bad = bad.substr(16);  // the records of pack 2: one good record
  bad[20] ^= 1;
  AppendFile(PackPath(2), bad);
  Open();
  ASSERT_TRUE(backend_->ReadObject(after.id, &stored).ok());
  EXPECT_TRUE(fs::exists(PackPath(3)));
}

TEST_F(PackBackendTest, TornPackHeaderIsDiscarded) {
  TestObject o = MakeObject(1, 100);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {o}).ok());
  backend_.reset();
  WriteFile(PackPath(2), "\x89LP");  // creation of pack 2 cut short
  Open();
  std::string stored;
  ASSERT_TRUE(backend_->ReadObject(o.id, &stored).ok());
  TestObject p = MakeObject(2, 100);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {p}).ok());
  backend_.reset();
  Open();
  ASSERT_TRUE(backend_->ReadObject(p.id, &stored).ok());
}

TEST_F(PackBackendTest, DamagedRecordBeforeLaterRecordsIsCorruption) {
  BackendOptions small_packs;
  small_packs.pack_file_bytes = 8 << 10;
  BackendOptions options = OpenWithFaultEnv(small_packs);
  std::vector<TestObject> objects;
  for (int i = 0; i < 6; i++) {
    objects.push_back(MakeObject(i, 3000));
    ASSERT_TRUE(ApplyObjects(backend_.get(), {objects.back()}).ok());
  }
  ASSERT_GE(CountPacks(), 3);
  // Lose the index's unsynced log, so that the next open replays from
  // pack 1, then damage the first record of pack 1.
  PowerFailure(/*drop_unsynced=*/true);
  std::string pack1 = ReadFile(PackPath(1));
  pack1[16 + 9 + 50] ^= 0x40;
  WriteFile(PackPath(1), pack1);
  std::unique_ptr<Backend> b;
  Status s = OpenPackBackend(store_, options, &b);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("pack-000001.lpk"), std::string::npos)
      << s.ToString();
}

TEST_F(PackBackendTest, BitFlipIsCorruptionNamingTheObject) {
  Odb odb(backend_.get(), OdbOptions{});
  WriteBatch batch;
  const std::string page = MakeObject(5, 4096).stored;  // incompressible
  ObjectId id = odb.Stage(&batch, page);
  ObjectId other = odb.Stage(&batch, MakeObject(6, 4096).stored);
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  backend_.reset();

  std::string pack = ReadFile(PackPath(1));
  size_t at = pack.find(page.substr(0, 64));
  ASSERT_NE(at, std::string::npos);
  pack[at + 1000] ^= 0x01;
  WriteFile(PackPath(1), pack);

  Open();
  Odb fresh(backend_.get(), OdbOptions{});
  auto r = fresh.Read(id);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(id.ToHex()), std::string::npos);
  EXPECT_NE(r.status().message().find("pack-000001.lpk"), std::string::npos);
  EXPECT_TRUE(fresh.Read(other).ok());  // the neighbour is fine
}

TEST_F(PackBackendTest, DamagedIndexEntriesAreCorruptionNotGarbage) {
  TestObject a = MakeObject(1, 4096), b = MakeObject(2, 4096);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {a, b}).ok());
  backend_.reset();

  struct Case {
    const char* what;
    std::function<void(uint32_t*, uint64_t*, uint32_t*)> edit;
    const char* expect;
  };
  uint64_t b_offset = 0;
  EditIndexEntry(b.id, [&](uint32_t*, uint64_t* off, uint32_t*) {
    b_offset = *off;
  });
  const Case cases[] = {
      {"offset beyond end of file",
       [](uint32_t*, uint64_t* off, uint32_t*) { *off = 1ull << 40; },
       "past the end"},
      {"length too long",
       [](uint32_t*, uint64_t*, uint32_t* len) { *len += 1; }, ""},
      {"pointing at another object's entry",
       [&](uint32_t*, uint64_t* off, uint32_t*) { *off = b_offset; },
       "belongs to object"},
      {"missing pack file",
       [](uint32_t* pack, uint64_t*, uint32_t*) { *pack = 9; }, "missing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    uint32_t saved_pack = 0;
    uint64_t saved_off = 0;
    uint32_t saved_len = 0;
    EditIndexEntry(a.id, [&](uint32_t* p, uint64_t* o, uint32_t* l) {
      saved_pack = *p;
      saved_off = *o;
      saved_len = *l;
      c.edit(p, o, l);
    });
    Open();
    std::string stored;
    Status s = backend_->ReadObject(a.id, &stored);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    const std::string& m = s.message();
    EXPECT_NE(m.find(a.id.ToHex()), std::string::npos) << s.ToString();
    EXPECT_NE(m.find("pack-00000"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.ToString();
    ASSERT_TRUE(backend_->ReadObject(b.id, &stored).ok());
    backend_.reset();
    EditIndexEntry(a.id, [&](uint32_t* p, uint64_t* o, uint32_t* l) {
      *p = saved_pack;
      *o = saved_off;
      *l = saved_len;
    });
  }
}

TEST_F(PackBackendTest, WritesAreRefusedAfterAWriteErrorUntilReopen) {
  FaultInjectionEnv& env = env_;
  BackendOptions options = OpenWithFaultEnv();
  TestObject a = MakeObject(1, 100), b = MakeObject(2, 100);
  env.FailNthFaultPoint(1, FaultInjectionEnv::FaultKind::kNoSpace);
  Status s = ApplyObjects(backend_.get(), {a});
  EXPECT_TRUE(s.IsFull()) << s.ToString();
  s = ApplyObjects(backend_.get(), {b});
  EXPECT_TRUE(s.IsFull()) << s.ToString();
  EXPECT_NE(s.message().find("reopen"), std::string::npos) << s.ToString();
  EXPECT_FALSE(backend_->Sync().ok());
  Open(options);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {b}).ok());
  std::string stored;
  EXPECT_TRUE(backend_->ReadObject(a.id, &stored).IsNotFound());
  EXPECT_TRUE(backend_->ReadObject(b.id, &stored).ok());
}

// A large record's sync runs on a helper thread.  When it fails, Apply
// fails, the record is not visible, the backend refuses writes until
// reopened, and a power loss leaves the store as before the record.  The
// caller's while_syncing ran (the write had succeeded).
TEST_F(PackBackendTest, AFailedSyncOfALargeRecordFailsTheApply) {
  FaultInjectionEnv& env = env_;
  BackendOptions options = OpenWithFaultEnv();
  TestObject before = MakeObject(1, 100);
  ASSERT_TRUE(ApplyObjects(backend_.get(), {before}).ok());
  TestObject big = MakeObject(2, 300 << 10);
  WriteBatch batch;
  batch.PutObject(big.id, big.stored);
  batch.PutRecord("ref", "big");
  int calls = 0;
  // Point 1 is the record's write, point 2 its sync (no pre-fill: the
  // record is too large for one).
  env.FailNthFaultPoint(2, FaultInjectionEnv::FaultKind::kIOError);
  Status s = backend_->Apply(batch, WriteOptions(true, [&] { calls++; }));
  ASSERT_TRUE(env.fault_fired());
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(calls, 1);
  std::string stored;
  EXPECT_TRUE(backend_->ReadObject(big.id, &stored).IsNotFound());
  EXPECT_TRUE(backend_->GetRecord("ref", &stored).IsNotFound());
  EXPECT_FALSE(ApplyObjects(backend_.get(), {MakeObject(3, 100)}).ok());
  // The same record with its write failing: the hook does not run.
  env.SetFilesystemActive(false);
  backend_.reset();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  env.SetFilesystemActive(true);
  env.ClearFault();
  Open(options);
  env.ResetState();
  EXPECT_TRUE(backend_->ReadObject(big.id, &stored).IsNotFound());
  ASSERT_TRUE(backend_->ReadObject(before.id, &stored).ok());
  calls = 0;
  env.FailNthFaultPoint(1, FaultInjectionEnv::FaultKind::kIOError);
  s = backend_->Apply(batch, WriteOptions(true, [&] { calls++; }));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(calls, 0);
  env.ClearFault();
  Open(options);
  ASSERT_TRUE(backend_->Apply(batch, WriteOptions(true, [&] { calls++; })).ok());
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(backend_->ReadObject(big.id, &stored).ok());
  EXPECT_EQ(stored, big.stored);
}

// Polls until the pack backend's id filter holds at least `ids` ids.
bool WaitForIdFilter(Backend* b, uint64_t ids) {
  for (int i = 0; i < 2000; i++) {
    BackendStats stats;
    if (b->GetStats(&stats).ok() && stats.id_filter_ids >= ids &&
        stats.id_filter_bytes > 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Apply asks the id filter before the index whether a put is new.  It
// must never call a stored object new (that would journal it again and
// count it twice): not for ids written while the filter was being built,
// nor after it grew past its size and was rebuilt, nor after a reopen.
// A deleted id is still in the filter; putting it again stores it.
TEST_F(PackBackendTest, TheIdFilterNeverCallsAStoredObjectNew) {
  std::vector<TestObject> objects;
  auto write = [&](int from, int to) {
    WriteBatch batch;
    for (int i = from; i < to; i++) {
      objects.push_back(MakeObject(i, 40));
      batch.PutObject(objects.back().id, objects.back().stored);
    }
    return backend_->Apply(batch, WriteOptions{false});
  };
  // 100K ids: the first filter (sized for 64K) overflows and is rebuilt,
  // with writes going on during each build.
  for (int i = 0; i < 100000; i += 1000) ASSERT_TRUE(write(i, i + 1000).ok());
  ASSERT_TRUE(WaitForIdFilter(backend_.get(), 100000));
  BackendStats stats;
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 100000u);
  EXPECT_GE(stats.id_filter_bytes * 8, 100000u * IdFilter::kBitsPerId);
  auto put_all_again = [&] {
    for (size_t i = 0; i < objects.size(); i += 5000) {
      WriteBatch batch;
      for (size_t j = i; j < std::min(objects.size(), i + 5000); j++) {
        batch.PutObject(objects[j].id, objects[j].stored);
      }
      ASSERT_TRUE(backend_->Apply(batch, WriteOptions{false}).ok());
    }
  };
  put_all_again();
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 100000u);
  // Deleted, then put again: stored again.
  WriteBatch del;
  del.DeleteObject(objects[5].id);
  ASSERT_TRUE(backend_->Apply(del, WriteOptions{true}).ok());
  std::string stored;
  EXPECT_TRUE(backend_->ReadObject(objects[5].id, &stored).IsNotFound());
  ASSERT_TRUE(ApplyObjects(backend_.get(), {objects[5]}).ok());
  ASSERT_TRUE(backend_->ReadObject(objects[5].id, &stored).ok());
  EXPECT_EQ(stored, objects[5].stored);
  // A reopened backend builds its filter from the index, while new
  // objects are written.
  Open();
  ASSERT_TRUE(write(200000, 201000).ok());
  ASSERT_TRUE(WaitForIdFilter(backend_.get(), 101000));
  put_all_again();
  ASSERT_TRUE(backend_->GetStats(&stats).ok());
  EXPECT_EQ(stats.objects, 101000u);
}

TEST_F(PackBackendTest, RotationAndCompactionKeepLiveObjects) {
  BackendOptions options;
  options.pack_file_bytes = 64 << 10;
  Open(options);
  std::vector<TestObject> objects;
  for (int i = 0; i < 200; i++) objects.push_back(MakeObject(i, 4000));
  for (int i = 0; i < 200; i += 4) {
    std::vector<TestObject> batch(objects.begin() + i, objects.begin() + i + 4);
    ASSERT_TRUE(ApplyObjects(backend_.get(), batch, /*sync=*/false).ok());
  }
  WriteBatch records;
  records.PutRecord("ref", "kept");
  ASSERT_TRUE(backend_->Apply(records, {}).ok());
  const int packs_before = CountPacks();
  EXPECT_GE(packs_before, 10);

  WriteBatch del;
  for (int i = 0; i < 200; i++) {
    if (i % 4 != 0) del.DeleteObject(objects[i].id);
  }
  ASSERT_TRUE(backend_->Apply(del, {}).ok());
  BackendStats before;
  ASSERT_TRUE(backend_->GetStats(&before).ok());
  EXPECT_EQ(before.objects, 50u);

  // Readers keep reading live objects while Compact() moves them.
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    std::mt19937 rng(1);
    while (!done.load()) {
      const TestObject& o = objects[(rng() % 50) * 4];
      std::string stored;
      if (!backend_->ReadObject(o.id, &stored).ok() || stored != o.stored) {
        failures++;
      }
    }
  });
  Status s = backend_->Compact();
  done = true;
  reader.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(failures.load(), 0);

  BackendStats after;
  ASSERT_TRUE(backend_->GetStats(&after).ok());
  EXPECT_EQ(after.objects, 50u);
  EXPECT_EQ(after.stored_bytes, before.stored_bytes);
  EXPECT_LT(after.disk_bytes, before.disk_bytes * 6 / 10)
      << before.disk_bytes << " -> " << after.disk_bytes;
  EXPECT_LT(CountPacks(), packs_before / 2);

  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 200; i++) {
      std::string stored;
      Status r = backend_->ReadObject(objects[i].id, &stored);
      if (i % 4 == 0) {
        ASSERT_TRUE(r.ok()) << i << ": " << r.ToString();
        EXPECT_EQ(stored, objects[i].stored);
      } else {
        EXPECT_TRUE(r.IsNotFound()) << i << ": " << r.ToString();
      }
    }
    std::string ref;
    ASSERT_TRUE(backend_->GetRecord("ref", &ref).ok());
    EXPECT_EQ(ref, "kept");
    Open(options);  // replay must not resurrect anything
    ASSERT_TRUE(backend_->GetStats(&after).ok());
    EXPECT_EQ(after.objects, 50u);
  }
  ASSERT_TRUE(backend_->Compact().ok());  // nothing left to do
}

// Reads the journal by docs/format.md alone, with its own crc32c.
TEST_F(PackBackendTest, JournalMatchesTheDocumentedFormat) {
  auto crc32c = [](std::string_view data, uint32_t crc = 0) {
    crc = ~crc;
    for (unsigned char ch : data) {
      crc ^= ch;
      for (int k = 0; k < 8; k++) {
        crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
      }
    }
    return ~crc;
  };
  auto mask = [](uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; };
  ASSERT_EQ(crc32c("123456789"), 0xe3069283u);

  TestObject o = MakeObject(3, 77);
  ObjectId gone = MakeObject(4, 1).id;
  WriteBatch batch;
  batch.PutObject(o.id, o.stored);
  batch.DeleteObject(gone);
  batch.PutRecord("refs/heads/main", "abc");
  batch.DeleteRecord("old");
  ASSERT_TRUE(backend_->Apply(batch, {}).ok());
  backend_.reset();

  const std::string file = ReadFile(PackPath(1));
  ASSERT_EQ(file.substr(0, 8), std::string("\x89LPK\r\n\x1a\n", 8));
  EXPECT_EQ(coding::DecodeFixed32(file.data() + 8), 1u);   // version
  EXPECT_EQ(coding::DecodeFixed32(file.data() + 12), 1u);  // pack number
  std::string_view rec = std::string_view(file).substr(16);
  const uint32_t length = coding::DecodeFixed32(rec.data() + 4);
  ASSERT_EQ(rec.size(), 9u + length);  // exactly one record
  EXPECT_EQ(coding::DecodeFixed32(rec.data()), mask(crc32c(rec.substr(4))));
  EXPECT_EQ(rec[8], 1);
  std::string_view in = rec.substr(9);
  uint64_t n;
  ASSERT_TRUE(coding::GetVarint(&in, &n));
  ASSERT_EQ(n, 1u);
  std::string_view id, body;
  uint32_t len, crc;
  ASSERT_TRUE(coding::GetBytes(&in, 32, &id));
  ASSERT_TRUE(coding::GetFixed32(&in, &len));
  ASSERT_TRUE(coding::GetFixed32(&in, &crc));
  ASSERT_TRUE(coding::GetBytes(&in, len, &body));
  EXPECT_EQ(id, o.id.AsBytes());
  EXPECT_EQ(body, o.stored);
  std::string head(id);
  coding::PutFixed32(&head, len);
  EXPECT_EQ(crc, mask(crc32c(body, crc32c(head))));
  ASSERT_TRUE(coding::GetVarint(&in, &n));
  ASSERT_EQ(n, 1u);
  ASSERT_TRUE(coding::GetBytes(&in, 32, &id));
  EXPECT_EQ(id, gone.AsBytes());
  ASSERT_TRUE(coding::GetVarint(&in, &n));
  ASSERT_EQ(n, 2u);
  uint8_t op;
  std::string_view key, value;
  ASSERT_TRUE(coding::GetByte(&in, &op));
  EXPECT_EQ(op, 1);
  ASSERT_TRUE(coding::GetLengthPrefixed(&in, &key));
  ASSERT_TRUE(coding::GetLengthPrefixed(&in, &value));
  EXPECT_EQ(key, "refs/heads/main");
  EXPECT_EQ(value, "abc");
  ASSERT_TRUE(coding::GetByte(&in, &op));
  EXPECT_EQ(op, 2);
  ASSERT_TRUE(coding::GetLengthPrefixed(&in, &key));
  EXPECT_EQ(key, "old");
  EXPECT_TRUE(in.empty());
}

}  // namespace
}  // namespace larix
