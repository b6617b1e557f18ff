// The storage backend interface: for people who write backends, not for
// people who use Larix (they see larix/store.h).  Modelled on libgit2's
// include/git2/sys/odb_backend.h, with one difference that the commit path
// needs: a backend stores two keyspaces and changes both in one atomic write.
//
//   objects  content-addressed, immutable.  Key: ObjectId.  Value: the
//            object's *stored* form (the canonical encoding, maybe
//            compressed or a delta; see objects/odb.h).  The backend
//            interprets neither, except that it reads the base id out of a
//            delta's stored form (StoredDeltaBase below) so that ForEachDelta
//            can list them; the Odb above it verifies hashes.
//   records  small mutable key/value pairs, ordered by key (bytewise).
//            refs/ keeps refs, reflogs and the time index here; the store
//            keeps its format version and counters.  Ordered iteration with
//            Seek makes "last entry at or before T" an O(log n) look-up.
//
// The commit point of a Larix transaction is one call to Apply(): every
// object put, record put and record delete in the batch becomes visible and
// (with sync) durable together, or none does.  Invariants every backend
// keeps:
//   1. Apply is atomic with respect to crashes and to concurrent readers.
//   2. After Apply(sync=true) returns OK, the batch survives a crash.
//      After Apply(sync=false), a crash may lose it, but only together with
//      every later batch (prefix semantics); a later Sync() makes it durable.
//   3. Putting an object that exists is harmless (same id, same content).
//   4. Reads never return data of a torn write.
//
// Thread-safety: all methods may be called concurrently from any thread.

#ifndef LARIX_SYS_BACKEND_H_
#define LARIX_SYS_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larix/object_id.h"
#include "larix/status.h"

namespace leveldb {
class Env;
}

namespace larix {

// A stored form whose first byte is kStoredDeltaCodec is a delta (objects/
// odb.h): bytes 1..32 are the id of the base object it is read against, so
// the base must stay stored for as long as the delta is (GC keeps it).
inline constexpr uint8_t kStoredDeltaCodec = 2;

// The base of a delta's stored form in *base, true; false if `stored` is
// not a delta (or too short to be one).
inline bool StoredDeltaBase(std::string_view stored, ObjectId* base) {
  if (stored.size() < 1 + ObjectId::kSize ||
      static_cast<uint8_t>(stored[0]) != kStoredDeltaCodec) {
    return false;
  }
  *base = ObjectId::FromRaw(stored.data() + 1);
  return true;
}

// A staged atomic write.  Not thread-safe; owned by one writer.
class WriteBatch {
 public:
  struct ObjectPut {
    ObjectId id;
    // The stored form; when `tail` is set, its first bytes, and *tail the
    // rest.  The Odb shares an uncompressed page's canonical bytes with its
    // cache that way instead of copying them (objects/odb.h).
    std::string stored;
    std::shared_ptr<const std::string> tail;

    size_t size() const { return stored.size() + (tail ? tail->size() : 0); }
    // The whole stored form in one string.
    std::string Joined() const { return tail ? stored + *tail : stored; }
  };
  struct RecordOp {
    std::string key;
    std::string value;
    bool is_delete;
  };

  void PutObject(const ObjectId& id, std::string stored) {
    bytes_ += stored.size() + ObjectId::kSize;
    objects_.push_back({id, std::move(stored), nullptr});
  }
  // The stored form is head followed by *tail.
  void PutObject(const ObjectId& id, std::string head,
                 std::shared_ptr<const std::string> tail) {
    bytes_ += head.size() + tail->size() + ObjectId::kSize;
    objects_.push_back({id, std::move(head), std::move(tail)});
  }
  void DeleteObject(const ObjectId& id) { object_deletes_.push_back(id); }
  void PutRecord(std::string key, std::string value) {
    bytes_ += key.size() + value.size();
    records_.push_back({std::move(key), std::move(value), false});
  }
  void DeleteRecord(std::string key) {
    bytes_ += key.size();
    records_.push_back({std::move(key), std::string(), true});
  }
  void Clear() {
    objects_.clear();
    object_deletes_.clear();
    records_.clear();
    bytes_ = 0;
  }

  const std::vector<ObjectPut>& objects() const { return objects_; }
  const std::vector<ObjectId>& object_deletes() const {
    return object_deletes_;
  }
  // In the order they were added; a later op on the same key wins.
  const std::vector<RecordOp>& records() const { return records_; }
  bool empty() const {
    return objects_.empty() && object_deletes_.empty() && records_.empty();
  }
  size_t ApproximateBytes() const { return bytes_; }

 private:
  std::vector<ObjectPut> objects_;
  std::vector<ObjectId> object_deletes_;
  std::vector<RecordOp> records_;
  size_t bytes_ = 0;
};

struct WriteOptions {
  WriteOptions() = default;
  WriteOptions(bool sync, std::function<void()> while_syncing = {})
      : sync(sync), while_syncing(std::move(while_syncing)) {}

