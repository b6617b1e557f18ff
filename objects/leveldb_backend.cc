// The LevelDB backend: object bodies and records in one LevelDB database.
//
// Key layout (docs/format.md, "LevelDB backend"):
//
//   'm' name        metadata: "mformat" -> "larix-leveldb-backend 1",
//                   "mstats" -> fixed64 objects, fixed64 stored bytes
//   'o' id[32]      an object's stored form, byte for byte
//   'r' key         a record's value
//
// Invariants:
//   1. Apply() is one leveldb::WriteBatch written with sync = opts.sync, so
//      it is atomic for crashes (LevelDB's log) and for readers (sequence
//      numbers); the stats record is part of that batch and therefore always
//      agrees with the objects present.
//   2. Apply() runs under write_mu_, so the existence checks it makes (to
//      skip objects already stored and to keep the stats exact) cannot race
//      with another Apply().
//   3. A record iterator reads one LevelDB snapshot, restricted to the 'r'
//      range; it never sees another keyspace.
//   4. Before LevelDB is allowed to create anything, the directory is
//      checked: it must be missing, empty, or hold only names LevelDB
//      itself creates.  A directory of someone else's files is refused
//      without a single write.
//
// Thread-safety: LevelDB's DB is thread-safe; write_mu_ serialises writers
// only.  Iterators must be destroyed before the backend.

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "larix/sys/backend.h"
#include "objects/leveldb_env.h"
#include "objects/coding.h"

namespace larix {
namespace {

constexpr char kObjectPrefix = 'o';
constexpr char kRecordPrefix = 'r';
constexpr std::string_view kFormatKey = "mformat";
constexpr std::string_view kStatsKey = "mstats";
constexpr std::string_view kFormatValue = "larix-leveldb-backend 1";


std::string ObjectKey(const ObjectId& id) {
  std::string key(1, kObjectPrefix);
  key.append(id.AsBytes());
  return key;
}

std::string RecordKey(std::string_view key) {
  std::string k(1, kRecordPrefix);
  k.append(key);
  return k;
}

leveldb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// True if the names in `dir` are ones LevelDB creates (or the directory is
// empty); otherwise *foreign names the first stranger.
bool OnlyLevelDbFiles(const std::vector<std::string>& children,
                      std::string* foreign) {
  auto ends_with = [](const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& name : children) {
    if (name == "." || name == "..") continue;
    if (name == "CURRENT" || name == "LOCK" || name == "LOG" ||
        name == "LOG.old" || name.rfind("MANIFEST-", 0) == 0 ||
        ends_with(name, ".log") || ends_with(name, ".ldb") ||
        ends_with(name, ".sst") || ends_with(name, ".dbtmp")) {
      continue;
    }
    *foreign = name;
    return false;
  }
  return true;
}

// Iterates the 'r' range of one snapshot, presenting keys without the
// prefix byte.
class LevelDbRecordIterator : public RecordIterator {
 public:
  LevelDbRecordIterator(leveldb::DB* db, std::string dir)
      : db_(db), snapshot_(db->GetSnapshot()), dir_(std::move(dir)) {
    leveldb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.verify_checksums = true;
    it_.reset(db_->NewIterator(ro));
  }
  ~LevelDbRecordIterator() override {
    it_.reset();
    db_->ReleaseSnapshot(snapshot_);
  }

  void Seek(std::string_view key) override { it_->Seek(RecordKey(key)); }
  void SeekToFirst() override { it_->Seek(std::string(1, kRecordPrefix)); }
  void SeekToLast() override {
    it_->Seek(std::string(1, kRecordPrefix + 1));
    if (it_->Valid()) {
      it_->Prev();
    } else {
      it_->SeekToLast();
    }
  }
  bool Valid() const override {
    return it_->Valid() && !it_->key().empty() &&
           it_->key()[0] == kRecordPrefix;
  }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    leveldb::Slice k = it_->key();
    return {k.data() + 1, k.size() - 1};
  }
  std::string_view value() const override {
    leveldb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override {
    return FromLevelDb(it_->status(), "records of " + dir_);
  }

 private:
  leveldb::DB* const db_;
  const leveldb::Snapshot* const snapshot_;
  const std::string dir_;
  std::unique_ptr<leveldb::Iterator> it_;
};

class LevelDbBackend : public Backend {
 public:
  LevelDbBackend(std::string dir, leveldb::Env* env)
      : dir_(std::move(dir)), env_(env) {}

