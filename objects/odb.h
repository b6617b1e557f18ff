// The object database: content addressing on top of a Backend.
//
// The Odb turns canonical encodings (objects/object_format.h) into ids and
// stored forms, and back:
//
//   canonical --hash--> id
//   canonical --frame (maybe zstd, maybe a delta)--> stored --Backend--> disk
//
// Stored form (docs/format.md, "Stored objects"):
//   byte 0   codec: 0 = the canonical bytes follow as they are,
//                   1 = a zstd frame of the canonical bytes follows,
//                   2 = a delta: patches to another object, its base
//   rest     the codec's payload
// Compression is tried only for pages (tree nodes and commits are mostly
// random hashes) and kept only when it saves at least 1/8 of the bytes.
// A page or tree node that the caller names a cached base for (its previous
// version) is stored as a delta when the patches are at most a quarter of
// it and the base's chain of deltas is shorter than kMaxDeltaDepth
// (docs/decisions/0007-page-deltas.md).
//
// Invariants:
//   1. Read never returns bytes whose hash differs from the id asked for
//      (unless verification was switched off for a benchmark); a mismatch
//      is Corruption naming the object.
//   2. Objects are immutable, so the cache can never be stale.
//
// Thread-safety: every method may be called from any thread.

#ifndef LARIX_OBJECTS_ODB_H_
#define LARIX_OBJECTS_ODB_H_

#include <memory>
#include <string>
#include <string_view>

#include "larix/object_id.h"
#include "larix/status.h"
#include "larix/sys/backend.h"
#include "objects/lru_cache.h"

namespace larix {

struct OdbOptions {
  bool compress = true;
  int zstd_level = -10;
  bool verify_reads = true;
  bool deltas = true;  // store pages as deltas where Prepare is given a base
  size_t cache_bytes = 16 << 20;
};

class Odb {
 public:
  using Object = std::shared_ptr<const std::string>;  // a canonical encoding

  // `backend` must outlive the Odb.
  Odb(Backend* backend, const OdbOptions& options);

  Odb(const Odb&) = delete;
  Odb& operator=(const Odb&) = delete;

  // The id of a canonical encoding.
  ObjectId IdOf(std::string_view canonical) const;
  // out[i] = IdOf(EncodePage(pages[i])) for i in [0, n), without building
  // the encodings.  Pages of one length are hashed several at a time
  // (objects/blake2b_lanes.h), and many pages on the worker pool
  // (objects/worker_pool.h), so this is the way to hash a commit's pages.
  void IdsOfPages(const std::string_view* pages, size_t n,
                  ObjectId* out) const;
  // out[i] = IdOf(canonical[i]) for i in [0, n): encodings of one length
  // are hashed several at a time (objects/blake2b_lanes.h), on this thread.
  // For a few objects, such as a commit's new tree nodes of one level.
  void IdsOf(const std::string_view* canonical, size_t n,
             ObjectId* out) const;
  // A number of pages that fills every hash kernel's lanes: the unit in
  // which IdsOfPages, and callers that split pages among threads
  // themselves, hand pages to it.
  static constexpr size_t kPageHashBatch = 16;

  // Adds the object to `batch` and returns its id.  Nothing is written
  // until the batch is applied.
  ObjectId Stage(WriteBatch* batch, std::string_view canonical);

  // The same for a shared canonical form, in two steps, so that the costly
  // one can run on several threads.  Prepare hashes (unless `id` is given)
  // and compresses at `zstd_level`, and is safe to call concurrently;
  // Stage adds the result to a batch.  An uncompressed stored form shares
  // `canonical` instead of copying it, so the caller can keep it, to
  // Remember once stored.
  //
  // With a `base` (the previous version of a page or tree node), an object
  // whose patches against it are small is stored as a delta instead.
  struct Prepared {
    ObjectId id;
    Object canonical;
    std::string compressed;  // the stored form if compressed or a delta,
                             // else empty
    int depth = 0;           // delta depth of the stored form (0: whole)
  };
  struct Base {
    ObjectId id;
    Object canonical;
    int depth = 0;  // of its stored form, as Peek reported it
  };
  Prepared Prepare(Object canonical, const ObjectId& id, int zstd_level,
                   const Base* base = nullptr) const;