  // Durable before Apply returns (fsync/fdatasync).  See invariant 2.
  bool sync = true;
  // Work of the caller's to do while the batch becomes durable (a commit
  // fills its caches): called once, after the batch is written or found to
  // hold nothing new and before Apply returns, possibly while another
  // thread waits for the sync.  Not called when Apply fails before then;
  // when it was called, Apply can still fail (the sync).  It must not call
  // into the backend.
  std::function<void()> while_syncing;
};

// Iterates the records keyspace in key order over a consistent snapshot
// taken when the iterator was created.
class RecordIterator {
 public:
  virtual ~RecordIterator() = default;
  virtual void Seek(std::string_view key) = 0;  // first key >= key
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;  // requires Valid()
  virtual void Prev() = 0;  // requires Valid()
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-OK if iteration stopped because of an error, not the end.
  virtual Status status() const = 0;
};

struct BackendStats {
  uint64_t objects = 0;        // number of live objects (may be approximate)
  uint64_t stored_bytes = 0;   // bytes of stored object bodies
  uint64_t disk_bytes = 0;     // bytes used on disk, all files
  // Memory of an in-memory filter of stored ids (pack backend), and how
  // many ids it holds; 0 while none is built.
  uint64_t id_filter_bytes = 0;
  uint64_t id_filter_ids = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "memory", "leveldb", "pack".
  virtual const char* Name() const = 0;

  // Objects.  ReadObject: NotFound if absent, IOError/Corruption if the
  // backend's own framing is damaged (with the id and the place).
  virtual Status ReadObject(const ObjectId& id, std::string* stored) = 0;
  virtual Status ObjectExists(const ObjectId& id, bool* exists) = 0;
  // Appends to *out the ids whose hex form starts with `hex_prefix`
  // (1..64 lowercase hex digits), at most `limit` of them.
  virtual Status FindObjectsByPrefix(std::string_view hex_prefix, size_t limit,
                                     std::vector<ObjectId>* out) = 0;
  // Calls fn for every stored object id, in no particular order, until fn
  // returns false.  Objects applied while it runs may or may not be seen.
  virtual Status ForEachObject(
      const std::function<bool(const ObjectId&)>& fn) = 0;
  // Calls fn(id, base) for every stored object whose stored form is a delta
  // (StoredDeltaBase), until fn returns false.  This default reads every
  // object; a backend that indexes the bases overrides it.
  virtual Status ForEachDelta(
      const std::function<bool(const ObjectId&, const ObjectId&)>& fn) {
    Status read;
    Status s = ForEachObject([&](const ObjectId& id) {
      std::string stored;
      read = ReadObject(id, &stored);
      if (read.IsNotFound()) {  // deleted meanwhile
        read = Status::OK();
        return true;
      }
      ObjectId base;
      return read.ok() && (!StoredDeltaBase(stored, &base) || fn(id, base));
    });
    return s.ok() ? read : s;
  }

  // Records.  GetRecord: NotFound if absent.
  virtual Status GetRecord(std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<RecordIterator> NewRecordIterator() = 0;

  // The commit point.  See invariants 1-4 above.
  virtual Status Apply(const WriteBatch& batch, const WriteOptions& opts) = 0;

  // Makes every batch applied so far durable.
  virtual Status Sync() = 0;

  // Reclaims the space of deleted objects, where the backend defers that.
  virtual Status Compact() { return Status::OK(); }

  virtual Status GetStats(BackendStats* stats) = 0;
};

struct BackendOptions {
  // All file, lock and clock access of on-disk backends goes through this
  // Env (LevelDB's), so tests can wrap it to inject faults.  nullptr means
  // leveldb::Env::Default().
  leveldb::Env* env = nullptr;
  bool create_if_missing = true;
  bool error_if_exists = false;
  // Bytes of LevelDB block cache.
  size_t block_cache_bytes = 8 << 20;
  // Pack backend only: start a new pack file once the current one holds
  // this many bytes.  Tests lower it to exercise rotation and Compact().
  uint64_t pack_file_bytes = 64 << 20;
};

// An in-memory backend: tests, ":memory:" stores.  Never fails.
std::unique_ptr<Backend> NewMemoryBackend();

// Object bodies and records both inside one LevelDB database at `dir`.
Status OpenLevelDbBackend(const std::string& dir, const BackendOptions& options,
                          std::unique_ptr<Backend>* out);

// Object bodies appended to pack files in `dir`, with LevelDB holding the
// index (id -> pack, offset, length) and the records.
Status OpenPackBackend(const std::string& dir, const BackendOptions& options,
                       std::unique_ptr<Backend>* out);

}  // namespace larix

#endif  // LARIX_SYS_BACKEND_H_
