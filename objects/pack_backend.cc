// The pack backend: object bodies in append-only pack files, with a LevelDB
// database holding the index (id -> pack, offset, length) and the records.
//
// Layout of `dir` (byte formats in docs/format.md, "Pack files"):
//
//   dir/packs/pack-NNNNNN.lpk   the journal: a header, then records
//   dir/packs/MANIFEST          list of pack files (informational; see
//                               "Directory durability" below)
//   dir/index/                  LevelDB:
//       'o' id[32]   -> fixed32 pack, fixed64 offset, fixed32 length
//       'r' key      -> record value
//       "mformat"    -> "larix-pack-backend 1"
//       "mjournal"   -> fixed32 pack, fixed64 offset: the journal is applied
//                       to this database up to (excluding) that position
//       "mstats"     -> fixed64 objects, fixed64 stored bytes
//
// The commit point.  Apply() encodes the whole batch -- the bodies of new
// objects, object deletes, record puts and deletes -- as ONE journal record,
// framed with its length and a crc32c, appended to the current pack file.
// With sync, the pack file is fsynced: that single write and single fsync
// are all a synced commit costs.  The index changes are merged into an
// in-memory overlay (pending_*) that every read consults before LevelDB,
// and reach LevelDB later, many records at a time (a "checkpoint"):
// LevelDB is a cache of the journal that recovery rolls forward from
// "mjournal".
//
// Invariants:
//   1. (Journal first.)  LevelDB only ever holds the effects of journal
//      records that are durable: a checkpoint fsyncs the pack before it
//      writes LevelDB (without sync).  Checkpoints happen when the overlay
//      holds 1 MiB of index changes or 32 MiB of journal, in Compact(), and
//      at close.  So after any crash LevelDB holds a prefix of the durable
//      journal, and replaying the journal from "mjournal" restores exactly
//      the durable batches, in order -- the prefix semantics of the Backend
//      contract, even though LevelDB's own unsynced writes may reach the
//      disk in any order relative to the pack's.
//   2. "mjournal" is written in the same LevelDB batch as the effects it
//      covers, so replay applies each record exactly once.
//   3. After a failed append or fsync of a pack the file's tail is unknown,
//      so the backend refuses all further writes (a sticky error) until it
//      is reopened; recovery then finds that tail complete or torn.
//   4. Recovery stops at the first record that is short or fails its
//      checksum, or at pre-filled zeros running to the end of the file,
//      which end that pack's journal cleanly (see "Pre-filled space").
//      Anything else in the newest pack is a torn write, and it is cut off
//      logically: a fresh pack is started and "mjournal" is durably moved to
//      it before anything is appended, so the torn bytes are never read
//      again (leveldb::Env cannot truncate a file).  A damaged record with
//      more journal after it is Corruption, never silently skipped.
//   5. Compact() deletes a pack only after every live object in it has been
//      copied into the current pack by a durable journal record and
//      "mjournal" is durably past it; a crash in between leaves an
//      unreferenced pack, which the next Compact() deletes.
//   6. Reads check the entry framing: the id stored in the entry is the id
//      asked for, its length is the index's, its crc32c matches.  Anything
//      else -- including an index entry pointing past the end of the file --
//      is Corruption naming the object, the pack file and the offset.
//
// Pre-filled space.  Appending to a file makes its fdatasync write the
// inode (the size) as well as the data: one more device write per commit.
// So, as PostgreSQL does for its WAL segments, small records are written
// over zeros that were written and fsynced ahead of them (PrefillLocked),
// and a durable commit's fdatasync writes data only.  The zeros are cut off
// when the pack is closed (TrimTailLocked); after a crash, replay takes
// zeros that run to the end of the file for the end of the journal and
// appends go on over them.  Any non-zero byte there is a torn write as
// before.  This needs positional writes, which leveldb::Env lacks: Envs
// implementing PositionalFileEnv (PreadEnv(), tests' FaultInjectionEnv)
// get it, others append (AppendOnlyFile).
// docs/decisions/0004-pack-prefill.md has the measurements.
//
// Directory durability.  leveldb::Env has no directory fsync.  Its POSIX
// implementation fsyncs a file's directory whenever it syncs a file whose
// name begins with "MANIFEST" -- which is how LevelDB makes its own new
// table files durable.  This backend rewrites and syncs packs/MANIFEST
// after creating or deleting a pack file, for the same effect.
//
// Concurrency.  write_mu_ serialises Apply, Sync and Compact and guards the
// writer state (current pack file, pending_batch_, the journal position).
// state_mu_ guards the overlay and the stats; writers hold it exclusively
// only to merge one record's effects, or to hand the overlay to an index
// flush and to drop it after, so readers never wait for I/O.  files_mu_
// guards the cache of open pack readers.  Compact() holds write_mu_
// throughout, so writers wait for it.
//
// Index flushes.  The overlay is written to LevelDB once it holds
// kMaxPendingIndexBytes of changes.  On the commit path that write runs on
// a thread of its own (StartFlushLocked): the overlay becomes the
// `flushing_` one, which readers consult after the current one and which
// is dropped only once LevelDB holds it.  One flush runs at a time; every
// synchronous flush (checkpoint, compaction, close) waits for it first.

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "larix/sys/backend.h"
#include "objects/coding.h"
#include "objects/crc32c.h"
#include "objects/id_filter.h"
#include "objects/id_map.h"
#include "objects/leveldb_env.h"
#include "objects/worker_pool.h"

namespace larix {
namespace {

// ---- format constants (docs/format.md, "Pack files") ----------------------

constexpr char kPackMagic[8] = {'\x89', 'L',    'P',    'K',
                                '\r',   '\n', '\x1a', '\n'};
constexpr uint32_t kPackFormatVersion = 1;
constexpr uint64_t kPackHeaderSize = 16;
constexpr uint64_t kRecordHeaderSize = 9;  // crc 4, length 4, type 1
constexpr uint64_t kEntryHeaderSize = 40;  // id 32, length 4, crc 4
constexpr uint8_t kRecordTypeBatch = 1;
constexpr uint8_t kOpPut = 1;
constexpr uint8_t kOpDelete = 2;

constexpr char kObjectPrefix = 'o';
constexpr char kRecordPrefix = 'r';
constexpr std::string_view kFormatKey = "mformat";
constexpr std::string_view kJournalKey = "mjournal";
constexpr std::string_view kStatsKey = "mstats";
constexpr std::string_view kFormatValue = "larix-pack-backend 1";

// ---- tuning ---------------------------------------------------------------

constexpr uint64_t kMaxRecordBytes = 1ull << 30;
// Overlay bounds: past either, Apply() flushes the overlay to LevelDB (on a
// thread of its own: StartFlushLocked).  They bound the overlay's memory
// and the journal that an open must replay.  The first is small so that
// the overlay's hash map stays in the CPU's caches (with 1 MB, ~20K
// entries, merging a commit's entries took 3x longer).
constexpr size_t kMaxPendingIndexBytes = 256 << 10;
constexpr uint64_t kMaxUnflushedJournalBytes = 32 << 20;
// The object entries reserved ahead in the overlay's map: as many as fit
// in kMaxPendingIndexBytes (each takes 48 bytes or more of the batch).
constexpr size_t kOverlayObjectsHint = kMaxPendingIndexBytes / 48;
constexpr size_t kMaxOpenPacks = 256;
constexpr uint64_t kCompactChunkBytes = 4 << 20;
// WriteRecordLocked keeps its encoding buffer up to this capacity.
constexpr size_t kKeptRecordBufferBytes = 2 << 20;
// Pre-filled pack space (docs/decisions/0004-pack-prefill.md): a record of
// up to kPrefillMaxRecordBytes that does not fit in the zeros already
// written and synced past the journal's end first gets kPrefillBytes more
// (PrefillEnd: rounded up to whole 4 KiB pages).  Larger records append.
constexpr uint64_t kPrefillBytes = 512 << 10;
constexpr uint64_t kPrefillMaxRecordBytes = 160 << 10;
// Once fewer zeros are left after a record that used them than
// kFillAheadRecords records of its size (and at least kFillLowBytes), twice
// that much more is written on a thread of their own (StartFillLocked)
// where the file allows it (PositionalFile::ConcurrentFill).  The fill then
// has as many commits' time to finish before a record needs its zeros:
// with a fixed 256 KiB, records of ~100 KB (a batch of 100 inserts) caught
// up with a fill within two or three commits and waited for it, 125 us a
// commit on average and up to 16 ms.
constexpr uint64_t kFillLowBytes = kPrefillBytes / 2;
constexpr uint64_t kFillAheadRecords = 16;
// While a record at least this large is synced, a helper does the rest of
// the commit; handing over a smaller one's costs more than it saves.
constexpr size_t kAsyncSyncMinBytes = 64 << 10;

// ---- small helpers ----------------------------------------------------------

// `n` rounded up to a whole 4 KiB page.
uint64_t RoundUpToPage(uint64_t n) { return (n + 4095) & ~uint64_t{4095}; }

// Where a pre-fill of the zeros from `end` on stops.
uint64_t PrefillEnd(uint64_t end) { return RoundUpToPage(end + kPrefillBytes); }

// Work on a thread of its own (a zero fill, an index flush), whose status
// is read once it has ended.
struct BackgroundJob {
  leveldb::Status status;  // written by `thread` before `done`
  std::atomic<bool> done{false};
  std::thread thread;

