#include "objects/odb.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <vector>

#include "larix/commit.h"
#include "objects/blake2b_lanes.h"
#include "objects/coding.h"
#include "objects/object_format.h"
#include "objects/worker_pool.h"

namespace larix {
namespace {

// Pages below which IdsOfPages stays on the calling thread: waking a
// helper costs more than it saves (objects/worker_pool.h).
constexpr size_t kParallelHashPages = 32;

constexpr char kCodecRaw = 0;
constexpr char kCodecZstd = 1;

// Creating a zstd context costs about as much as compressing a page, so
// each thread keeps one.
ZSTD_CCtx* ThreadCompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(
      ZSTD_createCCtx(), ZSTD_freeCCtx);
  return ctx.get();
}

ZSTD_DCtx* ThreadDecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(
      ZSTD_createDCtx(), ZSTD_freeDCtx);
  return ctx.get();
}

// Tree nodes and commits are mostly random hashes: zstd never shrinks them
// (bench/page_tree_bench.cc), so only pages are worth the attempt, and only
// pages with room to spare: a compression is kept when it saves 1/8, and
// what saves that much at zstd's fast levels is the unused space of a page
// (zeros).  Full pages of row data rarely do (sysbench's rows: 8% at
// level -3), and trying costs more than hashing the page
// (docs/decisions/0003-page-compression.md), so a page with fewer zero
// bytes than 1/8 of its size is stored as it is without the attempt.
bool WorthCompressing(std::string_view canonical) {
  if (canonical.size() < 64 ||
      static_cast<uint8_t>(canonical[0]) !=
          static_cast<uint8_t>(ObjectKind::kPage)) {
    return false;
  }
  // Zero bytes counted eight at a time: a byte's low bit in `z` is set
  // exactly when the byte is zero.  The bits are added up bytewise in
  // `lanes` (at most 255 words, so no byte overflows) and the lanes summed
  // after; per-word popcounts would be a libgcc call here (no popcount
  // instruction in the baseline x86-64 target).
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  constexpr uint64_t kBytes = 0x00ff00ff00ff00ffull;
  size_t zeros = 0, i = 0;
  while (i + 8 <= canonical.size()) {
    uint64_t lanes = 0;
    for (int w = 0; w < 255 && i + 8 <= canonical.size(); w++, i += 8) {
      uint64_t v;
      std::memcpy(&v, canonical.data() + i, 8);
      lanes += (~(((v & kLow7) + kLow7) | v | kLow7)) >> 7;
    }
    uint64_t pairs = (lanes & kBytes) + ((lanes >> 8) & kBytes);
    pairs += pairs >> 16;
    pairs += pairs >> 32;
    zeros += static_cast<size_t>(pairs & 0xffff);
  }
  for (; i < canonical.size(); i++) zeros += canonical[i] == 0;
  return zeros >= canonical.size() / 8;
}

}  // namespace

Odb::Odb(Backend* backend, const OdbOptions& options)
    : backend_(backend), options_(options), cache_(options.cache_bytes) {}

ObjectId Odb::IdOf(std::string_view canonical) const {
  return ObjectId::Hash(canonical);
}

void Odb::IdsOf(const std::string_view* canonical, size_t n,
                ObjectId* out) const {
  // Runs of one length, in order of length (blake2b_lanes::Hash hashes a
  // run of one alone).
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; i++) order[i] = static_cast<uint32_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return canonical[a].size() < canonical[b].size();
  });
  blake2b_lanes::Message messages[kPageHashBatch];
  uint8_t digests[kPageHashBatch][32];
  for (size_t i = 0; i < n;) {
    const size_t len = canonical[order[i]].size();
    size_t k = 0;
    for (; i + k < n && k < kPageHashBatch &&
           canonical[order[i + k]].size() == len;
         k++) {
    }
    if (len < kObjectHeaderSize) {
      for (size_t j = 0; j < k; j++) {
        out[order[i + j]] = IdOf(canonical[order[i + j]]);
      }
    } else {
      for (size_t j = 0; j < k; j++) {
        const auto* bytes =
            reinterpret_cast<const uint8_t*>(canonical[order[i + j]].data());
        messages[j] = {bytes, bytes + kObjectHeaderSize};
      }
      blake2b_lanes::Hash(messages, k, kObjectHeaderSize,
                          len - kObjectHeaderSize, digests);
      for (size_t j = 0; j < k; j++) {
        out[order[i + j]] = ObjectId::FromRaw(digests[j]);
      }
    }
    i += k;
  }
}

