// `larix sql` (see repl.h): the statement runner shared by -c, scripts and
// the REPL, the REPL itself, and the meta-commands.
//
// Statement loop.  Input arrives as lines.  A line that starts with '\'
// while no statement is pending is a meta-command.  Other lines accumulate
// in a buffer until sqlite3_complete() says it ends a statement; then the
// buffer runs statement by statement (prepare, step, print, finalize),
// each in SQLite's autocommit unless the script opened a transaction, so
// every statement that succeeds before an error is committed, as with
// psql and sqlite3.
//
// Errors.  A failing statement prints
//
//   error: <SQLite's message>
//   LINE 3: SELECT * FROM nope;
//                         ^
//
// on stderr: the line of the input (counted from the start of the script,
// of -c, or of the REPL's current statement) and a caret under the byte
// sqlite3_error_offset() names; without an offset (most run-time errors)
// the first line of the statement, without a caret.
//
// Interrupts.  In the REPL, Ctrl-C interrupts the running statement
// (sqlite3_interrupt: the statement fails with "interrupted" and rolls
// back) or discards the statement being typed.  Elsewhere SIGINT keeps
// its default action; a transaction cut short is never committed.
//
// libedit.  Line editing and history use libedit's readline interface,
// loaded with dlopen when the REPL starts: the build needs only the
// header, and without libedit.so.2 at run time the REPL reads plain lines.

#include "cli/repl.h"

#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <editline/readline.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "larix/database.h"
#include "larix/store.h"

namespace larix::cli {
namespace {

constexpr char kPrompt[] = "larix> ";
constexpr char kContinuationPrompt[] = "  ...> ";
constexpr int kHistoryLines = 1000;

volatile sig_atomic_t g_interrupted = 0;
sqlite3* g_interrupt_db = nullptr;  // the REPL's connection

void OnInterrupt(int) {
  g_interrupted = 1;
  // sqlite3_interrupt is safe to call at any time while the connection is
  // open; it only sets a flag the VDBE checks.
  if (g_interrupt_db != nullptr) sqlite3_interrupt(g_interrupt_db);
}

// Reads one byte of terminal input for libedit.  Returns EOF when a
// Ctrl-C arrived, so readline() returns at once and the REPL sees
// g_interrupted.
// SIGINT stays blocked except inside ppoll(), which unblocks it atomically
// while waiting, so a Ctrl-C between the check of g_interrupted and the
// wait cannot be lost.
int InterruptibleGetc(FILE* in) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  bool readable = false;
  while (!g_interrupted && !readable) {
    struct pollfd p = {fileno(in), POLLIN, 0};
    int r = ppoll(&p, 1, nullptr, &old);
    readable = r > 0;
    if (r < 0 && errno != EINTR) break;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (g_interrupted) return EOF;
  unsigned char c;
  for (;;) {
    ssize_t n = read(fileno(in), &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR || g_interrupted) return EOF;
  }
}

// The part of libedit's readline interface the REPL uses, typed by the
// installed header.
struct Libedit {
  decltype(&::readline) readline;
  decltype(&::add_history) add_history;
  decltype(&::read_history) read_history;
  decltype(&::write_history) write_history;
  decltype(&::stifle_history) stifle_history;
  decltype(&::using_history) using_history;

  // Null if libedit cannot be loaded.  The library stays loaded.
  static const Libedit* Load() {
    static const Libedit* lib = [] () -> const Libedit* {
      void* h = nullptr;
      for (const char* name : {"libedit.so.2", "libedit.so"}) {
        if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
      }
      if (h == nullptr) return nullptr;
      auto* l = new Libedit;
      // libedit retries a read() cut short by a signal once, so a single
      // Ctrl-C could be swallowed; our getc reports it instead.
      if (auto* getc_fn = reinterpret_cast<int (**)(FILE*)>(
              dlsym(h, "rl_getc_function"))) {
        *getc_fn = InterruptibleGetc;
      }
      bool ok = Bind(h, "readline", &l->readline) &&
                Bind(h, "add_history", &l->add_history) &&
                Bind(h, "read_history", &l->read_history) &&
                Bind(h, "write_history", &l->write_history) &&
                Bind(h, "stifle_history", &l->stifle_history) &&
                Bind(h, "using_history", &l->using_history);
      if (!ok) {
        delete l;
        return nullptr;
      }
      return l;
    }();
    return lib;
  }