  // Runs fn() on the job's thread; `this` must outlive it (End joins).
  void Run(std::function<leveldb::Status()> fn) {
    thread = std::thread([this, fn = std::move(fn)] {
      status = fn();
      done.store(true, std::memory_order_release);
    });
  }
  // True once the job has ended and its thread is joined: at once if it
  // has, else (with `wait`) after waiting for it.
  bool End(bool wait) {
    if (!wait && !done.load(std::memory_order_acquire)) return false;
    thread.join();
    return true;
  }
};

struct Location {
  uint32_t pack = 0;
  uint64_t offset = 0;  // of the entry (its id byte) in the pack file
  uint32_t length = 0;  // of the stored body
  ObjectId base;        // a delta's base (StoredDeltaBase); null if none
  bool operator==(const Location&) const = default;
};

struct JournalPos {
  uint32_t pack = 0;
  uint64_t offset = 0;
  bool operator==(const JournalPos&) const = default;
};

void AppendLocation(std::string* v, const Location& loc) {
  coding::PutFixed32(v, loc.pack);
  coding::PutFixed64(v, loc.offset);
  coding::PutFixed32(v, loc.length);
  if (!loc.base.IsNull()) v->append(loc.base.AsBytes());
}

bool DecodeLocation(std::string_view in, Location* loc) {
  if (!coding::GetFixed32(&in, &loc->pack) ||
      !coding::GetFixed64(&in, &loc->offset) ||
      !coding::GetFixed32(&in, &loc->length)) {
    return false;
  }
  loc->base = ObjectId();
  if (in.empty()) return true;
  if (in.size() != ObjectId::kSize) return false;
  loc->base = ObjectId::FromRaw(in.data());
  return !loc->base.IsNull();
}

std::string EncodePos(const JournalPos& pos) {
  std::string v;
  coding::PutFixed32(&v, pos.pack);
  coding::PutFixed64(&v, pos.offset);
  return v;
}

// An object's index key: kObjectPrefix, then the id.
using ObjectKey = std::array<char, 1 + ObjectId::kSize>;
ObjectKey ObjectKeyOf(const ObjectId& id) {
  ObjectKey key;
  key[0] = kObjectPrefix;
  memcpy(key.data() + 1, id.data(), ObjectId::kSize);
  return key;
}

std::string RecordKey(std::string_view key) {
  std::string k(1, kRecordPrefix);
  k.append(key);
  return k;
}

leveldb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
leveldb::Slice ToSlice(const ObjectKey& key) {
  return {key.data(), key.size()};
}

std::string PackFileName(uint32_t n) {
  char name[32];
  std::snprintf(name, sizeof(name), "pack-%06u.lpk", n);
  return name;
}

// Parses "pack-NNNNNN.lpk" (any number of digits); false for other names.
bool ParsePackFileName(const std::string& name, uint32_t* n) {
  constexpr std::string_view kPrefix = "pack-", kSuffix = ".lpk";
  if (name.size() <= kPrefix.size() + kSuffix.size() ||
      name.compare(0, kPrefix.size(), kPrefix) != 0 ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) !=
          0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = kPrefix.size(); i < name.size() - kSuffix.size(); i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
    if (v > UINT32_MAX) return false;
  }
  *n = static_cast<uint32_t>(v);
  return v > 0;
}


int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Matches object ids against a hex prefix of 1..64 digits.
class HexPrefix {
 public:
  Status Parse(std::string_view hex) {
    if (hex.empty() || hex.size() > ObjectId::kHexSize) {
      return Status::InvalidArgument("object prefix must be 1..64 hex digits");
    }
    for (size_t i = 0; i < hex.size(); i += 2) {
      int hi = HexValue(hex[i]);
      int lo = i + 1 < hex.size() ? HexValue(hex[i + 1]) : 0;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("'" + std::string(hex) +
                                       "' is not lowercase hex");
      }
      bytes_.push_back(static_cast<char>(hi << 4 | lo));
    }
    odd_ = hex.size() % 2 != 0;
    return Status::OK();
  }
  // The smallest id with the prefix: the prefix padded with zero nibbles.
  const std::string& lower_bound() const { return bytes_; }
  bool Matches(const uint8_t* id) const {
    size_t whole = bytes_.size() - (odd_ ? 1 : 0);
    if (std::memcmp(id, bytes_.data(), whole) != 0) return false;
    return !odd_ || (id[whole] >> 4) == (uint8_t(bytes_[whole]) >> 4);
  }

 private:
  std::string bytes_;
  bool odd_ = false;
};

// ---- journal records ------------------------------------------------------

// The contents of one journal record, with views into the encoded bytes or
// the WriteBatch it was built from.
struct RecordContents {
  struct Put {
    ObjectId id;
    uint64_t offset;  // of the entry; relative to the record until placed
    uint32_t length;
    ObjectId base;  // StoredDeltaBase of the body; null if none
  };
  struct Op {
    std::string_view key;
    std::string_view value;
    bool is_delete;
  };
  std::vector<Put> puts;
  std::vector<ObjectId> deletes;
  std::vector<Op> ops;
};

// Encodes a batch record (header included) into *out; entry offsets in
// *contents are relative to the start of the record.
void EncodeRecord(const std::vector<const WriteBatch::ObjectPut*>& puts,
                  const std::vector<ObjectId>& deletes,
                  const std::vector<WriteBatch::RecordOp>& ops,
                  std::string* out, RecordContents* contents) {
  size_t size = kRecordHeaderSize + 3 * 10 + deletes.size() * ObjectId::kSize;
  for (const WriteBatch::ObjectPut* put : puts) size += 40 + put->size();
  for (const WriteBatch::RecordOp& op : ops) {
    size += 1 + 10 + op.key.size() + op.value.size();
  }
  out->reserve(size);  // one allocation: records of large commits are MBs
  out->assign(kRecordHeaderSize, '\0');
  coding::PutVarint(out, puts.size());
  for (const WriteBatch::ObjectPut* put : puts) {
    const size_t start = out->size();
    out->append(put->id.AsBytes());
    coding::PutFixed32(out, static_cast<uint32_t>(put->size()));
    uint32_t crc = crc32c::Extend(0, std::string_view(*out).substr(start, 36));
    crc = crc32c::Extend(crc, put->stored);
    if (put->tail) crc = crc32c::Extend(crc, *put->tail);
    coding::PutFixed32(out, crc32c::Mask(crc));
    out->append(put->stored);
    if (put->tail) out->append(*put->tail);
    ObjectId base;
    StoredDeltaBase(put->stored, &base);  // a delta is never split (tail)
    contents->puts.push_back(
        {put->id, start, static_cast<uint32_t>(put->size()), base});
  }
  coding::PutVarint(out, deletes.size());
  for (const ObjectId& id : deletes) {
    out->append(id.AsBytes());
    contents->deletes.push_back(id);
  }
  coding::PutVarint(out, ops.size());
  for (const WriteBatch::RecordOp& op : ops) {
    out->push_back(static_cast<char>(op.is_delete ? kOpDelete : kOpPut));
    coding::PutLengthPrefixed(out, op.key);
    if (!op.is_delete) coding::PutLengthPrefixed(out, op.value);
    contents->ops.push_back({op.key, op.value, op.is_delete});
  }
  std::string header;
  coding::PutFixed32(&header, 0);  // crc, below
  coding::PutFixed32(&header,
                     static_cast<uint32_t>(out->size() - kRecordHeaderSize));
  header.push_back(static_cast<char>(kRecordTypeBatch));
  out->replace(0, kRecordHeaderSize, header);
  uint32_t crc = crc32c::Mask(crc32c::Extend(0, std::string_view(*out).substr(4)));
  std::string crc_bytes;
  coding::PutFixed32(&crc_bytes, crc);
  out->replace(0, 4, crc_bytes);
}

