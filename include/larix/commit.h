// Commit and tag objects as plain values.  Their canonical encodings are
// specified in docs/format.md and implemented in objects/object_format.cc.

#ifndef LARIX_COMMIT_H_
#define LARIX_COMMIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "larix/object_id.h"

namespace larix {

enum class ObjectKind : uint8_t {
  kPage = 1,      // the raw bytes of one database page
  kTreeNode = 2,  // a node of a page tree
  kCommit = 3,
  kTag = 4,
};

const char* ObjectKindName(ObjectKind kind);

struct Commit {
  ObjectId tree;                  // root of the page tree (null: empty db)
  std::vector<ObjectId> parents;  // first parent = the branch's previous head
  int64_t time_us = 0;            // microseconds since the Unix epoch, UTC
  uint64_t txn = 0;               // store-wide transaction number
  std::string author;
  std::string message;

  bool operator==(const Commit&) const = default;
};

struct Tag {
  ObjectId target;  // the tagged object (a commit)
  ObjectKind target_kind = ObjectKind::kCommit;
  std::string name;
  std::string tagger;
  int64_t time_us = 0;
  std::string message;

  bool operator==(const Tag&) const = default;
};

}  // namespace larix

#endif  // LARIX_COMMIT_H_
