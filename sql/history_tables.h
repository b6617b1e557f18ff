// Row-level history as tables, built on the row diff (sql/row_diff.h):
//
//   larix_diff('t', from, to)  one row per changed row between two
//                              revisions: diff_type (added / modified /
//                              removed), from_<col> and to_<col> for each
//                              column, from_commit, to_commit
//   larix_history('t'[, branch])  every version of every row of t on the
//                              branch's first-parent history: t's columns,
//                              system_time (when the version began),
//                              system_time_end (when it ended, NULL if it
//                              is live), commit_id, txn
//   larix_blame('t'[, branch]) each live row with the commit that last
//                              changed it: t's columns, commit_id, time,
//                              txn, author, message
//
// Their columns depend on the table, so TranslateStatement rewrites
// `larix_diff('orders', a, b)` into `temp."larix_diff_orders"(a, b)`, a
// table-valued call of a per-table virtual table created on first use
// (RewriteHistoryCalls).  FOR SYSTEM_TIME BETWEEN / FROM ... TO / ALL
// become a subquery on larix_history (HistoryTableExpr).
//
// Cost.  larix_diff is one DiffTable: it follows the size of the change.
// larix_history and larix_blame run one DiffTable per commit of the
// branch's history; each is cheap when the commit did not touch the table.

#ifndef LARIX_SQL_HISTORY_TABLES_H_
#define LARIX_SQL_HISTORY_TABLES_H_

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "larix/status.h"
#include "sql/dialect.h"

namespace larix {

int RegisterHistoryModules(sqlite3* db);

// Edits that turn every larix_diff / larix_history / larix_blame call whose
// first argument is a string literal into a call of its per-table virtual
// table (created on `db` as needed).  Empty when there is none.
Result<std::vector<sql::SqlEdit>> RewriteHistoryCalls(sqlite3* db,
                                                      std::string_view sql);

// The replacement for a table reference with FOR SYSTEM_TIME BETWEEN /
// FROM ... TO / ALL: a subquery on the table's larix_history.
Result<std::string> HistoryTableExpr(sqlite3* db,
                                     const sql::TimeTravelRef& ref);

}  // namespace larix

#endif  // LARIX_SQL_HISTORY_TABLES_H_