// Decodes the payload of a batch record whose payload starts at file offset
// `payload_offset`.  False if the payload is malformed.
bool DecodeRecordPayload(std::string_view payload, uint64_t payload_offset,
                         RecordContents* contents) {
  std::string_view in = payload;
  uint64_t n;
  if (!coding::GetVarint(&in, &n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t at = payload_offset + (payload.size() - in.size());
    std::string_view id, body;
    uint32_t length, crc;
    if (!coding::GetBytes(&in, ObjectId::kSize, &id) ||
        !coding::GetFixed32(&in, &length) || !coding::GetFixed32(&in, &crc) ||
        !coding::GetBytes(&in, length, &body)) {
      return false;
    }
    ObjectId base;
    StoredDeltaBase(body, &base);
    contents->puts.push_back({ObjectId::FromRaw(id.data()), at, length, base});
  }
  if (!coding::GetVarint(&in, &n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    std::string_view id;
    if (!coding::GetBytes(&in, ObjectId::kSize, &id)) return false;
    contents->deletes.push_back(ObjectId::FromRaw(id.data()));
  }
  if (!coding::GetVarint(&in, &n)) return false;
  for (uint64_t i = 0; i < n; i++) {
    uint8_t op;
    RecordContents::Op rop;
    if (!coding::GetByte(&in, &op) || !coding::GetLengthPrefixed(&in, &rop.key))
      return false;
    if (op == kOpPut) {
      if (!coding::GetLengthPrefixed(&in, &rop.value)) return false;
      rop.is_delete = false;
    } else if (op == kOpDelete) {
      rop.is_delete = true;
    } else {
      return false;
    }
    contents->ops.push_back(rop);
  }
  return in.empty();
}

// ---- record iterator: a LevelDB snapshot merged with the overlay ----------

using RecordOverlay = std::map<std::string, std::optional<std::string>>;

// Iterates the 'r' range of a LevelDB snapshot with a copy of the overlay
// on top: a two-way merge in which an overlay entry shadows the snapshot's
// entry with the same key, and an overlay nullopt (a deletion) hides it.
//
// State while moving forward: base_ and o_ are at the first entry of each
// source that is > key_, except the source key_ came from, which is at
// key_.  Moving backward, the mirror image, with after_ one past the
// overlay's candidate (std::map has no "before begin").  Changing direction
// re-seeks both sources from key_.
class PackRecordIterator : public RecordIterator {
 public:
  PackRecordIterator(leveldb::DB* db, const leveldb::Snapshot* snapshot,
                     RecordOverlay overlay, std::string dir)
      : db_(db),
        snapshot_(snapshot),
        overlay_(std::move(overlay)),
        dir_(std::move(dir)),
        o_(overlay_.end()),
        after_(overlay_.end()) {
    leveldb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.verify_checksums = true;
    base_.reset(db_->NewIterator(ro));
  }
  ~PackRecordIterator() override {
    base_.reset();
    db_->ReleaseSnapshot(snapshot_);
  }

  void Seek(std::string_view key) override {
    SeekForward(std::string(key), /*inclusive=*/true);
  }
  void SeekToFirst() override { SeekForward(std::string(), true); }
  void SeekToLast() override { SeekBackward(nullptr); }
  bool Valid() const override { return valid_; }
  void Next() override {
    assert(valid_);
    if (!forward_) return SeekForward(key_, /*inclusive=*/false);
    if (o_ != overlay_.end() && o_->first == key_) ++o_;
    if (BaseValid() && BaseKey() == key_) base_->Next();
    FindForward();
  }
  void Prev() override {
    assert(valid_);
    if (forward_) {
      std::string k = key_;
      return SeekBackward(&k);
    }
    // The overlay's candidate is already below key_ (after_ is at key_ if
    // key_ came from the overlay); only the snapshot may sit at key_.
    if (BaseValid() && BaseKey() == key_) base_->Prev();
    FindBackward();
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override {
    return FromLevelDb(base_->status(), "records of " + dir_);
  }

 private:
  bool BaseValid() const {
    return base_->Valid() && !base_->key().empty() &&
           base_->key()[0] == kRecordPrefix;
  }
  std::string_view BaseKey() const {
    return {base_->key().data() + 1, base_->key().size() - 1};
  }
  void SetCurrent(std::string_view key, std::string_view value) {
    valid_ = true;
    key_.assign(key);
    value_.assign(value);
  }
  void SetCurrentFromBase() {
    SetCurrent(BaseKey(), {base_->value().data(), base_->value().size()});
  }

  // Positions at the first visible key >= k (inclusive) or > k.
  void SeekForward(std::string k, bool inclusive) {
    forward_ = true;
    base_->Seek(RecordKey(k));
    if (!inclusive && BaseValid() && BaseKey() == k) base_->Next();
    o_ = inclusive ? overlay_.lower_bound(k) : overlay_.upper_bound(k);
    FindForward();
  }

  // Makes the smaller of the two sources' entries current (the overlay's on
  // a tie), skipping deletions.
  void FindForward() {
    for (;;) {
      const bool bv = BaseValid(), ov = o_ != overlay_.end();
      if (!bv && !ov) {
        valid_ = false;
        return;
      }
      if (ov && (!bv || std::string_view(o_->first) <= BaseKey())) {
        if (bv && std::string_view(o_->first) == BaseKey()) base_->Next();
        if (o_->second) return SetCurrent(o_->first, *o_->second);
        ++o_;  // a deletion hides the key
        continue;
      }
      return SetCurrentFromBase();
    }
  }

  // Positions at the last visible key < *k, or the last key if k is null.
  void SeekBackward(const std::string* k) {
    forward_ = false;
    if (k == nullptr) {
      base_->Seek(std::string(1, kRecordPrefix + 1));
    } else {
      base_->Seek(RecordKey(*k));
    }
    if (base_->Valid()) {
      base_->Prev();
    } else {
      base_->SeekToLast();
    }
    after_ = k == nullptr ? overlay_.end() : overlay_.lower_bound(*k);
    FindBackward();
  }

  // Makes the larger of the two sources' entries current (the overlay's on
  // a tie), skipping deletions.
  void FindBackward() {
    for (;;) {
      const bool bv = BaseValid(), ov = after_ != overlay_.begin();
      if (!bv && !ov) {
        valid_ = false;
        return;
      }
      if (ov) {
        auto o = std::prev(after_);
        if (!bv || std::string_view(o->first) >= BaseKey()) {
          if (bv && std::string_view(o->first) == BaseKey()) base_->Prev();
          after_ = o;
          if (o->second) return SetCurrent(o->first, *o->second);
          continue;
        }
      }
      return SetCurrentFromBase();
    }
  }

  leveldb::DB* const db_;
  const leveldb::Snapshot* const snapshot_;
  const RecordOverlay overlay_;
  const std::string dir_;
  std::unique_ptr<leveldb::Iterator> base_;
  bool forward_ = true;
  RecordOverlay::const_iterator o_;      // moving forward
  RecordOverlay::const_iterator after_;  // moving backward
  bool valid_ = false;
  std::string key_, value_;
};

// Releases a LevelDB snapshot on scope exit.
class SnapshotHolder {
 public:
  SnapshotHolder(leveldb::DB* db, const leveldb::Snapshot* s)
      : db_(db), s_(s) {}
  ~SnapshotHolder() { db_->ReleaseSnapshot(s_); }
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* s_;
};

// ---- the backend ------------------------------------------------------------

// A PositionalFile over leveldb::WritableFile, for Envs that cannot open
// positional files: writes must continue the file, so nothing is
// pre-filled.
class AppendOnlyFile final : public PositionalFile {
 public:
  AppendOnlyFile(std::unique_ptr<leveldb::WritableFile> file, uint64_t size)
      : file_(std::move(file)), size_(size) {}
  ~AppendOnlyFile() override { file_->Close(); }  // errors: nothing to tell

  leveldb::Status Write(uint64_t offset, std::string_view data) override {
    if (offset != size_) {
      return leveldb::Status::NotSupported("append-only pack file");
    }
    leveldb::Status s = file_->Append(leveldb::Slice(data.data(), data.size()));
    if (s.ok()) s = file_->Flush();  // readers pread what was appended
    if (s.ok()) size_ += data.size();
    return s;
  }
  leveldb::Status Read(uint64_t, size_t, std::string*) override {
    return leveldb::Status::NotSupported("append-only pack file");
  }
  leveldb::Status Size(uint64_t* size) override {
    *size = size_;
    return leveldb::Status::OK();
  }
  leveldb::Status Truncate(uint64_t size) override {
    return size == size_
               ? leveldb::Status::OK()
               : leveldb::Status::NotSupported("append-only pack file");
  }
  leveldb::Status Sync() override { return file_->Sync(); }

 private:
  std::unique_ptr<leveldb::WritableFile> file_;
  uint64_t size_;
};

class PackBackend : public Backend {
 public:
  PackBackend(std::string dir, leveldb::Env* env, uint64_t pack_file_bytes)
      : dir_(std::move(dir)),
        packs_dir_(dir_ + "/packs"),
        index_dir_(dir_ + "/index"),
        env_(env),
        positional_env_(dynamic_cast<PositionalFileEnv*>(env)),
        prefill_(positional_env_ != nullptr &&
                 positional_env_->SupportsPositionalFiles()),
        pack_file_bytes_(std::max<uint64_t>(pack_file_bytes, 4096)) {
    pending_objects_.reserve(kOverlayObjectsHint);
  }

  ~PackBackend() override {
    ids_stop_ = true;  // a filter build stops at its next id
    if (ids_builder_.joinable()) ids_builder_.join();
    // A checkpoint, so that the next open has nothing to replay.  Errors
    // are harmless: the journal is the truth, and open replays it.
    std::lock_guard lock(write_mu_);
    FinishFillLocked(/*wait=*/true);
    Status flushed = FinishFlushLocked(/*wait=*/true);
    (void)flushed;  // a failure is in sticky_ now
    if (pack_ && sticky_.ok() && CheckpointLocked().ok()) TrimTailLocked();
    pack_.reset();  // closes it; errors: nothing left to tell
    {
      std::lock_guard files(files_mu_);
      readers_.clear();
    }
    db_.reset();
  }

  // Checks the directory, opens the index and recovers the journal.
  Status Open(const BackendOptions& options);

  const char* Name() const override { return "pack"; }

  Status ReadObject(const ObjectId& id, std::string* stored) override;

  Status ObjectExists(const ObjectId& id, bool* exists) override {
    Location loc;
    return Lookup(id, &loc, exists);
  }

  Status FindObjectsByPrefix(std::string_view hex_prefix, size_t limit,
                             std::vector<ObjectId>* out) override;
  Status ForEachObject(
      const std::function<bool(const ObjectId&)>& fn) override;
  Status ForEachDelta(
      const std::function<bool(const ObjectId&, const ObjectId&)>& fn)
      override;
  Status ScanObjects(
      const std::function<bool(const ObjectId&, const Location&)>& fn);
  Status GetRecord(std::string_view key, std::string* value) override;
  std::unique_ptr<RecordIterator> NewRecordIterator() override;
  Status Apply(const WriteBatch& batch, const WriteOptions& opts) override;

  Status Sync() override {
    std::lock_guard lock(write_mu_);
    return SyncLocked();
  }

  Status Compact() override;
  Status GetStats(BackendStats* stats) override;

 private:
  // The effects of one journal record on the index, computed before they
  // are merged into the overlay.
  struct Delta {
    // Each id once, in the order of its first change (its last wins).
    std::vector<std::pair<ObjectId, std::optional<Location>>> objects;
    std::vector<std::pair<std::string, std::optional<std::string>>> records;
    int64_t objects_delta = 0;
    int64_t bytes_delta = 0;
  };

  struct PackReader {
    std::shared_ptr<leveldb::RandomAccessFile> file;
    // Set when `file` reads the file as it grows (PreadFile); otherwise a
    // reader sees only the bytes present when it was opened.
    std::shared_ptr<PreadFile> growing;  // aliases `file`
    uint64_t size = 0;  // bytes readable through `file`
    uint64_t last_use = 0;
  };

  std::string PackPath(uint32_t n) const {
    return packs_dir_ + "/" + PackFileName(n);
  }
  std::string Where(const ObjectId& id, const Location& loc) const {
    return "object " + id.ToHex() + ": pack file " + PackPath(loc.pack) +
           " offset " + std::to_string(loc.offset);
  }
  // Records and metadata are read with LevelDB's block checksums verified.
  static leveldb::ReadOptions ReadOpts() {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    return ro;
  }
  // Index entries of objects are not: a damaged entry can only send a read
  // to the wrong place, which the entry framing check catches (invariant 6),
  // and this build of LevelDB computes crc32c in software.
  static leveldb::ReadOptions ObjectReadOpts() { return {}; }

  // ---- reading ----
  Status Lookup(const ObjectId& id, Location* loc, bool* found);
  Status ReadEntry(const ObjectId& id, const Location& loc, std::string* out);
  Status GetPackReader(uint32_t pack, uint64_t needed_end,
                       std::shared_ptr<PackReader>* out);
  void EvictPackReader(uint32_t pack) {
    std::lock_guard lock(files_mu_);
    readers_.erase(pack);
  }

  // ---- writing; write_mu_ held ----
  Status WriteRecordLocked(
      const std::vector<const WriteBatch::ObjectPut*>& puts,
      const std::vector<ObjectId>& deletes,
      const std::vector<WriteBatch::RecordOp>& ops, bool sync,
      bool puts_are_new,
      const std::function<void()>* while_syncing = nullptr);
  Status ComputeDelta(const RecordContents& rec, uint32_t pack,
                      bool puts_are_new, Delta* d);
  void StageDelta(const Delta& d);
  void MergeDelta(Delta* d);
  void StartIdFilterBuildLocked();
  void BuildIdFilter(uint64_t expected_ids);
  Status FlushLocked(bool sync);
  Status StartFlushLocked();
  Status FinishFlushLocked(bool wait);
  void PutJournalAndStatsLocked(leveldb::WriteBatch* batch);
  Status SyncLocked();
  Status CheckpointLocked() {
    LARIX_RETURN_IF_ERROR(SyncLocked());
    return FlushLocked(/*sync=*/false);
  }
  Status RotateLocked();
  Status PrefillLocked(uint64_t needed_end);
  void StartFillLocked(uint64_t record_bytes);
  void FinishFillLocked(bool wait);
  void TrimTailLocked();
  Status OpenPackFileLocked(const std::string& path, bool create,
                            uint64_t size);
  Status CreatePackLocked(uint32_t n);
  Status WritePackManifestLocked();
  Status SetSticky(const Status& s) {
    sticky_ = s.WithContext("pack store " + dir_ +
                            " refuses writes after an earlier write error "
                            "(reopen it to recover)");
    return s;
  }

  // ---- recovery ----
  Status CheckDirectory(const BackendOptions& options, bool* creating);
  Status ListPacks(std::vector<uint32_t>* packs);
  Status Recover();
  Status ReplayPack(uint32_t n, uint64_t from, bool is_last, uint64_t* end,
                    bool* torn);

  const std::string dir_, packs_dir_, index_dir_;
  leveldb::Env* const env_;
  PositionalFileEnv* const positional_env_;  // env_, if it is one
  const bool prefill_;  // pack space is pre-filled (positional files)
  const uint64_t pack_file_bytes_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;

  std::mutex write_mu_;
  std::unique_ptr<PositionalFile> pack_;  // GUARDED_BY(write_mu_)
  uint32_t pack_number_ = 0;              // GUARDED_BY(write_mu_)
  uint64_t pack_size_ = 0;  // end of the journal in pack_; appends go here
  uint64_t filled_end_ = 0;  // pack_'s size: zeros in [pack_size_, here)
  // A fill of zeros past filled_end_ running on a thread of its own
  // (StartFillLocked); at most one, finished before pack_ changes.
  struct ZeroFill : BackgroundJob {
    uint32_t pack = 0;
    uint64_t from = 0, to = 0;
  };
  std::unique_ptr<ZeroFill> fill_;  // GUARDED_BY(write_mu_)
  uint64_t unsynced_bytes_ = 0;                  // GUARDED_BY(write_mu_)
  uint64_t unflushed_bytes_ = 0;  // journal bytes since the last flush
  std::string record_buf_;        // GUARDED_BY(write_mu_), reused
  std::string scratch_value_;  // StageDelta's; ditto
  std::set<uint32_t> packs_;                     // GUARDED_BY(write_mu_)
  JournalPos journal_end_;  // end of the last appended/replayed record
  JournalPos applied_;      // "mjournal" as last written to LevelDB
  // The overlay, as LevelDB operations (a pointer, so that a flush takes
  // it without a copy).
  std::unique_ptr<leveldb::WriteBatch> pending_batch_ =
      std::make_unique<leveldb::WriteBatch>();
  size_t pending_ops_ = 0;
  // An index flush running on a thread of its own (StartFlushLocked).
  struct IndexFlush : BackgroundJob {
    std::unique_ptr<leveldb::WriteBatch> batch;
    JournalPos end;  // the batch's "mjournal"
  };
  std::unique_ptr<IndexFlush> flush_;  // GUARDED_BY(write_mu_)
  Status sticky_;
  // The ids the index may hold (objects/id_filter.h), so that Apply learns
  // that a put is new without an index read.  Built from a scan of the
  // index on a thread of its own: first at the first Apply with puts, and
  // again when overfull.  Until the first is built, Apply reads the index.
  std::unique_ptr<IdFilter> ids_;   // GUARDED_BY(write_mu_)
  bool ids_building_ = false;       // GUARDED_BY(write_mu_)
  std::vector<ObjectId> ids_backlog_;  // merged while building; ditto
  std::thread ids_builder_;         // started and joined under write_mu_
  std::atomic<bool> ids_stop_{false};

  mutable std::shared_mutex state_mu_;
  IdMap<std::optional<Location>> pending_objects_;  // GUARDED_BY(state_mu_)
  RecordOverlay pending_records_;   // GUARDED_BY(state_mu_)
  // The overlay an index flush is writing: older than the one above.
  IdMap<std::optional<Location>> flushing_objects_;  // GUARDED_BY(state_mu_)
  RecordOverlay flushing_records_;  // GUARDED_BY(state_mu_)
  uint64_t objects_ = 0;            // GUARDED_BY(state_mu_)
  uint64_t stored_bytes_ = 0;       // GUARDED_BY(state_mu_)

  std::mutex files_mu_;
  std::unordered_map<uint32_t, std::shared_ptr<PackReader>>
      readers_;        // GUARDED_BY(files_mu_)
  uint64_t tick_ = 0;  // GUARDED_BY(files_mu_)
};

// ---- open and recovery ----------------------------------------------------

// Decides whether `dir` is a new store (*creating) or an existing one, and
// refuses anything else before a single byte is written.
Status PackBackend::CheckDirectory(const BackendOptions& options,
                                   bool* creating) {
  std::vector<std::string> children;
  const bool exists = env_->GetChildren(dir_, &children).ok();
  bool has_index = false, has_packs = false;
  for (std::string name : children) {
    // Some Envs (LevelDB's in-memory one) list nested paths as children.
    name = name.substr(0, name.find('/'));
    if (name == "." || name == "..") continue;
    if (name == "index") {
      has_index = true;
    } else if (name == "packs") {
      has_packs = true;
    } else {
      return Status::InvalidArgument(
          dir_ + " is not a Larix pack object store: it holds '" + name +
          "' (a pack store holds only index/ and packs/); refusing to open "
          "it");
    }
  }
  *creating = !has_index;
  if (!has_index && !has_packs) {
    if (!options.create_if_missing) {
      return Status::NotFound(dir_ + ": no Larix pack object store here");
    }
    if (!exists) {
      LARIX_RETURN_IF_ERROR(
          FromLevelDb(env_->CreateDir(dir_), "create directory " + dir_));
    }
    return FromLevelDb(env_->CreateDir(packs_dir_),
                       "create directory " + packs_dir_);
  }
  if (options.error_if_exists) {
    return Status::AlreadyExists(dir_ + ": a pack object store exists here");
  }
  if (!has_packs) {
    return Status::Corruption(dir_ + ": packs/ is missing beside index/");
  }
  if (!has_index) {
    // Creation was interrupted after packs/ was made: fine while no pack
    // file exists (a journal without its index would need a full replay,
    // which compaction may have made impossible).
    std::vector<uint32_t> packs;
    LARIX_RETURN_IF_ERROR(ListPacks(&packs));
    if (!packs.empty()) {
      return Status::Corruption(dir_ + ": index/ is missing beside packs/");
    }
  }
  return Status::OK();
}

Status PackBackend::Open(const BackendOptions& options) {
  bool creating = false;
  LARIX_RETURN_IF_ERROR(CheckDirectory(options, &creating));

  cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
  filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options o;
  o.env = env_;
  o.create_if_missing = true;  // CheckDirectory has decided
  o.block_cache = cache_.get();
  o.filter_policy = filter_.get();
  leveldb::DB* db = nullptr;
  LARIX_RETURN_IF_ERROR(FromLevelDb(leveldb::DB::Open(o, index_dir_, &db),
                                    "open pack store index " + index_dir_));
  db_.reset(db);

  std::string value;
  leveldb::Status s = db_->Get(ReadOpts(), ToSlice(kFormatKey), &value);
  if (s.IsNotFound()) {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ReadOpts()));
    it->SeekToFirst();
    if (it->Valid()) {
      return Status::InvalidArgument(index_dir_ +
                                     " is a LevelDB database but not a Larix "
                                     "pack index (no format record)");
    }
    leveldb::WriteOptions wo;
    wo.sync = true;
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(db_->Put(wo, ToSlice(kFormatKey), ToSlice(kFormatValue)),
                    "initialise " + index_dir_));
  } else {
    LARIX_RETURN_IF_ERROR(FromLevelDb(s, "open " + index_dir_));
    if (value != kFormatValue) {
      return Status::NotSupported(dir_ + ": unsupported store format '" +
                                  value + "' (this build reads '" +
                                  std::string(kFormatValue) + "')");
    }
  }

  s = db_->Get(ReadOpts(), ToSlice(kStatsKey), &value);
  if (s.ok()) {
    std::string_view in = value;
    if (!coding::GetFixed64(&in, &objects_) ||
        !coding::GetFixed64(&in, &stored_bytes_)) {
      return Status::Corruption(index_dir_ + ": damaged stats record");
    }
  } else if (!s.IsNotFound()) {
    return FromLevelDb(s, "open " + index_dir_);
  }
  s = db_->Get(ReadOpts(), ToSlice(kJournalKey), &value);
  if (s.ok()) {
    std::string_view in = value;
    if (!coding::GetFixed32(&in, &applied_.pack) ||
        !coding::GetFixed64(&in, &applied_.offset) || !in.empty()) {
      return Status::Corruption(index_dir_ + ": damaged journal position");
    }
  } else if (!s.IsNotFound()) {
    return FromLevelDb(s, "open " + index_dir_);
  }
  std::lock_guard lock(write_mu_);
  return Recover();
}

