#include "sql/branches.h"

#include "larix/sys/backend.h"
#include "objects/coding.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

constexpr char kMetaPrefix[] = "b/";
constexpr uint8_t kMetaVersion = 1;

struct BranchMeta {
  std::string parent;
  int64_t created_at_us = 0;
  std::vector<std::pair<std::string, std::string>> properties;
};

std::string EncodeMeta(const BranchMeta& m) {
  std::string out;
  out.push_back(static_cast<char>(kMetaVersion));
  coding::PutLengthPrefixed(&out, m.parent);
  coding::PutFixed64(&out, static_cast<uint64_t>(m.created_at_us));
  coding::PutVarint(&out, m.properties.size());
  for (const auto& [k, v] : m.properties) {
    coding::PutLengthPrefixed(&out, k);
    coding::PutLengthPrefixed(&out, v);
  }
  return out;
}

bool DecodeMeta(std::string_view in, BranchMeta* m) {
  uint8_t version;
  std::string_view parent, k, v;
  uint64_t created, n;
  if (!coding::GetByte(&in, &version) || version != kMetaVersion ||
      !coding::GetLengthPrefixed(&in, &parent) ||
      !coding::GetFixed64(&in, &created) || !coding::GetVarint(&in, &n)) {
    return false;
  }
  m->parent = parent;
  m->created_at_us = static_cast<int64_t>(created);
  for (uint64_t i = 0; i < n; i++) {
    if (!coding::GetLengthPrefixed(&in, &k) ||
        !coding::GetLengthPrefixed(&in, &v)) {
      return false;
    }
    m->properties.emplace_back(k, v);
  }
  return in.empty();
}

std::string MetaKey(const std::string& ref) { return kMetaPrefix + ref; }

bool RefExists(Store* store, const std::string& ref) {
  return store->refs()->Read(ref).ok();
}

// A branch name as a connection may give it: an alias resolves to the
// branch it points at.
Result<std::string> BranchRefOf(Engine* engine, const std::string& name) {
  LARIX_ASSIGN_OR_RETURN(std::string ref, engine->ResolveBranchRef(name));
  if (!RefExists(engine->store(), ref)) {
    return Status::NotFound("branch '" + name + "' does not exist");
  }
  return ref;
}

Status CheckNewName(Store* store, const std::string& name) {
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  if (RefExists(store, BranchRef(name))) {
    return Status::AlreadyExists("branch '" + name + "' already exists");
  }
  if (RefExists(store, AliasRef(name))) {
    return Status::AlreadyExists("'" + name + "' is already an alias");
  }
  return Status::OK();
}

uint64_t DatabaseSize(Store* store, const ObjectId& commit) {
  auto c = store->commits()->Load(commit);
  if (!c.ok() || (*c)->tree.IsNull()) return 0;
  auto pages = store->trees()->PageCount((*c)->tree);
  auto page1 = store->trees()->Get((*c)->tree, 0);
  if (!pages.ok() || !page1.ok() || page1->IsNull()) return 0;
  auto obj = store->odb()->Read(*page1);
  if (!obj.ok()) return 0;
  auto bytes = DecodePage(**obj);
  if (!bytes.ok()) return 0;
  return static_cast<uint64_t>(*pages) * bytes->size();
}

}  // namespace

bool IsKnownBranchOption(const std::string& key) {
  return key == "replication_factor" || key == "region";
}

