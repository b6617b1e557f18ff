// Garbage collection (docs/gc.md).
//
// Mark and sweep, safe while the store is in use:
//
//   1. Expire reflog entries older than the retention window (keeping, per
//      ref, the entry that answers "value at the cutoff").
//   2. Candidates: every object id the backend holds now.  Objects applied
//      later are not candidates, so they are never swept.
//   3. Mark (no lock held): from every ref, every live reflog entry and
//      every pinned snapshot, mark commits, their parents, trees, nodes and
//      pages.  Subtrees already marked are not walked again, so the cost is
//      O(distinct objects), not O(commits x tree size).
//   4. Under the commit lock: mark again from the current refs and pins
//      (only what changed since step 3 is walked) and switch on
//      gc_written_ tracking.
//   5. Sweep in batches: each batch takes the commit lock, leaves out ids a
//      commit wrote since step 4 (a commit may re-use the bytes of a
//      garbage page by id), and applies the deletes.
//
// Deltas (docs/decisions/0007-page-deltas.md): a page stored as a delta
// cannot be read without its base, which need not be reachable itself (the
// previous version of a page, in a commit that was abandoned).  So after
// each mark, and for the ids step 5 leaves out, the bases of kept deltas
// are kept too, following the backend's list of deltas (ForEachDelta).
//
// Invariant: an object reachable from a ref, a live reflog entry or a pin
// at any moment during the run is never deleted.

#include <chrono>

#include "objects/object_format.h"
#include "store/store_impl.h"

