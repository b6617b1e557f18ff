#include "objects/commit_graph.h"

#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "objects/object_format.h"

namespace larix {
namespace {

struct HeapEntry {
  uint64_t txn;
  ObjectId id;
  bool operator<(const HeapEntry& o) const {
    return txn != o.txn ? txn < o.txn : id < o.id;
  }
};

}  // namespace

CommitGraph::CommitGraph(Odb* odb, size_t cache_bytes)
    : odb_(odb), cache_(cache_bytes) {}

Result<std::shared_ptr<const Commit>> CommitGraph::Load(const ObjectId& id) {
  if (auto cached = cache_.Lookup(id)) return cached;
  LARIX_ASSIGN_OR_RETURN(Odb::Object obj, odb_->Read(id));
  Result<Commit> commit = DecodeCommit(*obj);
  if (!commit.ok()) {
    return commit.status().WithContext("object " + id.ToHex());
  }
  auto shared = std::make_shared<const Commit>(std::move(commit).value());
  cache_.Insert(id, shared, 128 + shared->message.size());
  return std::shared_ptr<const Commit>(shared);
}

Status CommitGraph::FirstParentLog(
    const ObjectId& head, size_t limit,
    const std::function<bool(const ObjectId&, const Commit&)>& fn) {
  ObjectId id = head;
  for (size_t n = 0; !id.IsNull() && (limit == 0 || n < limit); n++) {
    LARIX_ASSIGN_OR_RETURN(auto commit, Load(id));
    if (!fn(id, *commit)) break;
    id = commit->parents.empty() ? ObjectId() : commit->parents[0];
  }
  return Status::OK();
}

Status CommitGraph::Log(
    const std::vector<ObjectId>& heads, size_t limit,
    const std::function<bool(const ObjectId&, const Commit&)>& fn) {
  std::priority_queue<HeapEntry> heap;
  std::unordered_set<ObjectId, ObjectIdHash> seen;
  for (const ObjectId& h : heads) {
    if (h.IsNull() || !seen.insert(h).second) continue;
    LARIX_ASSIGN_OR_RETURN(auto c, Load(h));
    heap.push({c->txn, h});
  }
  for (size_t n = 0; !heap.empty() && (limit == 0 || n < limit); n++) {
    ObjectId id = heap.top().id;
    heap.pop();
    LARIX_ASSIGN_OR_RETURN(auto c, Load(id));
    if (!fn(id, *c)) break;
    for (const ObjectId& p : c->parents) {
      if (!seen.insert(p).second) continue;
      LARIX_ASSIGN_OR_RETURN(auto pc, Load(p));
      heap.push({pc->txn, p});
    }
  }
  return Status::OK();
}

// Paints commits reachable from a with bit 1 and from b with bit 2, newest
// first.  The first commit popped with both bits is a common ancestor with
// the highest txn; no other common ancestor can descend from it (a
// descendant would have a higher txn and would have been popped first).
Result<ObjectId> CommitGraph::MergeBase(const ObjectId& a, const ObjectId& b) {
  if (a.IsNull() || b.IsNull()) return ObjectId();
  if (a == b) return a;
  std::priority_queue<HeapEntry> heap;
  std::unordered_map<ObjectId, uint8_t, ObjectIdHash> flags;
  auto push = [&](const ObjectId& id, uint8_t f) -> Status {
    uint8_t& cur = flags[id];
    if ((cur | f) == cur) return Status::OK();
    bool queued = cur != 0;
    cur |= f;
    if (!queued) {
      LARIX_ASSIGN_OR_RETURN(auto c, Load(id));
      heap.push({c->txn, id});
    }
    return Status::OK();
  };
  LARIX_RETURN_IF_ERROR(push(a, 1));
  LARIX_RETURN_IF_ERROR(push(b, 2));
  while (!heap.empty()) {
    ObjectId id = heap.top().id;
    heap.pop();
    uint8_t f = flags[id];
    if (f == 3) return id;
    LARIX_ASSIGN_OR_RETURN(auto c, Load(id));
    for (const ObjectId& p : c->parents) LARIX_RETURN_IF_ERROR(push(p, f));
  }
  return ObjectId();
}

Result<bool> CommitGraph::IsAncestor(const ObjectId& ancestor,
                                     const ObjectId& descendant) {
  if (ancestor.IsNull() || descendant.IsNull()) return false;
  if (ancestor == descendant) return true;
  LARIX_ASSIGN_OR_RETURN(auto target, Load(ancestor));
  std::priority_queue<HeapEntry> heap;
  std::unordered_set<ObjectId, ObjectIdHash> seen{descendant};
  LARIX_ASSIGN_OR_RETURN(auto d, Load(descendant));
  heap.push({d->txn, descendant});
  while (!heap.empty()) {
    HeapEntry e = heap.top();
    heap.pop();
    if (e.id == ancestor) return true;
    if (e.txn <= target->txn) continue;  // cannot lead to the ancestor
    LARIX_ASSIGN_OR_RETURN(auto c, Load(e.id));
    for (const ObjectId& p : c->parents) {
      if (!seen.insert(p).second) continue;
      LARIX_ASSIGN_OR_RETURN(auto pc, Load(p));
      heap.push({pc->txn, p});
    }
  }
  return false;
}

}  // namespace larix
