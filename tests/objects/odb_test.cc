// Tests for objects/odb.{h,cc}: which pages are compressed
// (docs/decisions/0003-page-compression.md), that every stored form reads
// back to the same canonical bytes, and the write-through cache.

#include "objects/odb.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "larix/sys/backend.h"
#include "objects/coding.h"
#include "objects/object_format.h"

namespace larix {
namespace {

constexpr char kCodecRaw = 0;
constexpr char kCodecZstd = 1;

// A full page of random decimal digits: what sysbench's rows look like.
std::string DigitPage(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string page(4096, '0');
  for (char& c : page) c = static_cast<char>('0' + rng() % 10);
  return page;
}

// A page with `zeros` zero bytes at its end (unused space) and digits
// before them.
std::string PageWithFreeSpace(size_t zeros) {
  std::string page = DigitPage(2);
  std::fill(page.end() - static_cast<std::ptrdiff_t>(zeros), page.end(), '\0');
  return page;
}

TEST(OdbTest, FullPagesAreStoredRawWithoutTryingToCompress) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  std::string canonical = EncodePage(DigitPage(1));
  std::string stored = odb.Frame(canonical);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored[0], kCodecRaw);
  EXPECT_EQ(stored.size(), canonical.size() + 1);
}

TEST(OdbTest, PagesWithFreeSpaceAreCompressed) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  std::string canonical = EncodePage(PageWithFreeSpace(2048));
  std::string stored = odb.Frame(canonical);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored[0], kCodecZstd);
  EXPECT_LT(stored.size(), canonical.size() * 3 / 4);

  std::string back;
  ASSERT_TRUE(odb.Unframe(odb.IdOf(canonical), stored, &back).ok());
  EXPECT_EQ(back, canonical);
}

TEST(OdbTest, TooLittleFreeSpaceIsNotWorthTheAttempt) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  // 1/16 of the page unused: below the 1/8 a compression must save.
  std::string stored = odb.Frame(EncodePage(PageWithFreeSpace(256)));
  EXPECT_EQ(stored[0], kCodecRaw);
}

TEST(OdbTest, CompressionOffStoresEverythingRaw) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{.compress = false});
  std::string stored = odb.Frame(EncodePage(std::string(4096, '\0')));
  EXPECT_EQ(stored[0], kCodecRaw);
}

TEST(OdbTest, EveryStoredFormReadsBackThroughTheBackend) {
  auto backend = NewMemoryBackend();
  Odb writer(backend.get(), OdbOptions{});
  std::vector<std::pair<ObjectId, std::string>> objects;
  WriteBatch batch;
  for (size_t zeros : {0, 256, 512, 1024, 4000, 4096}) {
    std::string canonical = EncodePage(PageWithFreeSpace(zeros));
    objects.emplace_back(writer.Stage(&batch, canonical), canonical);
  }
  ASSERT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  Odb reader(backend.get(), OdbOptions{});  // nothing cached
  for (const auto& [id, canonical] : objects) {
    auto got = reader.Read(id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(**got, canonical);
  }
}

TEST(OdbTest, RememberedObjectsAreReadFromTheCache) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  std::string canonical = EncodePage(DigitPage(3));
  ObjectId id = odb.IdOf(canonical);
  // Never written to the backend: a read can only come from the cache.
  EXPECT_TRUE(odb.Read(id).status().IsNotFound());
  odb.Remember(id, std::make_shared<const std::string>(canonical));
  auto got = odb.Read(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(**got, canonical);
  odb.Forget(id);
  EXPECT_TRUE(odb.Read(id).status().IsNotFound());
}

TEST(OdbTest, StagingSharesAnUncompressedPageAndCopiesACompressedOne) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  auto full = std::make_shared<const std::string>(EncodePage(DigitPage(5)));
  auto sparse =
      std::make_shared<const std::string>(EncodePage(PageWithFreeSpace(2048)));
  WriteBatch batch;
  odb.Stage(&batch, odb.Prepare(full, ObjectId(), odb.zstd_level()));
  odb.Stage(&batch, odb.Prepare(sparse, ObjectId(), odb.zstd_level()));
  ASSERT_EQ(batch.objects().size(), 2u);
  const auto& raw = batch.objects()[0];
  EXPECT_EQ(raw.tail, full);  // the same bytes, not a copy
  EXPECT_EQ(raw.stored, std::string(1, kCodecRaw));
  const auto& packed = batch.objects()[1];
  EXPECT_EQ(packed.tail, nullptr);
  EXPECT_EQ(packed.stored[0], kCodecZstd);
  EXPECT_LT(packed.size(), sparse->size() * 3 / 4);  // the zeros are gone
  ASSERT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  Odb reader(backend.get(), OdbOptions{});
  for (const auto& page : {full, sparse}) {
    auto got = reader.Read(reader.IdOf(*page));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(**got, *page);
  }
}

