// The Larix VFS.
//
// SQLite reads and writes a "database file"; here that file is a view of a
// branch.  The design, in the order SQLite exercises it:
//
// Files.  The main database file (SQLITE_OPEN_MAIN_DB) is a BranchFile.
// Rollback journals and super-journals are in-memory files (MemFile): Larix
// never needs SQLite's journal for crash safety, only for ROLLBACK and
// savepoints, and no journal is ever hot.  Connections keep SQLite's default
// journal_mode=DELETE: its journal writes are plain appends to one buffer,
// reused from transaction to transaction, where journal_mode=MEMORY's own
// journal allocates a 1 KiB chunk at a time (docs/performance.md).  WAL
// files cannot be opened (io_methods version 1 has no shared memory, so
// SQLite keeps the journal mode it has).  Temporary files go to the
// default VFS.
//
// Locks and snapshots (SQLite's lock levels, per BranchFile):
//
//     NONE --xLock(SHARED)--> SHARED --xLock(RESERVED)--> RESERVED/EXCLUSIVE
//       ^   take snapshot     |   take branch writer token,  |
//       |                     |   fail BUSY if the branch     |
//       +--xUnlock(NONE)------+   moved since the snapshot    |
//          drop snapshot      ^                               |
//                             +--xUnlock(SHARED)--------------+
//                                drop overlay, release token
//
//   1. A snapshot is the branch's head commit when the read transaction
//      began; every read of the transaction comes from its tree, so
//      readers never see a torn state and never wait for writers.
//   2. RESERVED takes the branch's writer token (one writer per branch);
//      EXCLUSIVE is granted at once to the token holder, because readers
//      hold snapshots, not locks.  If the branch head moved after our
//      snapshot was taken, RESERVED fails with SQLITE_BUSY; SQLite then
//      drops its locks, calls the busy handler and retries with a fresh
//      snapshot (the same contract as WAL's SQLITE_BUSY_SNAPSHOT).
//   3. Writes go to an in-memory overlay (pgno -> bytes) that only the
//      writing connection sees.
//
// The commit point.  SQLite's CommitPhaseOne sends SQLITE_FCNTL_SYNC to the
// main file once every page of the transaction has been written to it.
// There the overlay, minus pages equal to the snapshot's, becomes a
// Store::CommitPages() call: pages, tree nodes, commit object, ref move and
// reflog entry in one atomic backend write (synced for synchronous=FULL or
// EXTRA).  If it fails, SQLite rolls the transaction back and the overlay
// is dropped at unlock: nothing partial is ever visible.  ROLLBACK, a
// statement rollback or ROLLBACK TO a savepoint never reach the commit
// point, so they write nothing.  (SQLITE_IOCAP_BATCH_ATOMIC would be the
// documented route, but Debian's libsqlite3 is built without
// SQLITE_ENABLE_BATCH_ATOMIC_WRITE; FCNTL_SYNC is always sent.)
//
// Never a stale page.  SQLite's pager keeps its cache across transactions
// and trusts the file change counter (bytes 24..27 of page 1) to tell it
// the file changed, and the schema cookie (bytes 40..43) to tell it the
// schema changed.  Both are honest while a branch advances by SQL commits,
// each of which went through a pager that incremented them.  They can lie
// when the head jumps (USE BRANCH, a reset, a dropped and re-created
// branch): two histories can carry equal counters and different content.
// So the file presents both fields shifted by per-file offsets:
//
//   presented = stored + offset   (on read)
//   stored = written - offset     (on write)
//
// When a new snapshot does not descend by first parents from the last one
// this file presented (or belongs to another ref), the offsets are chosen
// so that the new presented values are the last presented ones plus one:
// the pager must flush its cache and reload the schema.  Stored bytes stay
// exactly what SQLite would have written to a plain file.

#include "sql/vfs.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <map>
#include <unordered_map>
#include <mutex>
#include <optional>

#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "objects/worker_pool.h"

namespace larix {
namespace {

constexpr int kCounterOffset = 24;  // file change counter, big-endian u32
constexpr int kCookieOffset = 40;   // schema cookie, big-endian u32
constexpr int kVersionValidFor = 92;

// Whether two versions of page 1 (of one size, at least 100 bytes) differ
// at most in the change counter and the version-valid-for number.
bool SameButCounters(std::string_view a, std::string_view b) {
  auto same = [&](size_t from, size_t to) {
    return memcmp(a.data() + from, b.data() + from, to - from) == 0;
  };
  return a.size() == b.size() && same(0, kCounterOffset) &&
         same(kCounterOffset + 4, kVersionValidFor) &&
         same(kVersionValidFor + 4, a.size());
}

sqlite3_vfs* DefaultVfs() {
  static sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  return vfs;
}

uint32_t GetBE32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 |
         u[3];
}

void PutBE32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// Page size from a database header (bytes 16..17; 1 means 65536).
uint32_t HeaderPageSize(const char* header) {
  auto u = reinterpret_cast<const unsigned char*>(header);
  uint32_t v = uint32_t{u[16]} << 8 | u[17];
  return v == 1 ? 65536 : v;
}

int SqliteCodeFor(const Status& s, int io_default) {
  if (s.IsCorruption()) return SQLITE_CORRUPT;
  if (s.IsFull()) return SQLITE_FULL;
  if (s.IsBusy() || s.IsConflict()) return SQLITE_BUSY;
  if (s.IsNotSupported()) return SQLITE_CANTOPEN;
  return io_default;
}

}  // namespace

// The main database file of one connection.  See the file comment.
// Owned by SQLite's sqlite3_file (LarixFile); used by one connection, so by
// one thread at a time (SQLite serialises calls per connection).
class BranchFile {
 public:
  BranchFile(std::shared_ptr<Engine> engine, std::string branch)
      : engine_(std::move(engine)), branch_(std::move(branch)) {}

  // A file whose store another process holds: the store is taken at the
  // first lock instead (SQLITE_BUSY until then, so the busy timeout
  // applies as for any locked SQLite database).
  BranchFile(std::string store_path, std::string branch, bool create)
      : branch_(std::move(branch)),
        store_path_(std::move(store_path)),
        create_(create) {}

  ~BranchFile() {
    if (writer_) engine_->ReleaseWriter(snap_.ref, this);
  }

  // Acquires the store if the file was opened without it.  Busy while
  // another process holds it.
  Status EnsureEngine() {
    if (engine_) return Status::OK();
    Result<std::shared_ptr<Engine>> engine =
        Engine::Acquire(store_path_, create_);
    if (!engine.ok()) return engine.status();
    engine_ = std::move(engine).value();
    return Status::OK();
  }

  int Read(void* buf, int amt, sqlite3_int64 offset);
  int Write(const void* buf, int amt, sqlite3_int64 offset);
  int Truncate(sqlite3_int64 size);
  int FileSize(sqlite3_int64* size);
  int Lock(int level);
  int Unlock(int level);
  int CheckReservedLock(int* out);
  int FileControl(int op, void* arg);

