// SqlValue (sql/btree_reader.h, which decodes records without SQLite) to
// and from the SQLite C API: binding parameters, reading columns, setting
// function and virtual-table results.  Exact: types are kept (1, 1.0 and '1'
// stay three values).

#ifndef LARIX_SQL_SQLITE_VALUES_H_
#define LARIX_SQL_SQLITE_VALUES_H_

#include <sqlite3.h>

#include <string>

#include "sql/btree_reader.h"

namespace larix {

// Binds `v` to parameter `i` (1-based) of `stmt`.  Returns SQLite's code.
inline int BindSqlValue(sqlite3_stmt* stmt, int i, const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return sqlite3_bind_null(stmt, i);
    case SqlValue::Type::kInteger:
      return sqlite3_bind_int64(stmt, i, v.integer);
    case SqlValue::Type::kReal:
      return sqlite3_bind_double(stmt, i, v.real);
    case SqlValue::Type::kText:
      return sqlite3_bind_text(stmt, i, v.bytes.data(),
                               static_cast<int>(v.bytes.size()),
                               SQLITE_TRANSIENT);
    case SqlValue::Type::kBlob:
      return sqlite3_bind_blob(stmt, i, v.bytes.data(),
                               static_cast<int>(v.bytes.size()),
                               SQLITE_TRANSIENT);
  }
  return SQLITE_MISUSE;
}

// Column `i` (0-based) of the current row of `stmt`.
inline SqlValue ColumnSqlValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return SqlValue::Integer(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return SqlValue::Real(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT:
      return SqlValue::Text(std::string(
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
          sqlite3_column_bytes(stmt, i)));
    case SQLITE_BLOB: {
      const void* p = sqlite3_column_blob(stmt, i);
      int n = sqlite3_column_bytes(stmt, i);
      return SqlValue::Blob(n ? std::string(static_cast<const char*>(p), n)
                              : std::string());
    }
    default:
      return SqlValue::Null();
  }
}

// Makes `v` the result of a function or virtual-table column.
inline void ResultSqlValue(sqlite3_context* ctx, const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      sqlite3_result_null(ctx);
      break;
    case SqlValue::Type::kInteger:
      sqlite3_result_int64(ctx, v.integer);
      break;
    case SqlValue::Type::kReal:
      sqlite3_result_double(ctx, v.real);
      break;
    case SqlValue::Type::kText:
      sqlite3_result_text(ctx, v.bytes.data(),
                          static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
      break;
    case SqlValue::Type::kBlob:
      sqlite3_result_blob(ctx, v.bytes.data(),
                          static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
      break;
  }
}

}  // namespace larix

#endif  // LARIX_SQL_SQLITE_VALUES_H_