Status PackBackend::ListPacks(std::vector<uint32_t>* packs) {
  std::vector<std::string> children;
  LARIX_RETURN_IF_ERROR(
      FromLevelDb(env_->GetChildren(packs_dir_, &children),
                  "list " + packs_dir_));
  for (const std::string& name : children) {
    uint32_t n;
    if (ParsePackFileName(name, &n)) packs->push_back(n);
  }
  std::sort(packs->begin(), packs->end());
  return Status::OK();
}

// Rolls LevelDB forward over the journal after "mjournal", cuts off a torn
// tail (invariant 4) and opens the pack that appends go to.
Status PackBackend::Recover() {
  std::vector<uint32_t> packs;
  LARIX_RETURN_IF_ERROR(ListPacks(&packs));
  const JournalPos start = applied_;
  if (start.pack != 0 && !std::binary_search(packs.begin(), packs.end(),
                                             start.pack)) {
    return Status::Corruption(
        dir_ + ": the index has applied the journal up to " +
        PackFileName(start.pack) + " offset " + std::to_string(start.offset) +
        ", but that pack file is missing");
  }
  journal_end_ = start;
  bool torn = false;
  for (size_t i = 0; i < packs.size(); i++) {
    const uint32_t n = packs[i];
    if (n < start.pack) continue;
    const uint64_t from = n == start.pack ? start.offset : kPackHeaderSize;
    uint64_t end = 0;
    const bool is_last = i + 1 == packs.size();
    LARIX_RETURN_IF_ERROR(ReplayPack(n, from, is_last, &end, &torn));
    if (end > 0) journal_end_ = {n, end};
    if (!torn) continue;
    for (size_t j = i + 1; j < packs.size(); j++) {
      uint64_t size = 0;
      LARIX_RETURN_IF_ERROR(FromLevelDb(
          env_->GetFileSize(PackPath(packs[j]), &size), "recover " + dir_));
      if (size > kPackHeaderSize) {
        return Status::Corruption(
            "pack file " + PackPath(n) + " offset " + std::to_string(end) +
            ": damaged journal record, and " + PackFileName(packs[j]) +
            " holds later records; refusing to skip them");
      }
    }
    if (end == 0) {
      // The newest pack never got a complete header: it holds nothing.
      LARIX_RETURN_IF_ERROR(
          FromLevelDb(env_->RemoveFile(PackPath(n)), "recover " + dir_));
      packs.erase(packs.begin() + i);
    }
    break;
  }
  for (uint32_t n : packs) packs_.insert(n);
  LARIX_RETURN_IF_ERROR(FlushLocked(/*sync=*/false));

  // Appends go on in the newest pack unless it ends in a torn tail, or in
  // zeros pre-filled by an earlier open (ReplayPack checked that they are
  // zeros) that an Env without positional files cannot write over.
  bool fresh = packs.empty() || torn;
  const uint32_t last = packs.empty() ? 0 : packs.back();
  const uint64_t end =
      journal_end_.pack == last ? journal_end_.offset : kPackHeaderSize;
  uint64_t size = 0;
  if (!fresh) {
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(env_->GetFileSize(PackPath(last), &size),
                    "open pack file " + PackPath(last)));
    if (size < end) {
      return Status::Corruption(
          "pack file " + PackPath(last) + ": " + std::to_string(size) +
          " bytes, but its journal ends at " + std::to_string(end));
    }
    fresh = size > end && !prefill_;
  }
  if (fresh) {
    // "mjournal" must be durably past a torn tail before anything is
    // appended (invariant 4).
    LARIX_RETURN_IF_ERROR(CreatePackLocked(last + 1));
    return FlushLocked(/*sync=*/true);
  }
  LARIX_RETURN_IF_ERROR(
      OpenPackFileLocked(PackPath(last), /*create=*/false, size));
  pack_number_ = last;
  pack_size_ = end;
  journal_end_ = {last, pack_size_};
  return Status::OK();
}