void Odb::IdsOfPages(const std::string_view* pages, size_t n,
                     ObjectId* out) const {
  std::string header;
  PutObjectHeader(&header, ObjectKind::kPage);
  const auto* head = reinterpret_cast<const uint8_t*>(header.data());
  // Batches of kPageHashBatch pages, on the pool when there are many; each
  // batch goes to the lane kernel in runs of pages of one length.
  WorkerPool::Shared().ParallelFor(
      (n + kPageHashBatch - 1) / kPageHashBatch,
      kParallelHashPages / kPageHashBatch, [&](size_t b) {
        const size_t begin = b * kPageHashBatch;
        const size_t end = std::min(n, begin + kPageHashBatch);
        blake2b_lanes::Message messages[kPageHashBatch];
        uint8_t digests[kPageHashBatch][32];
        for (size_t i = begin; i < end;) {
          const size_t len = pages[i].size();
          size_t k = 0;
          for (; i + k < end && pages[i + k].size() == len; k++) {
            messages[k] = {
                head, reinterpret_cast<const uint8_t*>(pages[i + k].data())};
          }
          blake2b_lanes::Hash(messages, k, header.size(), len, digests);
          for (size_t j = 0; j < k; j++) {
            out[i + j] = ObjectId::FromRaw(digests[j]);
          }
          i += k;
        }
      });
}

bool Odb::Compress(std::string_view canonical, int zstd_level,
                   std::string* stored) const {
  if (!options_.compress || !WorthCompressing(canonical)) return false;
  // Compressed into a per-thread buffer (pages are at most 64 KiB), so
  // that only a kept result is copied; a resize to the bound would first
  // zero as many bytes as the page has.
  thread_local std::string scratch;
  size_t bound = ZSTD_compressBound(canonical.size());
  if (scratch.size() < bound) scratch.resize(bound);
  size_t n = ZSTD_compressCCtx(ThreadCompressionContext(), scratch.data(),
                               bound, canonical.data(), canonical.size(),
                               zstd_level);
  if (ZSTD_isError(n) || n + n / 8 >= canonical.size()) return false;
  stored->reserve(1 + n);
  stored->assign(1, kCodecZstd);
  stored->append(scratch.data(), n);
  return true;
}

std::string Odb::Frame(std::string_view canonical, int zstd_level) const {
  std::string stored;
  if (Compress(canonical, zstd_level, &stored)) return stored;
  stored.reserve(1 + canonical.size());
  stored.push_back(kCodecRaw);
  stored.append(canonical);
  return stored;
}

Odb::Prepared Odb::Prepare(Object canonical, const ObjectId& id,
                           int zstd_level, const Base* base) const {
  Prepared p;
  p.id = id.IsNull() ? IdOf(*canonical) : id;
  if (base && options_.deltas && base->canonical && !base->id.IsNull() &&
      base->depth < kMaxDeltaDepth && base->id != p.id &&
      canonical->size() >= 64 &&
      (static_cast<uint8_t>((*canonical)[0]) ==
           static_cast<uint8_t>(ObjectKind::kPage) ||
       static_cast<uint8_t>((*canonical)[0]) ==
           static_cast<uint8_t>(ObjectKind::kTreeNode))) {
    std::string& d = p.compressed;
    d.reserve(256);
    d.push_back(static_cast<char>(kStoredDeltaCodec));
    d.append(base->id.AsBytes());
    d.push_back(static_cast<char>(base->depth + 1));
    if (EncodeDelta(*base->canonical, *canonical, canonical->size() / 4,
                    &d)) {
      p.depth = base->depth + 1;
      p.canonical = std::move(canonical);
      return p;
    }
    d.clear();
  }
  Compress(*canonical, zstd_level, &p.compressed);  // or left empty
  p.canonical = std::move(canonical);
  return p;
}

Odb::Object Odb::Peek(const ObjectId& id, int* depth) const {
  uint8_t aux = 0;
  Object obj = cache_.Lookup(id, &aux);
  *depth = aux;
  return obj;
}

