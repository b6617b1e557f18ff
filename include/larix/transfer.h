// Moving databases between plain SQLite files and a Larix store.
//
//   larix::CommitResult imported;
//   Status s =
//       larix::ImportSqliteFile("shop.db", store, "main", {}, &imported);
//   ...
//   s = larix::ExportToSqliteFile(store, imported.commit, "copy.db", {});
//
// A Larix branch's database file is a sequence of SQLite pages, so moving a
// database in or out is a page copy: an import commits every page of the
// file, byte for byte, as one commit; an export writes every page of a
// commit's tree to a new file.  Neither goes through SQLite.
//
// The one byte change: SQLite files in WAL mode say so in header bytes 18
// and 19 (value 2).  Larix does not use WAL, so an import stores 1 (legacy
// rollback journal) there; every other byte is the file's.  An exported file
// is therefore always in rollback-journal mode (`PRAGMA journal_mode=WAL`
// switches it back).
//
// Thread-safety: both functions may run concurrently with SQL connections
// on the same store.  ImportSqliteFile writes its pages in several backend
// writes before the commit that makes them reachable; until the Store gives
// it a way to protect those objects from a concurrent Store::Gc (see the
// note in sql/transfer.cc), do not run Gc on the store while an import runs.

#ifndef LARIX_TRANSFER_H_
#define LARIX_TRANSFER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "larix/object_id.h"
#include "larix/status.h"
#include "larix/store.h"

namespace larix {

// Called now and then with the pages done so far and the total.  Called on
// the caller's thread; must not call back into the store.
using TransferProgress = std::function<void(uint64_t done, uint64_t total)>;

struct ImportOptions {
  // Allow importing onto a branch whose database is not empty.  The file
  // then replaces the branch's content in a new commit whose parent is the
  // old head (history is kept).
  bool force = false;
  // Author and message of the commit; empty: the store's default author and
  // "Import <file name>".
  std::string author;
  std::string message;
  TransferProgress progress;
  // Pages are read and written to the backend in chunks of about this many
  // bytes, so memory use does not grow with the file.
  size_t chunk_bytes = 16 << 20;
};

// Imports the SQLite database file at `sqlite_path` into `branch` of
// `store` ("" = main; a short branch name, an alias, or "refs/heads/...")
// as one commit holding all of the file's pages.  A branch that does not
// exist is created with the import as its first (parentless) commit;
// otherwise the commit's parent is the branch head.
//
// The file is only read (never written, never locked for writing).  While
// it is read, a SQLite SHARED lock is held on it (open file description
// lock, compatible with SQLite's POSIX locks), so a SQLite writer in
// another process cannot change it under the import.
//
// Errors:
//   NotFound         no such file.
//   InvalidArgument  not a SQLite database (magic, page size, file size not
//                    a multiple of the page size, ...), naming the problem;
//                    a branch name that is not valid or not a branch.
//   Busy             the file has a hot journal (FILE-journal: a crashed
//                    writer's transaction must be rolled back first) or an
//                    un-checkpointed WAL (FILE-wal not empty), or a writer
//                    holds it; the message says what to run with the
//                    sqlite3 tool.  Also: the file changed during the import.
//   AlreadyExists    the branch holds a non-empty database and !force.
//   Conflict         the branch moved while importing (nothing committed).
//   IOError          reading the file failed; anything the store returns.
// On error nothing is committed (objects already written are unreachable
// and go at the next GC).
Status ImportSqliteFile(const std::string& sqlite_path, Store* store,
                        const std::string& branch, const ImportOptions& options,
                        CommitResult* out);

// Checks, without touching any store, that the file at `sqlite_path` could
// be imported now: it exists, is a SQLite database with a valid header, has
// no hot journal and no un-checkpointed WAL, and no writer holds it.
// Errors as for ImportSqliteFile.
Status CheckSqliteFile(const std::string& sqlite_path);

struct ExportOptions {
  // Replace `out_path` if it exists.
  bool force = false;
  TransferProgress progress;
};

struct ExportStats {
  uint64_t pages = 0;
  uint32_t page_size = 0;  // 0 for an empty database
  uint64_t bytes = 0;      // size of the written file
};

// Writes the database of `commit` (a commit id; see Store::ResolveRevision)
// to a new SQLite file at `out_path`.  The pages are written to
// "<out_path>.tmp", synced, and renamed into place, and the directory is
// synced: `out_path` is either absent or complete, never partial.  The
// result opens in any SQLite.  An empty database becomes an empty file.
//
// Errors:
//   AlreadyExists    `out_path` exists and !force; or a non-empty
//                    "<out_path>-journal" / "-wal" exists, which SQLite
//                    would apply to the new file (never overwritten).
//   NotFound         `commit` or an object of its tree is missing.
//   Corruption       a page of the tree is damaged or has the wrong size.
//   IOError          writing the file failed (the .tmp file is removed).
// `stats` may be null.
Status ExportToSqliteFile(Store* store, const ObjectId& commit,
                          const std::string& out_path,
                          const ExportOptions& options,
                          ExportStats* stats = nullptr);

}  // namespace larix

#endif  // LARIX_TRANSFER_H_
