// The Larix SQL dialect: recognizes the extensions of SPEC.md §1 in one
// statement, and rewrites time-travel table references into plain SQLite.
//
// Design and invariants (grammar and examples in docs/dialect.md):
//   1. Everything that is not a Larix extension is Passthrough and must reach
//      SQLite byte for byte: the caller sends its own text, untouched.
//   2. Extension statements (CREATE DATABASE BRANCH, USE BRANCH, CREATE TAG,
//      ...) are owned by Larix once their leading words match; any error in
//      the rest is ours, an InvalidArgument naming the offset and the token
//      ("syntax error near "FORM" at offset 31: expected FROM").
//   3. Time travel (`t AS OF TIMESTAMP ...`, `FOR SYSTEM_TIME ...`) can sit in
//      any statement; ParseStatement finds each clause with a walk over the
//      tokens that tracks parentheses and the clause it is in (FROM, WHERE,
//      ...), never with pattern matching over text.  `AS` is an extension
//      only when followed by OF and one of the six kinds.
//   4. Parameters are numbered exactly as SQLite numbers them: a bare ?
//      takes the largest number so far plus one, ?NNN takes NNN, a name
//      (:a @a $a #a) keeps the number of its first appearance or takes the
//      largest plus one.  RewriteSql keeps every surviving parameter's number
//      and name and reports how the rewritten statement's numbers map back.
//   5. Offsets are byte offsets into the text given to ParseStatement.
//
// Thread-safety: pure functions over values.

#ifndef LARIX_SQL_DIALECT_H_
#define LARIX_SQL_DIALECT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "larix/status.h"
#include "sql/tokenizer.h"

namespace larix::sql {

// A byte range of the statement text.
struct Span {
  std::size_t offset = 0;
  std::size_t length = 0;

  std::size_t end() const { return offset + length; }
  bool operator==(const Span&) const = default;
};

// One occurrence of a parameter, numbered as SQLite numbers it (invariant 4).
struct Parameter {
  std::string name;  // as written: "?", "?3", ":id", "@id", "$id", "#id"
  int number = 0;    // 1-based; what sqlite3_bind_parameter_index() reports
  Span span;
};

// The parameters of `tokens` (a whole statement, in order) with SQLite's
// numbers.  *count, when given, receives what sqlite3_bind_parameter_count()
// would report: the largest number.
std::vector<Parameter> NumberParameters(const std::vector<Token>& tokens,
                                        int* count = nullptr);

// A literal or a parameter written in extension syntax.
struct Value {
  enum class Kind : unsigned char {
    kString,     // 'text': `text` holds the contents, '' collapsed
    kInteger,    // 42, -7, 0x2a: `text` as written, sign included
    kFloat,      // 1.5, -2e3: `text` as written, sign included
    kBoolean,    // TRUE / FALSE: `text` is "true" or "false"
    kName,       // an identifier, unquoted: `text` is the name
    kParameter,  // ?, ?N, :name, ...: `text` as written, `parameter` its number
  };
  Kind kind = Kind::kString;
  std::string text;
  Span span;
  int parameter = 0;  // kParameter only: SQLite's number for it