// out[i] = IdOf(EncodePage(pages[i])) for a mix of lengths (runs of one
// length, a lone page of another) and for enough pages to use the pool.
TEST(OdbTest, IdsOfPagesAreTheIdsOfTheEncodedPages) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  std::vector<std::string> pages = {DigitPage(4), PageWithFreeSpace(1000),
                                    std::string(), std::string(65536, 'x')};
  for (uint32_t seed = 10; seed < 60; seed++) pages.push_back(DigitPage(seed));
  pages.push_back(std::string(512, 'y'));
  for (uint32_t seed = 60; seed < 70; seed++) pages.push_back(DigitPage(seed));
  std::vector<std::string_view> views(pages.begin(), pages.end());
  for (size_t n : {size_t{1}, size_t{4}, views.size()}) {
    std::vector<ObjectId> ids(n);
    odb.IdsOfPages(views.data(), n, ids.data());
    for (size_t i = 0; i < n; i++) {
      EXPECT_EQ(ids[i], odb.IdOf(EncodePage(pages[i]))) << i << " of " << n;
    }
  }
  ObjectId one;
  std::string_view page = pages[0];
  odb.IdsOfPages(&page, 1, &one);
  EXPECT_NE(one, odb.IdOf(DigitPage(4)));
}

// out[i] = IdOf(canonical[i]) whatever the mix: lengths interleaved, runs
// longer than a batch of lanes, lone lengths, encodings shorter than an
// object header, and nothing at all.
TEST(OdbTest, IdsOfAreTheIdsOfTheEncodings) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  std::vector<std::string> objects = {std::string(), std::string(1, 'a')};
  for (uint32_t i = 0; i < 40; i++) {
    std::string node = DigitPage(i).substr(0, i % 3 == 0 ? 530 : 274);
    objects.push_back(std::move(node));
    if (i == 20) objects.push_back(DigitPage(99).substr(0, 1000));
  }
  std::vector<std::string_view> views(objects.begin(), objects.end());
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, views.size()}) {
    std::vector<ObjectId> ids(n);
    odb.IdsOf(views.data(), n, ids.data());
    for (size_t i = 0; i < n; i++) {
      EXPECT_EQ(ids[i], odb.IdOf(objects[i])) << i << " of " << n;
    }
  }
}