  ~LevelDbBackend() override {
    db_.reset();  // before the cache and filter policy it uses
  }

  // Opens (or creates) the database and checks that it is a Larix store.
  Status Open(const BackendOptions& options);

  const char* Name() const override { return "leveldb"; }

  Status ReadObject(const ObjectId& id, std::string* stored) override {
    leveldb::Status s = db_->Get(ObjectReadOpts(), ObjectKey(id), stored);
    if (s.IsNotFound()) return Status::NotFound("object " + id.ToHex());
    return FromLevelDb(s, "object " + id.ToHex() + " in " + dir_);
  }

  Status ObjectExists(const ObjectId& id, bool* exists) override {
    std::string ignored;
    leveldb::Status s = db_->Get(ObjectReadOpts(), ObjectKey(id), &ignored);
    *exists = s.ok();
    if (s.ok() || s.IsNotFound()) return Status::OK();
    return FromLevelDb(s, "object " + id.ToHex() + " in " + dir_);
  }

  Status FindObjectsByPrefix(std::string_view hex_prefix, size_t limit,
                             std::vector<ObjectId>* out) override;

  Status ForEachObject(
      const std::function<bool(const ObjectId&)>& fn) override;

  Status GetRecord(std::string_view key, std::string* value) override {
    leveldb::Status s = db_->Get(ReadOpts(), RecordKey(key), value);
    if (s.IsNotFound()) return Status::NotFound("record " + std::string(key));
    return FromLevelDb(s, "record " + std::string(key) + " in " + dir_);
  }

  std::unique_ptr<RecordIterator> NewRecordIterator() override {
    return std::make_unique<LevelDbRecordIterator>(db_.get(), dir_);
  }

  Status Apply(const WriteBatch& batch, const WriteOptions& opts) override;

  Status Sync() override {
    // A synced write of nothing but the stats record fsyncs LevelDB's log
    // and so every earlier unsynced write in it.
    std::lock_guard lock(write_mu_);
    leveldb::WriteBatch wb;
    wb.Put(ToSlice(kStatsKey), EncodeStats());
    leveldb::WriteOptions wo;
    wo.sync = true;
    return FromLevelDb(db_->Write(wo, &wb), "sync " + dir_);
  }

  Status Compact() override {
    db_->CompactRange(nullptr, nullptr);
    return Status::OK();
  }

  Status GetStats(BackendStats* stats) override;

 private:
  // Records are read with LevelDB's block checksums verified.
  static leveldb::ReadOptions ReadOpts() {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    return ro;
  }
  // Object bodies are not: the Odb re-hashes every object it reads, which
  // catches what a block checksum would, and this build of LevelDB computes
  // crc32c in software -- a measurable share of a 4 KiB read
  // (docs/decisions/0001-object-backend.md).
  static leveldb::ReadOptions ObjectReadOpts() { return {}; }

  std::string EncodeStats() const {
    std::string v;
    coding::PutFixed64(&v, objects_);
    coding::PutFixed64(&v, stored_bytes_);
    return v;
  }

  // The stored size of `id` if present (*present = false otherwise).
  Status StoredSize(const ObjectId& id, bool* present, uint64_t* size) {
    std::string value;
    leveldb::Status s = db_->Get(ObjectReadOpts(), ObjectKey(id), &value);
    *present = s.ok();
    *size = value.size();
    if (s.ok() || s.IsNotFound()) return Status::OK();
    return FromLevelDb(s, "object " + id.ToHex() + " in " + dir_);
  }

  const std::string dir_;
  leveldb::Env* const env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;

