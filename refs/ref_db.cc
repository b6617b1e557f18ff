// RefDb implementation.  The record layout and the invariants are in
// ref_db.h and docs/format.md ("Refs and reflogs"); this file adds how a
// transaction is committed:
//
//   Commit(tx, batch):
//     1. reject a malformed tx (tx.status()) or a ref named twice
//     2. take mu_ exclusively
//     3. read the current value of every ref the tx touches
//     4. check every expectation in order; the first failure returns,
//        with nothing staged
//     5. compute the values after the tx and refuse symbolic loops
//     6. stage ref records, reflog entries and meta records into batch
//     7. backend_->Apply(batch); release mu_
//
// Steps 3-7 under one lock make the check-then-write atomic among
// transactions of this RefDb (invariant 6 in ref_db.h).  Reads of more
// than one record take mu_ shared; single-record reads need no lock.  ExpireReflog and DeleteReflog only compute deletions and leave
// the Apply to the caller, which is safe because they delete a prefix (or
// all) of the entries that existed when they looked, and Commit only ever
// appends after those (ref_db.h invariant 2).

#include "refs/ref_db.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "objects/coding.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

constexpr std::string_view kRefKeyPrefix = "ref/";
constexpr std::string_view kReflogKeyPrefix = "reflog/";
constexpr std::string_view kReflogMetaKeyPrefix = "reflog-meta/";

constexpr uint8_t kFormatVersion = 1;
// Value kinds, shared by ref records and both sides of a reflog entry.
constexpr uint8_t kKindAbsent = 0;  // reflog entries only
constexpr uint8_t kKindDirect = 1;
constexpr uint8_t kKindSymbolic = 2;

std::string RefKey(std::string_view name) {
  std::string key(kRefKeyPrefix);
  key += name;
  return key;
}

// All entries of `name` sort between ReflogPrefix(name) and that plus 0x01:
// a valid name holds neither 0x00 nor 0x01 (ref_name.h invariant 1).
std::string ReflogPrefix(std::string_view name) {
  std::string key(kReflogKeyPrefix);
  key += name;
  key += '\0';
  return key;
}

std::string ReflogKey(std::string_view name, uint64_t seq) {
  std::string key = ReflogPrefix(name);
  coding::PutFixed64(&key, seq);
  return key;
}

std::string MetaKey(std::string_view name) {
  std::string key(kReflogMetaKeyPrefix);
  key += name;
  return key;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Status BadRecord(std::string_view key, std::string_view what) {
  return Status::Corruption("record " + QuoteRefName(key) + ": " +
                            std::string(what));
}

// kind byte + payload.  `value` nullopt encodes "absent".
void PutValue(std::string* dst, const std::optional<RefValue>& value) {
  if (!value) {
    dst->push_back(static_cast<char>(kKindAbsent));
  } else if (value->symbolic) {
    dst->push_back(static_cast<char>(kKindSymbolic));
    coding::PutLengthPrefixed(dst, value->target);
  } else {
    dst->push_back(static_cast<char>(kKindDirect));
    dst->append(value->id.AsBytes());
  }
}

bool GetValue(std::string_view* in, std::optional<RefValue>* value) {
  uint8_t kind;
  if (!coding::GetByte(in, &kind)) return false;
  std::string_view payload;
  switch (kind) {
    case kKindAbsent:
      value->reset();
      return true;
    case kKindDirect:
      if (!coding::GetBytes(in, ObjectId::kSize, &payload)) return false;
      *value = RefValue::Direct(ObjectId::FromRaw(payload.data()));
      return !(*value)->id.IsNull();
    case kKindSymbolic:
      if (!coding::GetLengthPrefixed(in, &payload)) return false;
      *value = RefValue::Symbolic(std::string(payload));
      return ValidateRefName(payload).ok();
    default:
      return false;
  }
}

std::string EncodeRef(const RefValue& value) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  PutValue(&out, value);
  return out;
}

Status DecodeRef(std::string_view key, std::string_view in, RefValue* value) {
  uint8_t version;
  if (!coding::GetByte(&in, &version) || version != kFormatVersion) {
    return BadRecord(key, "unknown ref format version");
  }
  std::optional<RefValue> v;
  if (!GetValue(&in, &v) || !v || !in.empty()) {
    return BadRecord(key, "malformed ref value");
  }
  *value = std::move(*v);
  return Status::OK();
}

