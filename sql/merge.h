// Three-way merges of database branches, and cherry-pick and revert on the
// same machinery (docs/merge.md).
//
// A merge of `source` into `target`:
//   1. Under the target's writer token (BEGIN IMMEDIATE on a connection to
//      the target), base = CommitGraph::MergeBase(source head, target head).
//      Target an ancestor of source: fast-forward.  Source an ancestor of
//      target: nothing to do.
//   2. Schema: each object (table, index, view, trigger) is compared in
//      base, ours (target) and theirs (source).  A change on one side only
//      is applied (CREATE, DROP, or ALTER TABLE ADD COLUMN for columns
//      appended to a table); the same object changed differently on both
//      sides is a schema conflict, reported before any row is touched.
//   3. Rows: for each table theirs changed, DiffTable(base, theirs) and
//      DiffTable(base, ours) (cost follows the change), matched by primary
//      key (the rowid for INTEGER PRIMARY KEY tables, the declared key for
//      other rowid tables and WITHOUT ROWID tables).  Tables without a key
//      are multisets.  Cell level: both sides changing different columns of
//      a row keep both changes; the same column set to different values, or
//      a row deleted on one side and changed on the other, is a conflict,
//      settled by the policy: branch_wins, target_wins, or fail.
//   4. Changes are applied through SQL, so UNIQUE and CHECK constraints are
//      enforced as they happen; foreign keys are checked with
//      PRAGMA foreign_key_check.  Any violation fails the merge and nothing
//      is committed.  AUTOINCREMENT counters take the larger value.
//   5. COMMIT writes one commit with two parents (target, source).

#ifndef LARIX_SQL_MERGE_H_
#define LARIX_SQL_MERGE_H_

#include <sqlite3.h>

#include <map>
#include <string>
#include <vector>

#include "larix/status.h"
#include "sql/btree_reader.h"
#include "sql/engine.h"

namespace larix {

// kManual: see "Manual merges" below.
enum class MergePolicy { kFail, kBranchWins, kTargetWins, kManual };

Result<MergePolicy> ParseMergePolicy(const std::string& name);

struct MergeConflict {
  std::string table;
  std::string key;     // "42" or "('a', 7)"
  std::string column;  // empty for whole-row conflicts
  std::string kind;    // "both changed", "deleted here, changed there", ...
  std::string base, ours, theirs;  // SQL literals ("<absent>" for no row)
  // The whole rows, by column, for larix_conflicts_<table>; empty when the
  // row is absent on that side.
  std::map<std::string, SqlValue> base_row, our_row, their_row;
};

struct MergeResult {
  enum class Kind { kUpToDate, kFastForward, kMerged };
  Kind kind = Kind::kUpToDate;
  ObjectId commit;  // the target's head afterwards
  uint64_t rows_inserted = 0, rows_updated = 0, rows_deleted = 0;
  std::vector<std::string> schema_changes;  // statements applied
  std::vector<MergeConflict> conflicts;     // settled by the policy
};

// Merges branch `source` into branch `target`.  Errors: NotFound (no such
// branch), Conflict (policy fail and conflicts: the message lists them;
// schema conflicts under any policy), Aborted-like constraint violations as
// InvalidArgument naming the constraint, Busy (the target has a writer).
Status MergeBranch(Engine* engine, const std::string& source,
                   const std::string& target, MergePolicy policy,
                   MergeResult* result);

// Manual merges.  With MergePolicy::kManual the merge applies everything
// that merges cleanly, keeps the target's side of each conflict, and adds
// the tables
//   larix_conflicts(table_name, num_conflicts)
//   larix_conflicts_<table>(key, conflict, base_<col>..., our_<col>...,
//                           their_<col>...)
// Nothing is committed to the target: the state is kept at
// refs/merging/<target> (the source at refs/merge-sources/<target>), and
// connections on the target work on it (Engine::ReadHead), so the
// conflicts are resolved with ordinary SQL: fix the rows, delete the
// conflict's row.  ContinueMerge then commits the merge to the target (two
// parents, conflict tables dropped); AbortMerge throws the attempt away.
// While it is in progress nothing else commits to the target.
Status ContinueMerge(Engine* engine, const std::string& target,
                     MergeResult* result);
Status AbortMerge(Engine* engine, const std::string& target);

// Applies the change commit `rev` made (against its first parent) to
// `target`, as a new commit.
Status CherryPick(Engine* engine, const std::string& target,
                  const std::string& rev, MergePolicy policy,
                  MergeResult* result);

// Undoes the change commit `rev` made, as a new commit on `target`.
Status Revert(Engine* engine, const std::string& target,
              const std::string& rev, MergePolicy policy,
              MergeResult* result);

}  // namespace larix

#endif  // LARIX_SQL_MERGE_H_