  std::mutex write_mu_;
  uint64_t objects_ = 0;       // GUARDED_BY(write_mu_)
  uint64_t stored_bytes_ = 0;  // GUARDED_BY(write_mu_)
};

Status LevelDbBackend::Open(const BackendOptions& options) {
  std::vector<std::string> children;
  if (env_->GetChildren(dir_, &children).ok()) {
    std::string foreign;
    if (!OnlyLevelDbFiles(children, &foreign)) {
      return Status::InvalidArgument(
          dir_ + " is not a Larix leveldb object store: it holds '" + foreign +
          "', which LevelDB does not create; refusing to open it");
    }
  }

  // LevelDB creates the directory and its LOCK file even when it then
  // fails for want of create_if_missing; check first, write nothing.
  if (!options.create_if_missing && !env_->FileExists(dir_ + "/CURRENT")) {
    return Status::NotFound(dir_ + ": no Larix leveldb object store here");
  }

  cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
  filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options o;
  o.env = env_;
  o.create_if_missing = options.create_if_missing;
  o.error_if_exists = options.error_if_exists;
  o.block_cache = cache_.get();
  o.filter_policy = filter_.get();
  // Stored bodies are already zstd-compressed by the Odb where that pays;
  // Snappy would only spend CPU rediscovering that.
  o.compression = leveldb::kNoCompression;
  // 4 KiB values fill the default 4 MiB memtable every ~1000 pages; a
  // larger one means fewer, larger level-0 files and less compaction.
  o.write_buffer_size = 16 << 20;
  o.max_file_size = 8 << 20;
  leveldb::DB* db = nullptr;
  LARIX_RETURN_IF_ERROR(FromLevelDb(leveldb::DB::Open(o, dir_, &db),
                                    "open leveldb store " + dir_));
  db_.reset(db);

  std::string format;
  leveldb::Status s = db_->Get(ReadOpts(), ToSlice(kFormatKey), &format);
  if (s.IsNotFound()) {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ReadOpts()));
    it->SeekToFirst();
    if (it->Valid()) {
      return Status::InvalidArgument(dir_ +
                                     " is a LevelDB database but not a Larix "
                                     "object store (no format record)");
    }
    LARIX_RETURN_IF_ERROR(FromLevelDb(it->status(), "open " + dir_));
    leveldb::WriteBatch wb;
    wb.Put(ToSlice(kFormatKey), ToSlice(kFormatValue));
    wb.Put(ToSlice(kStatsKey), EncodeStats());
    leveldb::WriteOptions wo;
    wo.sync = true;
    return FromLevelDb(db_->Write(wo, &wb), "initialise " + dir_);
  }
  LARIX_RETURN_IF_ERROR(FromLevelDb(s, "open " + dir_));
  if (format != kFormatValue) {
    return Status::NotSupported(dir_ + ": unsupported store format '" +
                                format + "' (this build reads '" +
                                std::string(kFormatValue) + "')");
  }
  std::string stats;
  LARIX_RETURN_IF_ERROR(FromLevelDb(
      db_->Get(ReadOpts(), ToSlice(kStatsKey), &stats), "stats of " + dir_));
  std::string_view in = stats;
  if (!coding::GetFixed64(&in, &objects_) ||
      !coding::GetFixed64(&in, &stored_bytes_)) {
    return Status::Corruption(dir_ + ": damaged stats record");
  }
  return Status::OK();
}

Status LevelDbBackend::FindObjectsByPrefix(std::string_view hex_prefix,
                                           size_t limit,
                                           std::vector<ObjectId>* out) {
  if (hex_prefix.empty() || hex_prefix.size() > ObjectId::kHexSize) {
    return Status::InvalidArgument("object prefix must be 1..64 hex digits");
  }
  std::string seek(1, kObjectPrefix);
  for (size_t i = 0; i < hex_prefix.size(); i += 2) {
    int hi = HexValue(hex_prefix[i]);
    int lo = i + 1 < hex_prefix.size() ? HexValue(hex_prefix[i + 1]) : 0;
    if (hi < 0 || lo < 0) {
      std::string msg = "'";  // appended: gcc 12 -Wrestrict false positive
      msg.append(hex_prefix).append("' is not lowercase hex");
      return Status::InvalidArgument(msg);
    }
    seek.push_back(static_cast<char>(hi << 4 | lo));
  }
  // Ids with the prefix are contiguous in key order and start at `seek`
  // (the prefix padded with zero nibbles).
  const size_t whole = hex_prefix.size() / 2;
  const bool odd = hex_prefix.size() % 2 != 0;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ReadOpts()));
  for (it->Seek(seek); it->Valid() && out->size() < limit; it->Next()) {
    leveldb::Slice k = it->key();
    if (k.size() != 1 + ObjectId::kSize || k[0] != kObjectPrefix) break;
    if (std::memcmp(k.data() + 1, seek.data() + 1, whole) != 0) break;
    if (odd && (static_cast<uint8_t>(k[1 + whole]) >> 4) !=
                   static_cast<uint8_t>(seek[1 + whole]) >> 4) {
      break;
    }
    out->push_back(ObjectId::FromRaw(k.data() + 1));
  }
  return FromLevelDb(it->status(), "prefix lookup in " + dir_);
}