std::string EncodeMeta(uint64_t next_seq, int64_t last_time) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  coding::PutFixed64(&out, next_seq);
  coding::PutFixed64(&out, static_cast<uint64_t>(last_time));
  return out;
}

std::string EncodeEntry(int64_t time_us, const std::optional<RefValue>& old_v,
                        const std::optional<RefValue>& new_v,
                        std::string_view message) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  coding::PutFixed64(&out, static_cast<uint64_t>(time_us));
  PutValue(&out, old_v);
  PutValue(&out, new_v);
  coding::PutLengthPrefixed(&out, message);
  return out;
}

// Only the time: what the binary searches need.
Status DecodeEntryTime(std::string_view key, std::string_view in,
                       int64_t* time_us) {
  uint8_t version;
  uint64_t t;
  if (!coding::GetByte(&in, &version) || version != kFormatVersion ||
      !coding::GetFixed64(&in, &t)) {
    return BadRecord(key, "malformed reflog entry header");
  }
  *time_us = static_cast<int64_t>(t);
  return Status::OK();
}

Status DecodeEntry(std::string_view key, std::string_view in,
                   ReflogEntry* entry) {
  uint8_t version;
  uint64_t t;
  std::optional<RefValue> old_v, new_v;
  std::string_view message;
  if (!coding::GetByte(&in, &version) || version != kFormatVersion ||
      !coding::GetFixed64(&in, &t) || !GetValue(&in, &old_v) ||
      !GetValue(&in, &new_v) || !coding::GetLengthPrefixed(&in, &message) ||
      !in.empty()) {
    return BadRecord(key, "malformed reflog entry");
  }
  entry->time_us = static_cast<int64_t>(t);
  entry->old_id = old_v && !old_v->symbolic ? old_v->id : ObjectId();
  entry->new_id = new_v && !new_v->symbolic ? new_v->id : ObjectId();
  entry->old_target = old_v && old_v->symbolic ? old_v->target : "";
  entry->new_target = new_v && new_v->symbolic ? new_v->target : "";
  entry->message.assign(message);
  return Status::OK();
}

std::optional<RefValue> OldValueOf(const ReflogEntry& e) {
  if (!e.old_target.empty()) return RefValue::Symbolic(e.old_target);
  if (!e.old_id.IsNull()) return RefValue::Direct(e.old_id);
  return std::nullopt;
}

std::optional<RefValue> NewValueOf(const ReflogEntry& e) {
  if (!e.new_target.empty()) return RefValue::Symbolic(e.new_target);
  if (!e.new_id.IsNull()) return RefValue::Direct(e.new_id);
  return std::nullopt;
}

std::string Describe(const std::optional<RefValue>& v) {
  if (!v) return "nothing";
  if (v->symbolic) return "-> " + v->target;
  return v->id.ShortHex();
}

std::string Describe(const RefTransaction::Expectation& e) {
  using Kind = RefTransaction::Expectation::Kind;
  switch (e.kind) {
    case Kind::kAbsent:
      return "nothing";
    case Kind::kDirect:
      return e.id.ShortHex();
    case Kind::kSymbolic:
      return "-> " + e.target;
  }
  return "?";
}

bool Matches(const RefTransaction::Expectation& e,
             const std::optional<RefValue>& v) {
  using Kind = RefTransaction::Expectation::Kind;
  switch (e.kind) {
    case Kind::kAbsent:
      return !v;
    case Kind::kDirect:
      return v && !v->symbolic && v->id == e.id;
    case Kind::kSymbolic:
      return v && v->symbolic && v->target == e.target;
  }
  return false;
}

std::string Ref(std::string_view name) {
  return "ref " + std::string(name);
}

}  // namespace

// ---------------------------------------------------------------------------
// RefTransaction

