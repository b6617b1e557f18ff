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

}  // namespace
}  // namespace larix
