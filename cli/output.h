// Result formatters of the `larix` command: how rows reach the terminal.
//
// A ResultPrinter receives one result set at a time (Begin, Row..., End)
// and writes it in one of three formats (docs/cli.md, "Output formats"):
//
//   table  psql-style aligned columns with a header and a "(n rows)"
//          footer.  Buffers the result set to size the columns.
//   csv    RFC 4180: a header record, CRLF line ends, fields quoted when
//          they hold a comma, quote, CR or LF, quotes doubled.  NULL is an
//          empty field, the empty string is "".  Streams.
//   json   one array of objects per result set, one object per line;
//          integers and reals are numbers, text is a string, a blob is the
//          string "x'<hex>'", NULL is null.  Streams.
//
// Values keep their SQLite storage class, so formats can treat numbers,
// blobs and NULL correctly whatever the column's declared type.
//
// Thread-safety: a printer is used by one thread.

#ifndef LARIX_CLI_OUTPUT_H_
#define LARIX_CLI_OUTPUT_H_

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace larix::cli {

enum class OutputFormat { kTable, kCsv, kJson };

// "table", "csv", "json".  False for anything else.
bool ParseOutputFormat(std::string_view name, OutputFormat* format);

// One value of a result row.
struct Value {
  enum class Type { kNull, kInteger, kReal, kText, kBlob };
  Type type = Type::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // text (UTF-8 as stored), blob bytes, or SQLite's
                      // rendering of a real ("%!.15g")

  static Value Null() { return {}; }
  static Value Text(std::string s) {
    return {Type::kText, 0, 0, std::move(s)};
  }
  static Value Integer(int64_t v) {
    return {Type::kInteger, v, 0, std::to_string(v)};
  }
  // Column `i` of the current row of `stmt`.
  static Value FromColumn(sqlite3_stmt* stmt, int i);
};

// Blob bytes as x'0a1b...' (SQL literal form, lowercase hex).
std::string BlobLiteral(std::string_view bytes);

class ResultPrinter {
 public:
  virtual ~ResultPrinter() = default;

  // A printer writing to `out`.  `footer`: the table format's "(n rows)".
  static std::unique_ptr<ResultPrinter> New(OutputFormat format,
                                            std::FILE* out, bool footer = true);

  // Starts a result set.  `title` is printed above a table (other formats
  // ignore it).
  virtual void Begin(const std::vector<std::string>& columns,
                     const std::string& title = "") = 0;
  virtual void Row(const std::vector<Value>& row) = 0;
  // Ends the result set normally.
  virtual void End() = 0;
  // Ends it after an error: the table format prints nothing, json closes
  // its array so the output stays well-formed.
  virtual void Abort() = 0;
};

// Steps `stmt` to completion, printing its rows (under `title`, if given)
// if it has columns.  Returns the SQLite code of the last sqlite3_step
// (SQLITE_DONE on success); *rows receives the number of rows printed.
int PrintStatement(sqlite3_stmt* stmt, ResultPrinter* printer, uint64_t* rows,
                   const std::string& title = "");

}  // namespace larix::cli

#endif  // LARIX_CLI_OUTPUT_H_