void RefTransaction::Update(std::string name,
                            std::optional<ObjectId> expected_old,
                            const ObjectId& new_id, std::string message) {
  if (Status s = ValidateRefName(name); !s.ok()) return Fail(s);
  if (new_id.IsNull()) {
    return Fail(Status::InvalidArgument(
        "update of " + Ref(name) + " to the null id (use Delete)"));
  }
  Op op{OpKind::kUpdate, std::move(name), std::nullopt,
        RefValue::Direct(new_id), {}, std::move(message)};
  if (expected_old) {
    op.expected = expected_old->IsNull()
                      ? Expectation{Expectation::Kind::kAbsent, {}, {}}
                      : Expectation{Expectation::Kind::kDirect,
                                    *expected_old, {}};
  }
  ops_.push_back(std::move(op));
}

void RefTransaction::Delete(std::string name,
                            std::optional<ObjectId> expected_old,
                            std::string message) {
  if (Status s = ValidateRefName(name); !s.ok()) return Fail(s);
  if (expected_old && expected_old->IsNull()) {
    return Fail(Status::InvalidArgument(
        "delete of " + Ref(name) + " expecting it not to exist"));
  }
  Op op{OpKind::kDelete, std::move(name), std::nullopt, {}, {},
        std::move(message)};
  if (expected_old) {
    op.expected = Expectation{Expectation::Kind::kDirect, *expected_old, {}};
  }
  ops_.push_back(std::move(op));
}

void RefTransaction::DeleteSymbolic(std::string name,
                                    std::optional<std::string> expected_target,
                                    std::string message) {
  if (Status s = ValidateRefName(name); !s.ok()) return Fail(s);
  if (expected_target) {
    if (Status s = ValidateRefName(*expected_target); !s.ok()) return Fail(s);
  }
  Op op{OpKind::kDelete, std::move(name), std::nullopt, {}, {},
        std::move(message)};
  if (expected_target) {
    op.expected = Expectation{Expectation::Kind::kSymbolic, ObjectId(),
                              std::move(*expected_target)};
  }
  ops_.push_back(std::move(op));
}

void RefTransaction::SetSymbolic(std::string name, std::string target,
                                 std::optional<std::string> expected_target,
                                 std::string message) {
  if (Status s = ValidateRefName(name); !s.ok()) return Fail(s);
  if (Status s = ValidateRefName(target); !s.ok()) return Fail(s);
  if (target == name) {
    return Fail(Status::InvalidArgument("symbolic " + Ref(name) +
                                        " cannot point at itself"));
  }
  if (expected_target && !expected_target->empty()) {
    if (Status s = ValidateRefName(*expected_target); !s.ok()) return Fail(s);
  }
  Op op{OpKind::kSetSymbolic, std::move(name), std::nullopt,
        RefValue::Symbolic(std::move(target)), {}, std::move(message)};
  if (expected_target) {
    op.expected = expected_target->empty()
                      ? Expectation{Expectation::Kind::kAbsent, {}, {}}
                      : Expectation{Expectation::Kind::kSymbolic, ObjectId(),
                                    std::move(*expected_target)};
  }
  ops_.push_back(std::move(op));
}

void RefTransaction::Rename(std::string old_name, std::string new_name,
                            std::string message) {
  if (Status s = ValidateRefName(old_name); !s.ok()) return Fail(s);
  if (Status s = ValidateRefName(new_name); !s.ok()) return Fail(s);
  if (old_name == new_name) {
    return Fail(Status::InvalidArgument("rename of " + Ref(old_name) +
                                        " to itself"));
  }
  ops_.push_back(Op{OpKind::kRename, std::move(old_name), std::nullopt, {},
                    std::move(new_name), std::move(message)});
}

// ---------------------------------------------------------------------------
// RefDb: private helpers.  Each *Locked function assumes mu_ is held (shared
// or exclusive).

RefDb::RefDb(Backend* backend) : backend_(backend) {}

// *value = the current value of `name`, or nullopt if it does not exist.
// One GetRecord, atomic by the backend contract: needs no lock.
Status RefDb::ReadRef(std::string_view name,
                         std::optional<RefValue>* value) {
  std::string key = RefKey(name);
  std::string raw;
  Status s = backend_->GetRecord(key, &raw);
  if (s.IsNotFound()) {
    value->reset();
    return Status::OK();
  }
  LARIX_RETURN_IF_ERROR(s);
  RefValue v;
  LARIX_RETURN_IF_ERROR(DecodeRef(key, raw, &v));
  *value = std::move(v);
  return Status::OK();
}