// Replays the records of pack `n` from offset `from` into the overlay
// (flushing to LevelDB as it grows).  *end is the offset after the last good
// record (0 if the pack has no valid header), before any pre-filled zeros
// that run to the end of the file; *torn is set if the pack
// continues past *end with bytes that are not a valid record.
Status PackBackend::ReplayPack(uint32_t n, uint64_t from, bool is_last,
                               uint64_t* end, bool* torn) {
  const std::string path = PackPath(n);
  *end = 0;
  *torn = false;
  uint64_t size = 0;
  LARIX_RETURN_IF_ERROR(
      FromLevelDb(env_->GetFileSize(path, &size), "recover pack file " + path));
  leveldb::RandomAccessFile* raw = nullptr;
  LARIX_RETURN_IF_ERROR(FromLevelDb(env_->NewRandomAccessFile(path, &raw),
                                    "recover pack file " + path));
  std::unique_ptr<leveldb::RandomAccessFile> file(raw);
  std::string scratch(kPackHeaderSize, '\0');
  leveldb::Slice got;
  if (size >= kPackHeaderSize) {
    LARIX_RETURN_IF_ERROR(FromLevelDb(
        file->Read(0, kPackHeaderSize, &got, scratch.data()), "read " + path));
  }
  if (size < kPackHeaderSize || got.size() != kPackHeaderSize ||
      std::memcmp(got.data(), kPackMagic, 8) != 0) {
    if (is_last && size <= kPackHeaderSize) {
      *torn = true;  // created, header never completed
      return Status::OK();
    }
    return Status::Corruption("pack file " + path +
                              ": not a Larix pack file (bad header)");
  }
  const uint32_t version = coding::DecodeFixed32(got.data() + 8);
  const uint32_t number = coding::DecodeFixed32(got.data() + 12);
  if (version != kPackFormatVersion) {
    return Status::NotSupported("pack file " + path + ": format version " +
                                std::to_string(version));
  }
  if (number != n) {
    return Status::Corruption("pack file " + path + ": header says pack " +
                              std::to_string(number));
  }
  if (from < kPackHeaderSize) from = kPackHeaderSize;
  if (from > size) {
    return Status::Corruption(
        "pack file " + path + ": the index has applied the journal up to "
        "offset " + std::to_string(from) + ", but the file has only " +
        std::to_string(size) + " bytes");
  }
  // Pre-filled space: zeros from `at` to the end of the file end the
  // journal cleanly (a record header is never all zeros: its type is not).
  auto zeros_to_end = [&](uint64_t at, bool* zero) -> Status {
    *zero = false;
    std::string buf(64 << 10, '\0');
    for (; at < size; at += buf.size()) {
      const size_t n = std::min<uint64_t>(buf.size(), size - at);
      LARIX_RETURN_IF_ERROR(FromLevelDb(
          file->Read(at, n, &got, buf.data()), "read " + path));
      if (got.size() != n) return Status::OK();
      for (size_t i = 0; i < n; i++) {
        if (got[i] != 0) return Status::OK();
      }
    }
    *zero = true;
    return Status::OK();
  };
  uint64_t off = from;
  bool zero_tail = false;
  while (off < size) {
    if (size - off < kRecordHeaderSize) {  // torn header, or zeros
      LARIX_RETURN_IF_ERROR(zeros_to_end(off, &zero_tail));
      break;
    }
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(file->Read(off, kRecordHeaderSize, &got, scratch.data()),
                    "read " + path));
    if (got.size() != kRecordHeaderSize) break;
    if (std::all_of(got.data(), got.data() + got.size(),
                    [](char c) { return c == 0; })) {
      LARIX_RETURN_IF_ERROR(zeros_to_end(off, &zero_tail));
      break;
    }
    const uint32_t length = coding::DecodeFixed32(got.data() + 4);
    const uint8_t type = static_cast<uint8_t>(got[8]);
    if (length > size - off - kRecordHeaderSize) break;  // torn body
    const size_t total = kRecordHeaderSize + length;
    scratch.resize(std::max<size_t>(scratch.size(), total));
    LARIX_RETURN_IF_ERROR(FromLevelDb(
        file->Read(off, total, &got, scratch.data()), "read " + path));
    if (got.size() != total) break;
    std::string_view record(got.data(), got.size());
    const uint32_t crc = coding::DecodeFixed32(record.data());
    if (crc32c::Mask(crc32c::Extend(0, record.substr(4))) != crc) break;
    if (type != kRecordTypeBatch) {
      return Status::NotSupported("pack file " + path + " offset " +
                                  std::to_string(off) +
                                  ": unknown journal record type " +
                                  std::to_string(type));
    }
    RecordContents rec;
    if (!DecodeRecordPayload(record.substr(kRecordHeaderSize),
                             off + kRecordHeaderSize, &rec)) {
      return Status::Corruption("pack file " + path + " offset " +
                                std::to_string(off) +
                                ": malformed journal record");
    }
    Delta d;
    LARIX_RETURN_IF_ERROR(ComputeDelta(rec, n, /*puts_are_new=*/false, &d));
    StageDelta(d);
    MergeDelta(&d);
    off += total;
    journal_end_ = {n, off};
    if (pending_batch_->ApproximateSize() > kMaxPendingIndexBytes) {
      LARIX_RETURN_IF_ERROR(FlushLocked(/*sync=*/false));
    }
  }
  *end = off;
  *torn = off < size && !zero_tail;
  return Status::OK();
}

// ---- writing ---------------------------------------------------------------

// Opens pack file `path` (of `size` bytes; with `create`, a new empty file)
// as pack_, closing the previous one, which must be synced.
Status PackBackend::OpenPackFileLocked(const std::string& path, bool create,
                                       uint64_t size) {
  FinishFillLocked(/*wait=*/true);  // it writes to pack_
  std::unique_ptr<PositionalFile> file;
  if (prefill_) {
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(positional_env_->NewPositionalFile(path, create, &file),
                    (create ? "create " : "open pack file ") + path));
  } else {
    leveldb::WritableFile* raw = nullptr;
    LARIX_RETURN_IF_ERROR(FromLevelDb(
        create ? env_->NewWritableFile(path, &raw)
               : env_->NewAppendableFile(path, &raw),
        (create ? "create " : "open pack file ") + path));
    file = std::make_unique<AppendOnlyFile>(
        std::unique_ptr<leveldb::WritableFile>(raw), size);
  }
  pack_ = std::move(file);
  filled_end_ = size;
  return Status::OK();
}

Status PackBackend::CreatePackLocked(uint32_t n) {
  const std::string path = PackPath(n);
  if (pack_) TrimTailLocked();
  LARIX_RETURN_IF_ERROR(OpenPackFileLocked(path, /*create=*/true, 0));
  std::string header(kPackMagic, sizeof(kPackMagic));
  coding::PutFixed32(&header, kPackFormatVersion);
  coding::PutFixed32(&header, n);
  leveldb::Status ls = pack_->Write(0, header);
  if (ls.ok()) ls = pack_->Sync();
  pack_number_ = n;
  pack_size_ = filled_end_ = kPackHeaderSize;
  unsynced_bytes_ = 0;
  journal_end_ = {n, kPackHeaderSize};
  LARIX_RETURN_IF_ERROR(FromLevelDb(ls, "create " + path));
  packs_.insert(n);
  return WritePackManifestLocked();
}

// Writes zeros from filled_end_ to past `needed_end` and syncs them, so
// that the records written over them change no file metadata: their
// fdatasync writes data only (docs/decisions/0004-pack-prefill.md).
Status PackBackend::PrefillLocked(uint64_t needed_end) {
  const uint64_t to = PrefillEnd(std::max(needed_end, filled_end_));
  // Inline, through the writer's own file (Write, then Sync), whatever the
  // file's concurrent FillZeros would do.
  leveldb::Status s =
      pack_->PositionalFile::FillZeros(filled_end_, to - filled_end_);
  if (!s.ok()) {
    return SetSticky(FromLevelDb(s, "pre-fill " + PackPath(pack_number_)));
  }
  filled_end_ = to;
  unsynced_bytes_ = 0;  // the sync covered the records before, too
  return Status::OK();
}

// Starts a background fill of zeros past filled_end_ if fewer are left
// than kFillAheadRecords records of `record_bytes` (at least kFillLowBytes)
// and none is running; it fills up to twice that past the journal's end
// (at least kPrefillBytes), within the pack's size limit.  A fill that
// fails changes nothing: the next record that needs the space fills it
// itself, or appends.
void PackBackend::StartFillLocked(uint64_t record_bytes) {
  FinishFillLocked(/*wait=*/false);
  const uint64_t ahead =
      std::max(kFillLowBytes, kFillAheadRecords * record_bytes);
  // Zeros past the pack's size limit are never used: a record that would
  // reach there goes to a new pack.
  const uint64_t limit = RoundUpToPage(pack_file_bytes_);
  if (fill_ || !prefill_ || !sticky_.ok() || !pack_->ConcurrentFill() ||
      filled_end_ >= pack_size_ + ahead || filled_end_ >= limit) {
    return;
  }
  auto fill = std::make_unique<ZeroFill>();
  fill->pack = pack_number_;
  fill->from = filled_end_;
  fill->to = std::min(limit, std::max(PrefillEnd(filled_end_),
                                      RoundUpToPage(pack_size_ + 2 * ahead)));
  ZeroFill* f = fill.get();
  PositionalFile* file = pack_.get();
  f->Run([f, file] { return file->FillZeros(f->from, f->to - f->from); });
  fill_ = std::move(fill);
}

// Takes in a background fill that has ended (with `wait`, waits for it):
// its zeros become usable if it succeeded.
void PackBackend::FinishFillLocked(bool wait) {
  if (!fill_ || !fill_->End(wait)) return;
  if (fill_->status.ok() && fill_->pack == pack_number_ &&
      fill_->from == filled_end_) {
    filled_end_ = fill_->to;
  }
  fill_.reset();
}