// A delta's payload is a sequence of patches, each
//   varint gap   bytes kept from the base since the previous patch's end
//   varint len   bytes replaced (at least 1)
//   len bytes    the target's bytes there
// over a target as long as the base; bytes after the last patch are the
// base's.  Runs of differing bytes closer than kDeltaJoin are one patch (a
// patch costs two varints).
namespace {
constexpr size_t kDeltaJoin = 8;

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace

bool Odb::EncodeDelta(std::string_view base, std::string_view target,
                      size_t limit, std::string* out) {
  if (base.size() != target.size()) return false;
  const size_t n = target.size(), start_size = out->size();
  const char* a = base.data();
  const char* b = target.data();
  // The bytes that differ are found eight at a time: in the XOR of two
  // words (little-endian loads), the lowest set byte is the first that
  // differs and the highest set byte the last.  A byte-at-a-time scan of a
  // region where most bytes differ (a leaf's shifted cell pointers)
  // mispredicted a branch every few bytes.
  auto first_diff = [&](size_t i) {  // the first differing byte >= i, or n
    for (; i + 8 <= n; i += 8) {
      uint64_t x = Load64(a + i) ^ Load64(b + i);
      if (x != 0) return i + static_cast<size_t>(std::countr_zero(x)) / 8;
    }
    while (i < n && a[i] == b[i]) i++;
    return i;
  };
  size_t i = first_diff(0), kept_from = 0;
  while (i < n) {
    const size_t begin = i;
    // `last` is the patch's last differing byte so far; the patch goes on
    // while another differing byte follows within kDeltaJoin bytes.
    size_t last = i;
    while (true) {
      const size_t next = last + 1;
      if (next + kDeltaJoin <= n) {
        static_assert(kDeltaJoin == 8);
        uint64_t x = Load64(a + next) ^ Load64(b + next);
        if (x == 0) break;
        last = next + static_cast<size_t>(63 - std::countl_zero(x)) / 8;
      } else {
        size_t j = next;
        while (j < n && a[j] == b[j]) j++;
        if (j == n) break;
        last = j;
      }
    }
    const size_t end = last + 1;
    coding::PutVarint(out, begin - kept_from);
    coding::PutVarint(out, end - begin);
    out->append(b + begin, end - begin);
    if (out->size() - start_size > limit) return false;
    kept_from = end;
    i = first_diff(end);
  }
  return true;
}

bool Odb::ApplyDelta(std::string_view base, std::string_view patches,
                     std::string* target) {
  target->assign(base);
  size_t at = 0;
  while (!patches.empty()) {
    uint64_t gap, len;
    if (!coding::GetVarint(&patches, &gap) ||
        !coding::GetVarint(&patches, &len) || len == 0 ||
        len > patches.size() || gap > base.size() - at ||
        len > base.size() - at - gap) {
      return false;
    }
    at += gap;
    std::memcpy(target->data() + at, patches.data(), len);
    patches.remove_prefix(len);
    at += len;
  }
  return true;
}

void Odb::Stage(WriteBatch* batch, Prepared prepared) const {
  if (!prepared.compressed.empty()) {
    batch->PutObject(prepared.id, std::move(prepared.compressed));
  } else {
    batch->PutObject(prepared.id, std::string(1, kCodecRaw),
                     std::move(prepared.canonical));
  }
}

Status Odb::Unframe(const ObjectId& id, std::string_view stored,
                    std::string* canonical, int* depth) const {
  int d = 0;
  LARIX_RETURN_IF_ERROR(UnframeChain(id, stored, canonical, &d, 0));
  if (depth) *depth = d;
  if (options_.verify_reads) {
    ObjectId actual = IdOf(*canonical);
    if (actual != id) {
      return Status::Corruption("object " + id.ToHex() +
                                ": hash mismatch (content hashes to " +
                                actual.ToHex() + ")");
    }
  }
  return Status::OK();
}

// Decodes without verifying the hash: for a delta's bases, only the
// object asked for is verified (a damaged base shows up as its mismatch).
Status Odb::UnframeChain(const ObjectId& id, std::string_view stored,
                         std::string* canonical, int* depth, int hops) const {
  *depth = 0;
  if (stored.empty()) {
    return Status::Corruption("object " + id.ToHex() + ": empty stored body");
  }
  std::string_view payload = stored.substr(1);
  switch (stored[0]) {
    case kCodecRaw:
      canonical->assign(payload);
      break;
    case kCodecZstd: {
      unsigned long long size =
          ZSTD_getFrameContentSize(payload.data(), payload.size());
      if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
          size > (1ull << 31)) {
        return Status::Corruption("object " + id.ToHex() +
                                  ": damaged zstd frame header");
      }
      canonical->resize(size);
      size_t n = ZSTD_decompressDCtx(ThreadDecompressionContext(),
                                     canonical->data(), size, payload.data(),
                                     payload.size());
      if (ZSTD_isError(n) || n != size) {
        return Status::Corruption("object " + id.ToHex() +
                                  ": zstd frame does not decompress");
      }
      break;
    }
    case kStoredDeltaCodec: {
      ObjectId base_id;
      if (payload.size() < ObjectId::kSize + 1 ||
          !StoredDeltaBase(stored, &base_id)) {
        return Status::Corruption("object " + id.ToHex() +
                                  ": damaged delta header");
      }
      if (hops >= kMaxDeltaChain) {
        return Status::Corruption("object " + id.ToHex() +
                                  ": chain of deltas longer than " +
                                  std::to_string(kMaxDeltaChain));
      }
      *depth = static_cast<uint8_t>(payload[ObjectId::kSize]);
      std::string_view patches = payload.substr(ObjectId::kSize + 1);
      Object base = cache_.Lookup(base_id);
      std::string base_bytes;
      if (!base) {
        std::string base_stored;
        Status s = backend_->ReadObject(base_id, &base_stored);
        int base_depth = 0;
        if (s.ok()) {
          s = UnframeChain(base_id, base_stored, &base_bytes, &base_depth,
                           hops + 1);
        }
        if (s.IsNotFound()) {  // a missing base is damage to this object
          return Status::Corruption("object " + id.ToHex() +
                                    ": its delta base " + base_id.ToHex() +
                                    " is missing");
        }
        if (!s.ok()) {
          return s.WithContext("object " + id.ToHex() + ": its delta base");
        }
      }
      if (!ApplyDelta(base ? std::string_view(*base) : base_bytes, patches,
                      canonical)) {
        return Status::Corruption("object " + id.ToHex() +
                                  ": delta does not apply to its base " +
                                  base_id.ToHex());
      }
      break;
    }
    default:
      return Status::Corruption("object " + id.ToHex() + ": unknown codec " +
                                std::to_string(stored[0]));
  }
  return Status::OK();
}

