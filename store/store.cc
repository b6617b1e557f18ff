// Store: opening, creating and committing.  GC lives in gc.cc, fsck in
// fsck.cc.

#include "larix/store.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstring>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "objects/coding.h"
#include "objects/object_format.h"
#include "objects/worker_pool.h"
#include "refs/ref_name.h"
#include "store/store_impl.h"

namespace larix {
namespace {

constexpr char kMarkerFile[] = "LARIX";
constexpr char kMarkerMagic[] = "larix-store";
constexpr char kDefaultBackend[] = "pack";
constexpr int64_t kGroupCommitWindowUs = 100 * 1000;
// Bytes of pages a commit writes in one backend batch before it chunks.
constexpr size_t kCommitChunkBytes = 16 << 20;
// A commit of a few pages waits for its fsync far longer than it computes,
// so its pages are compressed at zstd's level -3, which stores a durable
// single-row insert in 9% fewer bytes than the Odb's level (-10, chosen
// for CPU-bound larger commits; docs/decisions/0003-page-compression.md).
constexpr size_t kSmallCommitPages = 16;
constexpr int kSmallCommitZstdLevel = -3;
// Pages of a commit below which staging them stays on the committing
// thread: waking a helper costs more than it saves.
constexpr size_t kParallelMinPages = 32;

// A page write's bytes, from its object when it comes as one.
std::string_view PageBytes(const PageWrite& page) {
  if (!page.object) return page.bytes;
  return std::string_view(*page.object).substr(kObjectHeaderSize);
}

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string DefaultAuthor() {
  const char* user = getenv("LARIX_AUTHOR");
  if (!user || !*user) user = getenv("USER");
  return user && *user ? user : "larix";
}

// Reads STORE/LARIX: "larix-store <format> <backend>".
Status ReadMarker(const std::string& dir, std::string* backend,
                  uint32_t* format_out) {
  std::ifstream in(dir + "/" + kMarkerFile);
  std::string magic;
  uint32_t format = 0;
  if (!(in >> magic >> format >> *backend) || magic != kMarkerMagic) {
    return Status::InvalidArgument(dir + " is not a Larix store (" + dir +
                                   "/" + kMarkerFile + " is damaged)");
  }
  if (format > kStoreFormatVersion) {
    return Status::NotSupported(
        dir + " was written by a newer Larix (store format " +
        std::to_string(format) + "; this build reads format " +
        std::to_string(kStoreFormatVersion) + ")");
  }
  *format_out = format;
  return Status::OK();
}

Status WriteMarker(const std::string& dir, const std::string& backend) {
  std::string tmp = dir + "/" + kMarkerFile + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kMarkerMagic << " " << kStoreFormatVersion << " " << backend
        << "\n";
    out.flush();
    if (!out) return Status::IOError("cannot write " + tmp);
  }
  if (rename(tmp.c_str(), (dir + "/" + kMarkerFile).c_str()) != 0) {
    return Status::IOError("cannot create " + dir + "/" + kMarkerFile);
  }
  return Status::OK();
}

class PinImpl : public Store::Pin {
 public:
  PinImpl(StoreImpl* store, const ObjectId& id) : store_(store), id_(id) {
    std::lock_guard lock(store_->pins_mu_);
    store_->pins_[id_]++;
  }
  ~PinImpl() override {
    std::lock_guard lock(store_->pins_mu_);
    auto it = store_->pins_.find(id_);
    if (--it->second == 0) store_->pins_.erase(it);
  }

 private:
  StoreImpl* store_;
  ObjectId id_;
};

}  // namespace

StoreImpl::StoreImpl(std::string path, std::unique_ptr<ProcessLock> lock,
                     std::unique_ptr<Backend> backend,
                     const StoreOptions& options)
    : path_(std::move(path)),
      lock_(std::move(lock)),
      backend_(std::move(backend)),
      options_(options),
      odb_(backend_.get(),
           OdbOptions{.cache_bytes = options.cache_bytes / 4 * 3}),
      trees_(&odb_, options.cache_bytes / 8),
      commits_(&odb_),
      refs_(backend_.get()) {
  if (options_.default_author.empty()) options_.default_author = DefaultAuthor();
}

int64_t StoreImpl::NowMicros() const {
  return options_.clock ? options_.clock() : SystemMicros();
}

