// RefDb: branches, tags and symbolic refs, moved by compare-and-swap, each
// with a reflog that doubles as a time index.
//
// Everything lives in the backend's records keyspace (byte layout in
// docs/format.md, "Refs and reflogs"):
//
//   "ref/" name                          -> the ref's value
//   "reflog/" name 0x00 BE64(seq)        -> one reflog entry
//   "reflog-meta/" name                  -> next seq, time of the last entry
//
// A RefTransaction lists ref changes with the value each ref is expected to
// have.  RefDb::Commit checks every expectation, then stages the new ref
// records and one reflog entry per change into a WriteBatch that may
// already hold the caller's objects, and applies that batch: a SQL commit's
// pages, tree nodes, commit object, ref move and reflog entry are one
// atomic Backend::Apply.
//
// Time index.  Reflog entry times never decrease along a ref's log (a clock
// that goes backwards is clamped to the previous entry's time), so the
// entries ordered by seq are also ordered by time.  "Which value did the
// ref have at T" is a binary search over seq with point reads: O(log n)
// GetRecord calls, on any backend, without iterators (the memory backend's
// iterators copy the whole keyspace).
//
// Invariants:
//   1. A ref record exists iff the ref exists; its value is a non-null id
//      or the valid name of another ref (which may not exist: a dangling
//      symbolic ref, like HEAD on an unborn branch).
//   2. For every ref name, the live reflog entries are the seqs
//      [low, next_seq) for some low <= next_seq, where next_seq is in the
//      meta record (0 if there is none).  Entries are removed only as a
//      prefix (expiry) or all at once (DeleteReflog, rename away; never
//      by deleting the ref), so "exists" is monotone in seq and `low` is
//      found by binary search.
//   3. Along [low, next_seq) entry times are non-decreasing, and the meta
//      record's last_time is >= the time of every live entry.
//   4. Every change Commit makes to a ref appends exactly one entry to that
//      ref's log, in the same Apply as the ref record (a rename also moves
//      the old name's entries in that Apply).
//   5. There are no symbolic loops: Commit refuses a change that would
//      close one.  (A chain longer than kMaxSymbolicDepth can still be
//      built link by link; following it is InvalidArgument.)
//   6. One RefDb per backend: compare-and-swap is atomic only among
//      transactions committed through the same RefDb.
//
// Thread-safety: every method may be called from any thread.  Commit holds
// an exclusive lock from the first check to the end of Apply (including its
// fsync).  Read, and Resolve/ResolveName of a name that is not symbolic,
// are one lock-free GetRecord (atomic by the backend contract), so they
// never wait for a commit.  Symbolic walks and reflog reads hold the lock
// shared, so they see each committed transaction whole; List and the
// reflog enumerations read a snapshot iterator.

#ifndef LARIX_REFS_REF_DB_H_
#define LARIX_REFS_REF_DB_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "larix/object_id.h"
#include "larix/status.h"
#include "larix/sys/backend.h"

namespace larix {

// The value of a ref: an object id, or (symbolic) the name of another ref.
struct RefValue {
  bool symbolic = false;
  ObjectId id;         // direct refs: never null
  std::string target;  // symbolic refs: a full ref name

  static RefValue Direct(const ObjectId& id) { return {false, id, {}}; }
  static RefValue Symbolic(std::string target) {
    return {true, ObjectId(), std::move(target)};
  }
  bool operator==(const RefValue&) const = default;
};

// One change of one ref.  "Absent" on a side is a null id and an empty
// target: the ref did not exist before (creation) or after (deletion).
struct ReflogEntry {
  uint64_t seq = 0;     // position in this ref's log
  int64_t time_us = 0;  // microseconds since the Unix epoch, UTC
  ObjectId old_id;      // null if absent or symbolic before
  ObjectId new_id;      // null if absent or symbolic after
  std::string old_target;  // non-empty if symbolic before
  std::string new_target;  // non-empty if symbolic after
  std::string message;

  bool created() const { return old_id.IsNull() && old_target.empty(); }
  bool deleted() const { return new_id.IsNull() && new_target.empty(); }
  bool operator==(const ReflogEntry&) const = default;
};

// A list of ref changes to commit together.  Build it, then hand it to
// RefDb::Commit; nothing is read or checked until then, except that a
// malformed change (bad name, null new id, ...) is remembered and returned
// by Commit as InvalidArgument.  Each ref may appear in at most one change
// (a rename touches two).  Not thread-safe.
class RefTransaction {
 public:
  // Points `name` at `new_id` (not null).  expected_old: nullopt = any
  // current value (including absent or symbolic, which this replaces);
  // a null id = `name` must not exist; otherwise `name` must be a direct
  // ref with that id.
  void Update(std::string name, std::optional<ObjectId> expected_old,
              const ObjectId& new_id, std::string message);