// A missing meta record reads as {next_seq 0, last_time INT64_MIN}.
Status RefDb::ReadMetaLocked(std::string_view name, Meta* meta) {
  std::string key = MetaKey(name);
  std::string raw;
  Status s = backend_->GetRecord(key, &raw);
  if (s.IsNotFound()) {
    *meta = Meta();
    return Status::OK();
  }
  LARIX_RETURN_IF_ERROR(s);
  std::string_view in = raw;
  uint8_t version;
  uint64_t next, last;
  if (!coding::GetByte(&in, &version) || version != kFormatVersion ||
      !coding::GetFixed64(&in, &next) || !coding::GetFixed64(&in, &last) ||
      !in.empty()) {
    return BadRecord(key, "malformed reflog meta");
  }
  meta->next_seq = next;
  meta->last_time = static_cast<int64_t>(last);
  return Status::OK();
}

// *found = whether entry `seq` of `name` exists; if so, *entry is it
// (entry may be null to test existence only).
Status RefDb::ReadEntryLocked(std::string_view name, uint64_t seq,
                              bool* found, ReflogEntry* entry) {
  std::string key = ReflogKey(name, seq);
  std::string raw;
  Status s = backend_->GetRecord(key, &raw);
  if (s.IsNotFound()) {
    *found = false;
    return Status::OK();
  }
  LARIX_RETURN_IF_ERROR(s);
  *found = true;
  if (entry == nullptr) return Status::OK();
  LARIX_RETURN_IF_ERROR(DecodeEntry(key, raw, entry));
  entry->seq = seq;
  return Status::OK();
}

// *low = the first live seq of `name`'s log (meta.next_seq if it is empty).
// Binary search on existence, which is monotone in seq (invariant 2);
// seq 0 is tried first because logs that never expired start there.
Status RefDb::FindLowLocked(std::string_view name, const Meta& meta,
                            uint64_t* low) {
  uint64_t lo = 0, hi = meta.next_seq;
  while (lo < hi) {
    uint64_t mid = lo == 0 ? 0 : lo + (hi - lo) / 2;
    bool found;
    LARIX_RETURN_IF_ERROR(ReadEntryLocked(name, mid, &found, nullptr));
    if (found) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  *low = lo;
  return Status::OK();
}

// *pos = the first seq in [low, end) whose entry's time is > time_us, or
// end.  Entries are time-ordered (invariant 3).  An entry that vanished
// since `low` was found (a concurrent expiry) counts as older than
// everything, which is what it was.
Status RefDb::UpperBoundLocked(std::string_view name, uint64_t low,
                               uint64_t end, int64_t time_us, uint64_t* pos) {
  uint64_t lo = low, hi = end;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    std::string key = ReflogKey(name, mid);
    std::string raw;
    Status s = backend_->GetRecord(key, &raw);
    bool older = true;
    if (s.ok()) {
      int64_t t = 0;
      LARIX_RETURN_IF_ERROR(DecodeEntryTime(key, raw, &t));
      older = t <= time_us;
    } else if (!s.IsNotFound()) {
      return s;
    }
    if (older) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return Status::OK();
}

Status RefDb::ReadReflogLocked(std::string_view name,
                               std::vector<ReflogEntry>* out) {
  out->clear();
  Meta meta;
  LARIX_RETURN_IF_ERROR(ReadMetaLocked(name, &meta));
  uint64_t low;
  LARIX_RETURN_IF_ERROR(FindLowLocked(name, meta, &low));
  out->reserve(meta.next_seq - low);
  for (uint64_t seq = low; seq < meta.next_seq; seq++) {
    ReflogEntry e;
    bool found;
    LARIX_RETURN_IF_ERROR(ReadEntryLocked(name, seq, &found, &e));
    if (found) out->push_back(std::move(e));
  }
  return Status::OK();
}

// The raw value of `name` at time_us: the new value of the newest live
// entry with time <= time_us.  NotFound when there is none or it is a
// deletion.
Result<RefValue> RefDb::ValueAtRawLocked(std::string_view name,
                                         int64_t time_us) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  Meta meta;
  LARIX_RETURN_IF_ERROR(ReadMetaLocked(name, &meta));
  uint64_t low;
  LARIX_RETURN_IF_ERROR(FindLowLocked(name, meta, &low));
  uint64_t pos;
  LARIX_RETURN_IF_ERROR(
      UpperBoundLocked(name, low, meta.next_seq, time_us, &pos));
  const std::string at = " at " + std::to_string(time_us) + "us";
  if (pos == low) {
    return Status::NotFound(Ref(name) + ": no reflog entry" + at +
                            " or before");
  }
  ReflogEntry e;
  bool found;
  LARIX_RETURN_IF_ERROR(ReadEntryLocked(name, pos - 1, &found, &e));
  if (!found) {
    return Status::NotFound(Ref(name) + ": reflog expired" + at);
  }
  std::optional<RefValue> v = NewValueOf(e);
  if (!v) {
    return Status::NotFound(Ref(name) + " did not exist" + at +
                            " (deleted at " + std::to_string(e.time_us) +
                            "us)");
  }
  return *v;
}