  Engine* engine() { return engine_.get(); }
  const std::string& branch() const { return branch_; }
  bool in_write() const { return writer_; }
  int lock() const { return lock_; }
  const BranchHead& snapshot() const { return snap_; }
  std::string last_error() const { return last_error_; }
  void SetCommitInfo(std::string author, std::string message) {
    author_ = std::move(author);
    message_ = std::move(message);
  }
  void SetExtraParents(std::vector<ObjectId> parents) {
    extra_parents_ = std::move(parents);
  }
  // Records the text of a writing statement for the default commit
  // message: the first few statements of the transaction, abridged.
  void NoteStatement(const char* sql) {
    if (sql == nullptr) return;
    // A writing statement that starts while no write transaction is open
    // begins the next commit's message.  (The text is not dropped when a
    // transaction ends: SQLite reruns a statement that met SQLITE_SCHEMA
    // without tracing it again.)
    if (lock_ < SQLITE_LOCK_RESERVED) {
      statements_.clear();
      noted_statements_ = 0;
    }
    if (noted_statements_++ >= kNotedStatements) return;
    std::string text(sql);
    while (!text.empty() && isspace(static_cast<unsigned char>(text.back()))) {
      text.pop_back();
    }
    if (text.size() > kNotedChars) text = text.substr(0, kNotedChars) + "…";
    if (!statements_.empty()) statements_ += "; ";
    statements_ += text;
  }
  Status SwitchBranch(const std::string& branch) {
    if (lock_ != SQLITE_LOCK_NONE) {
      return Status::Busy("cannot change branch inside a transaction");
    }
    LARIX_RETURN_IF_ERROR(EnsureEngine());
    LARIX_ASSIGN_OR_RETURN(BranchHead head, engine_->ReadHead(branch));
    (void)head;
    branch_ = branch;
    return Status::OK();
  }

 private:
  // Page `pgno` as stored, as a page object (EncodePage: the object header,
  // then page_size_ bytes; zeros for a page beyond the end), into *out.
  Status ReadStoredPage(uint32_t pgno, std::string* out);
  Status BeginSnapshot();
  void PresentHeader(char* dst, uint32_t in_page, int n) const;
  Status AdoptSnapshot(const BranchHead& head, bool transient);
  Result<bool> DescendsLinearly(const ObjectId& from, const ObjectId& to);
  int Commit();
  int Fail(const Status& s, int io_default) {
    last_error_ = s.ToString();
    sqlite3_log(SqliteCodeFor(s, io_default), "larix: %s", last_error_.c_str());
    return SqliteCodeFor(s, io_default);
  }
  // The tree a write transaction's reads fall through to: the snapshot's,
  // or the spill tree once the overlay has spilled (Spill).
  const ObjectId& ReadTree() const {
    return spilled_ ? spill_tree_ : snap_.tree;
  }
  uint32_t ReadPages() const { return spilled_ ? spill_pages_ : base_pages_; }
  // Moves dirty pages but page 1 into the store: all of them, or the
  // least recently written ones until half of kSpillBytes is left.
  Status Spill(bool all);
  // The id of page `pgno` in ReadTree(), through id_memo_.
  Result<ObjectId> StoredPageId(uint32_t pgno);
  // After this file's commit of `req` made `tree` (`ids`: the pages' ids,
  // CommitResult::page_ids): the memo stays valid for every page the
  // commit did not write and learns those it did, so it moves to `tree`
  // instead of starting over (if it was of the commit's base tree).
  void CarryIdMemo(const CommitRequest& req, const std::vector<ObjectId>& ids,
                   const ObjectId& tree);
  // A write transaction that changed no content writes no commit, yet
  // SQLite bumped the change counter (and maybe the schema cookie) in its
  // page 1 and believes the file now says so.  The presentation offsets
  // take the difference, so that the next commit (anyone's) shows this
  // connection a counter it has not seen and it drops its page cache;
  // otherwise that commit's counter could equal the one SQLite believes
  // and SQLite would keep pages older than the commit.
  void AbsorbUnstoredHeader();
  // Forgets the write transaction's pages: the overlay, its truncation
  // and its spills (committed, or rolled back).
  void DropOverlay();
  // The page object of a page of zeros (one past the file's end, or
  // between a truncation and a later write).
  std::string ZeroPageObject() const {
    return EncodePage(std::string(page_size_, '\0'));
  }
  uint32_t EffectivePageCount() const {
    uint32_t n = truncated_to_ ? std::min(*truncated_to_, ReadPages())
                               : ReadPages();
    if (!dirty_.empty()) n = std::max(n, dirty_.rbegin()->first + 1);
    return n;
  }

  std::shared_ptr<Engine> engine_;  // null until EnsureEngine succeeds
  std::string branch_;
  std::string store_path_;  // for EnsureEngine
  bool create_ = false;
  int lock_ = SQLITE_LOCK_NONE;

  // The snapshot: valid while lock_ >= SHARED, or transiently at NONE.
  BranchHead snap_;
  uint32_t base_pages_ = 0;
  uint32_t page_size_ = 0;  // 0: empty database, size not known yet
  std::shared_ptr<const SnapshotInfo> info_;  // of snap_.tree
  std::unique_ptr<Store::Pin> pin_;

  // Page ids of ReadTree() found recently, direct-mapped by page number,
  // so that a page SQLite reads again costs one probe, not a walk down
  // the page tree.  An entry is valid while its generation is
  // id_memo_gen_, which moves on whenever ReadTree() changes.  One entry a
  // page of the file, a power of two from kMinIdMemo to kMaxIdMemo
  // entries (40 to 320 KB a connection): with fewer, a random read of a
  // table of 5,600 pages walked the tree two times in three.
  struct IdMemoEntry {
    uint32_t gen = 0;
    uint32_t pgno = 0;
    ObjectId id;
  };
  static constexpr size_t kMinIdMemo = 1024;
  static constexpr size_t kMaxIdMemo = 8192;
  std::vector<IdMemoEntry> id_memo_;
  ObjectId id_memo_tree_;
  uint32_t id_memo_gen_ = 1;

  // The write overlay: non-empty only while writer_.  A page is kept as
  // the page object it will be (EncodePage form), so that a commit hands it
  // to the store, to hash and to cache, without another copy.
  struct DirtyPage {
    std::string object;  // the object header, then the page's bytes
    uint64_t age = 0;    // write_seq_ at its last write, for Spill's choice

    char* bytes() { return object.data() + kObjectHeaderSize; }
    const char* bytes() const { return object.data() + kObjectHeaderSize; }
    size_t size() const {
      return object.size() < kObjectHeaderSize
                 ? 0
                 : object.size() - kObjectHeaderSize;
    }
  };
  bool writer_ = false;
  std::map<uint32_t, DirtyPage> dirty_;
  uint64_t write_seq_ = 0;
  std::optional<uint32_t> truncated_to_;
  // A transaction larger than kSpillBytes moves its dirty pages (all but
  // page 1) into the store as unreachable objects under spill_tree_, a
  // tree built on the snapshot's and pinned against GC.  The commit then
  // starts from it.  Memory stays bounded however large the transaction.
  // Commit() spills, too, when the overlay holds more than
  // kCommitSpillBytes, rather than stage it all in one request (whose
  // compressed copies and pack record would add as much memory again).
  static constexpr size_t kSpillBytes = 16 << 20;
  static constexpr size_t kSpillSliceBytes = 1 << 20;
  // A commit of this many pages hashes and encodes them on the worker pool
  // too (StoreImpl::StagePages, from 32 pages): once the overlay holds
  // this many, a helper is woken to be ready for it (WorkerPool::Wake).
  static constexpr size_t kWakeHelperAtPages = 24;
  static constexpr size_t kCommitSpillBytes = 4 << 20;
  bool spilled_ = false;
  ObjectId spill_tree_;
  uint32_t spill_pages_ = 0;
  std::unique_ptr<Store::Pin> spill_pin_;

  // Header presentation (see the file comment).
  uint32_t counter_offset_ = 0;
  uint32_t cookie_offset_ = 0;
  bool seen_any_ = false;
  std::string seen_ref_;
  ObjectId seen_commit_;
  uint32_t seen_counter_ = 0;  // presented values of seen_commit_
  uint32_t seen_cookie_ = 0;

  static constexpr int kNotedStatements = 3;
  static constexpr size_t kNotedChars = 200;
  std::string statements_;  // writing statements of this transaction
  int noted_statements_ = 0;

