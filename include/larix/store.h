// Store: an open Larix store, the storage core's front door.
//
// A store is a directory:
//
//   STORE/LARIX        format marker: "larix-store <format> <backend>\n"
//   STORE/larix.lock   process lock; holds the owner's pid and command
//   STORE/db/          the backend's files (pack files + LevelDB index, or
//                      a LevelDB database)
//
// or a private in-memory store (OpenInMemory) for tests and ":memory:".
//
// The Store ties objects/ (Odb, PageTree, CommitGraph) and refs/ (RefDb)
// together and owns the one path by which a transaction becomes history:
// CommitPages() writes the changed pages, the new tree nodes, the commit
// object, the ref move and its reflog entry in ONE Backend::Apply, synced
// unless asked otherwise.  That Apply is the commit point (docs/
// architecture.md, "The commit point").
//
// Only one process may open a store at a time; a second gets Busy naming
// the holder's pid.  Within a process, many threads share one Store.
//
// Thread-safety: all methods may be called concurrently.  Commits are
// serialised by an internal commit lock, held only for the Apply.

#ifndef LARIX_STORE_H_
#define LARIX_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "larix/commit.h"
#include "larix/object_id.h"
#include "larix/status.h"

namespace leveldb {
class Env;
}

namespace larix {

class Backend;
class CommitGraph;
class Odb;
class PageTree;
class RefDb;
class RefTransaction;
class StoreImpl;
class WriteBatch;

// 2: pages may be stored as deltas (docs/decisions/0007-page-deltas.md).
inline constexpr uint32_t kStoreFormatVersion = 2;
inline constexpr char kDefaultBranch[] = "main";

struct StoreOptions {
  bool create_if_missing = false;
  bool error_if_exists = false;
  // "pack" (default: see docs/decisions/0001-object-backend.md) or
  // "leveldb".  Only used when the store is created.
  std::string backend;
  // File access for on-disk backends; tests inject faults through it.
  leveldb::Env* env = nullptr;
  // Memory for caches, all of them: decoded pages (3/4), decoded page-tree
  // nodes (1/8) and the object index's block cache (1/8).  A process's
  // peak memory is this plus about 20 MB per writing connection that do
  // not grow with the store or the transaction: a transaction's overlay
  // spills to the store past 16 MiB, in 1 MiB slices (docs/architecture.md,
  // "Large transactions").
  size_t cache_bytes = 32 << 20;
  // Microseconds since the epoch; tests substitute a fake clock.
  std::function<int64_t()> clock;
  // Author recorded in commits when the caller gives none.
  std::string default_author;
};

// A page to write in a commit: its 0-based number and its bytes.
struct PageWrite {
  PageWrite(uint32_t pgno, std::string bytes, ObjectId id = ObjectId(),
            ObjectId base = ObjectId())
      : pgno(pgno), bytes(std::move(bytes)), id(id), base(base) {}

  uint32_t pgno;
  std::string bytes;
  // Instead of `bytes`: the page object, EncodePage(bytes), which the
  // store hashes, stores and caches without copying it.
  std::shared_ptr<const std::string> object;
  // The id of EncodePage(bytes), when the caller has computed it already
  // (saves hashing the page twice); null: computed here.
  ObjectId id;
  // The id of the page object this write replaces (the page's version in
  // the base tree), or null.  A page whose id turns out to be its base's
  // was written back unchanged and is skipped.  If the base is in the
  // object cache, the page may be stored as a delta against it
  // (docs/decisions/0007-page-deltas.md).
  ObjectId base;
};

struct CommitRequest {
  std::string ref;              // full ref name, e.g. "refs/heads/main"
  ObjectId expected_head;       // compare-and-swap: the head the pages
                                // were computed against
  ObjectId base_tree;           // the tree of expected_head
  std::vector<PageWrite> pages;
  std::optional<uint32_t> truncate_to;  // page count after the change
  std::vector<ObjectId> extra_parents;  // merge parents after the first
  // Set: the commit's tree is this (already stored) tree, and `pages` and
  // `truncate_to` must be empty.
  std::optional<ObjectId> tree;
  // Refs deleted in the same atomic write (a finished merge's state).
  std::vector<std::string> delete_refs;
  // Set: if the new tree equals this one, nothing is written and the
  // result's commit is expected_head with txn 0 (SQLite's rollback of a
  // transaction that had spilled pages ends with a sync, too).  The same
  // when base_tree is this tree, nothing is truncated, and every page is
  // unchanged.
  std::optional<ObjectId> unchanged_if_tree;
  std::string author;
  std::string message;
  bool sync = true;  // durable before return (PRAGMA synchronous=FULL)
};

struct CommitResult {
  ObjectId commit;
  ObjectId tree;
  uint64_t txn = 0;
  uint64_t ref_version = 0;  // ref_version() right after this commit
  // The id of each of the request's pages, in its order (an unchanged
  // page's is its base); empty when the request gave a tree.
  std::vector<ObjectId> page_ids;
};

struct GcOptions {
  // Reflog entries (and so the history they reach) younger than this are
  // kept; older ones are expired.  Unset: the store's history retention
  // (Store::history_retention_us).
  std::optional<int64_t> retention_us;
  std::function<void(const std::string& phase, uint64_t done,
                     uint64_t total)>
      progress;
};

struct GcStats {
  uint64_t objects_before = 0;
  uint64_t marked = 0;
  uint64_t swept = 0;
  uint64_t reflog_entries_expired = 0;
  double mark_seconds = 0;
  double sweep_seconds = 0;
};

struct FsckProblem {
  std::string where;  // "object 3fa9…", "ref refs/heads/dev"
  std::string what;   // "hash mismatch", "parent 1b2c… is missing"
};

struct FsckReport {
  uint64_t objects_checked = 0;
  uint64_t refs_checked = 0;
  std::vector<FsckProblem> problems;
  bool ok() const { return problems.empty(); }
};

class Store {
 public:
  // Opens (or with create_if_missing, creates) the store at `dir`.
  // Errors: NotFound (no such store and not asked to create),
  // InvalidArgument (the directory is not a Larix store), NotSupported
  // (written by a newer format), Busy (another process holds it, named),
  // IOError/Corruption from the backend.
  static Status Open(const std::string& dir, const StoreOptions& options,
                     std::unique_ptr<Store>* out);