  // Deltas of deltas are allowed up to this depth; an object whose base is
  // at it is stored whole.  The depth the cache knows is a hint (an object
  // written again by id keeps its first stored form), so reads do not
  // enforce it; they stop only at kMaxDeltaChain bases, a guard against
  // damage, far above what hints that are off can add up to.
  static constexpr int kMaxDeltaDepth = 8;
  static constexpr int kMaxDeltaChain = 1000;

  // The cached canonical form of `id` and its delta depth, without reading
  // the backend; null if it is not cached.
  Object Peek(const ObjectId& id, int* depth) const;

  // The patches that turn `base` into `target` (docs/format.md, "Page
  // deltas"), appended to *out; false if they would take more than
  // `limit` bytes or the two differ in length.
  static bool EncodeDelta(std::string_view base, std::string_view target,
                          size_t limit, std::string* out);
  // Applies patches to a copy of `base`; false if they are malformed.
  static bool ApplyDelta(std::string_view base, std::string_view patches,
                         std::string* target);
  void Stage(WriteBatch* batch, Prepared prepared) const;

  // The canonical encoding of `id`.  NotFound if absent; Corruption if the
  // stored bytes do not decode or do not hash to `id`.  Both name the id.
  Result<Object> Read(const ObjectId& id);
  // The same, with the delta depth of its stored form in *depth.
  Result<Object> Read(const ObjectId& id, int* depth);

  Result<bool> Exists(const ObjectId& id);

  // Resolves 4..64 hex digits to the unique id they begin.  NotFound if
  // none; InvalidArgument listing the candidates if several.
  Result<ObjectId> ResolvePrefix(std::string_view hex);

  // Stored form <-> canonical form, without touching the backend.
  std::string Frame(std::string_view canonical) const {
    return Frame(canonical, options_.zstd_level);
  }
  std::string Frame(std::string_view canonical, int zstd_level) const;
  int zstd_level() const { return options_.zstd_level; }
  // A delta is read against its base (from the cache, else the backend);
  // *depth, if given, receives the stored form's delta depth.
  Status Unframe(const ObjectId& id, std::string_view stored,
                 std::string* canonical, int* depth = nullptr) const;

  Backend* backend() const { return backend_; }

  // Caches an object just written (write-through for pages: the next read
  // of a page a commit wrote is then a cache hit, not a backend read and a
  // hash).  Call only once the object is stored.
  void Remember(const ObjectId& id, Object canonical, int depth = 0) {
    size_t charge = canonical->size() + 64;
    cache_.Insert(id, std::move(canonical), charge,
                  static_cast<uint8_t>(depth));
  }
  size_t cache_capacity() const { return options_.cache_bytes; }

  // Marks a cached object as the first to evict: a page version that a
  // commit has just replaced on its branch.  Other snapshots may still
  // read it; it stays cached until the cache needs room.
  void Demote(const ObjectId& id) { cache_.Demote(id); }

  // Drops an id from the cache (after GC deletes it).
  void Forget(const ObjectId& id) { cache_.Erase(id); }

 private:
  Backend* const backend_;
  // The zstd stored form of `canonical` in *stored, if worth keeping;
  // false, and *stored as it was, if not.
  bool Compress(std::string_view canonical, int zstd_level,
                std::string* stored) const;

  const OdbOptions options_;
  Status UnframeChain(const ObjectId& id, std::string_view stored,
                      std::string* canonical, int* depth, int hops) const;
  // Mutable: reading a delta's base from Unframe (const) may fill it.
  mutable LruCache<std::string> cache_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_ODB_H_