  int synchronous_ = 2;  // PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
  std::string last_error_;
  std::string author_;
  std::string message_;
  std::vector<ObjectId> extra_parents_;  // of the next commit (merges)
};

Status BranchFile::ReadStoredPage(uint32_t pgno, std::string* out) {
  auto it = dirty_.find(pgno);
  if (it != dirty_.end()) {
    *out = it->second.object;
    return Status::OK();
  }
  if (pgno == 0 && info_ && info_->page1 && base_pages_ > 0 &&
      !(truncated_to_ && *truncated_to_ == 0)) {
    out->assign(*info_->page1, 0, kObjectHeaderSize + page_size_);
    return Status::OK();
  }
  *out = ZeroPageObject();
  if (pgno >= ReadPages() || (truncated_to_ && pgno >= *truncated_to_)) {
    return Status::OK();
  }
  Store* store = engine_->store();
  LARIX_ASSIGN_OR_RETURN(ObjectId id, store->trees()->Get(ReadTree(), pgno));
  if (id.IsNull()) return Status::OK();
  LARIX_ASSIGN_OR_RETURN(Odb::Object obj, store->odb()->Read(id));
  LARIX_ASSIGN_OR_RETURN(std::string_view bytes, DecodePage(*obj));
  if (bytes.size() != page_size_) {
    return Status::Corruption("page " + std::to_string(pgno + 1) + " (" +
                              id.ToHex() + ") has " +
                              std::to_string(bytes.size()) +
                              " bytes; the database page size is " +
                              std::to_string(page_size_));
  }
  out->assign(*obj);
  return Status::OK();
}

// True if `to` reaches `from` by first parents, without passing a commit
// older than `from`.
Result<bool> BranchFile::DescendsLinearly(const ObjectId& from,
                                          const ObjectId& to) {
  CommitGraph* graph = engine_->store()->commits();
  LARIX_ASSIGN_OR_RETURN(auto from_commit, graph->Load(from));
  ObjectId id = to;
  for (int steps = 0; steps < 4096 && !id.IsNull(); steps++) {
    if (id == from) return true;
    LARIX_ASSIGN_OR_RETURN(auto c, graph->Load(id));
    if (c->txn <= from_commit->txn || c->parents.empty()) return false;
    id = c->parents[0];
  }
  return false;
}

// Makes `head` the file's snapshot.  Unless `transient` (a read outside any
// lock, as SQLite does when it opens the database), also settles the
// header presentation for it.
Status BranchFile::AdoptSnapshot(const BranchHead& head, bool transient) {
  Store* store = engine_->store();
  snap_ = head;
  dirty_.clear();
  truncated_to_.reset();
  LARIX_ASSIGN_OR_RETURN(info_, engine_->Describe(head.tree));
  base_pages_ = info_->page_count;
  page_size_ = info_->page_size;
  uint32_t stored_counter = info_->stored_counter;
  uint32_t stored_cookie = info_->stored_cookie;
  if (transient) return Status::OK();

  if (seen_any_ && (head.ref != seen_ref_ || head.commit != seen_commit_)) {
    bool linear = false;
    if (head.ref == seen_ref_ && !seen_commit_.IsNull()) {
      LARIX_ASSIGN_OR_RETURN(linear,
                             DescendsLinearly(seen_commit_, head.commit));
    }
    // A commit that changed page 1 only in its change counter does not
    // store it (Commit), so the stored counter says nothing: every new
    // head shows SQLite a counter it has not seen, and it drops its page
    // cache.  The schema cookie is stored whenever it changes, so along a
    // linear history the stored one is trusted, and SQLite keeps its
    // parsed schema across other connections' commits.
    counter_offset_ = seen_counter_ + 1 - stored_counter;
    if (!linear) cookie_offset_ = seen_cookie_ + 1 - stored_cookie;
  }
  seen_any_ = true;
  seen_ref_ = head.ref;
  seen_commit_ = head.commit;
  seen_counter_ = stored_counter + counter_offset_;
  seen_cookie_ = stored_cookie + cookie_offset_;
  pin_ = store->PinCommit(head.commit);
  return Status::OK();
}

Status BranchFile::BeginSnapshot() {
  Result<BranchHead> head = engine_->ReadHead(branch_);
  if (!head.ok()) return head.status();
  return AdoptSnapshot(*head, /*transient=*/false);
}

int BranchFile::Read(void* buf, int amt, sqlite3_int64 offset) {
  if (lock_ == SQLITE_LOCK_NONE) {
    // SQLite reads the header once before taking any lock.  Without the
    // store yet, the file reads as empty; the first lock reads it again.
    if (!engine_) {
      memset(buf, 0, amt);
      return SQLITE_IOERR_SHORT_READ;
    }
    Result<BranchHead> head = engine_->ReadHead(branch_);
    if (!head.ok()) return Fail(head.status(), SQLITE_IOERR_READ);
    Status s = AdoptSnapshot(*head, /*transient=*/true);
    if (!s.ok()) return Fail(s, SQLITE_IOERR_READ);
  }
  char* dst = static_cast<char*>(buf);
  if (page_size_ == 0) {
    memset(dst, 0, amt);
    return SQLITE_IOERR_SHORT_READ;
  }
  uint32_t npages = EffectivePageCount();
  Store* store = engine_->store();
  while (amt > 0) {
    uint64_t pgno64 = static_cast<uint64_t>(offset) / page_size_;
    uint32_t in_page = static_cast<uint32_t>(offset % page_size_);
    int n = std::min<int>(amt, page_size_ - in_page);
    if (pgno64 >= npages) {
      memset(dst, 0, amt);
      return SQLITE_IOERR_SHORT_READ;
    }
    uint32_t pgno = static_cast<uint32_t>(pgno64);
    // The page's bytes, without copying them anywhere but into `dst`.
    const char* src = nullptr;
    Odb::Object holder;
    auto dirty = dirty_.find(pgno);
    if (dirty != dirty_.end()) {
      src = dirty->second.bytes();
    } else if (pgno == 0 && info_ && info_->page1) {
      src = info_->page1->data() + kObjectHeaderSize;
    } else if (pgno < ReadPages() &&
               !(truncated_to_ && pgno >= *truncated_to_)) {
      Result<ObjectId> id = StoredPageId(pgno);
      if (!id.ok()) return Fail(id.status(), SQLITE_IOERR_READ);
      if (!id->IsNull()) {
        Result<Odb::Object> obj = store->odb()->Read(*id);
        if (!obj.ok()) return Fail(obj.status(), SQLITE_IOERR_READ);
        if ((*obj)->size() != kObjectHeaderSize + page_size_) {
          return Fail(Status::Corruption(
                          "page " + std::to_string(pgno + 1) + " (" +
                          id->ToHex() + ") is not " +
                          std::to_string(page_size_) + " bytes"),
                      SQLITE_IOERR_READ);
        }
        holder = std::move(obj).value();
        src = holder->data() + kObjectHeaderSize;
      }
    }
    if (src != nullptr) {
      memcpy(dst, src + in_page, n);
    } else {
      memset(dst, 0, n);
    }
    if (pgno == 0) PresentHeader(dst, in_page, n);
    dst += n;
    amt -= n;
    offset += n;
  }
  return SQLITE_OK;
}

// Shifts the header fields of page 1 that [in_page, in_page + n) covers,
// in `dst` (which holds those bytes), from stored to presented values.
void BranchFile::PresentHeader(char* dst, uint32_t in_page, int n) const {
  for (auto [at, offset] : {std::pair{kCounterOffset, counter_offset_},
                            std::pair{kVersionValidFor, counter_offset_},
                            std::pair{kCookieOffset, cookie_offset_}}) {
    if (in_page <= static_cast<uint32_t>(at) &&
        in_page + n >= static_cast<uint32_t>(at) + 4) {
      char* p = dst + (at - in_page);
      PutBE32(p, GetBE32(p) + offset);
    }
  }
}