// Steps 3-5 of Commit for every op; see Commit in ref_db.h for the codes.
Status RefDb::CheckLocked(const RefTransaction& tx) {
  using OpKind = RefTransaction::OpKind;
  // Step 3: current values of the touched refs.
  std::map<std::string, std::optional<RefValue>, std::less<>> before;
  for (const auto& op : tx.ops_) {
    LARIX_RETURN_IF_ERROR(ReadRef(op.name, &before[op.name]));
    if (op.kind == OpKind::kRename) {
      LARIX_RETURN_IF_ERROR(ReadRef(op.new_name, &before[op.new_name]));
    }
  }

  // Step 4: expectations, in order.
  std::map<std::string, std::optional<RefValue>, std::less<>> after = before;
  for (const auto& op : tx.ops_) {
    const std::optional<RefValue>& cur = before[op.name];
    if (op.expected && !Matches(*op.expected, cur)) {
      return Status::Conflict(Ref(op.name) + ": expected " +
                              Describe(*op.expected) + ", found " +
                              Describe(cur));
    }
    switch (op.kind) {
      case OpKind::kUpdate:
      case OpKind::kSetSymbolic:
        after[op.name] = op.new_value;
        break;
      case OpKind::kDelete:
        if (!cur) return Status::NotFound(Ref(op.name) + " not found");
        after[op.name].reset();
        break;
      case OpKind::kRename: {
        if (!cur) return Status::NotFound(Ref(op.name) + " not found");
        if (before[op.new_name]) {
          return Status::AlreadyExists("cannot rename " + Ref(op.name) +
                                       " to " + op.new_name +
                                       ": it exists (" +
                                       Describe(before[op.new_name]) + ")");
        }
        Meta meta;
        LARIX_RETURN_IF_ERROR(ReadMetaLocked(op.new_name, &meta));
        uint64_t low;
        LARIX_RETURN_IF_ERROR(FindLowLocked(op.new_name, meta, &low));
        if (low < meta.next_seq) {
          return Status::AlreadyExists(
              "cannot rename " + Ref(op.name) + " to " + op.new_name +
              ": a reflog of an earlier " + op.new_name +
              " remains (expire or delete it first)");
        }
        after[op.new_name] = cur;
        after[op.name].reset();
        break;
      }
    }
  }

  // Step 5: no symbolic loops through a ref this tx makes symbolic.  Any
  // new loop passes through such a ref, so walking forward from each finds
  // it.  `after` overlays the current values of untouched refs.
  for (const auto& [name, value] : after) {
    if (!value || !value->symbolic) continue;
    std::set<std::string, std::less<>> seen = {name};
    std::string chain = name;
    std::string cur = value->target;
    for (;;) {
      chain += " -> " + cur;
      if (cur == name) {
        return Status::InvalidArgument("symbolic ref loop: " + chain);
      }
      if (!seen.insert(cur).second) break;  // an older loop elsewhere
      std::optional<RefValue> next;
      if (auto it = after.find(cur); it != after.end()) {
        next = it->second;
      } else {
        LARIX_RETURN_IF_ERROR(ReadRef(cur, &next));
      }
      if (!next || !next->symbolic) break;
      cur = next->target;
    }
  }
  return Status::OK();
}