  bool is_parameter() const { return kind == Kind::kParameter; }
};

// What an AS OF in CREATE DATABASE BRANCH / CREATE TAG names.
enum class AsOfKind : unsigned char {
  kNow,          // AS OF NOW
  kTimestamp,    // AS OF TIMESTAMP 'text' | ?
  kTransaction,  // AS OF TRANSACTION n | ?   (store-wide transaction number)
  kScn,          // AS OF SCN n | ?           (same number, Oracle's name)
  kCommit,       // AS OF COMMIT 'hash' | ?
};

struct AsOf {
  AsOfKind kind = AsOfKind::kNow;
  std::optional<Value> value;  // absent for kNow
};

// `key = value` inside WITH ( ... ).
struct Option {
  std::string key;  // as written, unquoted
  Value value;
};

// CREATE DATABASE BRANCH [IF NOT EXISTS] name FROM (parent | CURRENT)
//   [AS OF ...] [WITH (key = value, ...)]
struct CreateBranch {
  std::string name;
  bool if_not_exists = false;
  bool from_current = false;  // FROM CURRENT: the connection's branch
  std::string parent;         // empty when from_current
  std::optional<AsOf> as_of;  // absent: the parent's head (as AS OF NOW)
  std::vector<Option> options;
};

// DROP DATABASE BRANCH [IF EXISTS] name
struct DropBranch {
  std::string name;
  bool if_exists = false;
};

// ALTER DATABASE BRANCH name RENAME TO new_name
struct RenameBranch {
  std::string name;
  std::string new_name;
};

// ALTER DATABASE BRANCH name RESET TO ('hash' | ref | ?)
struct ResetBranch {
  std::string name;
  Value target;  // kString (a commit id or ref), kName (a ref) or kParameter
};

// CREATE DATABASE BRANCH ALIAS alias FOR branch
struct CreateBranchAlias {
  std::string alias;
  std::string target;
};

// ALTER DATABASE BRANCH ALIAS alias FOR branch   (atomic switch)
struct AlterBranchAlias {
  std::string alias;
  std::string target;
};

// DROP DATABASE BRANCH ALIAS [IF EXISTS] alias
struct DropBranchAlias {
  std::string alias;
  bool if_exists = false;
};

enum class ConflictResolution : unsigned char {
  kBranchWins,  // 'branch_wins': the source's change is kept
  kTargetWins,  // 'target_wins': the target's change is kept
  kManual,      // 'manual': conflicts are left in tables to resolve
  kFail,        // 'fail': any conflict aborts the merge
};

// MERGE DATABASE BRANCH source INTO target
//   [WITH (conflict_resolution = '...', delete_branch_after = true|false)]
struct MergeBranch {
  std::string source;
  std::string target;
  std::optional<ConflictResolution> conflict_resolution;  // absent: default
  bool delete_branch_after = false;
};

// USE BRANCH name
struct UseBranch {
  std::string name;
};

// CREATE TAG [IF NOT EXISTS] name [AS OF ...] [FROM branch]
struct CreateTag {
  std::string name;
  bool if_not_exists = false;
  std::optional<AsOf> as_of;  // absent: the branch's head
  std::string from_branch;    // empty: the connection's branch
};

// DROP TAG [IF EXISTS] name
struct DropTag {
  std::string name;
  bool if_exists = false;
};

// ALTER TABLE [schema.]table ADD SYSTEM VERSIONING — accepted and done:
// every table is versioned.
struct AddSystemVersioning {
  std::string schema;  // empty when not qualified
  std::string table;
};

// The form of one time-travel clause.
enum class TimeTravelKind : unsigned char {
  kAsOfTimestamp,      // t AS OF TIMESTAMP v
  kAsOfTransaction,    // t AS OF TRANSACTION v
  kAsOfScn,            // t AS OF SCN v
  kAsOfCommit,         // t AS OF COMMIT v
  kAsOfBranch,         // t AS OF BRANCH v
  kAsOfTag,            // t AS OF TAG v
  kSystemTimeAsOf,     // FOR SYSTEM_TIME AS OF [TIMESTAMP] v
  kSystemTimeBetween,  // FOR SYSTEM_TIME BETWEEN v AND w (TIMESTAMP optional)
  kSystemTimeFromTo,   // FOR SYSTEM_TIME FROM v TO w (TIMESTAMP optional)
  kSystemTimeAll,      // FOR SYSTEM_TIME ALL
};

// "AS OF TIMESTAMP", "FOR SYSTEM_TIME BETWEEN", ...
const char* TimeTravelKindName(TimeTravelKind kind);

// One table reference with a time-travel clause.
//
// Rewriting it means replacing `table_span` and deleting `clause_span`
// (RewriteTimeTravel).  The clause span starts right after the token before
// the clause (so the whitespace in front of it goes with it) and ends with
// its last token; comments before it stay.  For the SQL:2011 form written
// right after the table, the clause follows table_span; for a FOR
// SYSTEM_TIME written after WHERE (SPEC.md) it is elsewhere in the text and
// clause_follows_table is false.
struct TimeTravelRef {
  TimeTravelKind kind = TimeTravelKind::kAsOfTimestamp;
  std::string schema;  // "main" in main.orders; empty when not qualified
  std::string table;   // unquoted
  Span table_span;     // the table name as written, schema included
  Span clause_span;
  bool clause_follows_table = true;
  // The clause's values: 1 for the AS OF forms, 2 for BETWEEN and FROM ...
  // TO, none for ALL.  Each is a literal or a parameter.
  std::vector<Value> values;
  // The correlation name (`old` in `products AS OF ... old`), unquoted; empty
  // when there is none.  A rewrite that replaces the table with something
  // of another name must add `AS <table>` when this is empty.
  std::string alias;
};

// A plain SQLite statement with time-travel clauses in it; it must be
// rewritten (RewriteTimeTravel) before SQLite sees it.
struct TimeTravelQuery {
  std::vector<TimeTravelRef> refs;  // in text order of their tables
};

// Plain SQLite: send the text as it is (invariant 1).
struct Passthrough {};

using StatementBody =
    std::variant<Passthrough, TimeTravelQuery, CreateBranch, DropBranch,
                 RenameBranch, ResetBranch, CreateBranchAlias, AlterBranchAlias,
                 DropBranchAlias, MergeBranch, UseBranch, CreateTag, DropTag,
                 AddSystemVersioning>;

struct ParsedStatement {
  StatementBody body;
  // Every parameter of the statement, in text order, numbered as SQLite
  // numbers them; parameter_count is sqlite3_bind_parameter_count()'s
  // answer for the original text.
  std::vector<Parameter> parameters;
  int parameter_count = 0;