TEST(OdbTest, ADemotedObjectIsTheFirstToBeEvicted) {
  auto backend = NewMemoryBackend();
  // Room for about three 4 KiB pages in each of the cache's 16 shards.
  Odb odb(backend.get(), OdbOptions{.cache_bytes = 16 * 3 * 4200});
  // Ids in one shard (the cache shards by the id's first byte).
  std::vector<std::pair<ObjectId, std::string>> pages;
  for (uint32_t seed = 100; pages.size() < 4; seed++) {
    std::string canonical = EncodePage(DigitPage(seed));
    ObjectId id = odb.IdOf(canonical);
    if (id.data()[0] % 16 == 0) pages.emplace_back(id, canonical);
  }
  auto remember = [&](int i) {
    odb.Remember(pages[i].first,
                 std::make_shared<const std::string>(pages[i].second));
  };
  auto cached = [&](int i) { return odb.Read(pages[i].first).ok(); };
  remember(0);
  remember(1);
  remember(2);
  odb.Demote(pages[2].first);  // the newest, yet evicted first
  remember(3);
  EXPECT_TRUE(cached(0));
  EXPECT_TRUE(cached(1));
  EXPECT_FALSE(cached(2));
  EXPECT_TRUE(cached(3));
  // Demoting what is not cached changes nothing.
  odb.Demote(pages[2].first);
  EXPECT_TRUE(cached(0) && cached(1) && cached(3));
}

// ---- page deltas (docs/decisions/0007-page-deltas.md) ----------------------

// `page` with a few bytes changed the way SQLite changes a leaf: a header
// field, a run in the middle and a cell near the end.
std::string Edited(std::string page, uint32_t seed) {
  std::mt19937 rng(seed);
  page[3] = static_cast<char>(rng());
  for (size_t i = 0; i < 40; i++) page[1000 + rng() % 200] = static_cast<char>(rng());
  for (size_t i = 3900; i < 3960; i++) page[i] = static_cast<char>(rng());
  return page;
}

TEST(OdbDeltaTest, EncodeThenApplyGivesTheTargetForRandomEdits) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; round++) {
    const size_t n = 1 + rng() % 600;
    std::string base(n, '\0');
    for (char& c : base) c = static_cast<char>(rng() % 4);  // many equal bytes
    std::string target = base;
    const int edits = static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; e++) {
      size_t at = rng() % n, len = 1 + rng() % 20;
      for (size_t i = at; i < std::min(n, at + len); i++) {
        target[i] = static_cast<char>(rng());
      }
    }
    std::string patches;
    ASSERT_TRUE(Odb::EncodeDelta(base, target, n * 4, &patches)) << round;
    if (target == base) {
      EXPECT_TRUE(patches.empty());
    }
    std::string back;
    ASSERT_TRUE(Odb::ApplyDelta(base, patches, &back)) << round;
    ASSERT_EQ(back, target) << round;
  }
}

// Each patch starts and ends on a differing byte, and patches are split
// exactly where at least kDeltaJoin (8) equal bytes separate two differing
// ones: so the encoding is the smallest of its kind, whatever the word
// boundaries of the scan.
TEST(OdbDeltaTest, PatchesAreTheClustersOfDifferingBytes) {
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; round++) {
    const size_t n = 1 + rng() % 300;
    std::string base(n, '\0');
    for (char& c : base) c = static_cast<char>(rng() % 3);
    std::string target = base;
    const size_t flips = rng() % 40;
    for (size_t f = 0; f < flips; f++) {
      size_t at = rng() % n;
      target[at] = static_cast<char>(target[at] + 1 + rng() % 200);
    }
    std::string patches;
    ASSERT_TRUE(Odb::EncodeDelta(base, target, n * 4, &patches));
    std::vector<bool> covered(n, false);
    std::string_view in = patches;
    size_t at = 0, prev_end = 0;
    bool first = true;
    while (!in.empty()) {
      uint64_t gap, len;
      ASSERT_TRUE(coding::GetVarint(&in, &gap));
      ASSERT_TRUE(coding::GetVarint(&in, &len));
      ASSERT_GE(len, 1u);
      at += gap;
      ASSERT_LE(at + len, n);
      if (!first) {
        EXPECT_GE(at - prev_end, 8u) << "round " << round;
      }
      EXPECT_NE(base[at], target[at]) << "round " << round;
      EXPECT_NE(base[at + len - 1], target[at + len - 1]) << "round " << round;
      for (size_t k = at; k < at + len; k++) covered[k] = true;
      // Inside a patch, no run of 8 equal bytes.
      size_t equal = 0;
      for (size_t k = at; k < at + len; k++) {
        equal = base[k] == target[k] ? equal + 1 : 0;
        EXPECT_LT(equal, 8u) << "round " << round;
      }
      in.remove_prefix(len);
      prev_end = at += len;
      first = false;
    }
    for (size_t k = 0; k < n; k++) {
      if (!covered[k]) {
        EXPECT_EQ(base[k], target[k]) << "round " << round;
      }
    }
  }
}