Status CreateBranch(Engine* engine, const std::string& name,
                    const std::string& from, const std::string& current_branch,
                    AsOfPoint point, const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>&
                        options,
                    bool if_not_exists) {
  Store* store = engine->store();
  Status s = CheckNewName(store, name);
  if (s.IsAlreadyExists() && if_not_exists) return Status::OK();
  LARIX_RETURN_IF_ERROR(s);
  for (const auto& [key, val] : options) {
    if (!IsKnownBranchOption(key)) {
      return Status::InvalidArgument(
          "unknown branch option '" + key +
          "' (known: replication_factor, region)");
    }
    if (key == "replication_factor") {
      char* end = nullptr;
      long n = strtol(val.c_str(), &end, 10);
      if (val.empty() || *end != '\0' || n < 1) {
        return Status::InvalidArgument(
            "replication_factor must be a positive whole number, got '" +
            val + "'");
      }
    }
  }
  std::string parent_name = from.empty() ? current_branch : from;
  LARIX_ASSIGN_OR_RETURN(std::string parent_ref,
                         BranchRefOf(engine, parent_name));
  LARIX_ASSIGN_OR_RETURN(ObjectId at,
                         ResolveAsOf(store, parent_ref, point, value));
  BranchMeta meta;
  meta.parent = std::string(ShortRefName(parent_ref));
  meta.created_at_us = store->NowMicros();
  meta.properties = options;
  WriteBatch records;
  records.PutRecord(MetaKey(BranchRef(name)), EncodeMeta(meta));
  RefTransaction tx;
  tx.Update(BranchRef(name), ObjectId(), at,
            "branch: created from " + meta.parent);
  s = store->UpdateRefs(tx, records);
  if (s.IsConflict()) {
    if (if_not_exists) return Status::OK();
    return Status::AlreadyExists("branch '" + name + "' already exists");
  }
  return s;
}

Status DropBranch(Engine* engine, const std::string& name, bool if_exists) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  std::string ref = BranchRef(name);
  Result<RefValue> value = store->refs()->Read(ref);
  if (!value.ok()) {
    if (value.status().IsNotFound()) {
      if (if_exists) return Status::OK();
      return Status::NotFound("branch '" + name + "' does not exist");
    }
    return value.status();
  }
  if (engine->HasWriter(ref)) {
    return Status::Busy("branch '" + name +
                        "' has a write transaction in progress");
  }
  WriteBatch records;
  records.DeleteRecord(MetaKey(ref));
  RefTransaction tx;
  tx.Delete(ref, value->id, "branch: dropped");
  return store->UpdateRefs(tx, records);
}

Status RenameBranch(Engine* engine, const std::string& name,
                    const std::string& new_name) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  LARIX_RETURN_IF_ERROR(CheckNewName(store, new_name));
  std::string ref = BranchRef(name), new_ref = BranchRef(new_name);
  if (!RefExists(store, ref)) {
    return Status::NotFound("branch '" + name + "' does not exist");
  }
  if (engine->HasWriter(ref)) {
    return Status::Busy("branch '" + name +
                        "' has a write transaction in progress");
  }
  // A branch of the new name that was dropped left its reflog behind; the
  // renamed branch's own history replaces it.
  std::vector<ReflogEntry> leftover;
  LARIX_RETURN_IF_ERROR(store->refs()->ReadReflog(new_ref, &leftover));
  if (!leftover.empty()) {
    WriteBatch drop;
    LARIX_RETURN_IF_ERROR(store->refs()->DeleteReflog(new_ref, &drop));
    LARIX_RETURN_IF_ERROR(store->WriteObjects(drop, /*sync=*/true));
  }
  WriteBatch records;
  std::string meta;
  if (store->backend()->GetRecord(MetaKey(ref), &meta).ok()) {
    records.DeleteRecord(MetaKey(ref));
    records.PutRecord(MetaKey(new_ref), meta);
  }
  RefTransaction tx;
  tx.Rename(ref, new_ref, "branch: renamed " + name + " to " + new_name);
  // Aliases follow the branch they point at, in the same transaction.
  std::vector<std::pair<std::string, RefValue>> aliases;
  LARIX_RETURN_IF_ERROR(store->refs()->List("refs/aliases/", &aliases));
  for (const auto& [alias, value] : aliases) {
    if (value.symbolic && value.target == ref) {
      tx.SetSymbolic(alias, new_ref, ref, "alias follows rename to " + new_name);
    }
  }
  return store->UpdateRefs(tx, records);
}