// Step 6 of Commit: stage records for every op.  The checks passed, so the
// current values are what CheckLocked saw (mu_ is held exclusively).
Status RefDb::StageLocked(const RefTransaction& tx, int64_t now_us,
                          WriteBatch* batch) {
  using OpKind = RefTransaction::OpKind;
  for (const auto& op : tx.ops_) {
    std::optional<RefValue> cur;
    LARIX_RETURN_IF_ERROR(ReadRef(op.name, &cur));
    Meta meta;
    LARIX_RETURN_IF_ERROR(ReadMetaLocked(op.name, &meta));
    // Invariant 3: a clock that went backwards is clamped.
    const int64_t t = std::max(now_us, meta.last_time);

    if (op.kind != OpKind::kRename) {
      std::optional<RefValue> next;
      if (op.kind != OpKind::kDelete) next = op.new_value;
      if (next) {
        batch->PutRecord(RefKey(op.name), EncodeRef(*next));
      } else {
        batch->DeleteRecord(RefKey(op.name));
      }
      batch->PutRecord(ReflogKey(op.name, meta.next_seq),
                       EncodeEntry(t, cur, next, op.message));
      batch->PutRecord(MetaKey(op.name), EncodeMeta(meta.next_seq + 1, t));
      continue;
    }

    // Rename: copy the live log under the new name (renumbered from the
    // new name's next seq, which keeps its seqs unique even across
    // recreations), delete it under the old one, and append the rename
    // entry.  The old name's meta stays, so a later ref of that name
    // continues its numbering.
    std::vector<ReflogEntry> log;
    LARIX_RETURN_IF_ERROR(ReadReflogLocked(op.name, &log));
    Meta new_meta;
    LARIX_RETURN_IF_ERROR(ReadMetaLocked(op.new_name, &new_meta));
    uint64_t seq = new_meta.next_seq;
    for (const ReflogEntry& e : log) {
      batch->PutRecord(
          ReflogKey(op.new_name, seq++),
          EncodeEntry(e.time_us, OldValueOf(e), NewValueOf(e), e.message));
      batch->DeleteRecord(ReflogKey(op.name, e.seq));
    }
    const int64_t rename_t = std::max(t, new_meta.last_time);
    batch->PutRecord(ReflogKey(op.new_name, seq++),
                     EncodeEntry(rename_t, cur, cur, op.message));
    batch->PutRecord(MetaKey(op.new_name), EncodeMeta(seq, rename_t));
    batch->DeleteRecord(RefKey(op.name));
    batch->PutRecord(RefKey(op.new_name), EncodeRef(*cur));
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// RefDb: public API

Result<RefValue> RefDb::Read(std::string_view name) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  std::optional<RefValue> v;
  LARIX_RETURN_IF_ERROR(ReadRef(name, &v));
  if (!v) return Status::NotFound(Ref(name) + " not found");
  return std::move(*v);
}

// Follows symbolic refs from `name`, whose value `first` was just read,
// to the first name that is absent or direct: *final_name, *final_value
// (nullopt if absent), and *chain ("HEAD -> refs/heads/main") for
// messages.  InvalidArgument after kMaxSymbolicDepth symbolic refs.
Status RefDb::WalkLocked(std::string_view name, std::optional<RefValue> first,
                         std::string* final_name,
                         std::optional<RefValue>* final_value,
                         std::string* chain) {
  std::string cur(name);
  *chain = name;
  std::optional<RefValue> v = std::move(first);
  for (int symbolic = 0; v && v->symbolic; symbolic++) {
    if (symbolic == kMaxSymbolicDepth) {
      return Status::InvalidArgument(
          "more than " + std::to_string(kMaxSymbolicDepth) +
          " symbolic refs from " + std::string(name) + ": " + *chain +
          " ...");
    }
    cur = v->target;
    *chain += " -> " + cur;
    LARIX_RETURN_IF_ERROR(ReadRef(cur, &v));
  }
  *final_name = std::move(cur);
  *final_value = std::move(v);
  return Status::OK();
}

Result<ObjectId> RefDb::Resolve(std::string_view name) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  // Branches are direct: one lock-free read.  Symbolic chains are walked
  // under the shared lock so that they see no transaction half-way.
  std::optional<RefValue> v;
  LARIX_RETURN_IF_ERROR(ReadRef(name, &v));
  if (!v) return Status::NotFound(Ref(name) + " not found");
  if (!v->symbolic) return v->id;
  std::shared_lock lock(mu_);
  LARIX_RETURN_IF_ERROR(ReadRef(name, &v));
  std::string final_name, chain;
  LARIX_RETURN_IF_ERROR(
      WalkLocked(name, std::move(v), &final_name, &v, &chain));
  if (!v) {
    return Status::NotFound(Ref(final_name) + " not found" +
                            (final_name == name ? "" : " (" + chain + ")"));
  }
  return v->id;
}

