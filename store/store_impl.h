// StoreImpl: the state behind larix::Store (include/larix/store.h).
//
// Locking:
//   commit_mu_  serialises everything that applies objects or moves refs:
//               CommitPages, UpdateRefs, CreateTag, and GC's sweep batches.
//               Held across the one Backend::Apply of a commit, so
//               transaction numbers are allocated in commit order.
//   pins_mu_    guards pins_, the commits open readers are using.
//
// GC and concurrent commits (docs/gc.md): while gc_active_, every id a
// commit applies is added to gc_written_ (under commit_mu_), and the sweep
// never deletes such an id.

#ifndef LARIX_STORE_STORE_IMPL_H_
#define LARIX_STORE_STORE_IMPL_H_

#include <atomic>
#include <map>
#include <mutex>
#include <unordered_set>

#include "larix/store.h"
#include "larix/sys/backend.h"
#include "objects/commit_graph.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "store/process_lock.h"

namespace larix {

// Record keys the store itself owns (refs/ owns "r"/"l"-style prefixes;
// see docs/format.md).
inline constexpr char kTxnCounterKey[] = "s/txn";
inline constexpr char kRetentionKey[] = "s/retention_us";
inline constexpr int64_t kDefaultRetentionUs = 30LL * 24 * 3600 * 1000000;

class StoreImpl {
 public:
  StoreImpl(std::string path, std::unique_ptr<ProcessLock> lock,
            std::unique_ptr<Backend> backend, const StoreOptions& options);

  // Creates the initial commit and refs of a new store.
  Status Initialize();
  // Reads the counters of an existing store.
  Status Load();

  Result<CommitResult> CommitPages(const CommitRequest& req);
  // Pages a commit wrote, to be cached once they are stored (at most
  // about half the object cache's worth: more would only evict itself).
  struct FreshPage {
    ObjectId id;
    Odb::Object canonical;
    int depth;  // of the stored form (Odb::Prepared::depth)
  };
  struct FreshPages {
    std::vector<FreshPage> pages;
    size_t bytes = 0;
  };
  // Stages req.pages[begin, end) as page objects, compressed (if at all)
  // at `zstd_level`, on the worker pool when there are many: hashes those
  // the caller did not, skips those whose id is their base's (written back
  // unchanged), and stores a page as a delta against its base when that is
  // cached.  Sets ids[i] for each page i, appends (pgno, id) of the pages
  // staged to *sets, and adds pages to `fresh` while that has room.  Once
  // ids and *sets are complete, runs `meanwhile` on this thread while a
  // helper goes on encoding; `meanwhile` may add to `batch`, before the
  // pages.
  void StagePages(WriteBatch* batch, const CommitRequest& req, size_t begin,
                  size_t end, int zstd_level,
                  std::vector<std::pair<uint32_t, ObjectId>>* sets,
                  std::vector<ObjectId>* ids, FreshPages* fresh,
                  const std::function<void()>& meanwhile = nullptr);
  void RememberPages(FreshPages* fresh);
  Status UpdateRefs(const RefTransaction& tx, const WriteBatch* records);
  Result<ObjectId> CreateTag(const std::string& name, const ObjectId& target,
                             const std::string& message, bool force);
  Result<ObjectId> ResolveRevision(const std::string& rev);
  std::unique_ptr<Store::Pin> PinCommit(const ObjectId& commit);
  Status Gc(const GcOptions& options, GcStats* stats);
  Status Fsck(FsckReport* report,
              const std::function<void(uint64_t, uint64_t)>& progress);
  int64_t NowMicros() const;
  int64_t HistoryRetention();

  // Applies `batch` (objects and maybe refs) under commit_mu_, recording
  // its object ids for a running GC.  Caller holds commit_mu_.
  void NoteWritten(const WriteBatch& batch);

  std::string path_;
  std::unique_ptr<ProcessLock> lock_;
  std::unique_ptr<Backend> backend_;
  StoreOptions options_;
  Odb odb_;
  PageTree trees_;
  CommitGraph commits_;
  RefDb refs_;
  std::atomic<uint64_t> ref_version_{1};

  std::mutex commit_mu_;
  uint64_t last_txn_ = 0;       // guarded by commit_mu_
  int64_t last_time_us_ = 0;    // guarded by commit_mu_
  int64_t last_sync_us_ = 0;    // guarded by commit_mu_
  bool gc_active_ = false;      // guarded by commit_mu_
  std::unordered_set<ObjectId, ObjectIdHash> gc_written_;  // commit_mu_

  std::mutex pins_mu_;
  std::map<ObjectId, int> pins_;  // guarded by pins_mu_
};

}  // namespace larix

#endif  // LARIX_STORE_STORE_IMPL_H_