Status ResetBranch(Engine* engine, const std::string& name,
                   const std::string& rev) {
  Store* store = engine->store();
  LARIX_ASSIGN_OR_RETURN(std::string ref, BranchRefOf(engine, name));
  if (engine->HasWriter(ref)) {
    return Status::Busy("branch '" + name +
                        "' has a write transaction in progress");
  }
  LARIX_ASSIGN_OR_RETURN(ObjectId target, store->ResolveRevision(rev));
  LARIX_ASSIGN_OR_RETURN(ObjectId old, store->refs()->Resolve(ref));
  RefTransaction tx;
  tx.Update(ref, old, target, "reset: moving to " + rev);
  return store->UpdateRefs(tx);
}

Status SetBranchAlias(Engine* engine, const std::string& alias,
                      const std::string& target, bool create) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(alias));
  LARIX_RETURN_IF_ERROR(ValidateShortName(target));
  if (RefExists(store, BranchRef(alias))) {
    return Status::AlreadyExists("'" + alias + "' is a branch, not an alias");
  }
  if (!RefExists(store, BranchRef(target))) {
    return Status::NotFound("branch '" + target + "' does not exist");
  }
  bool exists = RefExists(store, AliasRef(alias));
  if (create && exists) {
    return Status::AlreadyExists("alias '" + alias + "' already exists");
  }
  if (!create && !exists) {
    return Status::NotFound("alias '" + alias + "' does not exist");
  }
  RefTransaction tx;
  tx.SetSymbolic(AliasRef(alias), BranchRef(target),
                 create ? std::optional<std::string>("") : std::nullopt,
                 "alias: " + alias + " -> " + target);
  return store->UpdateRefs(tx);
}

Status DropBranchAlias(Engine* engine, const std::string& alias,
                       bool if_exists) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(alias));
  if (!RefExists(store, AliasRef(alias))) {
    if (if_exists) return Status::OK();
    return Status::NotFound("alias '" + alias + "' does not exist");
  }
  RefTransaction tx;
  tx.DeleteSymbolic(AliasRef(alias), std::nullopt, "alias: dropped");
  return store->UpdateRefs(tx);
}

Status CreateTagAt(Engine* engine, const std::string& name,
                   const std::string& branch, AsOfPoint point,
                   const std::string& value, bool if_not_exists) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  if (RefExists(store, TagRef(name))) {
    if (if_not_exists) return Status::OK();
    return Status::AlreadyExists("tag '" + name + "' already exists");
  }
  LARIX_ASSIGN_OR_RETURN(std::string ref, BranchRefOf(engine, branch));
  LARIX_ASSIGN_OR_RETURN(ObjectId at, ResolveAsOf(store, ref, point, value));
  Result<ObjectId> tag = store->CreateTag(name, at, "", /*force=*/false);
  if (tag.status().IsAlreadyExists() && if_not_exists) return Status::OK();
  return tag.status();
}

Status DropTag(Engine* engine, const std::string& name, bool if_exists) {
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(ValidateShortName(name));
  Result<RefValue> value = store->refs()->Read(TagRef(name));
  if (!value.ok()) {
    if (value.status().IsNotFound() && if_exists) return Status::OK();
    if (value.status().IsNotFound()) {
      return Status::NotFound("tag '" + name + "' does not exist");
    }
    return value.status();
  }
  RefTransaction tx;
  tx.Delete(TagRef(name), value->id, "tag: dropped");
  return store->UpdateRefs(tx);
}