Result<std::string> RefDb::ResolveName(std::string_view name) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  std::optional<RefValue> v;
  LARIX_RETURN_IF_ERROR(ReadRef(name, &v));
  if (!v || !v->symbolic) return std::string(name);
  std::shared_lock lock(mu_);
  LARIX_RETURN_IF_ERROR(ReadRef(name, &v));
  std::string final_name, chain;
  LARIX_RETURN_IF_ERROR(
      WalkLocked(name, std::move(v), &final_name, &v, &chain));
  return final_name;
}

Status RefDb::List(std::string_view prefix,
                   std::vector<std::pair<std::string, RefValue>>* out) {
  out->clear();
  // The iterator is a consistent snapshot (backend contract); no lock.
  std::unique_ptr<RecordIterator> it = backend_->NewRecordIterator();
  std::string start = RefKey(prefix);
  for (it->Seek(start); it->Valid() && StartsWith(it->key(), start);
       it->Next()) {
    RefValue v;
    LARIX_RETURN_IF_ERROR(DecodeRef(it->key(), it->value(), &v));
    out->emplace_back(std::string(it->key().substr(kRefKeyPrefix.size())),
                      std::move(v));
  }
  return it->status();
}

Status RefDb::Commit(const RefTransaction& tx, WriteBatch* batch,
                     const WriteOptions& opts, int64_t now_us) {
  LARIX_RETURN_IF_ERROR(tx.status());
  std::set<std::string_view> names;
  for (const auto& op : tx.ops_) {
    bool fresh = names.insert(op.name).second;
    if (fresh && op.kind == RefTransaction::OpKind::kRename) {
      fresh = names.insert(op.new_name).second;
    }
    if (!fresh) {
      return Status::InvalidArgument(
          "a ref is changed twice in one transaction (" + op.name +
          (op.kind == RefTransaction::OpKind::kRename ? " or " + op.new_name
                                                      : "") +
          ")");
    }
  }

  std::unique_lock lock(mu_);
  LARIX_RETURN_IF_ERROR(CheckLocked(tx));
  // Stage into a separate batch first so that a read error half way leaves
  // the caller's batch untouched.
  WriteBatch staged;
  LARIX_RETURN_IF_ERROR(StageLocked(tx, now_us, &staged));
  for (const auto& op : staged.records()) {
    if (op.is_delete) {
      batch->DeleteRecord(op.key);
    } else {
      batch->PutRecord(op.key, op.value);
    }
  }
  return backend_->Apply(*batch, opts);
}

Status RefDb::Commit(const RefTransaction& tx, int64_t now_us) {
  WriteBatch batch;
  return Commit(tx, &batch, WriteOptions(), now_us);
}

Status RefDb::ReadReflog(std::string_view name,
                         std::vector<ReflogEntry>* out) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  std::shared_lock lock(mu_);
  return ReadReflogLocked(name, out);
}

Result<RefValue> RefDb::ValueAtRaw(std::string_view name, int64_t time_us) {
  std::shared_lock lock(mu_);
  return ValueAtRawLocked(name, time_us);
}

Result<ObjectId> RefDb::ValueAt(std::string_view name, int64_t time_us) {
  std::shared_lock lock(mu_);
  std::string cur(name);
  std::string chain(name);
  for (int symbolic = 0;; symbolic++) {
    LARIX_ASSIGN_OR_RETURN(RefValue v, ValueAtRawLocked(cur, time_us));
    if (!v.symbolic) return v.id;
    if (symbolic == kMaxSymbolicDepth) {
      return Status::InvalidArgument(
          "more than " + std::to_string(kMaxSymbolicDepth) +
          " symbolic refs from " + std::string(name) + " at " +
          std::to_string(time_us) + "us: " + chain + " ...");
    }
    cur = std::move(v.target);
    chain += " -> " + cur;
  }
}