TEST(OdbDeltaTest, EncodeRefusesOtherLengthsAndDeltasOverTheLimit) {
  std::string base = DigitPage(1), patches;
  EXPECT_FALSE(Odb::EncodeDelta(base, base.substr(1), 4096, &patches));
  EXPECT_FALSE(Odb::EncodeDelta(base, DigitPage(2), 1024, &patches));
  patches.clear();
  EXPECT_TRUE(Odb::EncodeDelta(base, Edited(base, 1), 1024, &patches));
  EXPECT_LT(patches.size(), 400u);  // of 4096
}

TEST(OdbDeltaTest, ApplyRejectsMalformedPatches) {
  const std::string base(100, 'a');
  std::string out;
  auto patch = [](uint64_t gap, uint64_t len, std::string bytes) {
    std::string p;
    p.push_back(static_cast<char>(gap));
    p.push_back(static_cast<char>(len));
    return p + bytes;
  };
  EXPECT_TRUE(Odb::ApplyDelta(base, patch(98, 2, "xy"), &out));
  EXPECT_EQ(out, std::string(98, 'a') + "xy");
  EXPECT_FALSE(Odb::ApplyDelta(base, patch(99, 2, "xy"), &out));   // past end
  EXPECT_FALSE(Odb::ApplyDelta(base, patch(101, 1, "x"), &out));   // gap
  EXPECT_FALSE(Odb::ApplyDelta(base, patch(0, 0, ""), &out));      // empty
  EXPECT_FALSE(Odb::ApplyDelta(base, patch(0, 3, "xy"), &out));    // short
  EXPECT_FALSE(Odb::ApplyDelta(base, std::string(1, '\x80'), &out));  // varint
}

// Stores `page` whole and caches it in `odb`, as a delta base.
ObjectId StoreWhole(Odb* odb, Backend* backend, const std::string& page) {
  WriteBatch batch;
  ObjectId id = odb->Stage(&batch, EncodePage(page));
  EXPECT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  odb->Remember(id, std::make_shared<const std::string>(EncodePage(page)));
  return id;
}

// Stages `page` as a delta on `base` (cached in `odb`) and applies it.
Odb::Prepared StageOn(Odb* odb, Backend* backend, const std::string& page,
                      const ObjectId& base_id) {
  Odb::Base base;
  base.id = base_id;
  base.canonical = odb->Peek(base_id, &base.depth);
  EXPECT_TRUE(base.canonical != nullptr);
  auto canonical = std::make_shared<const std::string>(EncodePage(page));
  Odb::Prepared p = odb->Prepare(canonical, ObjectId(), -10, &base);
  Odb::Prepared copy = p;
  WriteBatch batch;
  odb->Stage(&batch, std::move(p));
  EXPECT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  odb->Remember(copy.id, copy.canonical, copy.depth);
  return copy;
}