Status StoreImpl::Initialize() {
  std::lock_guard lock(commit_mu_);
  WriteBatch batch;
  Commit c;
  c.time_us = NowMicros();
  c.txn = 1;
  c.author = options_.default_author;
  c.message = "Initialize store";
  ObjectId id = odb_.Stage(&batch, EncodeCommit(c));
  std::string counter;
  coding::PutFixed64(&counter, 1);
  batch.PutRecord(kTxnCounterKey, counter);
  RefTransaction tx;
  tx.Update(BranchRef(kDefaultBranch), ObjectId(), id, "init");
  tx.SetSymbolic("HEAD", BranchRef(kDefaultBranch), std::nullopt, "init");
  LARIX_RETURN_IF_ERROR(refs_.Commit(tx, &batch, WriteOptions{true}, c.time_us));
  last_txn_ = 1;
  last_time_us_ = c.time_us;
  ref_version_++;
  return Status::OK();
}

Status StoreImpl::Load() {
  std::string value;
  Status s = backend_->GetRecord(kTxnCounterKey, &value);
  if (s.IsNotFound()) {
    return Status::Corruption("store " + path_ +
                              " has no transaction counter (record " +
                              kTxnCounterKey + ")");
  }
  LARIX_RETURN_IF_ERROR(s);
  if (value.size() != 8) {
    return Status::Corruption("record " + std::string(kTxnCounterKey) +
                              " is not 8 bytes");
  }
  last_txn_ = coding::DecodeFixed64(value.data());
  return Status::OK();
}

int64_t StoreImpl::HistoryRetention() {
  std::string value;
  if (backend_->GetRecord(kRetentionKey, &value).ok() && value.size() == 8) {
    return static_cast<int64_t>(coding::DecodeFixed64(value.data()));
  }
  return kDefaultRetentionUs;
}

void StoreImpl::NoteWritten(const WriteBatch& batch) {
  if (!gc_active_) return;
  for (const auto& put : batch.objects()) gc_written_.insert(put.id);
}