 private:
  template <typename F>
  static bool Bind(void* handle, const char* name, F* fn) {
    *fn = reinterpret_cast<F>(dlsym(handle, name));
    return *fn != nullptr;
  }
};

// --- Line sources -------------------------------------------------------

enum class ReadResult { kLine, kEof, kInterrupted };

class LineReader {
 public:
  virtual ~LineReader() = default;
  // One line without its newline.
  virtual ReadResult Read(const char* prompt, std::string* line) = 0;
  // Adds an entered line to the history, if there is one.
  virtual void Remember(const std::string& line) {}
};

// Lines from a stream (scripts; the REPL without libedit).
class StreamReader : public LineReader {
 public:
  StreamReader(std::FILE* in, bool show_prompt)
      : in_(in), show_prompt_(show_prompt) {}
  ~StreamReader() override { std::free(buf_); }

  ReadResult Read(const char* prompt, std::string* line) override {
    if (show_prompt_) {
      std::fputs(prompt, stdout);
      std::fflush(stdout);
    }
    errno = 0;
    ssize_t n = getline(&buf_, &cap_, in_);
    if (n < 0) {
      if (errno == EINTR && g_interrupted) {
        std::clearerr(in_);
        return ReadResult::kInterrupted;
      }
      return ReadResult::kEof;
    }
    if (n > 0 && buf_[n - 1] == '\n') n--;
    line->assign(buf_, n);
    return ReadResult::kLine;
  }

 private:
  std::FILE* in_;
  bool show_prompt_;
  char* buf_ = nullptr;
  size_t cap_ = 0;
};

// Lines from the terminal through libedit, with history in a file.
class EditLineReader : public LineReader {
 public:
  EditLineReader(const Libedit* lib, std::string history_path)
      : lib_(lib), history_path_(std::move(history_path)) {
    lib_->using_history();
    lib_->stifle_history(kHistoryLines);
    if (!history_path_.empty()) lib_->read_history(history_path_.c_str());
  }
  ~EditLineReader() override {
    if (!history_path_.empty()) lib_->write_history(history_path_.c_str());
  }

  ReadResult Read(const char* prompt, std::string* line) override {
    std::fflush(stdout);
    char* s = lib_->readline(prompt);
    if (s == nullptr) {
      return g_interrupted ? ReadResult::kInterrupted : ReadResult::kEof;
    }
    line->assign(s);
    std::free(s);
    return ReadResult::kLine;
  }

  void Remember(const std::string& line) override {
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    if (line == last_) return;
    lib_->add_history(line.c_str());
    last_ = line;
  }

