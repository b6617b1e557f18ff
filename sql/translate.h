// Translation of Larix's SQL extensions into plain SQLite SQL.
//
// Every front end (the CLI, the Python module, a future server) runs each
// statement through TranslateStatement before preparing it.  Plain SQLite
// statements come back byte for byte; a Larix statement comes back as a
// SELECT that calls Larix's SQL functions (sql/functions.cc), and a table
// reference with AS OF as a call of a snapshot table (sql/snapshot_table.cc),
// so the work, its results and its errors flow through SQLite like any
// query.  Parameters keep their numbers and names (sql/dialect.h,
// RewriteSql), so callers bind exactly what they would have bound.
//
// The translation needs the connection: time travel creates (once) a temp
// virtual table per table it reads historically.  The same translation is
// available inside SQL as larix_translate(sql), which is how the Python
// module reaches it.

#ifndef LARIX_SQL_TRANSLATE_H_
#define LARIX_SQL_TRANSLATE_H_

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "larix/database.h"
#include "larix/status.h"

namespace larix {

// Translation and TranslateStatement are declared in larix/database.h.

namespace sql {
struct Value;
}

// A dialect value as a SQL expression: literals quoted, parameters as ?N
// (their original number) or their name.
std::string SqlValueExpr(const sql::Value& v);

// Quotes `s` as a SQL string literal.
std::string SqlQuote(std::string_view s);
// Quotes `s` as a SQL identifier.
std::string SqlIdentifier(std::string_view s);

}  // namespace larix

#endif  // LARIX_SQL_TRANSLATE_H_