// Cuts the current pack's pre-filled zeros off before it is closed for
// good.  Best effort: a zero tail is read as the journal's end anyway.
void PackBackend::TrimTailLocked() {
  FinishFillLocked(/*wait=*/true);  // its zeros are cut off too
  if (filled_end_ <= pack_size_ || !sticky_.ok()) return;
  if (pack_->Truncate(pack_size_).ok() && pack_->Sync().ok()) {
    filled_end_ = pack_size_;
  }
}

// Rewrites and syncs packs/MANIFEST, which (on POSIX) fsyncs packs/ so that
// pack files created or removed so far are durable entries.
Status PackBackend::WritePackManifestLocked() {
  std::string text =
      "# Larix pack files.  Informational; syncing this file syncs the "
      "directory.\n";
  for (uint32_t n : packs_) text += PackFileName(n) + "\n";
  const std::string path = packs_dir_ + "/MANIFEST";
  leveldb::WritableFile* raw = nullptr;
  leveldb::Status s = env_->NewWritableFile(path, &raw);
  if (s.ok()) {
    std::unique_ptr<leveldb::WritableFile> file(raw);
    s = file->Append(text);
    if (s.ok()) s = file->Sync();
    if (s.ok()) s = file->Close();
  }
  return FromLevelDb(s, "write " + path);
}

// Starts a new pack.  The old one is fsynced first, so that the journal
// never continues past bytes a crash could take away (invariant 4).
Status PackBackend::RotateLocked() {
  LARIX_RETURN_IF_ERROR(SyncLocked());
  Status s = CreatePackLocked(pack_number_ + 1);
  if (!s.ok()) return SetSticky(s);
  return Status::OK();
}

// Appends one journal record, fsyncs it when `sync`, and merges its effects
// (visible to readers from then on).  The record is the commit point.
// `puts_are_new`: the caller has checked that no put is stored yet (and
// that the puts are distinct), which saves a look-up each.
Status PackBackend::WriteRecordLocked(
    const std::vector<const WriteBatch::ObjectPut*>& puts,
    const std::vector<ObjectId>& deletes,
    const std::vector<WriteBatch::RecordOp>& ops, bool sync,
    bool puts_are_new, const std::function<void()>* while_syncing) {
  // The buffer is kept between records: allocating and faulting in a
  // fresh one of a few hundred KB per commit was ~10% of a batched
  // commit's CPU.  A very large one is released after use.
  std::string& record = record_buf_;
  record.clear();
  struct Release {
    std::string* buf;
    ~Release() {
      if (buf->capacity() > kKeptRecordBufferBytes) std::string().swap(*buf);
    }
  } release{&record};
  RecordContents rec;
  EncodeRecord(puts, deletes, ops, &record, &rec);
  if (record.size() > kMaxRecordBytes) {
    return Status::InvalidArgument(
        "pack store " + dir_ + ": a batch of " +
        std::to_string(record.size()) +
        " bytes is too large for one journal record");
  }
  if (pack_size_ > kPackHeaderSize &&
      pack_size_ + record.size() > pack_file_bytes_) {
    LARIX_RETURN_IF_ERROR(RotateLocked());
  }
  LARIX_RETURN_IF_ERROR(FinishFlushLocked(/*wait=*/false));
  const uint64_t base = pack_size_;
  // A background fill writes past filled_end_: wait for it before writing
  // there.
  if (base + record.size() > filled_end_) FinishFillLocked(/*wait=*/true);
  if (prefill_ && record.size() <= kPrefillMaxRecordBytes &&
      base + record.size() > filled_end_) {
    LARIX_RETURN_IF_ERROR(PrefillLocked(base + record.size()));
  }
  leveldb::Status s = pack_->Write(base, record);
  if (!s.ok()) {
    return SetSticky(FromLevelDb(s, "append to " + PackPath(pack_number_)));
  }
  pack_size_ += record.size();
  filled_end_ = std::max(filled_end_, pack_size_);
  unsynced_bytes_ += record.size();
  unflushed_bytes_ += record.size();
  journal_end_ = {pack_number_, pack_size_};
  // While this thread waits for the sync, a helper works out the index
  // changes and runs the caller's while_syncing (the other way round, the
  // sync began only once the helper woke, 30-70 us late).  Readers see the
  // record (MergeDelta) only once it is durable.  A helper that has not
  // begun by the end of the sync leaves the work to this thread (Join).
  for (auto& put : rec.puts) put.offset += base;
  Delta d;
  Status st;
  auto bookkeeping = [&] {
    st = ComputeDelta(rec, pack_number_, puts_are_new, &d);
    if (st.ok()) {
      StageDelta(d);
      if (while_syncing != nullptr) (*while_syncing)();
    }
  };
  leveldb::Status synced;
  if (sync && record.size() >= kAsyncSyncMinBytes) {
    std::unique_ptr<WorkerPool::Task> helper =
        WorkerPool::Shared().Start(bookkeeping);
    synced = pack_->Sync();
    helper->Join();
  } else {
    bookkeeping();
    if (sync) synced = pack_->Sync();
  }
  if (sync) {
    if (!synced.ok()) {
      return SetSticky(FromLevelDb(synced, "sync " + PackPath(pack_number_)));
    }
    unsynced_bytes_ = 0;
  }
  if (!st.ok()) return SetSticky(st);
  MergeDelta(&d);
  if (record.size() <= kPrefillMaxRecordBytes) StartFillLocked(record.size());
  if (pending_batch_->ApproximateSize() > kMaxPendingIndexBytes ||
      unflushed_bytes_ > kMaxUnflushedJournalBytes) {
    LARIX_RETURN_IF_ERROR(SyncLocked());  // invariant 1
    return StartFlushLocked();
  }
  return Status::OK();
}

// Computes what `rec` does to the index as it stands (overlay, then
// LevelDB), in the order puts, deletes, record ops.
Status PackBackend::ComputeDelta(const RecordContents& rec, uint32_t pack,
                                 bool puts_are_new, Delta* d) {
  // Where each id is in d->objects: needed only when an id can come up
  // twice (a commit's puts are distinct and it deletes nothing).
  const bool may_repeat = !puts_are_new || !rec.deletes.empty();
  IdMap<size_t> where;
  auto current = [&](const ObjectId& id, Location* loc, bool* found) {
    if (const size_t* at = where.Find(id)) {
      const auto& entry = d->objects[*at].second;
      *found = entry.has_value();
      if (*found) *loc = *entry;
      return Status::OK();
    }
    return Lookup(id, loc, found);
  };
  auto set = [&](const ObjectId& id, std::optional<Location> loc) {
    if (may_repeat) {
      auto [at, added] = where.TryEmplace(id, d->objects.size());
      if (!added) {
        d->objects[*at].second = loc;
        return;
      }
    }
    d->objects.emplace_back(id, loc);
  };
  d->objects.reserve(rec.puts.size() + rec.deletes.size());
  for (const auto& put : rec.puts) {
    Location old;
    bool found = false;
    if (!puts_are_new) LARIX_RETURN_IF_ERROR(current(put.id, &old, &found));
    if (found) {
      d->bytes_delta += int64_t{put.length} - int64_t{old.length};
    } else {
      d->objects_delta++;
      d->bytes_delta += put.length;
    }
    set(put.id, Location{pack, put.offset, put.length, put.base});
  }
  for (const ObjectId& id : rec.deletes) {
    Location old;
    bool found;
    LARIX_RETURN_IF_ERROR(current(id, &old, &found));
    if (!found) continue;
    d->objects_delta--;
    d->bytes_delta -= old.length;
    set(id, std::nullopt);
  }
  for (const auto& op : rec.ops) {
    std::optional<std::string> value;
    if (!op.is_delete) value.emplace(op.value);
    d->records.emplace_back(std::string(op.key), std::move(value));
  }
  return Status::OK();
}

// Adds a record's effects to the next index flush (pending_batch_, which
// only the writer sees).  A record whose sync then fails leaves them
// there, but nothing flushes once the backend has failed (sticky_).
void PackBackend::StageDelta(const Delta& d) {
  std::string& value = scratch_value_;  // reused: no allocation per object
  for (const auto& [id, loc] : d.objects) {
    const ObjectKey key = ObjectKeyOf(id);
    if (loc) {
      value.clear();
      AppendLocation(&value, *loc);
      pending_batch_->Put(ToSlice(key), value);
    } else {
      pending_batch_->Delete(ToSlice(key));
    }
  }
  for (const auto& [key, value] : d.records) {
    if (value) {
      pending_batch_->Put(RecordKey(key), *value);
    } else {
      pending_batch_->Delete(RecordKey(key));
    }
  }
  pending_ops_ += d.objects.size() + d.records.size();
}

// Makes a record's effects visible (after StageDelta): one exclusive
// section, so readers see all of the record or none of it (contract
// invariant 1).
void PackBackend::MergeDelta(Delta* d) {
  for (const auto& [id, loc] : d->objects) {
    if (!loc) continue;
    if (ids_) ids_->Add(id);
    if (ids_building_) ids_backlog_.push_back(id);
  }
  {
    std::unique_lock lock(state_mu_);
    for (auto& [id, loc] : d->objects) pending_objects_.Assign(id, loc);
    for (auto& [key, value] : d->records) {
      pending_records_[std::move(key)] = std::move(value);
    }
    objects_ += d->objects_delta;
    stored_bytes_ += d->bytes_delta;
  }
  // Only now: a rebuild's scan must find this record's ids, which went
  // into the old filter above and not into the backlog.
  if (ids_ && ids_->Overfull()) StartIdFilterBuildLocked();
}

// Writes the overlay, "mjournal" and the stats to LevelDB in one batch, then
// empties the overlay.  Requires the journal up to journal_end_ to be
// durable (invariant 1); `sync` makes the LevelDB write durable too.
Status PackBackend::FlushLocked(bool sync) {
  assert(unsynced_bytes_ == 0);
  LARIX_RETURN_IF_ERROR(FinishFlushLocked(/*wait=*/true));
  if (pending_ops_ == 0 && applied_ == journal_end_ && !sync) {
    return Status::OK();
  }
  PutJournalAndStatsLocked(pending_batch_.get());
  leveldb::WriteOptions wo;
  wo.sync = sync;
  // LevelDB now holds what the overlay holds, so readers that still look
  // at the overlay until it is cleared see the same state.
  leveldb::Status s = db_->Write(wo, pending_batch_.get());
  pending_batch_->Clear();
  pending_ops_ = 0;
  if (!s.ok()) return SetSticky(FromLevelDb(s, "write index " + index_dir_));
  applied_ = journal_end_;
  unflushed_bytes_ = 0;
  std::unique_lock lock(state_mu_);
  pending_objects_.clear();
  pending_records_.clear();
  return Status::OK();
}