int BranchFile::Write(const void* buf, int amt, sqlite3_int64 offset) {
  if (!writer_) {
    return Fail(Status::IOError("write to " + branch_ +
                                " without a write transaction"),
                SQLITE_IOERR_WRITE);
  }
  const char* src = static_cast<const char*>(buf);
  if (page_size_ == 0) {
    // An empty database learns its page size from the first write: SQLite
    // writes whole pages, page 1 or (when its cache spills before the
    // commit) any other, always page-aligned.
    bool power_of_two = amt >= 512 && amt <= 65536 && (amt & (amt - 1)) == 0;
    if (!power_of_two || offset % amt != 0 ||
        (offset == 0 && HeaderPageSize(src) != static_cast<uint32_t>(amt))) {
      return Fail(Status::IOError("first write to an empty database is not a "
                                  "whole page"),
                  SQLITE_IOERR_WRITE);
    }
    page_size_ = amt;
  }
  while (amt > 0) {
    uint32_t pgno = static_cast<uint32_t>(offset / page_size_);
    uint32_t in_page = static_cast<uint32_t>(offset % page_size_);
    int n = std::min<int>(amt, page_size_ - in_page);
    auto it = dirty_.find(pgno);
    if (it != dirty_.end() && it->second.size() != page_size_) {
      // Only if a failed commit could not give a page back (out of
      // memory): SQLite's rollback rewrites it, from its journal.
      it = dirty_.erase(it);
    }
    if (it != dirty_.end() && it->first == pgno) {
      memcpy(it->second.bytes() + in_page, src, n);
    } else {
      DirtyPage page;
      if (in_page == 0 && n == static_cast<int>(page_size_)) {
        page.object = EncodePage(std::string_view(src, n));
      } else {
        Status s = ReadStoredPage(pgno, &page.object);
        if (!s.ok()) return Fail(s, SQLITE_IOERR_WRITE);
        memcpy(page.bytes() + in_page, src, n);
      }
      it = dirty_.emplace_hint(it, pgno, std::move(page));
      if (dirty_.size() == kWakeHelperAtPages) WorkerPool::Shared().Wake();
    }
    it->second.age = ++write_seq_;
    if (pgno == 0 && in_page < kVersionValidFor + 4) {
      // Undo the presentation shift on the bytes SQLite wrote.
      char* page = it->second.bytes();
      auto unshift = [&](int at, uint32_t offset) {
        if (in_page <= static_cast<uint32_t>(at) &&
            in_page + n >= static_cast<uint32_t>(at) + 4) {
          PutBE32(page + at, GetBE32(page + at) - offset);
        }
      };
      unshift(kCounterOffset, counter_offset_);
      unshift(kVersionValidFor, counter_offset_);
      unshift(kCookieOffset, cookie_offset_);
    }
    if (truncated_to_ && pgno >= *truncated_to_) {
      // Writing past a truncation point re-extends the file; pages between
      // are zero, as they would be in a plain file.
      for (uint32_t p = *truncated_to_; p < pgno; p++) {
        if (!dirty_.count(p)) {
          dirty_[p].object = ZeroPageObject();
        }
      }
      truncated_to_ = pgno + 1;
    }
    src += n;
    amt -= n;
    offset += n;
  }
  if (dirty_.size() * page_size_ > kSpillBytes) {
    Status s = Spill(/*all=*/false);
    if (!s.ok()) return Fail(s, SQLITE_IOERR_WRITE);
  }
  return SQLITE_OK;
}

void BranchFile::DropOverlay() {
  dirty_.clear();
  truncated_to_.reset();
  spilled_ = false;
  spill_tree_ = ObjectId();
  spill_pin_.reset();
}

void BranchFile::AbsorbUnstoredHeader() {
  auto p1 = dirty_.find(0);
  if (p1 == dirty_.end() || p1->second.size() < 100 || !info_) return;
  // dirty_ holds page 1 as stored (Write took the offsets off), so the
  // difference to the snapshot's header is what SQLite added.
  counter_offset_ +=
      GetBE32(p1->second.bytes() + kCounterOffset) - info_->stored_counter;
  cookie_offset_ +=
      GetBE32(p1->second.bytes() + kCookieOffset) - info_->stored_cookie;
  seen_counter_ = info_->stored_counter + counter_offset_;
  seen_cookie_ = info_->stored_cookie + cookie_offset_;
}

void BranchFile::CarryIdMemo(const CommitRequest& req,
                             const std::vector<ObjectId>& ids,
                             const ObjectId& tree) {
  if (id_memo_.empty() || id_memo_tree_ != req.base_tree) return;
  assert(ids.size() == req.pages.size());
  for (size_t i = 0; i < req.pages.size(); i++) {
    const uint32_t pgno = req.pages[i].pgno;
    id_memo_[pgno & (id_memo_.size() - 1)] =
        IdMemoEntry{id_memo_gen_, pgno, ids[i]};
  }
  if (req.truncate_to) {
    for (IdMemoEntry& e : id_memo_) {
      if (e.pgno >= *req.truncate_to) e.gen = 0;
    }
  }
  id_memo_tree_ = tree;
}

Result<ObjectId> BranchFile::StoredPageId(uint32_t pgno) {
  const ObjectId& tree = ReadTree();
  if (tree != id_memo_tree_) {
    id_memo_tree_ = tree;
    if (++id_memo_gen_ == 0) {  // wrapped: no entry may look current
      id_memo_.assign(id_memo_.size(), IdMemoEntry());
      id_memo_gen_ = 1;
    }
  }
  if (id_memo_.empty() ||
      (id_memo_.size() < kMaxIdMemo && id_memo_.size() < ReadPages())) {
    id_memo_.assign(std::clamp<size_t>(std::bit_ceil(size_t{ReadPages()}),
                                       kMinIdMemo, kMaxIdMemo),
                    IdMemoEntry());
  }
  IdMemoEntry& e = id_memo_[pgno & (id_memo_.size() - 1)];
  if (e.gen == id_memo_gen_ && e.pgno == pgno) return e.id;
  LARIX_ASSIGN_OR_RETURN(ObjectId id,
                         engine_->store()->trees()->Get(tree, pgno));
  e = IdMemoEntry{id_memo_gen_, pgno, id};
  return id;
}

