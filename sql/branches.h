// Branch, alias and tag operations on a store: what CREATE / DROP / ALTER
// DATABASE BRANCH, the alias statements, CREATE / DROP TAG and the `larix
// branch` / `larix tag` verbs do.  Every operation is one atomic ref
// transaction (with the branch's metadata record), O(1) in the size of the
// database.
//
// Branch metadata ("b/" + full ref name, docs/format.md): the branch it was
// created from, when, and its WITH (...) properties.

#ifndef LARIX_SQL_BRANCHES_H_
#define LARIX_SQL_BRANCHES_H_

#include <string>
#include <utility>
#include <vector>

#include "larix/status.h"
#include "sql/engine.h"
#include "sql/time_travel.h"

namespace larix {

struct BranchInfo {
  std::string name;          // short name
  std::string kind;          // "branch" or "alias"
  std::string alias_target;  // aliases: the branch they point at
  std::string parent;        // the branch it was created from ("" unknown)
  ObjectId head;
  uint64_t head_txn = 0;
  int64_t created_at_us = 0;  // 0 if unknown (created before metadata)
  uint64_t size_bytes = 0;    // pages x page size of the head's database
  std::vector<std::pair<std::string, std::string>> properties;
};

struct TagInfo {
  std::string name;
  ObjectId commit;
  std::string tagger;
  int64_t time_us = 0;
  std::string message;
};

// The options CREATE DATABASE BRANCH ... WITH (...) accepts.
bool IsKnownBranchOption(const std::string& key);

// `from` is a branch or alias short name, or "" for `current_branch`
// (FROM CURRENT).  AlreadyExists unless if_not_exists; NotFound for a
// missing parent or as-of point; InvalidArgument for a bad name or option.
Status CreateBranch(Engine* engine, const std::string& name,
                    const std::string& from, const std::string& current_branch,
                    AsOfPoint point, const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>&
                        options,
                    bool if_not_exists);

// Busy if a connection has a write transaction open on it.
Status DropBranch(Engine* engine, const std::string& name, bool if_exists);
Status RenameBranch(Engine* engine, const std::string& name,
                    const std::string& new_name);
// Moves the branch to `rev` (any revision); the old head stays reachable
// through the reflog within retention.
Status ResetBranch(Engine* engine, const std::string& name,
                   const std::string& rev);

// create: the alias must not exist; otherwise it must.
Status SetBranchAlias(Engine* engine, const std::string& alias,
                      const std::string& target, bool create);
Status DropBranchAlias(Engine* engine, const std::string& alias,
                       bool if_exists);

Status CreateTagAt(Engine* engine, const std::string& name,
                   const std::string& branch, AsOfPoint point,
                   const std::string& value, bool if_not_exists);
Status DropTag(Engine* engine, const std::string& name, bool if_exists);

Status ListBranches(Engine* engine, std::vector<BranchInfo>* out);
Status ListTags(Engine* engine, std::vector<TagInfo>* out);

// Fast-forwards `target` to `source` when target is an ancestor of
// source.  Sets *fast_forwarded; NotSupported when a three-way merge is
// needed (sql/merge.cc does those).
Status FastForward(Engine* engine, const std::string& source,
                   const std::string& target, bool* fast_forwarded);

}  // namespace larix

#endif  // LARIX_SQL_BRANCHES_H_