// Adds "mjournal" (journal_end_) and the stats to an index flush's batch.
void PackBackend::PutJournalAndStatsLocked(leveldb::WriteBatch* batch) {
  std::string stats;
  {
    std::shared_lock lock(state_mu_);
    coding::PutFixed64(&stats, objects_);
    coding::PutFixed64(&stats, stored_bytes_);
  }
  batch->Put(ToSlice(kJournalKey), EncodePos(journal_end_));
  batch->Put(ToSlice(kStatsKey), stats);
}

// FlushLocked(false) on a thread of its own: the overlay becomes the
// flushing one, and a fresh one takes the next records.  Waits for a
// flush still running first.  Same requirement as FlushLocked.
Status PackBackend::StartFlushLocked() {
  assert(unsynced_bytes_ == 0);
  LARIX_RETURN_IF_ERROR(FinishFlushLocked(/*wait=*/true));
  auto flush = std::make_unique<IndexFlush>();
  flush->end = journal_end_;
  flush->batch = std::move(pending_batch_);
  PutJournalAndStatsLocked(flush->batch.get());
  pending_batch_ = std::make_unique<leveldb::WriteBatch>();
  pending_ops_ = 0;
  unflushed_bytes_ = 0;
  {
    std::unique_lock lock(state_mu_);
    flushing_objects_ = std::move(pending_objects_);
    flushing_records_ = std::move(pending_records_);
    pending_objects_.clear();  // moved-from: valid, made empty
    pending_objects_.reserve(kOverlayObjectsHint);
    pending_records_.clear();
  }
  IndexFlush* f = flush.get();
  leveldb::DB* db = db_.get();
  f->Run([f, db] {
    return db->Write(leveldb::WriteOptions(), f->batch.get());
  });
  flush_ = std::move(flush);
  return Status::OK();
}

// Takes in an index flush that has ended (with `wait`, waits for it): on
// success, drops the flushing overlay, which LevelDB now holds; on failure
// keeps it for readers and fails the backend.
Status PackBackend::FinishFlushLocked(bool wait) {
  if (!flush_ || !flush_->End(wait)) return Status::OK();
  std::unique_ptr<IndexFlush> flush = std::move(flush_);
  if (!flush->status.ok()) {
    return SetSticky(
        FromLevelDb(flush->status, "write index " + index_dir_));
  }
  applied_ = flush->end;
  decltype(flushing_objects_) objects;  // freed outside the lock
  RecordOverlay records;
  {
    std::unique_lock lock(state_mu_);
    objects.swap(flushing_objects_);
    records.swap(flushing_records_);
  }
  return Status::OK();
}

// Makes every appended record durable: fsyncs the pack if needed.
Status PackBackend::SyncLocked() {
  if (!sticky_.ok()) return sticky_;
  if (unsynced_bytes_ > 0) {
    leveldb::Status s = pack_->Sync();
    if (!s.ok()) {
      return SetSticky(FromLevelDb(s, "sync " + PackPath(pack_number_)));
    }
    unsynced_bytes_ = 0;
  }
  return Status::OK();
}

// Starts a build of a new id filter (see ids_).  The scan's snapshot is
// taken after ids_building_ is set, so every id merged meanwhile is in the
// scan or in the backlog, and the new filter misses none.
void PackBackend::StartIdFilterBuildLocked() {
  if (ids_building_ || ids_stop_) return;
  if (ids_builder_.joinable()) ids_builder_.join();  // done: it cleared
  uint64_t expected;                                 // ids_building_
  {
    std::shared_lock lock(state_mu_);
    expected = objects_;
  }
  ids_building_ = true;
  ids_builder_ = std::thread([this, expected] { BuildIdFilter(expected); });
}

void PackBackend::BuildIdFilter(uint64_t expected_ids) {
  auto filter = std::make_unique<IdFilter>(expected_ids);
  Status s = ScanObjects([&](const ObjectId& id, const Location&) {
    filter->Add(id);
    return !ids_stop_.load(std::memory_order_relaxed);
  });
  std::lock_guard lock(write_mu_);
  ids_building_ = false;
  std::vector<ObjectId> backlog = std::move(ids_backlog_);
  ids_backlog_.clear();
  // A failed scan leaves the old filter (or none: Apply reads the index).
  if (!s.ok() || ids_stop_) return;
  for (const ObjectId& id : backlog) filter->Add(id);
  ids_ = std::move(filter);
}

Status PackBackend::Apply(const WriteBatch& batch, const WriteOptions& opts) {
  std::lock_guard lock(write_mu_);
  if (!sticky_.ok()) return sticky_;
  auto nothing_new = [&] {
    if (opts.while_syncing) opts.while_syncing();
    return opts.sync ? SyncLocked() : Status::OK();
  };
  if (batch.empty()) return nothing_new();
  // Only bodies not stored yet go into the journal (invariant 3 of the
  // contract: a put of an existing object is a no-op).
  std::vector<const WriteBatch::ObjectPut*> puts;
  IdMap<bool> seen;
  if (!ids_ && !ids_building_ && !batch.objects().empty()) {
    StartIdFilterBuildLocked();
  }
  for (const auto& put : batch.objects()) {
    if (!seen.TryEmplace(put.id, true).second) continue;
    if (ids_ && !ids_->MayContain(put.id)) {  // surely new
      puts.push_back(&put);
      continue;
    }
    Location loc;
    bool found;
    LARIX_RETURN_IF_ERROR(Lookup(put.id, &loc, &found));
    if (!found) puts.push_back(&put);
  }
  if (puts.empty() && batch.object_deletes().empty() &&
      batch.records().empty()) {
    return nothing_new();
  }
  return WriteRecordLocked(
      puts, batch.object_deletes(), batch.records(), opts.sync,
      /*puts_are_new=*/true,
      opts.while_syncing ? &opts.while_syncing : nullptr);
}

// ---- reading ---------------------------------------------------------------

// The current location of `id`: the overlays first (the current one, then
// the flushing one), then LevelDB.  A key missing from both is either in
// LevelDB already or not yet written, because a flush writes LevelDB before
// it drops an overlay.
Status PackBackend::Lookup(const ObjectId& id, Location* loc, bool* found) {
  {
    std::shared_lock lock(state_mu_);
    for (const auto* overlay : {&pending_objects_, &flushing_objects_}) {
      if (const std::optional<Location>* entry = overlay->Find(id)) {
        *found = entry->has_value();
        if (*found) *loc = **entry;
        return Status::OK();
      }
    }
  }
  std::string value;
  leveldb::Status s =
      db_->Get(ObjectReadOpts(), ToSlice(ObjectKeyOf(id)), &value);
  *found = false;
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) {
    return FromLevelDb(s, "object " + id.ToHex() + " in " + index_dir_);
  }
  if (!DecodeLocation(value, loc)) {
    return Status::Corruption("object " + id.ToHex() +
                              ": damaged index entry in " + index_dir_);
  }
  *found = true;
  return Status::OK();
}

Status PackBackend::GetPackReader(uint32_t pack, uint64_t needed_end,
                                  std::shared_ptr<PackReader>* out) {
  std::lock_guard lock(files_mu_);
  auto it = readers_.find(pack);
  if (it != readers_.end() && it->second->size >= needed_end) {
    it->second->last_use = ++tick_;
    *out = it->second;
    return Status::OK();
  }
  const std::string path = PackPath(pack);
  auto reader = std::make_shared<PackReader>();
  if (it != readers_.end() && it->second->growing) {
    // The same descriptor reads the bytes appended since: a new size only.
    reader->file = it->second->file;
    reader->growing = it->second->growing;
    LARIX_RETURN_IF_ERROR(FromLevelDb(reader->growing->Size(&reader->size),
                                      "pack file " + path));
  } else {
    // A PreadFile (the default Env) serves the pack from now on.  Other
    // Envs (tests' fault injection, LevelDB's in-memory one) see only the
    // bytes present when opened, so they are opened again when it grew.
    LARIX_RETURN_IF_ERROR(FromLevelDb(env_->GetFileSize(path, &reader->size),
                                      "pack file " + path));
    leveldb::RandomAccessFile* raw = nullptr;
    LARIX_RETURN_IF_ERROR(FromLevelDb(env_->NewRandomAccessFile(path, &raw),
                                      "pack file " + path));
    reader->file.reset(raw);
    if (auto* pread = dynamic_cast<PreadFile*>(raw)) {
      reader->growing = std::shared_ptr<PreadFile>(reader->file, pread);
    }
  }
  reader->last_use = ++tick_;
  readers_[pack] = reader;
  if (readers_.size() > kMaxOpenPacks) {
    auto victim = std::min_element(
        readers_.begin(), readers_.end(), [](const auto& a, const auto& b) {
          return a.second->last_use < b.second->last_use;
        });
    readers_.erase(victim);  // users keep their shared_ptr alive
  }
  *out = std::move(reader);
  return Status::OK();
}

// Reads and verifies the entry at `loc` (invariant 6).
Status PackBackend::ReadEntry(const ObjectId& id, const Location& loc,
                              std::string* out) {
  const uint64_t n = kEntryHeaderSize + loc.length;
  const uint64_t end = loc.offset + n;
  if (loc.offset < kPackHeaderSize || end < loc.offset) {
    return Status::Corruption(Where(id, loc) + ": index entry is out of range");
  }
  std::shared_ptr<PackReader> reader;
  Status s = GetPackReader(loc.pack, end, &reader);
  if (s.IsNotFound()) {
    return Status::Corruption(Where(id, loc) + ": the pack file is missing");
  }
  LARIX_RETURN_IF_ERROR(s);
  if (end > reader->size) {
    return Status::Corruption(Where(id, loc) + ": the entry (" +
                              std::to_string(n) + " bytes) runs past the end "
                              "of the file (" + std::to_string(reader->size) +
                              " bytes)");
  }
  out->resize(n);  // the entry is read in place; its header dropped below
  leveldb::Slice got;
  LARIX_RETURN_IF_ERROR(FromLevelDb(
      reader->file->Read(loc.offset, n, &got, out->data()), Where(id, loc)));
  if (got.size() != n) {
    return Status::Corruption(Where(id, loc) + ": short read");
  }
  std::string_view entry(got.data(), got.size());
  if (entry.substr(0, ObjectId::kSize) != id.AsBytes()) {
    return Status::Corruption(Where(id, loc) +
                              ": the entry there belongs to object " +
                              ObjectId::FromRaw(entry.data()).ToHex());
  }
  if (coding::DecodeFixed32(entry.data() + 32) != loc.length) {
    return Status::Corruption(Where(id, loc) +
                              ": entry length differs from the index");
  }
  uint32_t crc = crc32c::Extend(0, entry.substr(0, 36));
  crc = crc32c::Extend(crc, entry.substr(kEntryHeaderSize));
  if (crc32c::Mask(crc) != coding::DecodeFixed32(entry.data() + 36)) {
    return Status::Corruption(Where(id, loc) + ": checksum mismatch");
  }
  if (got.data() == out->data()) {
    out->erase(0, kEntryHeaderSize);
  } else {
    out->assign(entry.substr(kEntryHeaderSize));  // an Env that did not copy
  }
  return Status::OK();
}