TEST(OdbDeltaTest, AnEditedPageIsStoredAsADeltaAndReadsBackCold) {
  auto backend = NewMemoryBackend();
  Odb writer(backend.get(), OdbOptions{});
  std::string v0 = DigitPage(5);
  ObjectId id0 = StoreWhole(&writer, backend.get(), v0);

  std::string v1 = Edited(v0, 2);
  Odb::Prepared p = StageOn(&writer, backend.get(), v1, id0);
  EXPECT_EQ(p.depth, 1);
  std::string stored;
  ASSERT_TRUE(backend->ReadObject(p.id, &stored).ok());
  ObjectId base;
  ASSERT_TRUE(StoredDeltaBase(stored, &base));
  EXPECT_EQ(base, id0);
  EXPECT_LT(stored.size(), 300u);  // against 4 KiB stored raw

  Odb reader(backend.get(), OdbOptions{});  // nothing cached: reads the base
  auto got = reader.Read(p.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(**got, EncodePage(v1));
  int depth = -1;
  EXPECT_TRUE(reader.Peek(p.id, &depth) != nullptr);
  EXPECT_EQ(depth, 1);
}

TEST(OdbDeltaTest, ChainsStopAtTheMaximumDepthAndReadBack) {
  auto backend = NewMemoryBackend();
  Odb writer(backend.get(), OdbOptions{});
  std::string page = DigitPage(9);
  ObjectId id = StoreWhole(&writer, backend.get(), page);
  std::vector<std::pair<ObjectId, std::string>> versions;
  for (int v = 1; v <= 2 * Odb::kMaxDeltaDepth + 3; v++) {
    page = Edited(page, 100 + v);
    Odb::Prepared p = StageOn(&writer, backend.get(), page, id);
    // Depth 1, 2, ... kMaxDeltaDepth, then a whole page (0), then 1 again.
    EXPECT_EQ(p.depth, v % (Odb::kMaxDeltaDepth + 1)) << v;
    id = p.id;
    versions.emplace_back(id, EncodePage(page));
  }
  Odb reader(backend.get(), OdbOptions{});
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    auto got = reader.Read(it->first);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(**got, it->second);
  }
}

TEST(OdbDeltaTest, ADifferentPageOrNoBaseIsNotADelta) {
  auto backend = NewMemoryBackend();
  Odb odb(backend.get(), OdbOptions{});
  auto v0 = std::make_shared<const std::string>(EncodePage(DigitPage(1)));
  Odb::Base base{odb.IdOf(*v0), v0, 0};
  auto other = std::make_shared<const std::string>(EncodePage(DigitPage(2)));
  Odb::Prepared p = odb.Prepare(other, ObjectId(), -10, &base);
  EXPECT_EQ(p.depth, 0);
  EXPECT_TRUE(p.compressed.empty());  // raw, as without a base
  Odb off(backend.get(), OdbOptions{.deltas = false});
  auto edited =
      std::make_shared<const std::string>(EncodePage(Edited(DigitPage(1), 3)));
  p = off.Prepare(edited, ObjectId(), -10, &base);
  EXPECT_EQ(p.depth, 0);
  EXPECT_TRUE(p.compressed.empty());
}

TEST(OdbDeltaTest, AMissingOrDamagedBaseIsCorruptionNamingIt) {
  auto backend = NewMemoryBackend();
  Odb writer(backend.get(), OdbOptions{});
  std::string v0 = DigitPage(11);
  auto c0 = std::make_shared<const std::string>(EncodePage(v0));
  ObjectId id0 = writer.IdOf(*c0);
  writer.Remember(id0, c0);  // cached, never stored
  Odb::Prepared p = StageOn(&writer, backend.get(), Edited(v0, 4), id0);
  ASSERT_EQ(p.depth, 1);
  Odb reader(backend.get(), OdbOptions{});
  Status s = reader.Read(p.id).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("delta base " + id0.ToHex()), std::string::npos)
      << s.ToString();

  // A base stored under the id with other content: the delta applies but
  // the result does not hash to the id asked for.
  WriteBatch batch;
  batch.PutObject(id0, writer.Frame(EncodePage(DigitPage(12))));
  ASSERT_TRUE(backend->Apply(batch, WriteOptions{true}).ok());
  Odb again(backend.get(), OdbOptions{});
  s = again.Read(p.id).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("hash mismatch"), std::string::npos);
}

}  // namespace
}  // namespace larix