  // Deletes `name`, which must exist.  expected_old: nullopt = any value
  // (direct or symbolic); otherwise `name` must be direct with that id (a
  // null id is malformed here).  The reflog is kept; see DeleteReflog.
  void Delete(std::string name, std::optional<ObjectId> expected_old,
              std::string message);

  // Deletes the symbolic ref `name`.  expected_target: nullopt = any
  // value; otherwise `name` must be symbolic with that target.
  void DeleteSymbolic(std::string name,
                      std::optional<std::string> expected_target,
                      std::string message);

  // Creates or retargets the symbolic ref `name` -> `target` (a valid ref
  // name other than `name`; it need not exist).  expected_target: nullopt
  // = any current value; "" = `name` must not exist; otherwise `name` must
  // be symbolic with that target.
  void SetSymbolic(std::string name, std::string target,
                   std::optional<std::string> expected_target,
                   std::string message);

  // Moves `old_name` (direct or symbolic) to `new_name` together with its
  // whole reflog, plus one entry recording the rename.  `old_name` must
  // exist; `new_name` must not exist and must have no reflog entries left
  // from an earlier ref of that name (AlreadyExists; expire or
  // DeleteReflog it first).  Symbolic refs pointing at `old_name` are not
  // rewritten (they dangle, as in git).
  void Rename(std::string old_name, std::string new_name, std::string message);

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // The first malformed change, or OK.
  const Status& status() const { return status_; }

  // What a ref must look like before a change (the methods above build
  // these from their expected_* arguments).
  struct Expectation {
    enum class Kind { kAbsent, kDirect, kSymbolic } kind;
    ObjectId id;
    std::string target;
  };

 private:
  friend class RefDb;

  enum class OpKind { kUpdate, kDelete, kSetSymbolic, kRename };
  struct Op {
    OpKind kind;
    std::string name;
    std::optional<Expectation> expected;  // nullopt: don't care
    RefValue new_value;                   // kUpdate, kSetSymbolic
    std::string new_name;                 // kRename
    std::string message;
  };

  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  std::vector<Op> ops_;
  Status status_;
};

class RefDb {
 public:
  // Following more symbolic refs than this is an error (git's limit).
  static constexpr int kMaxSymbolicDepth = 5;

  // `backend` must outlive the RefDb.  Nothing is read until needed.
  explicit RefDb(Backend* backend);

  RefDb(const RefDb&) = delete;
  RefDb& operator=(const RefDb&) = delete;

  // The value of `name` itself (symbolic refs are not followed).
  // NotFound; InvalidArgument (bad name); Corruption (naming the record).
  Result<RefValue> Read(std::string_view name);

  // Follows symbolic refs from `name` to an id.  NotFound naming the ref
  // that is missing (`name` or the end of the chain); InvalidArgument if
  // more than kMaxSymbolicDepth symbolic refs are met (loops included).
  Result<ObjectId> Resolve(std::string_view name);

  // The first name on the chain from `name` that is not a symbolic ref,
  // whether or not it exists ("HEAD" -> "refs/heads/main" on an unborn
  // branch; "refs/heads/new" -> itself).  InvalidArgument as Resolve.
  Result<std::string> ResolveName(std::string_view name);

  // Every ref whose name begins with `prefix` (any string; "" = all,
  // "refs/heads/" = branches), sorted by name, replacing *out.
  Status List(std::string_view prefix,
              std::vector<std::pair<std::string, RefValue>>* out);

  // Checks every expectation of `tx` against the current values, all
  // before changing anything; the first mismatch, in the order the changes
  // were added, fails the whole transaction.  Then appends to `batch` the
  // ref records and one reflog entry per change, time-stamped `now_us`
  // (clamped per ref, invariant 3), and applies `batch` with `opts`.
  // Returns:
  //   OK             everything in `batch` is applied.
  //   InvalidArgument tx.status(); a ref named twice; a change that would
  //                  close a symbolic loop.  `batch` untouched.
  //   Conflict       an expectation failed, naming the ref, expected and
  //                  actual values.  `batch` untouched.
  //   NotFound       Delete/Rename of a ref that does not exist.  Untouched.
  //   AlreadyExists  Rename onto an existing ref or a leftover reflog.
  //   Corruption     a ref or reflog record failed to decode.
  //   anything Apply returns; `batch` then also holds the staged records.
  // An empty `tx` just applies `batch`.
  Status Commit(const RefTransaction& tx, WriteBatch* batch,
                const WriteOptions& opts, int64_t now_us);