namespace larix {
namespace {

using IdSet = std::unordered_set<ObjectId, ObjectIdHash>;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

// Marks everything reachable from `roots` into *marked.
Status MarkFrom(Odb* odb, PageTree* trees, std::vector<ObjectId> roots,
                IdSet* marked) {
  std::vector<ObjectId> stack = std::move(roots);
  while (!stack.empty()) {
    ObjectId id = stack.back();
    stack.pop_back();
    if (id.IsNull() || !marked->insert(id).second) continue;
    Result<Odb::Object> obj = odb->Read(id);
    if (!obj.ok()) {
      // A missing root is fsck's business; GC must not fail on it, and it
      // must not guess that anything else is garbage either.
      if (obj.status().IsNotFound()) continue;
      return obj.status();
    }
    LARIX_ASSIGN_OR_RETURN(ObjectKind kind, PeekObjectKind(**obj));
    if (kind == ObjectKind::kTreeNode) {
      // A pinned tree root (an import building its tree): walk it, the
      // root itself is already marked.
      marked->erase(id);
      LARIX_RETURN_IF_ERROR(trees->WalkNodes(
          id, [&](const ObjectId& node) { return marked->insert(node).second; },
          [&](const ObjectId& page) { marked->insert(page); }));
    } else if (kind == ObjectKind::kTag) {
      LARIX_ASSIGN_OR_RETURN(Tag tag, DecodeTag(**obj));
      stack.push_back(tag.target);
    } else if (kind == ObjectKind::kCommit) {
      LARIX_ASSIGN_OR_RETURN(Commit c, DecodeCommit(**obj));
      for (const ObjectId& p : c.parents) stack.push_back(p);
      if (!c.tree.IsNull()) {
        LARIX_RETURN_IF_ERROR(trees->WalkNodes(
            c.tree,
            [&](const ObjectId& node) { return marked->insert(node).second; },
            [&](const ObjectId& page) { marked->insert(page); }));
      }
    }
  }
  return Status::OK();
}

using BaseMap = std::unordered_map<ObjectId, ObjectId, ObjectIdHash>;

// Adds to *kept the base of `id`, its base and so on, stopping at one
// already kept (its own chain is, or will be, followed from it).
void KeepChainOf(const BaseMap& bases, const ObjectId& id, IdSet* kept) {
  for (auto it = bases.find(id);
       it != bases.end() && kept->insert(it->second).second;
       it = bases.find(it->second)) {
  }
}

// Adds to *kept the bases, bases of bases and so on of the deltas in it.
void KeepBases(const BaseMap& bases, IdSet* kept) {
  for (const auto& [delta, base] : bases) {
    if (kept->count(delta)) KeepChainOf(bases, delta, kept);
  }
}

}  // namespace

Status StoreImpl::Gc(const GcOptions& options, GcStats* stats) {
  *stats = GcStats();
  auto progress = [&](const std::string& phase, uint64_t done, uint64_t total) {
    if (options.progress) options.progress(phase, done, total);
  };
  auto t0 = std::chrono::steady_clock::now();

  // 1. Reflog expiry.
  {
    std::vector<std::string> names;
    LARIX_RETURN_IF_ERROR(refs_.ListReflogs(&names));
    int64_t retention = options.retention_us.value_or(HistoryRetention());
    int64_t cutoff = NowMicros() - retention;
    WriteBatch batch;
    for (const std::string& name : names) {
      LARIX_RETURN_IF_ERROR(refs_.ExpireReflog(name, cutoff, &batch));
    }
    stats->reflog_entries_expired = batch.records().size();
    if (!batch.empty()) {
      std::lock_guard lock(commit_mu_);
      LARIX_RETURN_IF_ERROR(backend_->Apply(batch, WriteOptions{true}));
    }
  }

  // 2. Candidates.
  std::vector<ObjectId> candidates;
  LARIX_RETURN_IF_ERROR(backend_->ForEachObject([&](const ObjectId& id) {
    candidates.push_back(id);
    return true;
  }));
  stats->objects_before = candidates.size();
  BaseMap bases;
  LARIX_RETURN_IF_ERROR(backend_->ForEachDelta(
      [&](const ObjectId& delta, const ObjectId& base) {
        bases.emplace(delta, base);
        return true;
      }));
  progress("counting", candidates.size(), candidates.size());

  auto collect_roots = [&](std::vector<ObjectId>* roots) -> Status {
    std::vector<std::pair<std::string, RefValue>> refs;
    LARIX_RETURN_IF_ERROR(refs_.List("", &refs));
    for (const auto& [name, value] : refs) {
      if (!value.symbolic) roots->push_back(value.id);
    }
    LARIX_RETURN_IF_ERROR(refs_.ForEachReflogId(
        [&](const std::string&, const ObjectId& id) { roots->push_back(id); }));
    std::lock_guard lock(pins_mu_);
    for (const auto& [id, count] : pins_) roots->push_back(id);
    return Status::OK();
  };

  // 3. Mark.
  IdSet marked;
  marked.reserve(candidates.size());
  {
    std::vector<ObjectId> roots;
    LARIX_RETURN_IF_ERROR(collect_roots(&roots));
    LARIX_RETURN_IF_ERROR(MarkFrom(&odb_, &trees_, std::move(roots), &marked));
    KeepBases(bases, &marked);
  }
  progress("marking", marked.size(), candidates.size());

  // 4. Re-mark what moved, and start tracking new writes.
  {
    std::lock_guard lock(commit_mu_);
    std::vector<ObjectId> roots;
    LARIX_RETURN_IF_ERROR(collect_roots(&roots));
    std::vector<ObjectId> fresh;
    for (const ObjectId& r : roots)
      if (!marked.count(r)) fresh.push_back(r);
    LARIX_RETURN_IF_ERROR(MarkFrom(&odb_, &trees_, std::move(fresh), &marked));
    KeepBases(bases, &marked);
    gc_active_ = true;
    gc_written_.clear();
  }
  stats->marked = marked.size();
  stats->mark_seconds = Seconds(t0);

  // 5. Sweep.
  auto t1 = std::chrono::steady_clock::now();
  std::vector<ObjectId> garbage;
  for (const ObjectId& id : candidates)
    if (!marked.count(id)) garbage.push_back(id);
  IdSet().swap(marked);
  Status s;
  constexpr size_t kBatch = 4096;
  for (size_t i = 0; i < garbage.size() && s.ok(); i += kBatch) {
    WriteBatch batch;
    std::lock_guard lock(commit_mu_);
    // What commits wrote since step 4, with the bases of those that are
    // old deltas written again by id.
    IdSet written(gc_written_.begin(), gc_written_.end());
    for (const ObjectId& id : gc_written_) KeepChainOf(bases, id, &written);
    for (size_t j = i; j < std::min(garbage.size(), i + kBatch); j++) {
      if (written.count(garbage[j])) continue;
      batch.DeleteObject(garbage[j]);
    }
    s = backend_->Apply(batch, WriteOptions{false});
    if (s.ok()) {
      for (const ObjectId& id : batch.object_deletes()) odb_.Forget(id);
      stats->swept += batch.object_deletes().size();
    }
    progress("sweeping", std::min(garbage.size(), i + kBatch), garbage.size());
  }
  {
    std::lock_guard lock(commit_mu_);
    gc_active_ = false;
    gc_written_.clear();
  }
  LARIX_RETURN_IF_ERROR(s);
  LARIX_RETURN_IF_ERROR(backend_->Sync());
  LARIX_RETURN_IF_ERROR(backend_->Compact());
  stats->sweep_seconds = Seconds(t1);
  return Status::OK();
}

}  // namespace larix
