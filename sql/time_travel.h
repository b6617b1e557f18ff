// Resolving "as of" points to commits: AS OF TIMESTAMP / TRANSACTION / SCN /
// COMMIT / BRANCH / TAG, for CREATE DATABASE BRANCH, CREATE TAG and table
// references alike.
//
// AS OF TIMESTAMP T on branch B is B's state after the last commit at or
// before T, found through B's reflog time index (RefDb::ValueAt, O(log n)).
// Before B existed, the answer comes from the history B was created from:
// the first-parent history of the commit its first reflog entry names.
// Requests older than the store's history retention fail clearly rather
// than answer from history GC may already have removed.

#ifndef LARIX_SQL_TIME_TRAVEL_H_
#define LARIX_SQL_TIME_TRAVEL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "larix/status.h"
#include "larix/store.h"

namespace larix {

// Parses a timestamp: ISO-8601 ("2025-11-20T10:00:00Z", "...+02:00",
// fractional seconds), the common "YYYY-MM-DD HH:MM:SS[.ffffff]", or a bare
// date.  Without a zone, UTC.  Returns microseconds since the epoch.
// InvalidArgument naming the text otherwise.
Result<int64_t> ParseTimestamp(std::string_view text);

// "2025-11-20 10:00:00.123456" (UTC), the form Larix shows times in.
std::string FormatTimestamp(int64_t time_us);

enum class AsOfPoint { kNow, kTimestamp, kTransaction, kCommit, kBranch, kTag };

// Parses "timestamp", "transaction", "scn" (= transaction), "commit",
// "branch", "tag", "now" (any case).
Result<AsOfPoint> ParseAsOfPoint(std::string_view kind);

// The commit `branch_ref` (a full ref name) shows at the point
// (kind, value).  `value` is the clause's value as text.
//   InvalidArgument  unparsable value
//   NotFound         no such commit/branch/tag; a time before the branch
//                    and its history existed; a transaction not yet made
//   OutOfRange-like  a time before the retained history (InvalidArgument
//                    naming the retention horizon)
Result<ObjectId> ResolveAsOf(Store* store, const std::string& branch_ref,
                             AsOfPoint kind, const std::string& value);

}  // namespace larix

#endif  // LARIX_SQL_TIME_TRAVEL_H_