  // Commit with a fresh batch and synced WriteOptions.
  Status Commit(const RefTransaction& tx, int64_t now_us);

  // The live reflog of `name`, oldest first, replacing *out; empty (and
  // OK) if it has none.  The log outlives the ref: a deleted ref's log
  // ends with its deletion and continues if the name is created again.
  Status ReadReflog(std::string_view name, std::vector<ReflogEntry>* out);

  // The id `name` pointed at, at time_us: the new value of the newest live
  // reflog entry with time <= time_us.  If that value is symbolic, the
  // answer is its target's value at the same time_us (followed at most
  // kMaxSymbolicDepth times).  O(log n) point reads.
  //   NotFound         no entry at or before time_us (the ref did not exist
  //                    yet, or that part of its log expired), or the entry
  //                    is a deletion, or the target did not exist then.
  //   InvalidArgument  bad name; symbolic chain too deep.
  Result<ObjectId> ValueAt(std::string_view name, int64_t time_us);

  // The raw value of `name` at time_us (symbolic refs not followed).
  // NotFound / InvalidArgument as ValueAt.
  Result<RefValue> ValueAtRaw(std::string_view name, int64_t time_us);

  // Stages into `batch` the deletion of the entries of `name`'s log older
  // than older_than_us, except the newest entry at or before it, so that
  // ValueAt(name, t) answers as before for every t >= older_than_us.
  // When that boundary entry is a deletion (the ref did not exist at the
  // cutoff) it goes too: ValueAt answers NotFound either way, and a
  // dropped ref's log then disappears completely once it is old enough.
  // Safe to apply while other transactions commit (it removes only a
  // prefix of the log; invariant 2).
  Status ExpireReflog(std::string_view name, int64_t older_than_us,
                      WriteBatch* batch);

  // Stages into `batch` the deletion of every live entry of `name`'s log.
  // The ref itself, if it exists, is untouched (its history is then
  // unknown before its next change).
  Status DeleteReflog(std::string_view name, WriteBatch* batch);

  // The names that have live reflog entries, sorted (includes deleted
  // refs whose log is kept).
  Status ListReflogs(std::vector<std::string>* names);

  // Calls fn(ref name, id) for the new id of every live reflog entry that
  // has a direct new value: the ids ValueAt can still return.  For GC
  // marking; run ExpireReflog first to bound it to the retention window.
  // Old ids are not reported: each is either the new id of the previous
  // live entry or older than the log's first live entry.
  Status ForEachReflogId(
      const std::function<void(const std::string& ref, const ObjectId& id)>&
          fn);

 private:
  struct Meta {
    uint64_t next_seq = 0;
    int64_t last_time = INT64_MIN;
  };

  Status ReadRef(std::string_view name, std::optional<RefValue>* value);
  Status WalkLocked(std::string_view name, std::optional<RefValue> first,
                    std::string* final_name,
                    std::optional<RefValue>* final_value, std::string* chain);
  Status ReadMetaLocked(std::string_view name, Meta* meta);
  Status ReadEntryLocked(std::string_view name, uint64_t seq, bool* found,
                         ReflogEntry* entry);
  Status FindLowLocked(std::string_view name, const Meta& meta,
                       uint64_t* low);
  Status UpperBoundLocked(std::string_view name, uint64_t low,
                          uint64_t end, int64_t time_us, uint64_t* pos);
  Status ReadReflogLocked(std::string_view name,
                          std::vector<ReflogEntry>* out);
  Result<RefValue> ValueAtRawLocked(std::string_view name, int64_t time_us);
  Status CheckLocked(const RefTransaction& tx);
  Status StageLocked(const RefTransaction& tx, int64_t now_us,
                     WriteBatch* batch);

  Backend* const backend_;
  // Exclusive: Commit, from the first check to the end of Apply.
  // Shared: reads of more than one record (symbolic walks, reflogs).
  std::shared_mutex mu_;
};

}  // namespace larix

#endif  // LARIX_REFS_REF_DB_H_