 private:
  const Libedit* lib_;
  std::string history_path_;
  std::string last_;
};

// $LARIX_HISTORY, else ~/.larix_history; "" (no history) if neither can
// be found.
std::string HistoryPath() {
  if (const char* p = std::getenv("LARIX_HISTORY"); p && *p) return p;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.larix_history";
  }
  return "";
}

// --- Helpers --------------------------------------------------------------

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

// The offset of the first byte at or after `pos` that is neither blank nor
// inside a comment: where a statement really starts.
size_t SkipBlanksAndComments(const std::string& sql, size_t pos) {
  while (pos < sql.size()) {
    char c = sql[pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      pos++;
    } else if (sql.compare(pos, 2, "--") == 0) {
      size_t nl = sql.find('\n', pos);
      pos = nl == std::string::npos ? sql.size() : nl + 1;
    } else if (sql.compare(pos, 2, "/*") == 0) {
      size_t end = sql.find("*/", pos + 2);
      pos = end == std::string::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return pos;
}

bool IsContinuationByte(char c) { return (c & 0xc0) == 0x80; }

// SQL identifier quoting: "a""b".
std::string QuoteIdentifier(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Parses the argument of \d: NAME, SCHEMA.NAME, or "quoted name".
void ParseRelationName(std::string arg, std::string* schema,
                       std::string* name) {
  while (!arg.empty() && (arg.back() == ';' || arg.back() == ' ')) {
    arg.pop_back();
  }
  schema->clear();
  if (!arg.empty() && arg[0] == '"') {
    name->clear();
    size_t i = 1;
    for (; i < arg.size(); i++) {
      if (arg[i] == '"') {
        if (i + 1 < arg.size() && arg[i + 1] == '"') {
          *name += '"';
          i++;
        } else {
          break;
        }
      } else {
        *name += arg[i];
      }
    }
    return;
  }
  size_t dot = arg.find('.');
  if (dot != std::string::npos) {
    *schema = arg.substr(0, dot);
    *name = arg.substr(dot + 1);
  } else {
    *name = arg;
  }
}

// --- The shell ---------------------------------------------------------------

class SqlShell {
 public:
  // `source`: the script's file name for error messages ("" for -c,
  // stdin and the REPL).
  SqlShell(sqlite3* db, OutputFormat format, bool interactive,
           std::string source)
      : db_(db),
        format_(format),
        interactive_(interactive),
        source_(std::move(source)),
        printer_(ResultPrinter::New(format, stdout)) {}

  // Runs every statement in `sql`, whose first line is line `first_line`
  // of the input.  False after the first error (reported on stderr).
  bool Execute(const std::string& sql, int first_line);

  enum class MetaResult { kOk, kQuit, kError };
  MetaResult RunMeta(const std::string& line);

  // Reads and runs `reader`'s lines to the end or to \q.  Scripts stop at
  // the first error.  Returns the exit code.
  int Run(LineReader* reader);

 private:
  void ReportError(const std::string& message, const std::string& sql,
                   int64_t offset, size_t statement_start, int first_line);
  bool ListRelations(bool system);
  bool Describe(const std::string& arg);
  void PrintHelp();
  // Reports a meta-command's failure like a SQL error; returns false.
  bool MetaError(const std::string& message);

  // Prepares `sql` with text parameters (nullopt = NULL).  Null on error,
  // which is reported.
  sqlite3_stmt* Prepare(const std::string& sql,
                        const std::vector<std::optional<std::string>>& params);
  // Every row of a query (values as text, NULL as nullopt).
  bool QueryRows(const std::string& sql,
                 const std::vector<std::optional<std::string>>& params,
                 std::vector<std::vector<std::optional<std::string>>>* rows);

  sqlite3* db_;
  OutputFormat format_;
  bool interactive_;
  std::string source_;
  std::unique_ptr<ResultPrinter> printer_;
};

void SqlShell::ReportError(const std::string& message, const std::string& sql,
                           int64_t offset, size_t statement_start,
                           int first_line) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  bool caret = offset >= 0 && static_cast<size_t>(offset) <= sql.size();
  size_t pos = caret ? static_cast<size_t>(offset)
                     : std::min(statement_start, sql.size());
  int line_no = first_line;
  for (size_t i = 0; i < pos; i++) line_no += sql[i] == '\n';
  size_t begin = pos == 0 ? 0 : sql.rfind('\n', pos - 1);
  begin = begin == std::string::npos || pos == 0 ? 0 : begin + 1;
  size_t end = sql.find('\n', pos);
  if (end == std::string::npos) end = sql.size();
  // A window of at most ~100 bytes around the position, on code point
  // boundaries, for very long lines.
  std::string prefix, suffix;
  if (pos - begin > 60) {
    begin = pos - 60;
    while (begin < pos && IsContinuationByte(sql[begin])) begin++;
    prefix = "...";
  }
  if (end - pos > 60) {
    end = pos + 60;
    while (end < sql.size() && IsContinuationByte(sql[end])) end++;
    suffix = "...";
  }
  std::string text = prefix + sql.substr(begin, end - begin) + suffix;
  for (char& c : text) {
    if (c == '\t' || c == '\r') c = ' ';
  }
  std::string label = source_.empty()
                          ? "LINE " + std::to_string(line_no) + ": "
                          : source_ + ":" + std::to_string(line_no) + ": ";
  std::fprintf(stderr, "%s%s\n", label.c_str(), text.c_str());
  if (caret) {
    size_t column = label.size() + prefix.size();
    // Display columns up to the position: one per code point.
    for (size_t i = begin; i < pos; i++) column += !IsContinuationByte(sql[i]);
    std::fprintf(stderr, "%s^\n", std::string(column, ' ').c_str());
  }
}

// The offset a Larix syntax error names ("... at offset N: ..."), or -1.
int OffsetInMessage(const std::string& message) {
  size_t p = message.find("at offset ");
  if (p == std::string::npos) return -1;
  return std::atoi(message.c_str() + p + 10);
}

bool SqlShell::Execute(const std::string& sql, int first_line) {
  for (const ScriptStatement& piece : SplitScript(sql)) {
    size_t at = piece.offset;
    size_t start = SkipBlanksAndComments(sql, at);
    g_interrupted = 0;
    Result<Translation> translated = TranslateStatement(db_, piece.text);
    if (!translated.ok()) {
      const std::string& message = translated.status().message();
      int off = OffsetInMessage(message);
      ReportError(message, sql, off >= 0 ? at + off : -1, start, first_line);
      return false;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, translated->sql.c_str(), -1, &stmt,
                                nullptr);
    if (rc != SQLITE_OK) {
      // Offsets point into the statement only when it was not rewritten.
      int off = translated->changed ? -1 : sqlite3_error_offset(db_);
      ReportError(sqlite3_errmsg(db_), sql, off >= 0 ? at + off : -1, start,
                  first_line);
      return false;
    }
    if (stmt == nullptr) continue;  // only blanks or comments
    int64_t before = sqlite3_total_changes64(db_);
    uint64_t rows = 0;
    if (translated->is_command) {
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
    } else {
      rc = PrintStatement(stmt, printer_.get(), &rows);
    }
    bool has_columns = sqlite3_column_count(stmt) > 0;
    if (rc != SQLITE_DONE) {
      std::string message = ErrorMessage(db_);
      int off = translated->changed ? -1 : sqlite3_error_offset(db_);
      sqlite3_finalize(stmt);
      ReportError(message, sql, off >= 0 ? at + off : -1, start, first_line);
      return false;
    }
    sqlite3_finalize(stmt);
    if (interactive_ && !has_columns) {
      int64_t changed = sqlite3_total_changes64(db_) - before;
      if (changed > 0) {
        std::printf("(%" PRId64 " row%s changed)\n", changed,
                    changed == 1 ? "" : "s");
      }
    }
  }
  std::fflush(stdout);
  return true;
}

sqlite3_stmt* SqlShell::Prepare(
    const std::string& sql,
    const std::vector<std::optional<std::string>>& params) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    MetaError(sqlite3_errmsg(db_));
    return nullptr;
  }
  for (size_t i = 0; i < params.size(); i++) {
    if (params[i]) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i]->c_str(), -1,
                        SQLITE_TRANSIENT);
    }
  }
  return stmt;
}

