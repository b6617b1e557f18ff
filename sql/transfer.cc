// Import of SQLite files into a branch, and export of a commit to a file
// (include/larix/transfer.h).
//
// Both are page copies that never go through SQLite: a Larix database file
// is the same sequence of pages as a SQLite file, page n of the file being
// page n-1 of the page tree.
//
// Import, in order:
//   1. Open the file read-only and take a SQLite SHARED lock on it, the way
//      SQLite's unix VFS does (read lock on PENDING_BYTE, read lock on the
//      SHARED range, drop PENDING_BYTE), but as an open-file-description
//      lock: closing our descriptor then cannot drop the POSIX locks of a
//      SQLite connection to the same file in this process (the classic
//      POSIX-lock pitfall).  While it is held no rollback-mode writer can
//      reach EXCLUSIVE, so the file cannot change.
//   2. Refuse a hot journal (FILE-journal, non-empty, first byte non-zero,
//      and nobody holds RESERVED: SQLite's own test) and a non-empty
//      FILE-wal: the file alone is then not the database.
//   3. Validate the 100-byte header: magic, page size, format versions,
//      payload fractions; the file size must be a multiple of the page size.
//   4. Read the pages in chunks of ImportOptions::chunk_bytes.  Every chunk
//      but the last is turned into page objects and tree nodes
//      (PageTree::Apply onto the tree built so far) and written with one
//      unsynced Backend::Apply.  The last chunk goes into Store::CommitPages
//      with the tree built so far as its base: pages, nodes, commit, ref
//      move and reflog in one synced write, which also makes the earlier
//      unsynced chunks durable (backend invariant 2: prefix semantics).
//      Memory use is one chunk, whatever the file size.
//   5. Before committing, check that the file did not change (size, mtime,
//      WAL) while it was read; WAL-mode writers do not take the lock of 1.
// Page 1's bytes 18 and 19 (file format write/read version) are stored as 1
// when the file has 2 (WAL): Larix never uses WAL.  No other byte changes.
//
// GC note.  The chunks written in step 4 are unreachable until the final
// commit, so a concurrent Store::Gc could sweep them.  Two things in the
// Store would make that safe, and the code here is ready for both:
//   a. GC marking walks a pinned id that is a tree root (today it marks
//      only commits' trees).  The tree under construction is pinned with
//      Store::PinCommit, its new root pinned before the batch that writes
//      it is applied, the old root released after.
//   b. Objects applied outside CommitPages are reported to a running GC
//      (StoreImpl::NoteWritten), e.g. through a Store method that applies
//      an object-only batch under the commit lock.
// Until then an import must not run concurrently with Gc on the same store
// (the `larix` command never does that; include/larix/transfer.h says so).
//
// Export writes every page of the commit's tree at its offset in
// "<out>.tmp" (absent pages stay zero: a sparse region), truncates the file
// to page count x page size, fsyncs it, renames it into place and fsyncs the
// directory.

#include "larix/transfer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "larix/sys/backend.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

// SQLite's file-locking bytes (sqlite3.c, os.h).
constexpr off_t kPendingByte = 0x40000000;
constexpr off_t kReservedByte = kPendingByte + 1;
constexpr off_t kSharedFirst = kPendingByte + 2;
constexpr off_t kSharedSize = 510;

constexpr char kMagic[] = "SQLite format 3";  // + the terminating NUL
constexpr size_t kHeaderSize = 100;
constexpr int kFileFormatWrite = 18;  // header offsets
constexpr int kFileFormatRead = 19;