Status LevelDbBackend::ForEachObject(
    const std::function<bool(const ObjectId&)>& fn) {
  leveldb::ReadOptions ro = ReadOpts();
  ro.fill_cache = false;  // a full scan would evict the working set
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(std::string(1, kObjectPrefix)); it->Valid(); it->Next()) {
    leveldb::Slice k = it->key();
    if (k.empty() || k[0] != kObjectPrefix) break;
    if (k.size() != 1 + ObjectId::kSize) {
      return Status::Corruption(dir_ + ": malformed object key");
    }
    if (!fn(ObjectId::FromRaw(k.data() + 1))) break;
  }
  return FromLevelDb(it->status(), "object scan of " + dir_);
}

Status LevelDbBackend::Apply(const WriteBatch& batch,
                             const WriteOptions& opts) {
  std::lock_guard lock(write_mu_);
  leveldb::WriteBatch wb;
  // The state of each id this batch touches, so that put-then-delete and
  // duplicates within one batch keep the stats exact.
  std::unordered_map<ObjectId, std::pair<bool, uint64_t>, ObjectIdHash> seen;
  auto state_of = [&](const ObjectId& id) -> Status {
    if (seen.count(id)) return Status::OK();
    bool present;
    uint64_t size;
    LARIX_RETURN_IF_ERROR(StoredSize(id, &present, &size));
    seen[id] = {present, size};
    return Status::OK();
  };
  uint64_t objects = objects_, bytes = stored_bytes_;
  for (const auto& put : batch.objects()) {
    LARIX_RETURN_IF_ERROR(state_of(put.id));
    auto& [present, size] = seen[put.id];
    if (present) continue;  // invariant 3: same id, same content
    wb.Put(ObjectKey(put.id), put.Joined());
    present = true;
    size = put.size();
    objects++;
    bytes += size;
  }
  for (const ObjectId& id : batch.object_deletes()) {
    LARIX_RETURN_IF_ERROR(state_of(id));
    auto& [present, size] = seen[id];
    if (!present) continue;
    wb.Delete(ObjectKey(id));
    present = false;
    objects--;
    bytes -= size;
  }
  for (const auto& op : batch.records()) {
    if (op.is_delete) {
      wb.Delete(RecordKey(op.key));
    } else {
      wb.Put(RecordKey(op.key), op.value);
    }
  }
  std::string stats;
  coding::PutFixed64(&stats, objects);
  coding::PutFixed64(&stats, bytes);
  wb.Put(ToSlice(kStatsKey), stats);
  leveldb::WriteOptions wo;
  wo.sync = opts.sync;
  LARIX_RETURN_IF_ERROR(FromLevelDb(db_->Write(wo, &wb), "write to " + dir_));
  if (opts.while_syncing) opts.while_syncing();  // LevelDB syncs in Write
  objects_ = objects;
  stored_bytes_ = bytes;
  return Status::OK();
}

Status LevelDbBackend::GetStats(BackendStats* stats) {
  {
    std::lock_guard lock(write_mu_);
    stats->objects = objects_;
    stats->stored_bytes = stored_bytes_;
  }
  stats->disk_bytes = 0;
  return AddDirectoryBytes(env_, dir_, &stats->disk_bytes);
}

}  // namespace

Status OpenLevelDbBackend(const std::string& dir, const BackendOptions& options,
                          std::unique_ptr<Backend>* out) {
  leveldb::Env* env = options.env ? options.env : PreadEnv();
  auto backend = std::make_unique<LevelDbBackend>(dir, env);
  LARIX_RETURN_IF_ERROR(backend->Open(options));
  *out = std::move(backend);
  return Status::OK();
}

}  // namespace larix