Status RefDb::ExpireReflog(std::string_view name, int64_t older_than_us,
                           WriteBatch* batch) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  std::shared_lock lock(mu_);
  Meta meta;
  LARIX_RETURN_IF_ERROR(ReadMetaLocked(name, &meta));
  uint64_t low;
  LARIX_RETURN_IF_ERROR(FindLowLocked(name, meta, &low));
  // [low, older_end): time < cutoff.  [low, boundary_end): time <= cutoff.
  uint64_t older_end = low, boundary_end;
  if (older_than_us != INT64_MIN) {
    LARIX_RETURN_IF_ERROR(UpperBoundLocked(name, low, meta.next_seq,
                                           older_than_us - 1, &older_end));
  }
  LARIX_RETURN_IF_ERROR(UpperBoundLocked(name, low, meta.next_seq,
                                         older_than_us, &boundary_end));
  if (boundary_end == low) return Status::OK();  // nothing at or before
  const uint64_t boundary = boundary_end - 1;
  uint64_t end = std::min(older_end, boundary);
  if (boundary < older_end) {
    // The boundary itself is older than the cutoff; it may go if it
    // records a deletion (ValueAt answers NotFound without it too).
    ReflogEntry e;
    bool found;
    LARIX_RETURN_IF_ERROR(ReadEntryLocked(name, boundary, &found, &e));
    if (found && e.deleted()) end = boundary + 1;
  }
  for (uint64_t seq = low; seq < end; seq++) {
    batch->DeleteRecord(ReflogKey(name, seq));
  }
  return Status::OK();
}

Status RefDb::DeleteReflog(std::string_view name, WriteBatch* batch) {
  LARIX_RETURN_IF_ERROR(ValidateRefName(name));
  std::shared_lock lock(mu_);
  Meta meta;
  LARIX_RETURN_IF_ERROR(ReadMetaLocked(name, &meta));
  uint64_t low;
  LARIX_RETURN_IF_ERROR(FindLowLocked(name, meta, &low));
  for (uint64_t seq = low; seq < meta.next_seq; seq++) {
    batch->DeleteRecord(ReflogKey(name, seq));
  }
  return Status::OK();
}

Status RefDb::ListReflogs(std::vector<std::string>* names) {
  names->clear();
  std::unique_ptr<RecordIterator> it = backend_->NewRecordIterator();
  it->Seek(kReflogKeyPrefix);
  while (it->Valid() && StartsWith(it->key(), kReflogKeyPrefix)) {
    std::string_view rest = it->key().substr(kReflogKeyPrefix.size());
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      return BadRecord(it->key(), "reflog key without a 0x00 separator");
    }
    names->emplace_back(rest.substr(0, nul));
    // Skip the rest of this name's entries: name + 0x01 sorts after them
    // and before any longer name (ref_name.h invariant 1).
    std::string skip = std::string(kReflogKeyPrefix) + names->back() + '\x01';
    it->Seek(skip);
  }
  return it->status();
}

Status RefDb::ForEachReflogId(
    const std::function<void(const std::string& ref, const ObjectId& id)>&
        fn) {
  // A snapshot iterator; fn runs without mu_ held, so it may use the RefDb.
  std::unique_ptr<RecordIterator> it = backend_->NewRecordIterator();
  std::string name;
  for (it->Seek(kReflogKeyPrefix);
       it->Valid() && StartsWith(it->key(), kReflogKeyPrefix); it->Next()) {
    std::string_view rest = it->key().substr(kReflogKeyPrefix.size());
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      return BadRecord(it->key(), "reflog key without a 0x00 separator");
    }
    ReflogEntry e;
    LARIX_RETURN_IF_ERROR(DecodeEntry(it->key(), it->value(), &e));
    if (e.new_id.IsNull()) continue;
    if (rest.substr(0, nul) != name) name.assign(rest.substr(0, nul));
    fn(name, e.new_id);
  }
  return it->status();
}

}  // namespace larix