bool SqlShell::QueryRows(
    const std::string& sql,
    const std::vector<std::optional<std::string>>& params,
    std::vector<std::vector<std::optional<std::string>>>* rows) {
  rows->clear();
  sqlite3_stmt* stmt = Prepare(sql, params);
  if (stmt == nullptr) return false;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::optional<std::string>> row;
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? std::optional<std::string>(
                            reinterpret_cast<const char*>(t))
                      : std::nullopt);
    }
    rows->push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return MetaError(sqlite3_errmsg(db_));
  return true;
}

bool SqlShell::ListRelations(bool system) {
  sqlite3_stmt* stmt = Prepare(
      "SELECT schema AS \"Schema\", name AS \"Name\", type AS \"Type\" "
      "FROM pragma_table_list "
      "WHERE ?1 OR (name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "             AND type <> 'shadow') "
      "ORDER BY schema = 'temp', schema <> 'main', schema, name",
      {system ? "1" : "0"});
  if (stmt == nullptr) return false;
  uint64_t rows;
  int rc = PrintStatement(stmt, printer_.get(), &rows, "List of relations");
  sqlite3_finalize(stmt);
  std::fflush(stdout);
  if (rc != SQLITE_DONE) return MetaError(sqlite3_errmsg(db_));
  return true;
}