// Moves the overlay's pages but page 1 into the store (see spill_tree_).
// Nothing becomes visible: no ref moves.  A GC running meanwhile keeps the
// objects (the tree is pinned; GC walks pinned trees).
Status BranchFile::Spill(bool all) {
  Store* store = engine_->store();
  ObjectId root = ReadTree();
  std::unique_ptr<Store::Pin> pin;
  // In slices, so that the staged copies (and the pack record made of
  // them) stay small whatever the overlay's size.  Each slice's tree is
  // pinned before its objects are written, as a running GC keeps only
  // what it can reach from refs and pins.
  std::vector<uint32_t> victims;  // in page order
  if (all) {
    for (const auto& [pgno, page] : dirty_) {
      if (pgno != 0) victims.push_back(pgno);
    }
  } else {
    // The least recently written pages, until half the threshold is left:
    // a bulk load's table pages are written once and go, while a random
    // index's pages, written again and again, mostly stay.
    std::vector<std::pair<uint64_t, uint32_t>> by_age;
    for (const auto& [pgno, page] : dirty_) {
      if (pgno != 0) by_age.emplace_back(page.age, pgno);
    }
    size_t keep = kSpillBytes / 2 / page_size_;
    if (by_age.size() <= keep) return Status::OK();
    auto cut = by_age.begin() + static_cast<std::ptrdiff_t>(by_age.size() - keep);
    std::nth_element(by_age.begin(), cut, by_age.end());
    for (auto a = by_age.begin(); a != cut; ++a) victims.push_back(a->second);
    std::sort(victims.begin(), victims.end());
  }
  size_t next = 0;
  while (true) {
    WriteBatch batch;
    std::vector<std::pair<uint32_t, ObjectId>> sets;
    std::vector<Odb::Object> pages;
    // The slice's pages, hashed several at a time (Odb::IdsOfPages).
    size_t bytes = 0, end = next;
    std::vector<std::string_view> slice;
    for (; end < victims.size() && bytes < kSpillSliceBytes; end++) {
      const DirtyPage& page = dirty_.find(victims[end])->second;
      bytes += page.size();
      slice.emplace_back(page.bytes(), page.size());
    }
    std::vector<ObjectId> ids(slice.size());
    store->odb()->IdsOfPages(slice.data(), slice.size(), ids.data());
    for (size_t k = 0; next < end; next++, k++) {
      auto it = dirty_.find(victims[next]);
      Odb::Prepared page = store->odb()->Prepare(
          std::make_shared<const std::string>(std::move(it->second.object)),
          ids[k], store->odb()->zstd_level());
      sets.emplace_back(it->first, page.id);
      pages.push_back(page.canonical);
      store->odb()->Stage(&batch, std::move(page));
      dirty_.erase(it);
    }
    if (sets.empty()) break;
    LARIX_ASSIGN_OR_RETURN(
        root, store->trees()->Apply(root, sets, std::nullopt, &batch));
    std::unique_ptr<Store::Pin> next = store->PinCommit(root);
    LARIX_RETURN_IF_ERROR(store->WriteObjects(batch, /*sync=*/false));
    pin = std::move(next);
    // SQLite reads spilled pages back when it touches them again (a
    // random index larger than the overlay does, all the time): from the
    // cache, not the pack.
    for (size_t i = 0; i < sets.size(); i++) {
      store->odb()->Remember(sets[i].second, std::move(pages[i]));
    }
  }
  if (!pin) return Status::OK();  // nothing but page 1
  LARIX_ASSIGN_OR_RETURN(uint32_t pages, store->trees()->PageCount(root));
  spill_pin_ = std::move(pin);
  spill_tree_ = root;
  spill_pages_ = std::max(pages, ReadPages());
  spilled_ = true;
  return Status::OK();
}

int BranchFile::Truncate(sqlite3_int64 size) {
  if (!writer_) {
    return Fail(Status::IOError("truncate without a write transaction"),
                SQLITE_IOERR_TRUNCATE);
  }
  if (page_size_ == 0) return SQLITE_OK;
  uint32_t pages = static_cast<uint32_t>((size + page_size_ - 1) / page_size_);
  dirty_.erase(dirty_.lower_bound(pages), dirty_.end());
  truncated_to_ = truncated_to_ ? std::min(*truncated_to_, pages) : pages;
  return SQLITE_OK;
}

int BranchFile::FileSize(sqlite3_int64* size) {
  if (!engine_) {
    *size = 0;
    return SQLITE_OK;
  }
  if (lock_ == SQLITE_LOCK_NONE) {
    Result<BranchHead> head = engine_->ReadHead(branch_);
    if (!head.ok()) return Fail(head.status(), SQLITE_IOERR_FSTAT);
    Status s = AdoptSnapshot(*head, /*transient=*/true);
    if (!s.ok()) return Fail(s, SQLITE_IOERR_FSTAT);
  }
  *size = static_cast<sqlite3_int64>(EffectivePageCount()) * page_size_;
  return SQLITE_OK;
}

int BranchFile::Lock(int level) {
  if (level <= lock_) return SQLITE_OK;
  if (lock_ == SQLITE_LOCK_NONE) {
    last_error_.clear();  // a new transaction: the last one's reason is old
    Status s = EnsureEngine();
    if (s.IsBusy()) {
      last_error_ = s.ToString();
      return SQLITE_BUSY;
    }
    if (s.ok()) s = BeginSnapshot();
    if (!s.ok()) return Fail(s, SQLITE_IOERR_LOCK);
    lock_ = SQLITE_LOCK_SHARED;
  }
  if (level >= SQLITE_LOCK_RESERVED && !writer_) {
    if (snap_.read_only) return SQLITE_READONLY;
    if (!engine_->TryAcquireWriter(snap_.ref, this)) return SQLITE_BUSY;
    Result<BranchHead> head = engine_->ReadHead(branch_);
    if (!head.ok() || head->ref != snap_.ref ||
        head->commit != snap_.commit) {
      // Someone committed (or moved the branch) after our snapshot.
      engine_->ReleaseWriter(snap_.ref, this);
      return SQLITE_BUSY;
    }
    writer_ = true;
  }
  lock_ = level;
  return SQLITE_OK;
}

int BranchFile::Unlock(int level) {
  if (level >= lock_) return SQLITE_OK;
  if (lock_ >= SQLITE_LOCK_RESERVED && level < SQLITE_LOCK_RESERVED) {
    // The write transaction is over: committed at FCNTL_SYNC, or rolled
    // back, in which case the overlay is simply dropped.
    if (!dirty_.empty() || truncated_to_ || spilled_) {
      DropOverlay();
      // Re-derive the page size: the overlay may have created page 1.
      if (base_pages_ == 0) page_size_ = 0;
    }
    if (writer_) {
      engine_->ReleaseWriter(snap_.ref, this);
      writer_ = false;
    }
  }
  if (level == SQLITE_LOCK_NONE) pin_.reset();
  lock_ = level;
  return SQLITE_OK;
}

int BranchFile::CheckReservedLock(int* out) {
  *out = engine_ && !writer_ && !snap_.ref.empty() &&
         engine_->HasWriter(snap_.ref);
  return SQLITE_OK;
}