  // A private, versioned store in memory.  Never fails.
  static std::unique_ptr<Store> OpenInMemory(const StoreOptions& options = {});

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const;  // "" for in-memory stores
  bool in_memory() const;
  int64_t NowMicros() const;
  const std::string& default_author() const;

  // The layers below.  Internal headers (objects/, refs/) declare them.
  Backend* backend();
  Odb* odb();
  PageTree* trees();
  CommitGraph* commits();
  RefDb* refs();

  // The commit point of a SQL transaction.  Conflict if `ref` is no longer
  // at expected_head (nothing is written).
  Result<CommitResult> CommitPages(const CommitRequest& request);

  // Applies a batch of objects that no ref reaches yet (an import building
  // its tree in chunks), under the commit lock so that a running GC never
  // sweeps them.  Pin the tree root they belong to (PinCommit accepts a
  // tree root too) until a commit reaches it.
  Status WriteObjects(const WriteBatch& batch, bool sync);

  // Moves refs (branch create/drop/rename, aliases, tags) atomically, with
  // reflog entries, synced.
  Status UpdateRefs(const RefTransaction& tx);
  // The same, also applying `records` (record puts/deletes only) in the
  // same atomic write: branch metadata moves with its branch.
  Status UpdateRefs(const RefTransaction& tx, const WriteBatch& records);

  // Writes a tag object and its ref in one atomic write.
  Result<ObjectId> CreateTag(const std::string& name, const ObjectId& target,
                             const std::string& message, bool force);

  // The store-wide number of the newest transaction committed.
  uint64_t last_txn();

  // Incremented after every successful ref change made through this Store;
  // lets callers cache ref resolutions cheaply.
  uint64_t ref_version() const;

  // Resolves a user-facing revision: a branch, tag, alias or full ref name,
  // or an object id prefix (>= 4 hex digits), to a commit id.  A tag
  // resolves to the commit it names.
  Result<ObjectId> ResolveRevision(const std::string& rev);

  // A read snapshot kept alive against GC while the Pin lives.  `commit`
  // may also be a tree root.
  class Pin {
   public:
    virtual ~Pin() = default;
  };
  std::unique_ptr<Pin> PinCommit(const ObjectId& commit);

  // Garbage collection: safe while the store is in use (docs/gc.md).
  Status Gc(const GcOptions& options, GcStats* stats);

  // Re-hashes every object and checks every edge and ref.  A problem found
  // is reported in *report, not as an error; the Status is for failures
  // to run at all.
  Status Fsck(FsckReport* report,
              const std::function<void(uint64_t done, uint64_t total)>&
                  progress = nullptr);

  // How far back history is kept and AS OF may reach: GC's default
  // retention and the horizon of time travel.  Stored in the store (record
  // "s/retention_us"); 30 days unless set.
  int64_t history_retention_us();
  // InvalidArgument if negative.
  Status SetHistoryRetention(int64_t retention_us);

  // Makes every commit applied so far durable (group commit).
  Status Sync();

 private:
  explicit Store(std::unique_ptr<StoreImpl> impl);
  std::unique_ptr<StoreImpl> impl_;
};

}  // namespace larix

#endif  // LARIX_STORE_H_
