// Snapshot tables: how `t AS OF ...` reads a table's past.
//
// TranslateStatement replaces `orders AS OF TIMESTAMP ?` with
// `temp."larix_asof_orders"('timestamp', ?1) AS "orders"`.  That is a call of
// a virtual table of module larix_snapshot, created once per connection and
// table, whose columns are the table's plus two hidden ones (the kind of
// point and its value).  At execution (xFilter) the point is resolved to a
// commit (sql/time_travel.h) on the connection's branch, and rows are read
// through a read-only connection on that commit ("STORE@commit:<hex>"),
// with equality and range constraints pushed down so its indexes are used.
// Because nothing is ATTACHed, this works inside explicit transactions, and
// values bound to parameters are resolved when the statement runs.
//
// Columns are matched by name: a column the table did not have yet reads as
// NULL.  A table that did not exist at that point is an error.

#ifndef LARIX_SQL_SNAPSHOT_TABLE_H_
#define LARIX_SQL_SNAPSHOT_TABLE_H_

#include <sqlite3.h>

#include <string>
#include <vector>

#include "larix/status.h"

namespace larix {

namespace sql {
struct TimeTravelRef;
}

struct TableColumn {
  std::string name;
  std::string type;  // as declared
};

// Columns of `schema`.`table` on `db`, in order.  Empty if no such table.
std::vector<TableColumn> TableColumns(sqlite3* db, const std::string& schema,
                                      const std::string& table);

// Registers the larix_snapshot module on `db`.
int RegisterSnapshotModule(sqlite3* db);

// The name of the temp snapshot table for `table`, created (or re-created
// when the table's columns changed) on `db`.  NotFound if `table` does not
// exist in main.
Result<std::string> EnsureSnapshotTable(sqlite3* db, const std::string& table);


}  // namespace larix

#endif  // LARIX_SQL_SNAPSHOT_TABLE_H_