// The commit point (see the file comment).
int BranchFile::Commit() {
  if (!writer_ || (dirty_.empty() && !truncated_to_ && !spilled_)) {
    return SQLITE_OK;
  }
  Store* store = engine_->store();
  // VACUUM after PRAGMA page_size rewrites the file with another page
  // size.  Pages are the unit of the page tree, so that cannot be
  // committed: the transaction fails and nothing is written (SQLite in WAL
  // mode keeps its page size the same way).
  if (auto p1 = dirty_.find(0);
      p1 != dirty_.end() && base_pages_ > 0 && p1->second.size() >= 100) {
    const uint32_t declared = HeaderPageSize(p1->second.bytes());
    if (declared != page_size_) {
      return Fail(Status::InvalidArgument(
                      "the page size of a Larix database cannot change "
                      "(from " + std::to_string(page_size_) + " to " +
                      std::to_string(declared) +
                      " bytes, as VACUUM after PRAGMA page_size would do)"),
                  SQLITE_IOERR_FSYNC);
    }
  }
  if (dirty_.size() * page_size_ > kCommitSpillBytes) {
    // A large transaction: its pages go to the store in slices (Spill),
    // and the commit carries page 1 and the spilled tree.
    Status s = Spill(/*all=*/true);
    if (!s.ok()) return Fail(s, SQLITE_IOERR_FSYNC);
  }
  uint32_t new_count = EffectivePageCount();
  // SQLite can shrink the file after the commit point (VACUUM copies the
  // database and truncates it last).  The header's database size (bytes
  // 28..31, valid when 92..95 equal the change counter) is the size the
  // commit must have, so pages past it are dropped here, in this commit.
  if (auto p1 = dirty_.find(0); p1 != dirty_.end() && p1->second.size() >= 100) {
    const char* h = p1->second.bytes();
    uint32_t header_pages = GetBE32(h + 28);
    if (header_pages > 0 &&
        GetBE32(h + kVersionValidFor) == GetBE32(h + kCounterOffset) &&
        header_pages < new_count) {
      new_count = header_pages;
    }
  }

  CommitRequest req;
  req.ref = snap_.ref;
  req.expected_head = snap_.commit;
  req.base_tree = ReadTree();
  bool content_changed = spilled_ && spill_tree_ != snap_.tree;
  std::vector<DirtyPage*> sources;  // the overlay's pages of req.pages
  // Every dirty page goes to the store, which hashes it (on the worker
  // pool, with the rest of the staging) and skips those written back
  // unchanged.  Page 1 is compared here: a new change counter alone is
  // not a change of content, and such a page 1 is not stored at all.  The
  // presentation offsets take the new counter instead (see AdoptSnapshot
  // for other connections), which spares every commit the page and the
  // tree nodes on its path.
  bool page1_unstored = false;
  for (auto& [pgno, page] : dirty_) {
    if (pgno >= new_count) continue;
    ObjectId base_id;  // of the version in the snapshot, if any
    if (pgno < ReadPages()) {
      Result<ObjectId> base = StoredPageId(pgno);
      if (!base.ok()) return Fail(base.status(), SQLITE_IOERR_WRITE);
      base_id = *base;
      if (pgno == 0 && !base->IsNull()) {
        Result<Odb::Object> obj = store->odb()->Read(*base);
        if (obj.ok()) {
          Result<std::string_view> b = DecodePage(**obj);
          const std::string_view bytes(page.bytes(), page.size());
          if (b.ok() && b->size() == bytes.size() &&
              SameButCounters(*b, bytes)) {
            page1_unstored = *b != bytes;
            continue;
          }
        }
      }
    }
    content_changed = true;  // perhaps: the store tells
    req.pages.push_back({pgno, std::string(), ObjectId(), base_id});
    sources.push_back(&page);
  }
  if (new_count < ReadPages()) {
    req.truncate_to = new_count;
    content_changed = true;
  }
  if (!content_changed) {  // nothing to record
    AbsorbUnstoredHeader();
    return SQLITE_OK;
  }
  // The overlay's page objects move into the request (page 1's is read
  // again below), where the store keeps them without a copy; a failed
  // commit copies them back.  Nothing can fail between here and that.
  for (size_t i = 0; i < sources.size(); i++) {
    std::string& object = sources[i]->object;
    req.pages[i].object = std::make_shared<const std::string>(
        req.pages[i].pgno == 0 ? object : std::move(object));
  }
  req.author = author_;
  req.message = message_;
  req.extra_parents = extra_parents_;
  if (req.message.empty()) {
    req.message = statements_.empty() ? "SQL transaction" : statements_;
    if (noted_statements_ > kNotedStatements) {
      req.message += " (+" + std::to_string(noted_statements_ - kNotedStatements) +
                     " more)";
    }
  }
  req.sync = synchronous_ >= 2;
  req.unchanged_if_tree = snap_.tree;
  auto give_back = [&] {
    for (PageWrite& p : req.pages) {
      if (p.pgno != 0) dirty_[p.pgno].object = *p.object;
    }
  };
  Result<CommitResult> res = [&]() -> Result<CommitResult> {
    try {
      return store->CommitPages(req);
    } catch (...) {  // std::bad_alloc: the overlay stays whole all the same
      give_back();
      throw;
    }
  }();
  if (!res.ok() || res->txn == 0) give_back();
  if (!res.ok()) return Fail(res.status(), SQLITE_IOERR_FSYNC);
  if (res->txn == 0) {  // the content is the snapshot's
    AbsorbUnstoredHeader();
    return SQLITE_OK;
  }
  // The versions the commit replaced are dead on this branch: they make
  // room in the object cache first.
  for (size_t i = 0; i < req.pages.size(); i++) {
    const ObjectId& base = req.pages[i].base;
    if (!base.IsNull() && res->page_ids[i] != base) {
      store->odb()->Demote(base);
    }
  }
  CarryIdMemo(req, res->page_ids, res->tree);

  author_.clear();
  message_.clear();
  extra_parents_.clear();
  statements_.clear();
  noted_statements_ = 0;
  // The new commit is this file's snapshot from here on; it descends from
  // the last one, so the presentation offsets stay.
  BranchHead head{snap_.ref, res->commit, res->tree};
  engine_->RememberHead(branch_, head, res->ref_version);
  if (page1_unstored) {
    AbsorbUnstoredHeader();  // info_ is still the base's: same page 1
  } else if (auto p1 = dirty_.find(0); p1 != dirty_.end()) {
    seen_counter_ = GetBE32(p1->second.bytes() + kCounterOffset) +
                    counter_offset_;
    seen_cookie_ = GetBE32(p1->second.bytes() + kCookieOffset) +
                   cookie_offset_;
  }
  if (store->in_memory()) {
    // In-memory stores behave like SQLite's own in-memory databases, whose
    // pager starts afresh after each commit (a running backup of one then
    // restarts, as sqlite3_backup documents): the next transaction sees a
    // new change counter and reloads its pages, which here are in memory.
    counter_offset_ += 1;
    seen_counter_ += 1;
  }
  snap_ = head;
  seen_ref_ = head.ref;
  seen_commit_ = head.commit;
  base_pages_ = new_count;
  // Page 1 and the page count changed: describe the new tree (or fall back
  // to reading it through the tree if that fails).
  Result<std::shared_ptr<const SnapshotInfo>> described =
      engine_->Describe(res->tree);
  info_ = described.ok() ? *described : nullptr;
  DropOverlay();
  pin_ = store->PinCommit(head.commit);
  return SQLITE_OK;
}

int BranchFile::FileControl(int op, void* arg) {
  switch (op) {
    case SQLITE_FCNTL_SYNC:
      return Commit();
    case SQLITE_FCNTL_PRAGMA: {
      char** args = static_cast<char**>(arg);
      const char* name = args[1];
      const char* value = args[2];
      if (value != nullptr && sqlite3_stricmp(name, "synchronous") == 0) {
        if (sqlite3_stricmp(value, "off") == 0 || strcmp(value, "0") == 0) {
          synchronous_ = 0;
        } else if (sqlite3_stricmp(value, "normal") == 0 ||
                   strcmp(value, "1") == 0) {
          synchronous_ = 1;
        } else if (sqlite3_stricmp(value, "full") == 0 ||
                   strcmp(value, "2") == 0) {
          synchronous_ = 2;
        } else if (sqlite3_stricmp(value, "extra") == 0 ||
                   strcmp(value, "3") == 0) {
          synchronous_ = 3;
        }
      }
      return SQLITE_NOTFOUND;  // SQLite handles the pragma as usual
    }
    case SQLITE_FCNTL_VFSNAME:
      *static_cast<char**>(arg) = sqlite3_mprintf("%s", kVfsName);
      return SQLITE_OK;
    case kFcntlLarixFile:
      *static_cast<BranchFile**>(arg) = this;
      return SQLITE_OK;
    default:
      return SQLITE_NOTFOUND;
  }
}

// ---------------------------------------------------------------------------
// Rollback journals in memory.

