// Engine: the per-process state of one open store that every SQLite
// connection on it shares.
//
// A store may be opened by one process at a time (the Store's lock), but by
// many connections in that process.  The Engine registry maps a store's
// canonical path (or an in-memory store's name) to one Engine, created on
// first use and destroyed when its last connection closes.
//
// The Engine also holds what the VFS needs to give SQLite its locking
// semantics on top of branches (docs/architecture.md, "Transactions"):
//   1. At most one writer per branch: the writer token, taken when SQLite
//      asks for a RESERVED lock, dropped when the write transaction ends.
//      Writers on different branches do not contend.
//   2. Readers never wait: a read transaction works on the head commit it
//      saw when it began (its snapshot).
//   3. Head look-ups are cached and revalidated with Store::ref_version(),
//      so starting a read transaction costs no backend read.

#ifndef LARIX_SQL_ENGINE_H_
#define LARIX_SQL_ENGINE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "larix/store.h"

namespace larix {

// What a branch name resolves to at one moment.
struct BranchHead {
  std::string ref;  // full name of the branch ref, aliases followed; for a
                    // fixed snapshot, "commit:<hex>"
  ObjectId commit;
  ObjectId tree;
  bool read_only = false;  // a fixed snapshot: no writes
};

// Names a connection can be opened on besides branches: "commit:<hex>" is a
// read-only snapshot of one commit (time travel reads through these).
inline constexpr char kCommitSpecPrefix[] = "commit:";

// A manual merge in progress into branch B keeps its state at
// refs/merging/B and the commit being merged at refs/merge-sources/B.
inline constexpr char kMergingPrefix[] = "refs/merging/";
inline constexpr char kMergeSourcePrefix[] = "refs/merge-sources/";

// What a snapshot's VFS file needs to know about its commit, computed once
// per commit (Engine::Describe) rather than at every read transaction.
struct SnapshotInfo {
  uint32_t page_count = 0;
  uint32_t page_size = 0;                 // 0: empty database
  std::shared_ptr<const std::string> page1;  // canonical page object
  uint32_t stored_counter = 0;            // header bytes 24..27
  uint32_t stored_cookie = 0;             // header bytes 40..43
};

class Engine {
 public:
  // The Engine for the store at `path` (or, for names starting with
  // kMemoryPrefix, the in-memory store of that name), opening or creating
  // the store as needed.  Errors are those of Store::Open.
  static Result<std::shared_ptr<Engine>> Acquire(const std::string& path,
                                                 bool create);

  // Names of in-memory stores start with this.
  static constexpr char kMemoryPrefix[] = "larix-memory:";

  explicit Engine(std::unique_ptr<Store> store);

  // Registers an already open store under `name`, so connections opened on
  // that name use it (tests inject stores with fault-injecting Envs this
  // way).  AlreadyExists if the name is in use.  The store lives while the
  // returned Engine or any connection on it does.
  static Result<std::shared_ptr<Engine>> Adopt(const std::string& name,
                                               std::unique_ptr<Store> store);

  Store* store() { return store_.get(); }

  // The name this store was opened under: its path, or an in-memory
  // store's "larix-memory:..." name.  OpenDatabase(name() + "@" + branch)
  // reaches it again.
  const std::string& name() const { return name_; }

  // Resolves a branch name as a connection names it: an alias (followed),
  // a branch short name, or a full ref name.  NotFound names the branch.
  Result<BranchHead> ReadHead(const std::string& branch);

  // Caches `head` as what `branch` resolved to at ref_version `version`
  // (a commit just made), so the next transaction need not read it back.
  void RememberHead(const std::string& branch, const BranchHead& head,
                    uint64_t version);

  // The ref a name means, without reading its value: aliases followed.
  Result<std::string> ResolveBranchRef(const std::string& branch);

  // The SnapshotInfo of `tree` (cached; trees are immutable).  Corruption
  // for a malformed page 1.
  Result<std::shared_ptr<const SnapshotInfo>> Describe(const ObjectId& tree);

  // The writer token of a branch (rule 1).  Non-blocking.
  bool TryAcquireWriter(const std::string& ref, const void* owner);
  void ReleaseWriter(const std::string& ref, const void* owner);
  bool HasWriter(const std::string& ref);

 private:
  std::unique_ptr<Store> store_;
  std::string name_;

  std::mutex mu_;
  std::map<std::string, const void*> writers_;  // ref -> owning file
  struct CachedHead {
    uint64_t version;
    BranchHead head;
  };
  std::map<std::string, CachedHead> heads_;  // by the name asked for
  std::map<ObjectId, std::shared_ptr<const SnapshotInfo>> snapshots_;
};

}  // namespace larix

#endif  // LARIX_SQL_ENGINE_H_