bool SqlShell::Describe(const std::string& arg) {
  std::string schema, name;
  ParseRelationName(arg, &schema, &name);
  std::vector<std::vector<std::optional<std::string>>> found;
  // SQLite's own search order: temp, main, then attached databases.
  if (!QueryRows("SELECT schema, name, type, wr, strict FROM pragma_table_list "
                 "WHERE name = ?1 COLLATE NOCASE "
                 "  AND (?2 IS NULL OR schema = ?2) "
                 "ORDER BY schema = 'temp' DESC, schema = 'main' DESC, schema",
                 {name, schema.empty() ? std::nullopt
                                       : std::optional<std::string>(schema)},
                 &found)) {
    return false;
  }
  if (found.empty()) {
    return MetaError("did not find any table or view named " +
                     QuoteIdentifier(name));
  }
  schema = *found[0][0];
  name = *found[0][1];
  std::string type = found[0][2].value_or("table");
  bool without_rowid = found[0][3].value_or("0") == "1";
  bool strict = found[0][4].value_or("0") == "1";
  std::string kind = type == "view"      ? "View"
                     : type == "virtual" ? "Virtual table"
                     : type == "shadow"  ? "Shadow table"
                                         : "Table";
  std::string qualified = schema + "." + name;

  auto describe_printer = ResultPrinter::New(format_, stdout, /*footer=*/false);
  sqlite3_stmt* stmt = Prepare(
      "SELECT name AS \"Column\", type AS \"Type\", "
      "  CASE WHEN \"notnull\" THEN 'not null' END AS \"Nullable\", "
      "  CASE hidden WHEN 2 THEN 'generated' WHEN 3 THEN 'generated stored' "
      "       ELSE dflt_value END AS \"Default\", "
      "  CASE WHEN pk > 0 THEN pk END AS \"Primary key\" "
      "FROM pragma_table_xinfo(?1, ?2) WHERE hidden <> 1 ORDER BY cid",
      {name, schema});
  if (stmt == nullptr) return false;
  uint64_t rows;
  int rc = PrintStatement(stmt, describe_printer.get(), &rows,
                          kind + " " + QuoteIdentifier(qualified));
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return MetaError(sqlite3_errmsg(db_));

  // Indexes, with their key columns in order.
  const char* kIndexes =
      "SELECT il.name AS \"Index\", "
      "  CASE WHEN il.origin = 'pk' THEN 'PRIMARY KEY' "
      "       WHEN il.\"unique\" THEN 'UNIQUE' END AS \"Kind\", "
      "  (SELECT group_concat(c, ', ') FROM ("
      "     SELECT coalesce(x.name, CASE x.cid WHEN -1 THEN 'rowid' "
      "                             ELSE '(expression)' END) "
      "            || CASE WHEN x.\"desc\" THEN ' DESC' ELSE '' END AS c "
      "     FROM pragma_index_xinfo(il.name, ?2) x WHERE x.key "
      "     ORDER BY x.seqno)) AS \"Columns\", "
      "  CASE WHEN il.partial THEN 'partial' END AS \"Partial\" "
      "FROM pragma_index_list(?1, ?2) il ORDER BY il.name";
  if (format_ != OutputFormat::kTable) {
    // Machine formats: the indexes as a second result set.
    stmt = Prepare(kIndexes, {name, schema});
    if (stmt == nullptr) return false;
    rc = PrintStatement(stmt, describe_printer.get(), &rows);
    sqlite3_finalize(stmt);
    std::fflush(stdout);
    if (rc != SQLITE_DONE) return MetaError(sqlite3_errmsg(db_));
    return true;
  }

  std::vector<std::vector<std::optional<std::string>>> indexes, fkeys,
      triggers, view_sql;
  if (!QueryRows(kIndexes, {name, schema}, &indexes)) return false;
  if (!QueryRows(
          "SELECT group_concat(\"from\", ', '), \"table\", "
          "  group_concat(coalesce(\"to\", ''), ', '), on_update, on_delete "
          "FROM (SELECT * FROM pragma_foreign_key_list(?1, ?2) "
          "      ORDER BY id, seq) GROUP BY id ORDER BY id",
          {name, schema}, &fkeys)) {
    return false;
  }
  std::string master = QuoteIdentifier(schema) + ".sqlite_schema";
  if (!QueryRows("SELECT name FROM " + master +
                     " WHERE type = 'trigger' AND tbl_name = ?1 ORDER BY name",
                 {name}, &triggers) ||
      !QueryRows("SELECT sql FROM " + master +
                     " WHERE type = 'view' AND name = ?1",
                 {name}, &view_sql)) {
    return false;
  }
  if (!indexes.empty()) {
    std::printf("Indexes:\n");
    for (const auto& ix : indexes) {
      std::string line = "    " + QuoteIdentifier(ix[0].value_or(""));
      if (ix[1]) line += " " + *ix[1];
      line += " (" + ix[2].value_or("") + ")";
      if (ix[3]) line += " (partial)";
      std::printf("%s\n", line.c_str());
    }
  }
  if (!fkeys.empty()) {
    std::printf("Foreign keys:\n");
    for (const auto& fk : fkeys) {
      std::string to = fk[2].value_or("");
      bool all_empty = to.find_first_not_of(", ") == std::string::npos;
      std::string line = "    (" + fk[0].value_or("") + ") REFERENCES " +
                         QuoteIdentifier(fk[1].value_or("")) +
                         (all_empty ? "" : "(" + to + ")");
      if (fk[3].value_or("NO ACTION") != "NO ACTION") {
        line += " ON UPDATE " + *fk[3];
      }
      if (fk[4].value_or("NO ACTION") != "NO ACTION") {
        line += " ON DELETE " + *fk[4];
      }
      std::printf("%s\n", line.c_str());
    }
  }
  if (!triggers.empty()) {
    std::printf("Triggers:\n");
    for (const auto& t : triggers) {
      std::printf("    %s\n", QuoteIdentifier(t[0].value_or("")).c_str());
    }
  }
  if (without_rowid || strict) {
    std::printf("Options: %s\n",
                without_rowid && strict ? "WITHOUT ROWID, STRICT"
                : without_rowid         ? "WITHOUT ROWID"
                                        : "STRICT");
  }
  if (!view_sql.empty() && view_sql[0][0]) {
    std::printf("View definition:\n    %s\n", view_sql[0][0]->c_str());
  }
  std::fflush(stdout);
  return true;
}