Status ListBranches(Engine* engine, std::vector<BranchInfo>* out) {
  Store* store = engine->store();
  out->clear();
  std::vector<std::pair<std::string, RefValue>> refs;
  LARIX_RETURN_IF_ERROR(store->refs()->List("refs/heads/", &refs));
  for (const auto& [ref, value] : refs) {
    BranchInfo b;
    b.name = std::string(ShortRefName(ref));
    b.kind = "branch";
    b.head = value.id;
    std::string meta_bytes;
    BranchMeta meta;
    if (store->backend()->GetRecord(MetaKey(ref), &meta_bytes).ok() &&
        DecodeMeta(meta_bytes, &meta)) {
      b.parent = meta.parent;
      b.created_at_us = meta.created_at_us;
      b.properties = meta.properties;
    } else {
      // Branches made before metadata (main): the first reflog entry.
      std::vector<ReflogEntry> log;
      if (store->refs()->ReadReflog(ref, &log).ok() && !log.empty()) {
        b.created_at_us = log.front().time_us;
      }
    }
    if (auto c = store->commits()->Load(b.head); c.ok()) {
      b.head_txn = (*c)->txn;
    }
    b.size_bytes = DatabaseSize(store, b.head);
    out->push_back(std::move(b));
  }
  LARIX_RETURN_IF_ERROR(store->refs()->List("refs/aliases/", &refs));
  for (const auto& [ref, value] : refs) {
    BranchInfo b;
    b.name = std::string(ShortRefName(ref));
    b.kind = "alias";
    b.alias_target = std::string(ShortRefName(value.target));
    if (auto head = store->refs()->Resolve(ref); head.ok()) {
      b.head = *head;
      b.size_bytes = DatabaseSize(store, b.head);
      if (auto c = store->commits()->Load(b.head); c.ok()) {
        b.head_txn = (*c)->txn;
      }
    }
    std::vector<ReflogEntry> log;
    if (store->refs()->ReadReflog(ref, &log).ok() && !log.empty()) {
      b.created_at_us = log.front().time_us;
    }
    out->push_back(std::move(b));
  }
  return Status::OK();
}

Status ListTags(Engine* engine, std::vector<TagInfo>* out) {
  Store* store = engine->store();
  out->clear();
  std::vector<std::pair<std::string, RefValue>> refs;
  LARIX_RETURN_IF_ERROR(store->refs()->List("refs/tags/", &refs));
  for (const auto& [ref, value] : refs) {
    TagInfo t;
    t.name = std::string(ShortRefName(ref));
    auto obj = store->odb()->Read(value.id);
    if (obj.ok()) {
      auto tag = DecodeTag(**obj);
      if (tag.ok()) {
        t.commit = tag->target;
        t.tagger = tag->tagger;
        t.time_us = tag->time_us;
        t.message = tag->message;
      } else {
        t.commit = value.id;  // a lightweight tag
      }
    }
    out->push_back(std::move(t));
  }
  return Status::OK();
}

Status FastForward(Engine* engine, const std::string& source,
                   const std::string& target, bool* fast_forwarded) {
  Store* store = engine->store();
  *fast_forwarded = false;
  LARIX_ASSIGN_OR_RETURN(std::string src_ref, BranchRefOf(engine, source));
  LARIX_ASSIGN_OR_RETURN(std::string dst_ref, BranchRefOf(engine, target));
  LARIX_ASSIGN_OR_RETURN(ObjectId src, store->refs()->Resolve(src_ref));
  LARIX_ASSIGN_OR_RETURN(ObjectId dst, store->refs()->Resolve(dst_ref));
  if (src == dst) {
    *fast_forwarded = true;  // nothing to do
    return Status::OK();
  }
  LARIX_ASSIGN_OR_RETURN(bool ff, store->commits()->IsAncestor(dst, src));
  if (!ff) {
    LARIX_ASSIGN_OR_RETURN(bool behind, store->commits()->IsAncestor(src, dst));
    if (behind) {
      *fast_forwarded = true;  // already merged
      return Status::OK();
    }
    return Status::NotSupported("branches '" + source + "' and '" + target +
                                "' have diverged; a three-way merge is "
                                "needed");
  }
  if (engine->HasWriter(dst_ref)) {
    return Status::Busy("branch '" + target +
                        "' has a write transaction in progress");
  }
  RefTransaction tx;
  tx.Update(dst_ref, dst, src, "merge " + source + ": fast-forward");
  LARIX_RETURN_IF_ERROR(store->UpdateRefs(tx));
  *fast_forwarded = true;
  return Status::OK();
}

}  // namespace larix