  bool is_passthrough() const {
    return std::holds_alternative<Passthrough>(body);
  }
  // The body as a T, or null when it is another kind.
  template <typename T>
  const T* As() const {
    return std::get_if<T>(&body);
  }
};

// "CREATE DATABASE BRANCH", "time-travel query", "passthrough", ...
const char* StatementKindName(const StatementBody& body);

// Classifies one statement (leading and trailing whitespace, comments and
// one trailing ';' allowed) and parses its Larix extensions.
//   Passthrough      no extension; the text goes to SQLite unchanged.  So do
//                    texts SQLite will reject: it reports its own errors.
//   TimeTravelQuery  a plain statement with AS OF / FOR SYSTEM_TIME clauses.
//   the others       an extension statement, fully parsed.
// Errors:
//   InvalidArgument  malformed extension syntax; the message names the
//                    offset and the token ("... near "FORM" at offset 31:
//                    expected FROM"), or says "at end of input".
//   NotSupported     time travel where it cannot work: inside CREATE VIEW or
//                    CREATE TRIGGER (the clause would be stored in the
//                    schema).
Result<ParsedStatement> ParseStatement(std::string_view sql);

// One replacement of a byte range by new text (empty: a deletion).
struct SqlEdit {
  Span span;
  std::string replacement;
};

// A rewritten statement and how its parameters map back.
struct RewrittenSql {
  std::string sql;
  // parameter_origin[j - 1] is the number, in the original statement, of
  // the rewritten statement's parameter j; 0 when j is unused (a gap) or was
  // introduced by a replacement under a new name.  Its size is the
  // rewritten statement's sqlite3_bind_parameter_count().
  std::vector<int> parameter_origin;
};

// Applies `edits` (any order; they must not overlap and must start and end
// on token boundaries) and leaves every other byte as it was, except:
//   - a bare ? that would now get another number than it had is written
//     ?N with its original number, so positional numbering never shifts;
//   - a single space is added where an edit would glue two tokens together.
// Parameters inside edited ranges disappear; the caller binds those itself
// (their original numbers are in ParsedStatement::parameters and
// TimeTravelRef::values).  Replacements may use parameters, written ?N (the
// original statement's parameter N) or by name; a bare ? in a replacement is
// ambiguous and rejected.  Named parameters keep their names; their numbers
// can shift when a parameter before their first appearance is removed, and
// parameter_origin says so.
// Errors: InvalidArgument for overlapping or out-of-range edits, a span that
// splits a token, a replacement that does not tokenize cleanly or uses a
// bare ?, or numbering that cannot be kept (a removed parameter's number
// reused by a surviving ?N after a named parameter took it).
Result<RewrittenSql> RewriteSql(std::string_view sql,
                                std::vector<SqlEdit> edits);

// RewriteSql with, for each ref i, table_span replaced by replacements[i]
// and clause_span deleted.  E.g. `orders AS OF TIMESTAMP '2025-…' o` with
// replacement `"larix_asof_3"."orders"` becomes `"larix_asof_3"."orders" o`.
// Errors: InvalidArgument when the sizes differ, and those of RewriteSql.
Result<RewrittenSql> RewriteTimeTravel(
    std::string_view sql, const TimeTravelQuery& query,
    const std::vector<std::string>& replacements);

}  // namespace larix::sql

#endif  // LARIX_SQL_DIALECT_H_