void StoreImpl::StagePages(WriteBatch* batch, const CommitRequest& req,
                           size_t begin, size_t end, int zstd_level,
                           std::vector<std::pair<uint32_t, ObjectId>>* sets,
                           std::vector<ObjectId>* ids, FreshPages* fresh,
                           const std::function<void()>& meanwhile) {
  // Hashing, encoding and compressing are the CPU-bound part of a commit.
  // With many pages a helper shares them: both threads first hash groups
  // of pages (the callers' unhashed ones, several at a time:
  // Odb::IdsOfPages), then this thread runs `meanwhile` (the page tree,
  // which needs every id but no stored form) while the helper encodes
  // pages, then helps it.  Adding to the batch is serial, at the end.
  constexpr size_t kGroup = Odb::kPageHashBatch;
  const size_t n = end - begin, groups = (n + kGroup - 1) / kGroup;
  std::vector<Odb::Prepared> prepared(n);  // no canonical: unchanged
  std::unique_ptr<std::atomic<bool>[]> hashed(new std::atomic<bool>[groups]);
  for (size_t g = 0; g < groups; g++) hashed[g].store(false);
  std::atomic<size_t> next_group{0}, next_page{0};
  auto hash_group = [&](size_t g) {
    const size_t from = g * kGroup, count = std::min(kGroup, n - from);
    std::string_view unhashed[kGroup];
    size_t where[kGroup], u = 0;
    for (size_t k = 0; k < count; k++) {
      const PageWrite& page = req.pages[begin + from + k];
      (*ids)[begin + from + k] = page.id;
      if (page.id.IsNull()) {
        unhashed[u] = PageBytes(page);
        where[u++] = k;
      }
    }
    ObjectId got[kGroup];
    odb_.IdsOfPages(unhashed, u, got);
    for (size_t j = 0; j < u; j++) (*ids)[begin + from + where[j]] = got[j];
    hashed[g].store(true, std::memory_order_release);
  };
  auto wait_hashed = [&](size_t g) {  // by the other thread: a few us
    while (!hashed[g].load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
  };
  auto prepare_page = [&](size_t k) {
    wait_hashed(k / kGroup);
    const PageWrite& page = req.pages[begin + k];
    const ObjectId& id = (*ids)[begin + k];
    if (id == page.base) return;  // written back unchanged
    // The version this page replaces is a delta base only while it is
    // cached: the commit path never reads the backend for one.
    Odb::Base base;  // Prepare ignores one without canonical bytes
    if (!page.base.IsNull()) {
      base.id = page.base;
      base.canonical = odb_.Peek(page.base, &base.depth);
    }
    prepared[k] = odb_.Prepare(
        page.object ? page.object
                    : std::make_shared<const std::string>(EncodePage(page.bytes)),
        id, zstd_level, &base);
  };
  auto hash_all = [&] {
    for (size_t g; (g = next_group.fetch_add(1)) < groups;) hash_group(g);
  };
  auto prepare_all = [&] {
    for (size_t k; (k = next_page.fetch_add(1)) < n;) prepare_page(k);
  };
  std::unique_ptr<WorkerPool::Task> helper;
  if (n >= kParallelMinPages) {
    helper = WorkerPool::Shared().Start([&] {
      hash_all();
      prepare_all();
    });
  }
  hash_all();
  for (size_t g = 0; g < groups; g++) wait_hashed(g);
  for (size_t k = 0; k < n; k++) {
    const PageWrite& page = req.pages[begin + k];
    const ObjectId& id = (*ids)[begin + k];
    if (id == page.base) continue;
    sets->emplace_back(page.pgno, id);
  }
  if (meanwhile) meanwhile();
  prepare_all();
  if (helper) helper->Join();
  for (size_t k = 0; k < prepared.size(); k++) {
    Odb::Prepared& p = prepared[k];
    if (!p.canonical) continue;
    if (fresh->bytes + p.canonical->size() <= odb_.cache_capacity() / 2) {
      fresh->bytes += p.canonical->size();
      fresh->pages.push_back({p.id, p.canonical, p.depth});
    }
    odb_.Stage(batch, std::move(p));
  }
}

void StoreImpl::RememberPages(FreshPages* fresh) {
  for (auto& page : fresh->pages) {
    odb_.Remember(page.id, std::move(page.canonical), page.depth);
  }
  *fresh = FreshPages();
}

Result<CommitResult> StoreImpl::CommitPages(const CommitRequest& req) {
  WriteBatch batch;
  std::vector<std::pair<uint32_t, ObjectId>> sets;
  // Page objects and tree nodes do not depend on the ref's current value,
  // so they are built outside the commit lock.  A large transaction is
  // written in chunks first: each chunk's pages and the tree built so far
  // are applied as unreachable objects, its root pinned so a running GC
  // keeps them (GC walks pinned trees), and only the last batch carries
  // the commit and the ref move.  Backends keep prefix order, so the final
  // synced batch makes the chunks durable too; a crash before it leaves
  // garbage, never a partial commit.
  ObjectId root = req.base_tree;
  FreshPages fresh;
  std::vector<ObjectId> page_ids(req.tree ? 0 : req.pages.size());
  const int zstd_level = req.pages.size() <= kSmallCommitPages
                             ? kSmallCommitZstdLevel
                             : odb_.zstd_level();
  std::unique_ptr<Store::Pin> chunk_pin;
  size_t i = 0;
  while (!req.tree) {
    size_t chunk_bytes = 0, end = i;
    while (end < req.pages.size() && chunk_bytes < kCommitChunkBytes) {
      chunk_bytes += PageBytes(req.pages[end++]).size();
    }
    if (end >= req.pages.size()) break;  // the rest goes in the commit
    WriteBatch chunk;
    sets.clear();
    Result<ObjectId> chunk_root = root;
    StagePages(&chunk, req, i, end, zstd_level, &sets, &page_ids, &fresh,
               [&] {
                 std::sort(sets.begin(), sets.end());
                 chunk_root = trees_.Apply(root, sets, std::nullopt, &chunk);
               });
    i = end;
    LARIX_ASSIGN_OR_RETURN(root, std::move(chunk_root));
    auto pin = PinCommit(root);
    {
      std::lock_guard lock(commit_mu_);
      NoteWritten(chunk);
      LARIX_RETURN_IF_ERROR(backend_->Apply(chunk, WriteOptions{false}));
    }
    RememberPages(&fresh);
    chunk_pin = std::move(pin);
  }
  sets.clear();
  // Here and for each chunk above, the tree is built on this thread while
  // a helper encodes the pages (StagePages), which adds them after it.
  // No page staged: none in a chunk (each that staged one moved `root`),
  // none in `sets`.
  auto unchanged = [&] {
    return req.unchanged_if_tree && *req.unchanged_if_tree == req.base_tree &&
           root == req.base_tree && sets.empty() && !req.truncate_to &&
           !req.tree && req.extra_parents.empty();
  };
  Result<ObjectId> built = req.tree.value_or(ObjectId());
  StagePages(&batch, req, i, req.pages.size(), zstd_level, &sets, &page_ids,
             &fresh, [&] {
               if (req.tree || unchanged()) return;
               std::sort(sets.begin(), sets.end());
               built = trees_.Apply(root, sets, req.truncate_to, &batch);
             });
  if (unchanged()) {
    // Nothing but pages written back as they were.
    return CommitResult{req.expected_head, req.base_tree, 0, 0,
                        std::move(page_ids)};
  }
  LARIX_ASSIGN_OR_RETURN(ObjectId tree, std::move(built));

  if (req.unchanged_if_tree && *req.unchanged_if_tree == tree &&
      req.extra_parents.empty()) {
    return CommitResult{req.expected_head, tree, 0, 0, std::move(page_ids)};
  }
  std::lock_guard lock(commit_mu_);
  Commit c;
  c.tree = tree;
  if (!req.expected_head.IsNull()) c.parents.push_back(req.expected_head);
  for (const ObjectId& p : req.extra_parents) c.parents.push_back(p);
  // Commit times never go backwards, so the reflog time index and
  // AS OF TIMESTAMP agree with transaction order.
  c.time_us = std::max(NowMicros(), last_time_us_);
  c.txn = last_txn_ + 1;
  c.author = req.author.empty() ? options_.default_author : req.author;
  c.message = req.message;
  ObjectId commit_id = odb_.Stage(&batch, EncodeCommit(c));
  std::string counter;
  coding::PutFixed64(&counter, c.txn);
  batch.PutRecord(kTxnCounterKey, counter);
  RefTransaction tx;
  tx.Update(req.ref, req.expected_head, commit_id, c.message);
  for (const std::string& name : req.delete_refs) {
    tx.Delete(name, std::nullopt, c.message);
  }
  NoteWritten(batch);
  // Group commit: an unsynced commit (synchronous=NORMAL) is still synced
  // if the last sync is older than kGroupCommitWindowUs, which bounds what
  // a power loss can take to that window.  Atomicity never depends on it.
  int64_t now = NowMicros();
  bool sync = req.sync || now - last_sync_us_ > kGroupCommitWindowUs;
  // The new pages go into the cache while the sync runs: no reader can
  // reach them before the ref moves, and a failed sync fails the store.
  Status s = refs_.Commit(
      tx, &batch, WriteOptions{sync, [&] { RememberPages(&fresh); }},
      c.time_us);
  if (!s.ok()) return s;
  if (sync) last_sync_us_ = now;
  last_txn_ = c.txn;
  last_time_us_ = c.time_us;
  uint64_t version = ++ref_version_;
  return CommitResult{commit_id, tree, c.txn, version, std::move(page_ids)};
}

Status StoreImpl::UpdateRefs(const RefTransaction& tx,
                             const WriteBatch* records) {
  std::lock_guard lock(commit_mu_);
  WriteBatch batch;
  if (records != nullptr) {
    for (const auto& op : records->records()) {
      if (op.is_delete) {
        batch.DeleteRecord(op.key);
      } else {
        batch.PutRecord(op.key, op.value);
      }
    }
  }
  int64_t now = std::max(NowMicros(), last_time_us_);
  Status s = refs_.Commit(tx, &batch, WriteOptions{true}, now);
  ref_version_++;  // even on failure: cheap, and always safe
  if (s.ok()) last_time_us_ = now;
  return s;
}

Result<ObjectId> StoreImpl::CreateTag(const std::string& name,
                                      const ObjectId& target,
                                      const std::string& message, bool force) {
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  std::lock_guard lock(commit_mu_);
  Tag t;
  t.target = target;
  t.name = name;
  t.tagger = options_.default_author;
  t.time_us = std::max(NowMicros(), last_time_us_);
  t.message = message;
  WriteBatch batch;
  ObjectId id = odb_.Stage(&batch, EncodeTag(t));
  RefTransaction tx;
  tx.Update(TagRef(name), force ? std::nullopt : std::optional(ObjectId()),
            id, "tag: " + name);
  NoteWritten(batch);
  Status s = refs_.Commit(tx, &batch, WriteOptions{true}, t.time_us);
  ref_version_++;
  if (s.IsConflict()) {
    return Status::AlreadyExists("tag '" + name + "' already exists");
  }
  if (!s.ok()) return s;
  last_time_us_ = t.time_us;
  return id;
}

Result<ObjectId> StoreImpl::ResolveRevision(const std::string& rev) {
  std::vector<std::string> candidates;
  if (rev.rfind("refs/", 0) == 0 || rev == "HEAD") {
    candidates.push_back(rev);
  } else if (ValidateShortName(rev).ok()) {
    candidates = {AliasRef(rev), BranchRef(rev), TagRef(rev)};
  }
  for (const std::string& name : candidates) {
    Result<ObjectId> id = refs_.Resolve(name);
    if (id.ok()) {
      // A tag ref points at a tag object; peel it.
      LARIX_ASSIGN_OR_RETURN(Odb::Object obj, odb_.Read(*id));
      LARIX_ASSIGN_OR_RETURN(ObjectKind kind, PeekObjectKind(*obj));
      if (kind == ObjectKind::kTag) {
        LARIX_ASSIGN_OR_RETURN(Tag tag, DecodeTag(*obj));
        return tag.target;
      }
      return *id;
    }
    if (!id.status().IsNotFound()) return id.status();
  }
  if (IsHexPrefix(rev)) {
    LARIX_ASSIGN_OR_RETURN(ObjectId id, odb_.ResolvePrefix(rev));
    LARIX_ASSIGN_OR_RETURN(Odb::Object obj, odb_.Read(id));
    LARIX_ASSIGN_OR_RETURN(ObjectKind kind, PeekObjectKind(*obj));
    if (kind == ObjectKind::kTag) {
      LARIX_ASSIGN_OR_RETURN(Tag tag, DecodeTag(*obj));
      return tag.target;
    }
    if (kind != ObjectKind::kCommit) {
      return Status::InvalidArgument("object " + id.ToHex() + " is a " +
                                     ObjectKindName(kind) + ", not a commit");
    }
    return id;
  }
  return Status::NotFound("no branch, tag or commit named '" + rev + "'");
}

std::unique_ptr<Store::Pin> StoreImpl::PinCommit(const ObjectId& commit) {
  return std::make_unique<PinImpl>(this, commit);
}

// --- Store ----------------------------------------------------------------

Store::Store(std::unique_ptr<StoreImpl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Status Store::Open(const std::string& dir, const StoreOptions& options,
                   std::unique_ptr<Store>* out) {
  bool exists = Exists(dir);
  bool is_store = exists && Exists(dir + "/" + kMarkerFile);
  if (exists && !IsDirectory(dir)) {
    return Status::InvalidArgument(dir + " is a file, not a Larix store");
  }
  if (is_store && options.error_if_exists) {
    return Status::AlreadyExists("a Larix store already exists at " + dir);
  }
  if (!is_store) {
    if (!options.create_if_missing) {
      return exists ? Status::InvalidArgument(dir + " is not a Larix store (no " +
                                              kMarkerFile + " file)")
                    : Status::NotFound("no Larix store at " + dir);
    }
    if (exists) {
      // Never take over a directory that holds something else.
      std::string probe;
      bool empty = true;
      if (DIR* d = opendir(dir.c_str())) {
        while (struct dirent* e = readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") empty = false;
        }
        closedir(d);
      }
      if (!empty) {
        return Status::InvalidArgument(
            dir + " is not empty and not a Larix store; refusing to create "
                  "one there");
      }
    } else {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return Status::IOError("cannot create directory " + dir + ": " +
                               ec.message());
      }
    }
  }

  std::unique_ptr<ProcessLock> lock;
  LARIX_RETURN_IF_ERROR(ProcessLock::Acquire(dir + "/larix.lock", &lock));

  std::string backend_name;
  uint32_t format = kStoreFormatVersion;
  if (is_store) {
    LARIX_RETURN_IF_ERROR(ReadMarker(dir, &backend_name, &format));
  } else {
    backend_name = options.backend.empty() ? kDefaultBackend : options.backend;
  }
  BackendOptions bo;
  bo.env = options.env;
  bo.create_if_missing = !is_store;
  bo.block_cache_bytes = options.cache_bytes / 8;
  std::unique_ptr<Backend> backend;
  std::string db_dir = dir + "/db";
  if (backend_name == "pack") {
    LARIX_RETURN_IF_ERROR(OpenPackBackend(db_dir, bo, &backend));
  } else if (backend_name == "leveldb") {
    LARIX_RETURN_IF_ERROR(OpenLevelDbBackend(db_dir, bo, &backend));
  } else {
    return Status::NotSupported("store " + dir + " uses unknown backend '" +
                                backend_name + "'");
  }
  auto impl = std::make_unique<StoreImpl>(dir, std::move(lock),
                                          std::move(backend), options);
  if (is_store) {
    LARIX_RETURN_IF_ERROR(impl->Load());
    // Format 1 is format 2 without page deltas: the store is upgraded
    // before this build can write one (docs/format.md, "Versioning").
    if (format < kStoreFormatVersion) {
      LARIX_RETURN_IF_ERROR(WriteMarker(dir, backend_name));
    }
  } else {
    LARIX_RETURN_IF_ERROR(impl->Initialize());
    // The marker is written last: a crash during creation leaves a
    // directory that is not yet a store, and creating it again works.
    LARIX_RETURN_IF_ERROR(WriteMarker(dir, backend_name));
  }
  out->reset(new Store(std::move(impl)));
  return Status::OK();
}

std::unique_ptr<Store> Store::OpenInMemory(const StoreOptions& options) {
  auto impl = std::make_unique<StoreImpl>("", nullptr, NewMemoryBackend(),
                                          options);
  Status s = impl->Initialize();
  assert(s.ok());
  (void)s;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

const std::string& Store::path() const { return impl_->path_; }
bool Store::in_memory() const { return impl_->path_.empty(); }
int64_t Store::NowMicros() const { return impl_->NowMicros(); }
const std::string& Store::default_author() const {
  return impl_->options_.default_author;
}
Backend* Store::backend() { return impl_->backend_.get(); }
Odb* Store::odb() { return &impl_->odb_; }
PageTree* Store::trees() { return &impl_->trees_; }
CommitGraph* Store::commits() { return &impl_->commits_; }
RefDb* Store::refs() { return &impl_->refs_; }
uint64_t Store::ref_version() const { return impl_->ref_version_.load(); }
uint64_t Store::last_txn() {
  std::lock_guard lock(impl_->commit_mu_);
  return impl_->last_txn_;
}

Result<CommitResult> Store::CommitPages(const CommitRequest& request) {
  return impl_->CommitPages(request);
}
Status Store::WriteObjects(const WriteBatch& batch, bool sync) {
  std::lock_guard lock(impl_->commit_mu_);
  impl_->NoteWritten(batch);
  return impl_->backend_->Apply(batch, WriteOptions{sync});
}
Status Store::UpdateRefs(const RefTransaction& tx) {
  return impl_->UpdateRefs(tx, nullptr);
}
Status Store::UpdateRefs(const RefTransaction& tx, const WriteBatch& records) {
  return impl_->UpdateRefs(tx, &records);
}
Result<ObjectId> Store::CreateTag(const std::string& name,
                                  const ObjectId& target,
                                  const std::string& message, bool force) {
  return impl_->CreateTag(name, target, message, force);
}
Result<ObjectId> Store::ResolveRevision(const std::string& rev) {
  return impl_->ResolveRevision(rev);
}
std::unique_ptr<Store::Pin> Store::PinCommit(const ObjectId& commit) {
  return impl_->PinCommit(commit);
}
Status Store::Gc(const GcOptions& options, GcStats* stats) {
  return impl_->Gc(options, stats);
}
Status Store::Fsck(FsckReport* report,
                   const std::function<void(uint64_t, uint64_t)>& progress) {
  return impl_->Fsck(report, progress);
}
Status Store::Sync() { return impl_->backend_->Sync(); }

int64_t Store::history_retention_us() { return impl_->HistoryRetention(); }

Status Store::SetHistoryRetention(int64_t retention_us) {
  if (retention_us < 0) {
    return Status::InvalidArgument("history retention cannot be negative");
  }
  WriteBatch batch;
  std::string value;
  coding::PutFixed64(&value, static_cast<uint64_t>(retention_us));
  batch.PutRecord(kRetentionKey, value);
  return WriteObjects(batch, /*sync=*/true);
}

}  // namespace larix
