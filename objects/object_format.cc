#include "objects/object_format.h"

#include "objects/coding.h"

namespace larix {

using coding::GetByte;
using coding::GetBytes;
using coding::GetFixed64;
using coding::GetLengthPrefixed;

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kPage: return "page";
    case ObjectKind::kTreeNode: return "tree";
    case ObjectKind::kCommit: return "commit";
    case ObjectKind::kTag: return "tag";
  }
  return "unknown";
}

void PutObjectHeader(std::string* dst, ObjectKind kind) {
  dst->push_back(static_cast<char>(kind));
  dst->push_back(static_cast<char>(kObjectFormatVersion));
}

Result<ObjectKind> PeekObjectKind(std::string_view canonical) {
  if (canonical.size() < kObjectHeaderSize) {
    return Status::Corruption("object shorter than its 2-byte header");
  }
  uint8_t kind = static_cast<uint8_t>(canonical[0]);
  uint8_t version = static_cast<uint8_t>(canonical[1]);
  if (kind < 1 || kind > 4) {
    return Status::Corruption("unknown object kind " + std::to_string(kind));
  }
  if (version != kObjectFormatVersion) {
    return Status::NotSupported(
        std::string(ObjectKindName(static_cast<ObjectKind>(kind))) +
        " object has format version " + std::to_string(version) +
        "; this build reads version " + std::to_string(kObjectFormatVersion));
  }
  return static_cast<ObjectKind>(kind);
}

Result<std::string_view> ObjectPayload(std::string_view canonical,
                                       ObjectKind kind) {
  LARIX_ASSIGN_OR_RETURN(ObjectKind actual, PeekObjectKind(canonical));
  if (actual != kind) {
    return Status::Corruption(std::string("expected a ") +
                              ObjectKindName(kind) + " object, found a " +
                              ObjectKindName(actual));
  }
  return canonical.substr(kObjectHeaderSize);
}

std::string EncodePage(std::string_view page_bytes) {
  std::string out;
  out.reserve(kObjectHeaderSize + page_bytes.size());
  PutObjectHeader(&out, ObjectKind::kPage);
  out.append(page_bytes);
  return out;
}

Result<std::string_view> DecodePage(std::string_view canonical) {
  return ObjectPayload(canonical, ObjectKind::kPage);
}

// Commit payload:
//   32   tree id (all zero: the empty database)
//   1    number of parents P (0..255)
//   32*P parent ids, first parent first
//   8    time, microseconds since the epoch UTC (int64, big-endian)
//   8    transaction number (uint64, big-endian)
//   var  author  (varint length + UTF-8 bytes)
//   var  message (varint length + UTF-8 bytes)
std::string EncodeCommit(const Commit& c) {
  std::string out;
  PutObjectHeader(&out, ObjectKind::kCommit);
  out.append(c.tree.AsBytes());
  out.push_back(static_cast<char>(c.parents.size()));
  for (const ObjectId& p : c.parents) out.append(p.AsBytes());
  coding::PutFixed64(&out, static_cast<uint64_t>(c.time_us));
  coding::PutFixed64(&out, c.txn);
  coding::PutLengthPrefixed(&out, c.author);
  coding::PutLengthPrefixed(&out, c.message);
  return out;
}

Result<Commit> DecodeCommit(std::string_view canonical) {
  LARIX_ASSIGN_OR_RETURN(std::string_view in,
                         ObjectPayload(canonical, ObjectKind::kCommit));
  Commit c;
  std::string_view id, author, message;
  uint8_t nparents;
  uint64_t time, txn;
  bool ok = GetBytes(&in, ObjectId::kSize, &id) && GetByte(&in, &nparents);
  if (ok) {
    c.tree = ObjectId::FromRaw(id.data());
    for (int i = 0; ok && i < nparents; i++) {
      ok = GetBytes(&in, ObjectId::kSize, &id);
      if (ok) c.parents.push_back(ObjectId::FromRaw(id.data()));
    }
  }
  ok = ok && GetFixed64(&in, &time) && GetFixed64(&in, &txn) &&
       GetLengthPrefixed(&in, &author) && GetLengthPrefixed(&in, &message);
  if (!ok || !in.empty()) {
    return Status::Corruption("malformed commit object");
  }
  c.time_us = static_cast<int64_t>(time);
  c.txn = txn;
  c.author = author;
  c.message = message;
  return c;
}

// Tag payload:
//   32   target id
//   1    target kind
//   var  name, var tagger (varint length + bytes)
//   8    time, microseconds since the epoch UTC (int64, big-endian)
//   var  message
std::string EncodeTag(const Tag& t) {
  std::string out;
  PutObjectHeader(&out, ObjectKind::kTag);
  out.append(t.target.AsBytes());
  out.push_back(static_cast<char>(t.target_kind));
  coding::PutLengthPrefixed(&out, t.name);
  coding::PutLengthPrefixed(&out, t.tagger);
  coding::PutFixed64(&out, static_cast<uint64_t>(t.time_us));
  coding::PutLengthPrefixed(&out, t.message);
  return out;
}

Result<Tag> DecodeTag(std::string_view canonical) {
  LARIX_ASSIGN_OR_RETURN(std::string_view in,
                         ObjectPayload(canonical, ObjectKind::kTag));
  Tag t;
  std::string_view id, name, tagger, message;
  uint8_t kind;
  uint64_t time;
  bool ok = GetBytes(&in, ObjectId::kSize, &id) && GetByte(&in, &kind) &&
            GetLengthPrefixed(&in, &name) &&
            GetLengthPrefixed(&in, &tagger) && GetFixed64(&in, &time) &&
            GetLengthPrefixed(&in, &message);
  if (!ok || !in.empty() || kind < 1 || kind > 4) {
    return Status::Corruption("malformed tag object");
  }
  t.target = ObjectId::FromRaw(id.data());
  t.target_kind = static_cast<ObjectKind>(kind);
  t.name = name;
  t.tagger = tagger;
  t.time_us = static_cast<int64_t>(time);
  t.message = message;
  return t;
}

}  // namespace larix
