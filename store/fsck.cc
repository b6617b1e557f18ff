// fsck: verify a whole store (docs/gc.md, "fsck").
//
// Pass 1 reads every object's stored bytes straight from the backend (not
// through the cache), unframes and re-hashes it, and records its kind (and
// a tree node's level).  Pass 2 checks every edge against that table:
//   commit -> tree (a tree node) and parents (commits, with smaller txn);
//   tree node at level L -> children (pages if L = 0, nodes of level L-1);
//   tag -> target.
// Then every ref: a direct ref must name an existing commit (a tag ref a
// tag), a symbolic ref must end at an existing ref.  Each problem is
// reported; fsck itself fails only if it cannot read the store at all.

#include <unordered_map>
#include <unordered_set>

#include "objects/object_format.h"
#include "store/store_impl.h"

namespace larix {
namespace {

struct Info {
  ObjectKind kind;
  int8_t level;  // tree nodes
};

}  // namespace

Status StoreImpl::Fsck(
    FsckReport* report,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  *report = FsckReport();
  BackendStats bstats;
  LARIX_RETURN_IF_ERROR(backend_->GetStats(&bstats));
  uint64_t total = bstats.objects;
  auto problem = [&](const std::string& where, const std::string& what) {
    report->problems.push_back({where, what});
  };

  std::vector<ObjectId> ids;
  LARIX_RETURN_IF_ERROR(backend_->ForEachObject([&](const ObjectId& id) {
    ids.push_back(id);
    return true;
  }));

  std::unordered_map<ObjectId, Info, ObjectIdHash> info;
  // Objects already reported as unreadable; edges to them are not reported
  // again as "missing".
  std::unordered_set<ObjectId, ObjectIdHash> damaged;
  info.reserve(ids.size());
  std::vector<ObjectId> with_edges;  // commits, tree nodes, tags
  std::string stored, canonical;
  for (const ObjectId& id : ids) {
    report->objects_checked++;
    if (progress && report->objects_checked % 4096 == 0) {
      progress(report->objects_checked, std::max(total, ids.size()));
    }
    std::string where = "object " + id.ToHex();
    Status s = backend_->ReadObject(id, &stored);
    if (s.ok()) s = odb_.Unframe(id, stored, &canonical);
    if (!s.ok()) {
      problem(where, s.ToString());
      damaged.insert(id);
      continue;
    }
    Result<ObjectKind> kind = PeekObjectKind(canonical);
    if (!kind.ok()) {
      problem(where, kind.status().ToString());
      damaged.insert(id);
      continue;
    }
    Info in{*kind, -1};
    if (*kind == ObjectKind::kTreeNode) {
      int level = 0;
      Result<std::vector<ObjectId>> children =
          PageTree::ChildrenOf(id, canonical, &level);
      if (!children.ok()) {
        problem(where, children.status().ToString());
        damaged.insert(id);
        continue;
      }
      in.level = static_cast<int8_t>(level);
    }
    if (*kind != ObjectKind::kPage) with_edges.push_back(id);
    info[id] = in;
  }

  auto expect = [&](const std::string& where, const ObjectId& target,
                    ObjectKind kind, int level, const char* role) {
    if (damaged.count(target)) return;
    auto it = info.find(target);
    if (it == info.end()) {
      problem(where, std::string(role) + " " + target.ToHex() + " is missing");
    } else if (it->second.kind != kind) {
      problem(where, std::string(role) + " " + target.ToHex() + " is a " +
                         ObjectKindName(it->second.kind) + ", expected a " +
                         ObjectKindName(kind));
    } else if (level >= 0 && it->second.level != level) {
      problem(where, std::string(role) + " " + target.ToHex() +
                         " is a tree node of level " +
                         std::to_string(it->second.level) + ", expected " +
                         std::to_string(level));
    }
  };

  for (const ObjectId& id : with_edges) {
    std::string where = "object " + id.ToHex();
    Result<Odb::Object> obj = odb_.Read(id);
    if (!obj.ok()) {
      problem(where, obj.status().ToString());
      continue;
    }
    ObjectKind kind = info[id].kind;
    if (kind == ObjectKind::kCommit) {
      Result<Commit> c = DecodeCommit(**obj);
      if (!c.ok()) {
        problem(where, c.status().ToString());
        continue;
      }
      if (!c->tree.IsNull()) {
        expect(where, c->tree, ObjectKind::kTreeNode, -1, "tree");
      }
      for (const ObjectId& p : c->parents) {
        expect(where, p, ObjectKind::kCommit, -1, "parent");
        if (info.count(p) && info[p].kind == ObjectKind::kCommit) {
          Result<std::shared_ptr<const Commit>> pc = commits_.Load(p);
          if (pc.ok() && (*pc)->txn >= c->txn) {
            problem(where, "transaction number " + std::to_string(c->txn) +
                               " is not above its parent's (" +
                               std::to_string((*pc)->txn) + ")");
          }
        }
      }
    } else if (kind == ObjectKind::kTreeNode) {
      int level = 0;
      Result<std::vector<ObjectId>> children =
          PageTree::ChildrenOf(id, **obj, &level);
      if (!children.ok()) continue;  // reported in pass 1
      for (const ObjectId& child : *children) {
        if (level == 0) {
          expect(where, child, ObjectKind::kPage, -1, "page");
        } else {
          expect(where, child, ObjectKind::kTreeNode, level - 1, "child node");
        }
      }
    } else if (kind == ObjectKind::kTag) {
      Result<Tag> t = DecodeTag(**obj);
      if (!t.ok()) {
        problem(where, t.status().ToString());
        continue;
      }
      expect(where, t->target, t->target_kind, -1, "target");
    }
  }

  std::vector<std::pair<std::string, RefValue>> refs;
  LARIX_RETURN_IF_ERROR(refs_.List("", &refs));
  for (const auto& [name, value] : refs) {
    report->refs_checked++;
    std::string where = "ref " + name;
    if (value.symbolic) {
      Result<ObjectId> target = refs_.Resolve(name);
      if (!target.ok()) problem(where, target.status().ToString());
      continue;
    }
    bool is_tag = name.rfind("refs/tags/", 0) == 0;
    auto it = info.find(value.id);
    if (it == info.end()) {
      problem(where, "points at missing object " + value.id.ToHex());
    } else if (it->second.kind != ObjectKind::kCommit &&
               !(is_tag && it->second.kind == ObjectKind::kTag)) {
      problem(where, "points at a " +
                         std::string(ObjectKindName(it->second.kind)) + " " +
                         value.id.ToHex() + ", not a commit");
    }
  }
  if (progress) progress(report->objects_checked, report->objects_checked);
  return Status::OK();
}

}  // namespace larix