std::string ErrnoText(int err) { return std::strerror(err); }

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Reads exactly `n` bytes at `offset`; a short read is an error.
Status PreadFully(int fd, const std::string& path, char* buf, size_t n,
                  uint64_t offset) {
  while (n > 0) {
    ssize_t r = pread(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("cannot read " + path + ": " + ErrnoText(errno));
    }
    if (r == 0) {
      return Status::Busy(path + " became shorter while it was read");
    }
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

Status PwriteFully(int fd, const std::string& path, const char* buf, size_t n,
                   uint64_t offset) {
  while (n > 0) {
    ssize_t r = pwrite(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC
                 ? Status::Full("cannot write " + path + ": " +
                                ErrnoText(errno))
                 : Status::IOError("cannot write " + path + ": " +
                                   ErrnoText(errno));
    }
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

// The size of the file at `path`, or nullopt if there is none.
std::optional<uint64_t> FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

// Page size from a database header: bytes 16..17, big-endian, 1 = 65536.
// 0 if the value is not a power of two in [512, 65536].
uint32_t HeaderPageSize(const unsigned char* h) {
  uint32_t v = uint32_t{h[16]} << 8 | h[17];
  if (v == 1) return 65536;
  if (v < 512 || v > 32768 || (v & (v - 1)) != 0) return 0;
  return v;
}

// A SQLite file opened for reading under a SQLite SHARED lock (step 1).
class SqliteFileReader {
 public:
  SqliteFileReader() = default;
  SqliteFileReader(const SqliteFileReader&) = delete;
  SqliteFileReader& operator=(const SqliteFileReader&) = delete;
  ~SqliteFileReader() {
    if (fd_ >= 0) close(fd_);  // drops our open-file-description locks only
  }

  Status Open(const std::string& path) {
    path_ = path;
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      int err = errno;
      if (err == ENOENT) return Status::NotFound("no such file: " + path);
      return Status::IOError("cannot open " + path + ": " + ErrnoText(err));
    }
    struct stat st;
    if (fstat(fd_, &st) != 0) {
      return Status::IOError("cannot stat " + path + ": " + ErrnoText(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      return Status::InvalidArgument(path + " is not a regular file");
    }
    return LockShared();
  }

  // Size and modification time now, to detect a change during the import.
  Status Stat(uint64_t* size, struct timespec* mtime) const {
    struct stat st;
    if (fstat(fd_, &st) != 0) {
      return Status::IOError("cannot stat " + path_ + ": " + ErrnoText(errno));
    }
    *size = static_cast<uint64_t>(st.st_size);
    *mtime = st.st_mtim;
    return Status::OK();
  }

  // True if another process holds SQLite's RESERVED lock (a live writer,
  // whose journal is therefore not hot).
  bool ReservedLockHeldElsewhere() const {
#ifdef F_OFD_GETLK
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = kReservedByte;
    fl.l_len = 1;
    if (fcntl(fd_, F_OFD_GETLK, &fl) != 0) return false;
    return fl.l_type != F_UNLCK;
#else
    return false;
#endif
  }

  Status Read(char* buf, size_t n, uint64_t offset) const {
    return PreadFully(fd_, path_, buf, n, offset);
  }

 private:
  Status LockShared() {
#ifdef F_OFD_SETLK
    auto lock = [&](short type, off_t start, off_t len) {
      struct flock fl = {};
      fl.l_type = type;
      fl.l_whence = SEEK_SET;
      fl.l_start = start;
      fl.l_len = len;
      return fcntl(fd_, F_OFD_SETLK, &fl) == 0;
    };
    auto busy = [&] {
      return Status::Busy(path_ +
                          " is being written by another process; try again "
                          "when it has committed");
    };
    if (!lock(F_RDLCK, kPendingByte, 1)) return busy();
    bool shared = lock(F_RDLCK, kSharedFirst, kSharedSize);
    lock(F_UNLCK, kPendingByte, 1);
    if (!shared) return busy();
#endif
    return Status::OK();
  }

  std::string path_;
  int fd_ = -1;
};

// Step 2: the file alone must be the whole database.
Status CheckNoPendingJournal(const std::string& path,
                             const SqliteFileReader& file) {
  std::string journal = path + "-journal";
  std::optional<uint64_t> jsize = FileSize(journal);
  if (jsize && *jsize > 0 && !file.ReservedLockHeldElsewhere()) {
    int fd = open(journal.c_str(), O_RDONLY | O_CLOEXEC);
    char first = 0;
    if (fd >= 0) {
      if (pread(fd, &first, 1, 0) != 1) first = 0;
      close(fd);
    }
    if (first != 0) {
      return Status::Busy(
          path + " has a hot journal (" + journal +
          "): a writer crashed before finishing a transaction.  Let SQLite "
          "roll it back first, e.g. `sqlite3 " +
          path + " 'PRAGMA integrity_check'`, then import again");
    }
  }
  std::string wal = path + "-wal";
  std::optional<uint64_t> wsize = FileSize(wal);
  if (wsize && *wsize > 0) {
    return Status::Busy(
        path + " has changes in " + wal +
        " that are not in the database file yet.  Checkpoint them first, "
        "e.g. `sqlite3 " +
        path + " 'PRAGMA wal_checkpoint(TRUNCATE)'`, then import again");
  }
  return Status::OK();
}

// Step 3.  *page_size receives the page size (0 for an empty file).
Status ValidateHeader(const std::string& path, const SqliteFileReader& file,
                      uint64_t file_size, uint32_t* page_size) {
  *page_size = 0;
  if (file_size == 0) return Status::OK();  // SQLite's empty database
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(path + " is not a SQLite database: " + why);
  };
  if (file_size < kHeaderSize) return bad("shorter than a database header");
  unsigned char h[kHeaderSize];
  LARIX_RETURN_IF_ERROR(
      file.Read(reinterpret_cast<char*>(h), kHeaderSize, 0));
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) {
    return bad("the header does not start with \"SQLite format 3\"");
  }
  uint32_t ps = HeaderPageSize(h);
  if (ps == 0) {
    return bad("invalid page size " + std::to_string(h[16] << 8 | h[17]));
  }
  for (int off : {kFileFormatWrite, kFileFormatRead}) {
    if (h[off] != 1 && h[off] != 2) {
      return Status::NotSupported(
          path + " uses SQLite file format version " + std::to_string(h[off]) +
          " (byte " + std::to_string(off) + "); Larix reads versions 1 and 2");
    }
  }
  if (h[21] != 64 || h[22] != 32 || h[23] != 32) {
    return bad("invalid payload fractions in bytes 21..23");
  }
  if (file_size % ps != 0) {
    return bad("its size (" + std::to_string(file_size) +
               " bytes) is not a multiple of its page size (" +
               std::to_string(ps) + ")");
  }
  if (file_size / ps > uint64_t{PageTree::kMaxPageNumber} + 1) {
    return bad("too many pages");
  }
  *page_size = ps;
  return Status::OK();
}

// The full branch ref `branch` names (aliases followed), which must be
// under refs/heads/.
Result<std::string> BranchRefFor(Store* store, const std::string& branch) {
  std::string b = branch.empty() ? std::string(kDefaultBranch) : branch;
  std::string name;
  if (b.rfind("refs/", 0) == 0) {
    name = b;
  } else {
    LARIX_RETURN_IF_ERROR(ValidateShortName(b));
    name = store->refs()->Read(AliasRef(b)).ok() ? AliasRef(b) : BranchRef(b);
  }
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  LARIX_ASSIGN_OR_RETURN(std::string ref, store->refs()->ResolveName(name));
  if (!IsBranchRef(ref)) {
    return Status::InvalidArgument(QuoteRefName(b) + " does not name a branch");
  }
  return ref;
}

}  // namespace

Status CheckSqliteFile(const std::string& sqlite_path) {
  SqliteFileReader file;
  LARIX_RETURN_IF_ERROR(file.Open(sqlite_path));
  LARIX_RETURN_IF_ERROR(CheckNoPendingJournal(sqlite_path, file));
  uint64_t size;
  struct timespec mtime;
  LARIX_RETURN_IF_ERROR(file.Stat(&size, &mtime));
  uint32_t page_size;
  return ValidateHeader(sqlite_path, file, size, &page_size);
}

Status ImportSqliteFile(const std::string& sqlite_path, Store* store,
                        const std::string& branch, const ImportOptions& options,
                        CommitResult* out) {
  // The target first: a wrong branch fails before the file is read.
  LARIX_ASSIGN_OR_RETURN(std::string ref, BranchRefFor(store, branch));
  ObjectId head;
  Result<ObjectId> resolved = store->refs()->Resolve(ref);
  if (resolved.ok()) {
    head = *resolved;
    LARIX_ASSIGN_OR_RETURN(auto commit, store->commits()->Load(head));
    if (!commit->tree.IsNull() && !options.force) {
      return Status::AlreadyExists(
          "branch '" + std::string(ShortRefName(ref)) +
          "' already holds a database (head " + head.ShortHex() +
          "); import into a new or empty branch, or force the import to "
          "replace its content (larix import --force)");
    }
  } else if (!resolved.status().IsNotFound()) {
    return resolved.status();
  }

  SqliteFileReader file;
  LARIX_RETURN_IF_ERROR(file.Open(sqlite_path));
  LARIX_RETURN_IF_ERROR(CheckNoPendingJournal(sqlite_path, file));
  uint64_t size0;
  struct timespec mtime0;
  LARIX_RETURN_IF_ERROR(file.Stat(&size0, &mtime0));
  uint32_t page_size;
  LARIX_RETURN_IF_ERROR(ValidateHeader(sqlite_path, file, size0, &page_size));
  uint64_t npages = page_size ? size0 / page_size : 0;

  size_t chunk_pages = std::max<size_t>(
      1, options.chunk_bytes / std::max<uint32_t>(page_size, 1));
  ObjectId root;  // the tree built so far, without the last chunk
  std::unique_ptr<Store::Pin> pin;
  std::vector<PageWrite> pages;
  std::string buf;
  for (uint64_t first = 0; first < npages; first += chunk_pages) {
    uint64_t count = std::min<uint64_t>(chunk_pages, npages - first);
    buf.resize(count * page_size);
    LARIX_RETURN_IF_ERROR(file.Read(buf.data(), buf.size(), first * page_size));
    pages.clear();
    pages.reserve(count);
    for (uint64_t i = 0; i < count; i++) {
      pages.push_back({static_cast<uint32_t>(first + i),
                       buf.substr(i * page_size, page_size), ObjectId()});
    }
    if (first == 0) {
      // WAL (2) -> legacy (1); see the file comment.
      pages[0].bytes[kFileFormatWrite] = 1;
      pages[0].bytes[kFileFormatRead] = 1;
    }
    if (first + count == npages) break;  // the last chunk goes in the commit

    WriteBatch batch;
    std::vector<std::pair<uint32_t, ObjectId>> sets;
    sets.reserve(pages.size());
    for (const PageWrite& p : pages) {
      sets.emplace_back(p.pgno,
                        store->odb()->Stage(&batch, EncodePage(p.bytes)));
    }
    LARIX_ASSIGN_OR_RETURN(
        ObjectId next,
        store->trees()->Apply(root, sets, std::nullopt, &batch));
    std::unique_ptr<Store::Pin> next_pin = store->PinCommit(next);
    LARIX_RETURN_IF_ERROR(store->WriteObjects(batch, /*sync=*/false));
    root = next;
    pin = std::move(next_pin);
    if (options.progress) options.progress(first + count, npages);
  }

  // Step 5: the bytes read must be one state of the file.
  uint64_t size1;
  struct timespec mtime1;
  LARIX_RETURN_IF_ERROR(file.Stat(&size1, &mtime1));
  if (size1 != size0 || mtime1.tv_sec != mtime0.tv_sec ||
      mtime1.tv_nsec != mtime0.tv_nsec) {
    return Status::Busy(sqlite_path +
                        " changed while it was imported; nothing was "
                        "committed.  Import it when no one is writing to it");
  }
  LARIX_RETURN_IF_ERROR(CheckNoPendingJournal(sqlite_path, file));

  CommitRequest req;
  req.ref = ref;
  req.expected_head = head;
  req.base_tree = root;
  req.pages = std::move(pages);
  req.author = options.author;
  req.message = options.message.empty() ? "Import " + BaseName(sqlite_path)
                                        : options.message;
  req.sync = true;
  Result<CommitResult> res = store->CommitPages(req);
  if (!res.ok()) return res.status();
  if (options.progress) options.progress(npages, npages);
  if (out != nullptr) *out = *res;
  return Status::OK();
}

Status ExportToSqliteFile(Store* store, const ObjectId& commit,
                          const std::string& out_path,
                          const ExportOptions& options, ExportStats* stats) {
  ExportStats local;
  ExportStats* st = stats ? stats : &local;
  *st = ExportStats();
  LARIX_ASSIGN_OR_RETURN(auto c, store->commits()->Load(commit));

  struct stat sb;
  if (lstat(out_path.c_str(), &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      return Status::InvalidArgument(out_path + " is a directory");
    }
    if (!options.force) {
      return Status::AlreadyExists(out_path +
                                   " already exists; not overwriting it");
    }
  }
  // SQLite would roll a hot journal (or replay a WAL) left beside the path
  // into the new file and corrupt it.
  for (const char* suffix : {"-journal", "-wal"}) {
    std::optional<uint64_t> n = FileSize(out_path + suffix);
    if (n && *n > 0) {
      return Status::AlreadyExists(
          out_path + suffix + " exists; SQLite would apply it to the exported "
                              "file.  Move it away first");
    }
  }

  PageTree* trees = store->trees();
  LARIX_ASSIGN_OR_RETURN(uint32_t npages, trees->PageCount(c->tree));
  uint32_t page_size = 0;
  if (npages > 0) {
    LARIX_ASSIGN_OR_RETURN(ObjectId id0, trees->Get(c->tree, 0));
    if (id0.IsNull()) {
      return Status::Corruption("commit " + commit.ToHex() + " has no page 1");
    }
    LARIX_ASSIGN_OR_RETURN(Odb::Object obj, store->odb()->Read(id0));
    LARIX_ASSIGN_OR_RETURN(std::string_view p1, DecodePage(*obj));
    if (p1.size() >= kHeaderSize) {
      page_size =
          HeaderPageSize(reinterpret_cast<const unsigned char*>(p1.data()));
    }
    if (page_size == 0 || page_size != p1.size()) {
      return Status::Corruption("page 1 of commit " + commit.ToHex() +
                                " does not hold a valid database header");
    }
  }

  std::string tmp = out_path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("cannot create " + tmp + ": " + ErrnoText(errno));
  }
  auto fail = [&](Status s) {
    close(fd);
    unlink(tmp.c_str());
    return s;
  };

  Status s;
  uint64_t written = 0;
  Status walk = trees->ForEach(c->tree, [&](uint32_t pgno, const ObjectId& id) {
    Result<Odb::Object> obj = store->odb()->Read(id);
    if (!obj.ok()) {
      s = obj.status();
      return false;
    }
    Result<std::string_view> bytes = DecodePage(**obj);
    if (!bytes.ok()) {
      s = bytes.status();
      return false;
    }
    if (bytes->size() != page_size) {
      s = Status::Corruption("page " + std::to_string(pgno + 1) + " (" +
                             id.ToHex() + ") has " +
                             std::to_string(bytes->size()) +
                             " bytes; the database page size is " +
                             std::to_string(page_size));
      return false;
    }
    s = PwriteFully(fd, tmp, bytes->data(), bytes->size(),
                    uint64_t{pgno} * page_size);
    if (!s.ok()) return false;
    written++;
    if (options.progress && (written & 255) == 0) {
      options.progress(pgno + 1, npages);
    }
    return true;
  });
  if (!walk.ok()) return fail(walk);
  if (!s.ok()) return fail(s);

  uint64_t file_bytes = uint64_t{npages} * page_size;
  if (ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) {
    return fail(
        Status::IOError("cannot size " + tmp + ": " + ErrnoText(errno)));
  }
  if (fsync(fd) != 0) {
    return fail(
        Status::IOError("cannot sync " + tmp + ": " + ErrnoText(errno)));
  }
  if (close(fd) != 0) {
    unlink(tmp.c_str());
    return Status::IOError("cannot close " + tmp + ": " + ErrnoText(errno));
  }

  int rc;
#ifdef RENAME_NOREPLACE
  rc = options.force ? rename(tmp.c_str(), out_path.c_str())
                     : renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD,
                                 out_path.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // The file system cannot refuse to replace; we checked above.
    rc = rename(tmp.c_str(), out_path.c_str());
  }
#else
  rc = rename(tmp.c_str(), out_path.c_str());
#endif
  if (rc != 0) {
    int err = errno;
    unlink(tmp.c_str());
    if (err == EEXIST) {
      return Status::AlreadyExists(out_path +
                                   " already exists; not overwriting it");
    }
    return Status::IOError("cannot rename " + tmp + " to " + out_path + ": " +
                           ErrnoText(err));
  }
  std::string dir = DirName(out_path);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int sync_rc = fsync(dfd);
    int err = errno;
    close(dfd);
    if (sync_rc != 0) {
      return Status::IOError("cannot sync directory " + dir + ": " +
                             ErrnoText(err));
    }
  }
  if (options.progress) options.progress(npages, npages);
  st->pages = npages;
  st->page_size = page_size;
  st->bytes = file_bytes;
  return Status::OK();
}

}  // namespace larix