namespace {

// A journal: bytes in memory.  Its buffer comes from, and goes back to, a
// small pool, so a transaction's journal appends into memory the last one
// already grew (a journal is opened and deleted once per write
// transaction).
class MemFile {
 public:
  MemFile() {
    Pool& pool = ThePool();
    std::lock_guard lock(pool.mu);
    if (!pool.buffers.empty()) {
      data_ = std::move(pool.buffers.back());
      pool.buffers.pop_back();
    }
  }
  ~MemFile() {
    if (data_.capacity() > kPooledBytes) return;
    data_.clear();
    Pool& pool = ThePool();
    std::lock_guard lock(pool.mu);
    if (pool.buffers.size() < kPooled) pool.buffers.push_back(std::move(data_));
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  int Read(void* buf, int amt, sqlite3_int64 offset) {
    char* dst = static_cast<char*>(buf);
    if (offset >= static_cast<sqlite3_int64>(data_.size())) {
      memset(dst, 0, amt);
      return SQLITE_IOERR_SHORT_READ;
    }
    size_t n = std::min<size_t>(amt, data_.size() - offset);
    memcpy(dst, data_.data() + offset, n);
    if (n < static_cast<size_t>(amt)) {
      memset(dst + n, 0, amt - n);
      return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
  }
  int Write(const void* buf, int amt, sqlite3_int64 offset) {
    const char* src = static_cast<const char*>(buf);
    if (static_cast<size_t>(offset) == data_.size()) {  // the usual append
      data_.append(src, amt);
      return SQLITE_OK;
    }
    if (data_.size() < static_cast<size_t>(offset + amt)) {
      data_.resize(offset + amt);
    }
    memcpy(data_.data() + offset, src, amt);
    return SQLITE_OK;
  }
  int Truncate(sqlite3_int64 size) {
    if (static_cast<size_t>(size) < data_.size()) data_.resize(size);
    return SQLITE_OK;
  }
  sqlite3_int64 Size() const { return data_.size(); }

 private:
  // A journal holds the pages a transaction changed that existed before
  // it; buffers up to 2 MiB (512 pages of 4 KiB) are kept, a few of them
  // (one per connection writing at once).
  static constexpr size_t kPooledBytes = 2 << 20;
  static constexpr size_t kPooled = 4;
  struct Pool {
    std::mutex mu;
    std::vector<std::string> buffers;  // GUARDED_BY(mu)
  };
  // Never destroyed: a connection may close, and its journal with it, while
  // the process's static objects are being destroyed.
  static Pool& ThePool() {
    static Pool* pool = new Pool();
    return *pool;
  }

  std::string data_;
};

// The sqlite3_file SQLite allocates for us (szOsFile bytes).  Temporary
// files are opened by the default VFS into the same memory, so szOsFile is
// the larger of the two.
struct LarixFile {
  sqlite3_file base;
  BranchFile* branch;  // main database files
  MemFile* mem;        // journals
};

BranchFile* B(sqlite3_file* f) { return reinterpret_cast<LarixFile*>(f)->branch; }
MemFile* M(sqlite3_file* f) { return reinterpret_cast<LarixFile*>(f)->mem; }

// Wraps a C++ call so no exception crosses into SQLite's C code.
template <typename F>
int Guard(F&& f, int on_exception) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (...) {
    return on_exception;
  }
}

int BranchClose(sqlite3_file* f) {
  delete B(f);
  reinterpret_cast<LarixFile*>(f)->branch = nullptr;
  return SQLITE_OK;
}
int BranchRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return Guard([&] { return B(f)->Read(buf, amt, off); }, SQLITE_IOERR_READ);
}
int BranchWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  return Guard([&] { return B(f)->Write(buf, amt, off); }, SQLITE_IOERR_WRITE);
}
int BranchTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return Guard([&] { return B(f)->Truncate(size); }, SQLITE_IOERR_TRUNCATE);
}
int BranchSync(sqlite3_file*, int) { return SQLITE_OK; }
int BranchFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Guard([&] { return B(f)->FileSize(size); }, SQLITE_IOERR_FSTAT);
}
int BranchLock(sqlite3_file* f, int level) {
  return Guard([&] { return B(f)->Lock(level); }, SQLITE_IOERR_LOCK);
}
int BranchUnlock(sqlite3_file* f, int level) {
  return Guard([&] { return B(f)->Unlock(level); }, SQLITE_IOERR_UNLOCK);
}
int BranchCheckReserved(sqlite3_file* f, int* out) {
  return B(f)->CheckReservedLock(out);
}
int BranchFileControl(sqlite3_file* f, int op, void* arg) {
  return Guard([&] { return B(f)->FileControl(op, arg); }, SQLITE_IOERR);
}
int SectorSize(sqlite3_file*) { return 4096; }
int BranchDeviceCharacteristics(sqlite3_file*) {
  return SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_SAFE_APPEND |
         SQLITE_IOCAP_SEQUENTIAL;
}

const sqlite3_io_methods kBranchMethods = {
    1,  // no shared memory, no mmap: SQLite cannot enter WAL mode
    BranchClose, BranchRead, BranchWrite, BranchTruncate, BranchSync,
    BranchFileSize, BranchLock, BranchUnlock, BranchCheckReserved,
    BranchFileControl, SectorSize, BranchDeviceCharacteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
};

int MemClose(sqlite3_file* f) {
  delete M(f);
  reinterpret_cast<LarixFile*>(f)->mem = nullptr;
  return SQLITE_OK;
}
int MemRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return M(f)->Read(buf, amt, off);
}
int MemWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  return Guard([&] { return M(f)->Write(buf, amt, off); }, SQLITE_IOERR_WRITE);
}
int MemTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return M(f)->Truncate(size);
}
int MemSync(sqlite3_file*, int) { return SQLITE_OK; }
int MemFileSize(sqlite3_file* f, sqlite3_int64* size) {
  *size = M(f)->Size();
  return SQLITE_OK;
}
int MemLock(sqlite3_file*, int) { return SQLITE_OK; }
int MemCheckReserved(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int MemFileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int MemDeviceCharacteristics(sqlite3_file*) {
  return SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_SAFE_APPEND |
         SQLITE_IOCAP_SEQUENTIAL | SQLITE_IOCAP_ATOMIC;
}

const sqlite3_io_methods kMemMethods = {
    1,           MemClose,         MemRead,    MemWrite,
    MemTruncate, MemSync,          MemFileSize, MemLock,
    MemLock,     MemCheckReserved, MemFileControl, SectorSize,
    MemDeviceCharacteristics, nullptr, nullptr, nullptr, nullptr, nullptr,
    nullptr,
};

bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// A super-journal's name (a write transaction over several attached
// databases makes one) is the main file's, then "-mj", six hex digits, a
// 9 and two more hex digits.
bool IsSuperJournal(const std::string& name) {
  const size_t n = name.size();
  if (n < 12 || name.compare(n - 12, 3, "-mj") != 0 || name[n - 3] != '9') {
    return false;
  }
  return std::all_of(name.end() - 9, name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
  });
}

bool IsSideFile(const std::string& name) {
  return EndsWith(name, "-journal") || EndsWith(name, "-wal") ||
         EndsWith(name, "-shm") || IsSuperJournal(name);
}

int VfsOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file,
            int flags, int* out_flags) {
  LarixFile* lf = reinterpret_cast<LarixFile*>(file);
  lf->base.pMethods = nullptr;
  lf->branch = nullptr;
  lf->mem = nullptr;
  if (flags & SQLITE_OPEN_MAIN_DB) {
    return Guard(
        [&]() -> int {
          std::string store_path, branch;
          SplitStoreSpec(name ? name : "", &store_path, &branch);
          const char* uri_branch =
              name ? sqlite3_uri_parameter(name, "branch") : nullptr;
          if (uri_branch && *uri_branch) branch = uri_branch;
          if (branch.empty()) branch = kDefaultBranch;
          bool create = (flags & SQLITE_OPEN_CREATE) != 0;
          Result<std::shared_ptr<Engine>> engine =
              Engine::Acquire(store_path, create);
          if (!engine.ok() && engine.status().IsBusy()) {
            // Another process holds the store: wait for it at the first
            // lock, like SQLite waits for a locked database.
            lf->branch = new BranchFile(store_path, branch, create);
            lf->base.pMethods = &kBranchMethods;
            if (out_flags) *out_flags = flags;
            return SQLITE_OK;
          }
          if (!engine.ok()) {
            sqlite3_log(SQLITE_CANTOPEN, "larix: %s",
                        engine.status().ToString().c_str());
            return engine.status().IsBusy() ? SQLITE_BUSY : SQLITE_CANTOPEN;
          }
          Result<BranchHead> head = (*engine)->ReadHead(branch);
          if (!head.ok()) {
            sqlite3_log(SQLITE_CANTOPEN, "larix: %s",
                        head.status().ToString().c_str());
            return SQLITE_CANTOPEN;
          }
          lf->branch = new BranchFile(std::move(engine).value(), branch);
          lf->base.pMethods = &kBranchMethods;
          if (out_flags) *out_flags = flags;
          return SQLITE_OK;
        },
        SQLITE_CANTOPEN);
  }
  if (flags & SQLITE_OPEN_WAL) return SQLITE_CANTOPEN;
  if (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL)) {
    lf->mem = new MemFile();
    lf->base.pMethods = &kMemMethods;
    if (out_flags) *out_flags = flags;
    return SQLITE_OK;
  }
  // Temporary databases, statement journals.
  sqlite3_vfs* dflt = DefaultVfs();
  return dflt->xOpen(dflt, name, file, flags, out_flags);
}

int VfsDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (IsSideFile(name)) return SQLITE_OK;
  sqlite3_vfs* dflt = DefaultVfs();
  return dflt->xDelete(dflt, name, sync_dir);
}

int VfsAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  std::string s(name);
  if (IsSideFile(s)) {
    *out = 0;  // never a hot journal
    return SQLITE_OK;
  }
  if (s.rfind(Engine::kMemoryPrefix, 0) == 0) {
    *out = 1;
    return SQLITE_OK;
  }
  std::string store, branch;
  SplitStoreSpec(s, &store, &branch);
  sqlite3_vfs* dflt = DefaultVfs();
  return dflt->xAccess(dflt, store.c_str(), flags, out);
}

int VfsFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  std::string s(name);
  if (s.rfind(Engine::kMemoryPrefix, 0) != 0) {
    std::string store, branch;
    SplitStoreSpec(s, &store, &branch);
    std::vector<char> buf(n);
    sqlite3_vfs* dflt = DefaultVfs();
    int rc = dflt->xFullPathname(dflt, store.c_str(), n, buf.data());
    if (rc != SQLITE_OK && rc != SQLITE_OK_SYMLINK) return rc;
    s = buf.data();
    if (!branch.empty()) s += "@" + branch;
  }
  if (static_cast<int>(s.size()) >= n) return SQLITE_CANTOPEN;
  memcpy(out, s.c_str(), s.size() + 1);
  return SQLITE_OK;
}

void* VfsDlOpen(sqlite3_vfs*, const char* path) {
  return DefaultVfs()->xDlOpen(DefaultVfs(), path);
}
void VfsDlError(sqlite3_vfs*, int n, char* msg) {
  DefaultVfs()->xDlError(DefaultVfs(), n, msg);
}
void (*VfsDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return DefaultVfs()->xDlSym(DefaultVfs(), h, sym);
}
void VfsDlClose(sqlite3_vfs*, void* h) { DefaultVfs()->xDlClose(DefaultVfs(), h); }
int VfsRandomness(sqlite3_vfs*, int n, char* out) {
  return DefaultVfs()->xRandomness(DefaultVfs(), n, out);
}
int VfsSleep(sqlite3_vfs*, int us) { return DefaultVfs()->xSleep(DefaultVfs(), us); }
int VfsCurrentTime(sqlite3_vfs*, double* t) {
  return DefaultVfs()->xCurrentTime(DefaultVfs(), t);
}
int VfsGetLastError(sqlite3_vfs*, int n, char* msg) {
  return DefaultVfs()->xGetLastError(DefaultVfs(), n, msg);
}
int VfsCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) {
  return DefaultVfs()->xCurrentTimeInt64(DefaultVfs(), t);
}

}  // namespace

void SplitStoreSpec(const std::string& spec, std::string* store,
                    std::string* branch) {
  branch->clear();
  *store = spec;
  if (spec.rfind(Engine::kMemoryPrefix, 0) == 0) {
    size_t at = spec.find('@', strlen(Engine::kMemoryPrefix));
    if (at != std::string::npos) {
      *store = spec.substr(0, at);
      *branch = spec.substr(at + 1);
    }
    return;
  }
  struct stat st;
  if (stat(spec.c_str(), &st) == 0) return;  // an existing path, whole
  size_t at = spec.rfind('@');
  size_t slash = spec.rfind('/');
  if (at == std::string::npos || (slash != std::string::npos && slash > at)) {
    return;
  }
  *store = spec.substr(0, at);
  *branch = spec.substr(at + 1);
}

int RegisterLarixVfs() {
  static std::once_flag once;
  static int rc = SQLITE_OK;
  std::call_once(once, [] {
    static sqlite3_vfs vfs;
    sqlite3_vfs* dflt = DefaultVfs();
    memset(&vfs, 0, sizeof(vfs));
    vfs.iVersion = 2;
    vfs.szOsFile =
        std::max<int>(sizeof(LarixFile), dflt ? dflt->szOsFile : 0);
    vfs.mxPathname = 1024;
    vfs.zName = kVfsName;
    vfs.xOpen = VfsOpen;
    vfs.xDelete = VfsDelete;
    vfs.xAccess = VfsAccess;
    vfs.xFullPathname = VfsFullPathname;
    vfs.xDlOpen = VfsDlOpen;
    vfs.xDlError = VfsDlError;
    vfs.xDlSym = VfsDlSym;
    vfs.xDlClose = VfsDlClose;
    vfs.xRandomness = VfsRandomness;
    vfs.xSleep = VfsSleep;
    vfs.xCurrentTime = VfsCurrentTime;
    vfs.xGetLastError = VfsGetLastError;
    vfs.xCurrentTimeInt64 = VfsCurrentTimeInt64;
    rc = sqlite3_vfs_register(&vfs, 0);
  });
  return rc;
}

BranchFile* GetBranchFile(sqlite3* db, const char* schema) {
  BranchFile* f = nullptr;
  if (sqlite3_file_control(db, schema, kFcntlLarixFile, &f) != SQLITE_OK) {
    return nullptr;
  }
  return f;
}

Engine* BranchFileControl::engine(BranchFile* f) { return f->engine(); }
const std::string& BranchFileControl::branch(BranchFile* f) {
  return f->branch();
}
Status BranchFileControl::SwitchBranch(BranchFile* f,
                                       const std::string& branch) {
  return f->SwitchBranch(branch);
}
bool BranchFileControl::InWriteTransaction(BranchFile* f) {
  return f->in_write();
}
Result<BranchHead> BranchFileControl::CurrentHead(BranchFile* f) {
  if (f->lock() != SQLITE_LOCK_NONE) return f->snapshot();
  if (f->engine() == nullptr) {
    return Status::Busy("the store is held by another process");
  }
  return f->engine()->ReadHead(f->branch());
}
std::string BranchFileControl::LastError(BranchFile* f) {
  return f->last_error();
}
void BranchFileControl::SetExtraParents(BranchFile* f,
                                        std::vector<ObjectId> parents) {
  f->SetExtraParents(std::move(parents));
}
void BranchFileControl::NoteStatement(BranchFile* f, const char* sql) {
  f->NoteStatement(sql);
}
void BranchFileControl::SetCommitInfo(BranchFile* f, const std::string& author,
                                      const std::string& message) {
  f->SetCommitInfo(author, message);
}

}  // namespace larix