bool SqlShell::MetaError(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return false;
}

void SqlShell::PrintHelp() {
  std::printf(
      "Meta-commands:\n"
      "  \\d            list tables and views\n"
      "  \\d NAME       describe table or view NAME: columns, indexes, foreign "
      "keys, triggers\n"
      "  \\dS [NAME]    the same, including SQLite's system tables\n"
      "  \\h, \\?        this help\n"
      "  \\q            quit (Ctrl-D also quits)\n"
      "SQL statements end with ';' and may span lines.  Each statement "
      "outside\n"
      "BEGIN ... COMMIT is one transaction, and each transaction is one "
      "commit\n"
      "on the branch.  Ctrl-C cancels the running statement.\n");
  std::fflush(stdout);
}

SqlShell::MetaResult SqlShell::RunMeta(const std::string& line) {
  size_t begin = line.find_first_not_of(" \t");
  std::string text = line.substr(begin);
  size_t space = text.find_first_of(" \t");
  std::string cmd = text.substr(0, space);
  std::string arg;
  if (space != std::string::npos) {
    size_t a = text.find_first_not_of(" \t", space);
    if (a != std::string::npos) arg = text.substr(a);
  }
  while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t' ||
                          arg.back() == '\r')) {
    arg.pop_back();
  }
  if (cmd == "\\q") return MetaResult::kQuit;
  if (cmd == "\\h" || cmd == "\\?") {
    PrintHelp();
    return MetaResult::kOk;
  }
  if (cmd == "\\d" || cmd == "\\dS") {
    bool ok = arg.empty() ? ListRelations(cmd == "\\dS") : Describe(arg);
    return ok ? MetaResult::kOk : MetaResult::kError;
  }
  MetaError("invalid command " + cmd + "; try \\h for help");
  return MetaResult::kError;
}