ObjectId Odb::Stage(WriteBatch* batch, std::string_view canonical) {
  ObjectId id = IdOf(canonical);
  batch->PutObject(id, Frame(canonical));
  return id;
}

Result<Odb::Object> Odb::Read(const ObjectId& id) {
  int depth;
  return Read(id, &depth);
}

Result<Odb::Object> Odb::Read(const ObjectId& id, int* depth_out) {
  uint8_t aux = 0;
  if (Object cached = cache_.Lookup(id, &aux)) {
    *depth_out = aux;
    return cached;
  }
  std::string stored;
  Status s = backend_->ReadObject(id, &stored);
  if (!s.ok()) return s;
  auto canonical = std::make_shared<std::string>();
  int depth = 0;
  s = Unframe(id, stored, canonical.get(), &depth);
  if (!s.ok()) return s;
  cache_.Insert(id, canonical, canonical->size() + 64,
                static_cast<uint8_t>(depth));
  *depth_out = depth;
  return Object(std::move(canonical));
}

Result<bool> Odb::Exists(const ObjectId& id) {
  if (cache_.Lookup(id)) return true;
  bool exists = false;
  Status s = backend_->ObjectExists(id, &exists);
  if (!s.ok()) return s;
  return exists;
}

Result<ObjectId> Odb::ResolvePrefix(std::string_view hex) {
  if (!IsHexPrefix(hex)) {
    // Appended, not "'" + std::string(hex): gcc 12 warns (-Wrestrict, a
    // false positive) on that form in optimised builds.
    std::string msg = "'";
    msg.append(hex);
    msg += "' is not an object id or a prefix of at least 4 hex digits";
    return Status::InvalidArgument(msg);
  }
  std::string lower(hex);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  if (lower.size() == ObjectId::kHexSize) {
    LARIX_ASSIGN_OR_RETURN(ObjectId id, ObjectId::FromHex(lower));
    LARIX_ASSIGN_OR_RETURN(bool exists, Exists(id));
    if (!exists) return Status::NotFound("no object " + lower);
    return id;
  }
  std::vector<ObjectId> found;
  LARIX_RETURN_IF_ERROR(backend_->FindObjectsByPrefix(lower, 11, &found));
  if (found.empty()) return Status::NotFound("no object starts with " + lower);
  if (found.size() > 1) {
    std::string msg = "object prefix " + lower + " is ambiguous: ";
    for (size_t i = 0; i < found.size() && i < 10; i++) {
      if (i) msg += ", ";
      msg += found[i].ToHex();
    }
    if (found.size() > 10) msg += ", …";
    return Status::InvalidArgument(msg);
  }
  return found[0];
}

}  // namespace larix