Status PackBackend::ReadObject(const ObjectId& id, std::string* stored) {
  for (int attempt = 0;; attempt++) {
    Location loc;
    bool found;
    LARIX_RETURN_IF_ERROR(Lookup(id, &loc, &found));
    if (!found) return Status::NotFound("object " + id.ToHex());
    Status s = ReadEntry(id, loc, stored);
    if (s.ok() || attempt == 2) return s;
    // Compact() may have moved the object and removed its old pack between
    // the look-up and the read: if the index moved, read again.
    Location again;
    LARIX_RETURN_IF_ERROR(Lookup(id, &again, &found));
    if (!found) return Status::NotFound("object " + id.ToHex());
    if (again == loc) return s;
  }
}

Status PackBackend::FindObjectsByPrefix(std::string_view hex_prefix,
                                        size_t limit,
                                        std::vector<ObjectId>* out) {
  HexPrefix prefix;
  LARIX_RETURN_IF_ERROR(prefix.Parse(hex_prefix));
  std::unordered_map<ObjectId, std::optional<Location>, ObjectIdHash> overlay;
  const leveldb::Snapshot* snapshot;
  {
    std::shared_lock lock(state_mu_);
    for (const auto& [id, loc] : flushing_objects_) {
      if (prefix.Matches(id.data())) overlay.emplace(id, loc);
    }
    for (const auto& [id, loc] : pending_objects_) {  // the newer
      if (prefix.Matches(id.data())) overlay.insert_or_assign(id, loc);
    }
    snapshot = db_->GetSnapshot();
  }
  SnapshotHolder hold(db_.get(), snapshot);
  for (const auto& [id, loc] : overlay) {
    if (out->size() >= limit) return Status::OK();
    if (loc) out->push_back(id);
  }
  leveldb::ReadOptions ro = ReadOpts();
  ro.snapshot = snapshot;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(std::string(1, kObjectPrefix) + prefix.lower_bound());
       it->Valid() && out->size() < limit; it->Next()) {
    leveldb::Slice k = it->key();
    if (k.size() != 1 + ObjectId::kSize || k[0] != kObjectPrefix) break;
    const auto* raw = reinterpret_cast<const uint8_t*>(k.data() + 1);
    if (!prefix.Matches(raw)) break;
    ObjectId id = ObjectId::FromRaw(raw);
    if (!overlay.count(id)) out->push_back(id);
  }
  return FromLevelDb(it->status(), "prefix lookup in " + index_dir_);
}

// Calls fn(id, location) for every live object: the overlay's, then the
// index's (under one snapshot), until fn returns false.
Status PackBackend::ScanObjects(
    const std::function<bool(const ObjectId&, const Location&)>& fn) {
  std::unordered_map<ObjectId, std::optional<Location>, ObjectIdHash> overlay;
  const leveldb::Snapshot* snapshot;
  {
    std::shared_lock lock(state_mu_);
    for (const auto& [id, loc] : flushing_objects_) overlay.emplace(id, loc);
    for (const auto& [id, loc] : pending_objects_) overlay[id] = loc;
    snapshot = db_->GetSnapshot();
  }
  SnapshotHolder hold(db_.get(), snapshot);
  for (const auto& [id, loc] : overlay) {
    if (loc && !fn(id, *loc)) return Status::OK();
  }
  leveldb::ReadOptions ro = ReadOpts();
  ro.snapshot = snapshot;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(std::string(1, kObjectPrefix)); it->Valid(); it->Next()) {
    leveldb::Slice k = it->key();
    if (k.empty() || k[0] != kObjectPrefix) break;
    Location loc;
    if (k.size() != 1 + ObjectId::kSize ||
        !DecodeLocation({it->value().data(), it->value().size()}, &loc)) {
      return Status::Corruption(index_dir_ + ": malformed object entry");
    }
    ObjectId id = ObjectId::FromRaw(k.data() + 1);
    if (overlay.count(id)) continue;
    if (!fn(id, loc)) break;
  }
  return FromLevelDb(it->status(), "object scan of " + index_dir_);
}

Status PackBackend::ForEachObject(
    const std::function<bool(const ObjectId&)>& fn) {
  return ScanObjects(
      [&](const ObjectId& id, const Location&) { return fn(id); });
}

// The index keeps every delta's base (docs/format.md, "Index"), so this is
// a scan of the index, not of the bodies.
Status PackBackend::ForEachDelta(
    const std::function<bool(const ObjectId&, const ObjectId&)>& fn) {
  return ScanObjects([&](const ObjectId& id, const Location& loc) {
    return loc.base.IsNull() || fn(id, loc.base);
  });
}

Status PackBackend::GetRecord(std::string_view key, std::string* value) {
  {
    std::shared_lock lock(state_mu_);
    const std::string k(key);
    for (const auto* overlay : {&pending_records_, &flushing_records_}) {
      auto it = overlay->find(k);
      if (it != overlay->end()) {
        if (!it->second) return Status::NotFound("record " + k);
        *value = *it->second;
        return Status::OK();
      }
    }
  }
  leveldb::Status s = db_->Get(ReadOpts(), RecordKey(key), value);
  if (s.IsNotFound()) return Status::NotFound("record " + std::string(key));
  return FromLevelDb(s, "record " + std::string(key) + " in " + index_dir_);
}

std::unique_ptr<RecordIterator> PackBackend::NewRecordIterator() {
  RecordOverlay overlay;
  const leveldb::Snapshot* snapshot;
  {
    std::shared_lock lock(state_mu_);
    overlay = flushing_records_;
    for (const auto& [key, value] : pending_records_) overlay[key] = value;
    snapshot = db_->GetSnapshot();
  }
  return std::make_unique<PackRecordIterator>(db_.get(), snapshot,
                                              std::move(overlay), index_dir_);
}

// ---- compaction and stats --------------------------------------------------

// Rewrites packs whose live bytes are less than half their payload: copies
// their live objects into the current pack (as ordinary journal records
// holding only puts, which re-point the index), makes that and "mjournal"
// durable, then deletes the old files (invariant 5).
Status PackBackend::Compact() {
  std::lock_guard lock(write_mu_);
  LARIX_RETURN_IF_ERROR(CheckpointLocked());  // the overlay is now empty

  std::map<uint32_t, uint64_t> live;  // pack -> live entry bytes
  {
    leveldb::ReadOptions ro = ReadOpts();
    ro.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(std::string(1, kObjectPrefix)); it->Valid(); it->Next()) {
      if (it->key()[0] != kObjectPrefix) break;
      Location loc;
      if (!DecodeLocation({it->value().data(), it->value().size()}, &loc)) {
        return Status::Corruption(index_dir_ + ": damaged index entry");
      }
      live[loc.pack] += kEntryHeaderSize + loc.length;
    }
    LARIX_RETURN_IF_ERROR(FromLevelDb(it->status(), "compact " + dir_));
  }
  std::set<uint32_t> victims;
  for (uint32_t n : packs_) {
    if (n == pack_number_) continue;
    uint64_t size = 0;
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(env_->GetFileSize(PackPath(n), &size), "compact " + dir_));
    const uint64_t payload =
        size > kPackHeaderSize ? size - kPackHeaderSize : 0;
    if (live[n] * 2 < payload || live[n] == 0) victims.insert(n);
  }
  if (victims.empty()) return Status::OK();

  // Copy the live objects out, in chunks of about kCompactChunkBytes.
  std::vector<WriteBatch::ObjectPut> chunk;
  uint64_t chunk_bytes = 0;
  auto flush_chunk = [&]() -> Status {
    if (chunk.empty()) return Status::OK();
    std::vector<const WriteBatch::ObjectPut*> puts;
    for (const auto& p : chunk) puts.push_back(&p);
    Status s = WriteRecordLocked(puts, {}, {}, /*sync=*/false,
                                 /*puts_are_new=*/false);
    chunk.clear();
    chunk_bytes = 0;
    return s;
  };
  {
    leveldb::ReadOptions ro = ReadOpts();
    ro.fill_cache = false;
    ro.snapshot = db_->GetSnapshot();
    SnapshotHolder hold(db_.get(), ro.snapshot);
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(std::string(1, kObjectPrefix)); it->Valid(); it->Next()) {
      if (it->key()[0] != kObjectPrefix) break;
      Location loc;
      if (!DecodeLocation({it->value().data(), it->value().size()}, &loc)) {
        return Status::Corruption(index_dir_ + ": damaged index entry");
      }
      if (!victims.count(loc.pack)) continue;
      WriteBatch::ObjectPut put{ObjectId::FromRaw(it->key().data() + 1), {},
                                nullptr};
      LARIX_RETURN_IF_ERROR(ReadEntry(put.id, loc, &put.stored));
      chunk_bytes += put.stored.size();
      chunk.push_back(std::move(put));
      if (chunk_bytes >= kCompactChunkBytes) {
        LARIX_RETURN_IF_ERROR(flush_chunk());
      }
    }
    LARIX_RETURN_IF_ERROR(FromLevelDb(it->status(), "compact " + dir_));
  }
  LARIX_RETURN_IF_ERROR(flush_chunk());
  LARIX_RETURN_IF_ERROR(SyncLocked());
  LARIX_RETURN_IF_ERROR(FlushLocked(/*sync=*/true));  // "mjournal" durable

  for (uint32_t n : victims) {
    if (n == pack_number_) continue;  // rotation during the copy cannot
                                      // reuse a number, but be safe
    packs_.erase(n);
    EvictPackReader(n);
    LARIX_RETURN_IF_ERROR(
        FromLevelDb(env_->RemoveFile(PackPath(n)), "compact " + dir_));
  }
  return WritePackManifestLocked();
}

Status PackBackend::GetStats(BackendStats* stats) {
  {
    std::shared_lock lock(state_mu_);
    stats->objects = objects_;
    stats->stored_bytes = stored_bytes_;
  }
  {
    std::lock_guard lock(write_mu_);
    stats->id_filter_bytes = ids_ ? ids_->bytes() : 0;
    stats->id_filter_ids = ids_ ? ids_->added() : 0;
  }
  stats->disk_bytes = 0;
  for (const std::string& d : {packs_dir_, index_dir_}) {
    LARIX_RETURN_IF_ERROR(AddDirectoryBytes(env_, d, &stats->disk_bytes));
  }
  return Status::OK();
}

}  // namespace

Status OpenPackBackend(const std::string& dir, const BackendOptions& options,
                       std::unique_ptr<Backend>* out) {
  leveldb::Env* env = options.env ? options.env : PreadEnv();
  auto backend =
      std::make_unique<PackBackend>(dir, env, options.pack_file_bytes);
  LARIX_RETURN_IF_ERROR(backend->Open(options));
  *out = std::move(backend);
  return Status::OK();
}

}  // namespace larix