int SqlShell::Run(LineReader* reader) {
  std::string buffer;
  int line_no = 0;
  int buffer_line = 1;  // input line where the buffer starts
  std::string line;
  for (;;) {
    ReadResult r =
        reader->Read(buffer.empty() ? kPrompt : kContinuationPrompt, &line);
    if (r == ReadResult::kInterrupted) {
      g_interrupted = 0;
      buffer.clear();
      std::printf("\n");
      continue;
    }
    if (r == ReadResult::kEof) break;
    line_no++;
    if (buffer.empty()) {
      size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      if (line[first] == '\\') {
        reader->Remember(line);
        MetaResult m = RunMeta(line);
        if (m == MetaResult::kQuit) return kExitOk;
        if (m == MetaResult::kError && !interactive_) return kExitFailure;
        continue;
      }
      buffer_line = interactive_ ? 1 : line_no;
    }
    reader->Remember(line);
    buffer += line;
    buffer += '\n';
    if (sqlite3_complete(buffer.c_str())) {
      bool ok = Execute(buffer, buffer_line);
      buffer.clear();
      if (!ok && !interactive_) return kExitFailure;
    }
  }
  if (interactive_) std::printf("\n");
  // An unterminated last statement still runs (and fails clearly if it is
  // incomplete), as in sqlite3.
  if (!IsBlank(buffer) && !Execute(buffer, buffer_line) && !interactive_) {
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int RunSql(const SqlArgs& args) {
  if (args.command && !args.file.empty()) {
    return Fail("give either -c SQL or a FILE, not both");
  }
  StoreSpec spec = ParseStoreSpec(args.store);
  Result<std::string> branch = ChooseBranch(spec, args.branch);
  if (!branch.ok()) return Fail(branch.status());
  if (spec.path.empty()) return Fail("no store path given");

  std::FILE* script = nullptr;
  bool from_stdin = !args.command && (args.file.empty() || args.file == "-");
  if (!args.command && !from_stdin) {
    script = std::fopen(args.file.c_str(), "r");
    if (script == nullptr) {
      return Fail("cannot open " + args.file + ": " + std::strerror(errno));
    }
  }
  bool interactive = from_stdin && args.file.empty() && isatty(STDIN_FILENO);

  OpenOptions options;
  options.branch = *branch;
  options.create = false;
  sqlite3* db = nullptr;
  Status s = OpenDatabase(spec.path, options, &db);
  if (!s.ok()) {
    if (script) std::fclose(script);
    return Fail(s);
  }

  int code;
  if (args.command) {
    SqlShell shell(db, args.format, /*interactive=*/false, "");
    std::string text = *args.command;
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '\\') {
      code = shell.RunMeta(text) == SqlShell::MetaResult::kError
                 ? kExitFailure
                 : kExitOk;
    } else {
      code = shell.Execute(text, 1) ? kExitOk : kExitFailure;
    }
  } else if (!interactive) {
    SqlShell shell(db, args.format, /*interactive=*/false,
                   script ? args.file : "");
    StreamReader reader(script ? script : stdin, /*show_prompt=*/false);
    code = shell.Run(&reader);
  } else {
    std::string name =
        spec.path + "@" +
        (branch->empty() ? std::string(kDefaultBranch) : *branch);
    std::printf("larix %s on %s.  Type \\h for help, \\q to quit.\n",
                kLarixVersion, name.c_str());
    g_interrupt_db = db;
    struct sigaction sa = {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a read at the prompt returns EINTR
    struct sigaction old;
    sigaction(SIGINT, &sa, &old);
    SqlShell shell(db, args.format, /*interactive=*/true, "");
    std::unique_ptr<LineReader> reader;
    if (const Libedit* lib = Libedit::Load()) {
      reader = std::make_unique<EditLineReader>(lib, HistoryPath());
    } else {
      reader = std::make_unique<StreamReader>(stdin, /*show_prompt=*/true);
    }
    code = shell.Run(reader.get());
    reader.reset();  // writes the history
    sigaction(SIGINT, &old, nullptr);
    g_interrupt_db = nullptr;
  }
  if (script) std::fclose(script);
  std::fflush(stdout);
  int rc = sqlite3_close(db);
  if (rc != SQLITE_OK && code == kExitOk) {
    return Fail(std::string("closing the database: ") + sqlite3_errstr(rc));
  }
  return code;
}

}  // namespace larix::cli
