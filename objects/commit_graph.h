// The commit graph: walks over commit objects.
//
// Invariant the walks rely on (checked by fsck): every commit's store-wide
// transaction number is greater than each of its parents'.  Commits are only
// ever created after their parents, under the store's commit lock that
// allocates the numbers, so txn is a topological order of the graph.  That
// lets the walks use a max-heap on txn and stop early: once the heap's
// largest txn is below a commit's, that commit cannot be reached any more.
//
// Thread-safety: all methods may be called concurrently.  Decoded commits
// are cached (they are immutable).

#ifndef LARIX_OBJECTS_COMMIT_GRAPH_H_
#define LARIX_OBJECTS_COMMIT_GRAPH_H_

#include <functional>
#include <memory>
#include <optional>

#include "larix/commit.h"
#include "larix/status.h"
#include "objects/lru_cache.h"
#include "objects/odb.h"

namespace larix {

class CommitGraph {
 public:
  explicit CommitGraph(Odb* odb, size_t cache_bytes = 4 << 20);

  // The decoded commit `id`.  NotFound / Corruption from the Odb, or
  // Corruption if `id` is not a commit.
  Result<std::shared_ptr<const Commit>> Load(const ObjectId& id);

  // Visits `head` and its first parents, newest first, until fn returns
  // false or `limit` commits were visited (0: no limit).
  Status FirstParentLog(
      const ObjectId& head, size_t limit,
      const std::function<bool(const ObjectId&, const Commit&)>& fn);

  // Visits every commit reachable from `heads`, each once, in descending
  // transaction order (newest first), like `git log --date-order`.
  Status Log(const std::vector<ObjectId>& heads, size_t limit,
             const std::function<bool(const ObjectId&, const Commit&)>& fn);

  // A best common ancestor of a and b: a common ancestor that is not an
  // ancestor of another common ancestor (the one with the highest txn).
  // Null id if the histories are unrelated.
  Result<ObjectId> MergeBase(const ObjectId& a, const ObjectId& b);

  // True if `ancestor` is reachable from `descendant` (a commit is its own
  // ancestor).
  Result<bool> IsAncestor(const ObjectId& ancestor, const ObjectId& descendant);

 private:
  Odb* const odb_;
  LruCache<Commit> cache_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_COMMIT_GRAPH_H_
