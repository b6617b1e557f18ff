// The Larix dialect recognizer and rewriter (see dialect.h, docs/dialect.md).
//
// ParseStatement works on the significant tokens of one statement:
//
//   1. Dispatch on the leading bare words.  CREATE DATABASE, DROP DATABASE,
//      ALTER DATABASE, MERGE DATABASE, USE, CREATE TAG and DROP TAG belong to
//      Larix outright: a small recursive-descent parser reads the rest, and
//      every deviation is an error with the offending token's offset.
//      ALTER TABLE t ADD SYSTEM VERSIONING is matched whole; any other ALTER
//      TABLE is SQLite's.
//   2. Anything else is walked once, left to right, to find time-travel
//      clauses.  The walk keeps a stack of parenthesis frames; each frame
//      knows the clause it is in (result columns, FROM, WHERE, the tail
//      after GROUP/ORDER/LIMIT, a WITH list) and whether the next token
//      starts a FROM item (after FROM, JOIN, or a comma in FROM) or the
//      target of INSERT/UPDATE/DELETE.  A FROM item that is a table name may
//      carry `AS OF <kind> v` or `FOR SYSTEM_TIME ...` and then an alias.
//      A `FOR SYSTEM_TIME` later in the same SELECT (SPEC.md writes it after
//      WHERE) applies to that SELECT's only FROM item; every FROM item
//      records the SELECT ("core") it belongs to so the walk can find it.
//   3. `AS OF <kind>` anywhere else is an error with a precise message, except
//      inside CAST( ... AS type), where `of timestamp` is a legal type name.
//      `FOR SYSTEM_TIME` in the result columns is SQLite's (a column named
//      "for" aliased "system_time"), so it is left alone there.
//
// RewriteSql copies the text token by token, substituting edits, and
// re-simulates SQLite's parameter numbering over the output so that every
// surviving parameter keeps its number (invariant 4 of dialect.h).

#include "sql/dialect.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>

namespace larix::sql {
namespace {

constexpr std::size_t kMaxExcerpt = 40;

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

// A token's text for a message, cut short when long.
std::string Excerpt(std::string_view text) {
  if (text.size() <= kMaxExcerpt) return std::string(text);
  return std::string(text.substr(0, kMaxExcerpt)) + "...";
}

// The number in "?NNN", saturating at INT_MAX; 0 when there are no digits.
int ParameterDigits(std::string_view text) {
  long long n = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    n = n * 10 + (text[i] - '0');
    if (n > INT_MAX) return INT_MAX;
  }
  return static_cast<int>(n);
}

bool IsJoinKeyword(const Token& t) {
  return t.IsWord("CROSS") || t.IsWord("FULL") || t.IsWord("INNER") ||
         t.IsWord("LEFT") || t.IsWord("NATURAL") || t.IsWord("OUTER") ||
         t.IsWord("RIGHT");
}

// The name a token spells: quoted forms unquoted, bare words as written
// (a branch called "temp" keeps its case, though TEMP is a keyword).
std::string NameText(const Token& t) {
  return t.IsBareWord() ? std::string(t.text) : t.value();
}

// A token that can name a table, branch or alias: any identifier, a string
// (SQLite accepts 'name' there), or a keyword SQLite lets stand as a name.
bool IsNameToken(const Token* t) {
  if (t == nullptr) return false;
  return t->kind == TokenKind::kIdentifier || t->kind == TokenKind::kString ||
         (t->kind == TokenKind::kKeyword && IsUsableAsName(t->text));
}

// The six kinds that make `AS OF` a time-travel clause on a table.
std::optional<TimeTravelKind> TableAsOfKind(const Token* t) {
  if (t == nullptr || !t->IsBareWord()) return std::nullopt;
  if (t->IsWord("TIMESTAMP")) return TimeTravelKind::kAsOfTimestamp;
  if (t->IsWord("TRANSACTION")) return TimeTravelKind::kAsOfTransaction;
  if (t->IsWord("SCN")) return TimeTravelKind::kAsOfScn;
  if (t->IsWord("COMMIT")) return TimeTravelKind::kAsOfCommit;
  if (t->IsWord("BRANCH")) return TimeTravelKind::kAsOfBranch;
  if (t->IsWord("TAG")) return TimeTravelKind::kAsOfTag;
  return std::nullopt;
}

// What a value in extension syntax may be.
enum ValueFlags : unsigned {
  kAllowString = 1u << 0,
  kAllowInteger = 1u << 1,
  kAllowFloat = 1u << 2,
  kAllowSign = 1u << 3,  // a leading + or - on a number
  kAllowParameter = 1u << 4,
  kAllowName = 1u << 5,
  kAllowBoolean = 1u << 6,
};
constexpr unsigned kAllowNumber = kAllowInteger | kAllowFloat;

// A WITH option and the token index of its key, for messages.
struct ParsedOption {
  Option option;
  std::size_t key_index = 0;
};

// The clause a frame's walk is in.
enum class Clause : unsigned char {
  kNone,        // statement start, SET list, VALUES, expressions
  kSelectList,  // after SELECT: result columns
  kFrom,        // after FROM or JOIN, through the join constraints
  kWhere,       // after WHERE
  kTail,        // after GROUP BY, HAVING, WINDOW, ORDER BY, LIMIT, RETURNING
  kWith,        // inside a WITH list of common table expressions
};

// One level of parentheses (or the statement itself).
struct Frame {
  enum class Kind : unsigned char {
    kStatement,
    kSubquery,   // ( SELECT | WITH | VALUES ...
    kJoinGroup,  // FROM ( a JOIN b ): a parenthesized FROM list
    kCast,       // CAST ( expr AS type )
    kParen,      // any other parentheses: expressions, argument lists
  };
  Kind kind = Kind::kStatement;
  Clause clause = Clause::kNone;
  bool expect_table = false;   // the next token starts a FROM item
  bool expect_target = false;  // the next token is an INSERT/UPDATE/DELETE
                               // target
  bool expect_cte = false;     // the next token names a WITH table
  bool from_item = false;      // these parentheses are a FROM item
  int core = 0;                // the SELECT whose FROM items are recorded
};

// One FROM item of one SELECT.
struct FromItem {
  int core = 0;
  bool plain = false;  // a table name, not a subquery or function call
  std::size_t first = 0, last = 0;  // significant-token indices of the name
  std::string schema, table, alias;
  int ref = -1;  // index into the refs found, when it has a clause
};

class Parser {
 public:
  Parser(std::string_view sql, const std::vector<Token>& all,
         const std::vector<Parameter>& parameters)
      : sql_(sql), all_(all), parameters_(parameters) {
    for (std::size_t i = 0; i < all_.size(); ++i) {
      if (all_[i].IsSignificant()) sig_.push_back(i);
    }
  }

  Result<StatementBody> Parse();

 private:
  // ---- Token access over the significant tokens. ----
  const Token* At(std::size_t i) const {
    return i < sig_.size() ? &all_[sig_[i]] : nullptr;
  }
  bool WordAt(std::size_t i, std::string_view word) const {
    const Token* t = At(i);
    return t != nullptr && t->IsWord(word);
  }
  bool OpAt(std::size_t i, std::string_view op) const {
    const Token* t = At(i);
    return t != nullptr && t->IsOperator(op);
  }
  // Nothing but an optional final ';' from i on.
  bool EndAt(std::size_t i) const {
    return i >= sig_.size() || (OpAt(i, ";") && i + 1 == sig_.size());
  }
  bool AcceptWord(std::string_view word) {
    if (!WordAt(pos_, word)) return false;
    ++pos_;
    return true;
  }

  // ---- Errors. ----
  Status Error(std::size_t i, std::string_view headline,
               std::string_view detail) const;
  Status Expected(std::size_t i, std::string_view what) const {
    return Error(i, "syntax error",
                 std::string("expected ") + std::string(what));
  }
  Status ExpectWord(std::string_view word) {
    if (AcceptWord(word)) return Status::OK();
    return Expected(pos_, word);
  }
  Status ExpectOp(std::string_view op) {
    if (OpAt(pos_, op)) {
      ++pos_;
      return Status::OK();
    }
    return Expected(pos_, "'" + std::string(op) + "'");
  }
  Status ExpectEnd() {
    if (EndAt(pos_)) return Status::OK();
    return Expected(pos_, "end of statement");
  }

  // ---- Pieces of extension syntax; each reads at pos_ and advances. ----
  Result<std::string> ParseName(std::string_view what);
  Result<Value> ParseValue(unsigned allowed, std::string_view what);
  Result<AsOf> ParseSnapshotAsOf();
  Status ParseOptions(std::vector<ParsedOption>* options);
  int ParameterNumber(const Token& t) const;

  // ---- Extension statements. ----
  Result<StatementBody> ParseCreateDatabase();
  Result<StatementBody> ParseDropDatabase();
  Result<StatementBody> ParseAlterDatabase();
  Result<StatementBody> ParseMerge();
  Result<StatementBody> ParseUse();
  Result<StatementBody> ParseCreateTag();
  Result<StatementBody> ParseDropTag();
  std::optional<AddSystemVersioning> MatchAddSystemVersioning() const;

  // ---- The time-travel walk. ----
  Result<StatementBody> ScanTimeTravel();
  Status ScanWord(const Token& t);
  Status ScanFromItem();
  Status ScanTarget();
  Status ScanTrailingSystemTime();
  Status ParseTimeTravelClause(TimeTravelKind* kind,
                               std::vector<Value>* values);
  Result<Value> ParseTimeValue(TimeTravelKind kind);
  bool IsTableAsOfAt(std::size_t i) const {
    return WordAt(i, "AS") && WordAt(i + 1, "OF") &&
           TableAsOfKind(At(i + 2)).has_value();
  }
  bool IsSystemTimeAt(std::size_t i) const {
    return WordAt(i, "FOR") && WordAt(i + 1, "SYSTEM_TIME");
  }
  bool IsAliasAt(std::size_t i) const;
  Status StrayAsOf() const;
  Span ClauseStartingAt(std::size_t first, std::size_t end) const;
  Span TokensSpan(std::size_t first, std::size_t last) const {
    return {At(first)->offset, At(last)->end() - At(first)->offset};
  }
  int NewCore() { return next_core_++; }

  std::string_view sql_;
  const std::vector<Token>& all_;
  const std::vector<Parameter>& parameters_;
  std::vector<std::size_t> sig_;  // indices into all_ of significant tokens
  std::size_t pos_ = 0;           // cursor into sig_

  // Walk state.
  std::vector<Frame> frames_;
  std::vector<FromItem> items_;
  std::vector<TimeTravelRef> refs_;
  std::vector<std::pair<std::string, std::size_t>> ctes_;  // name, token
  int next_core_ = 0;
  std::size_t last_item_end_ = SIZE_MAX;    // token after the last FROM item
  std::size_t last_item_close_ = SIZE_MAX;  // ')' closing a FROM item
};

Status Parser::Error(std::size_t i, std::string_view headline,
                     std::string_view detail) const {
  std::string msg(headline);
  const Token* t = At(i);
  if (t == nullptr) {
    const std::size_t end = sig_.empty() ? 0 : At(sig_.size() - 1)->end();
    msg += " at end of input at offset " + std::to_string(end);
  } else {
    msg += " near \"" + Excerpt(t->text) + "\" at offset " +
           std::to_string(t->offset);
  }
  if (t != nullptr && t->kind == TokenKind::kError) {
    msg += ": ";
    msg += t->error;
  } else if (!detail.empty()) {
    msg += ": ";
    msg += detail;
  }
  return Status::InvalidArgument(msg);
}

int Parser::ParameterNumber(const Token& t) const {
  for (const Parameter& p : parameters_) {
    if (p.span.offset == t.offset) return p.number;
  }
  return 0;
}

// A branch, tag, alias or option name: an identifier (quoted or not), a
// string, or a keyword SQLite accepts as a name.
Result<std::string> Parser::ParseName(std::string_view what) {
  const Token* t = At(pos_);
  if (IsNameToken(t)) {
    ++pos_;
    return NameText(*t);
  }
  if (t != nullptr && t->kind == TokenKind::kKeyword) {
    return Error(pos_, "syntax error",
                 "expected " + std::string(what) + " (\"" +
                     std::string(t->text) +
                     "\" is a keyword: quote it to use it as a name)");
  }
  return Expected(pos_, what);
}

Result<Value> Parser::ParseValue(unsigned allowed, std::string_view what) {
  const Token* t = At(pos_);
  if (t == nullptr) return Expected(pos_, what);
  Value v;
  v.span = {t->offset, t->length()};
  if ((allowed & kAllowString) && t->kind == TokenKind::kString) {
    v.kind = Value::Kind::kString;
    v.text = t->value();
    ++pos_;
    return v;
  }
  if (allowed & kAllowNumber) {
    std::string sign;
    const Token* number = t;
    std::size_t used = 1;
    if ((allowed & kAllowSign) && (t->IsOperator("-") || t->IsOperator("+"))) {
      sign = std::string(t->text);
      number = At(pos_ + 1);
      used = 2;
    }
    if (number != nullptr &&
        ((number->kind == TokenKind::kInteger && (allowed & kAllowInteger)) ||
         (number->kind == TokenKind::kFloat && (allowed & kAllowFloat)))) {
      v.kind = number->kind == TokenKind::kInteger ? Value::Kind::kInteger
                                                   : Value::Kind::kFloat;
      v.text = sign + std::string(number->text);
      v.span = {t->offset, number->end() - t->offset};
      pos_ += used;
      return v;
    }
  }
  if ((allowed & kAllowParameter) && t->kind == TokenKind::kParameter) {
    v.kind = Value::Kind::kParameter;
    v.text = std::string(t->text);
    v.parameter = ParameterNumber(*t);
    ++pos_;
    return v;
  }
  if ((allowed & kAllowBoolean) && (t->IsWord("TRUE") || t->IsWord("FALSE"))) {
    v.kind = Value::Kind::kBoolean;
    v.text = t->IsWord("TRUE") ? "true" : "false";
    ++pos_;
    return v;
  }
  if ((allowed & kAllowName) && IsNameToken(t) &&
      t->kind != TokenKind::kString) {
    v.kind = Value::Kind::kName;
    v.text = NameText(*t);
    ++pos_;
    return v;
  }
  return Expected(pos_, what);
}

// AS OF (NOW | TIMESTAMP v | TRANSACTION n | SCN n | COMMIT 'id'), for
// CREATE DATABASE BRANCH and CREATE TAG.  pos_ is at AS.
Result<AsOf> Parser::ParseSnapshotAsOf() {
  LARIX_RETURN_IF_ERROR(ExpectWord("AS"));
  LARIX_RETURN_IF_ERROR(ExpectWord("OF"));
  AsOf as_of;
  if (AcceptWord("NOW")) {
    as_of.kind = AsOfKind::kNow;
    return as_of;
  }
  unsigned allowed = 0;
  const char* what = "";
  if (AcceptWord("TIMESTAMP")) {
    as_of.kind = AsOfKind::kTimestamp;
    allowed = kAllowString | kAllowNumber | kAllowParameter;
    what = "a timestamp string, number or parameter after TIMESTAMP";
  } else if (AcceptWord("TRANSACTION")) {
    as_of.kind = AsOfKind::kTransaction;
    allowed = kAllowInteger | kAllowParameter;
    what = "a transaction number or parameter after TRANSACTION";
  } else if (AcceptWord("SCN")) {
    as_of.kind = AsOfKind::kScn;
    allowed = kAllowInteger | kAllowParameter;
    what = "a transaction number or parameter after SCN";
  } else if (AcceptWord("COMMIT")) {
    as_of.kind = AsOfKind::kCommit;
    allowed = kAllowString | kAllowParameter;
    what = "a commit id string or parameter after COMMIT";
  } else {
    return Expected(pos_, "NOW, TIMESTAMP, TRANSACTION, SCN or COMMIT");
  }
  LARIX_ASSIGN_OR_RETURN(Value v, ParseValue(allowed, what));
  as_of.value = std::move(v);
  return as_of;
}

// WITH ( key = value [, key = value]... ); pos_ is at WITH.  Keys are
// unique ignoring case.
Status Parser::ParseOptions(std::vector<ParsedOption>* options) {
  LARIX_RETURN_IF_ERROR(ExpectWord("WITH"));
  LARIX_RETURN_IF_ERROR(ExpectOp("("));
  for (;;) {
    ParsedOption o;
    o.key_index = pos_;
    LARIX_ASSIGN_OR_RETURN(o.option.key, ParseName("option name"));
    for (const ParsedOption& prior : *options) {
      if (EqualsIgnoreCase(prior.option.key, o.option.key)) {
        return Error(o.key_index, "duplicate option", "each option once");
      }
    }
    LARIX_RETURN_IF_ERROR(ExpectOp("="));
    LARIX_ASSIGN_OR_RETURN(
        o.option.value,
        ParseValue(kAllowString | kAllowNumber | kAllowSign | kAllowBoolean |
                       kAllowName | kAllowParameter,
                   "option value (string, number, true, false or name)"));
    options->push_back(std::move(o));
    if (OpAt(pos_, ")")) {
      ++pos_;
      return Status::OK();
    }
    if (!OpAt(pos_, ",")) return Expected(pos_, "',' or ')'");
    ++pos_;
  }
}

Result<StatementBody> Parser::Parse() {
  if (sig_.empty()) return StatementBody(Passthrough{});
  if (WordAt(0, "CREATE") && WordAt(1, "DATABASE")) {
    return ParseCreateDatabase();
  }
  if (WordAt(0, "CREATE") && WordAt(1, "TAG")) return ParseCreateTag();
  if (WordAt(0, "DROP") && WordAt(1, "DATABASE")) return ParseDropDatabase();
  if (WordAt(0, "DROP") && WordAt(1, "TAG")) return ParseDropTag();
  if (WordAt(0, "ALTER") && WordAt(1, "DATABASE")) {
    return ParseAlterDatabase();
  }
  if (WordAt(0, "MERGE") && WordAt(1, "DATABASE")) return ParseMerge();
  if (WordAt(0, "USE")) return ParseUse();
  if (auto v = MatchAddSystemVersioning()) return StatementBody(*v);
  return ScanTimeTravel();
}

// CREATE DATABASE BRANCH [IF NOT EXISTS] name FROM (parent | CURRENT)
//   [AS OF ...] [WITH (...)]
// CREATE DATABASE BRANCH ALIAS alias FOR branch
Result<StatementBody> Parser::ParseCreateDatabase() {
  pos_ = 2;
  LARIX_RETURN_IF_ERROR(ExpectWord("BRANCH"));
  // "ALIAS" is the keyword unless it is itself the branch's name, which
  // FROM (or the end) right after it shows.
  if (WordAt(pos_, "ALIAS") && !WordAt(pos_ + 1, "FROM") && !EndAt(pos_ + 1)) {
    ++pos_;
    CreateBranchAlias alias;
    LARIX_ASSIGN_OR_RETURN(alias.alias, ParseName("alias name"));
    LARIX_RETURN_IF_ERROR(ExpectWord("FOR"));
    LARIX_ASSIGN_OR_RETURN(alias.target, ParseName("branch name"));
    LARIX_RETURN_IF_ERROR(ExpectEnd());
    return StatementBody(std::move(alias));
  }
  CreateBranch b;
  if (AcceptWord("IF")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("NOT"));
    LARIX_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    b.if_not_exists = true;
  }
  LARIX_ASSIGN_OR_RETURN(b.name, ParseName("branch name"));
  LARIX_RETURN_IF_ERROR(ExpectWord("FROM"));
  if (AcceptWord("CURRENT")) {
    b.from_current = true;
  } else {
    LARIX_ASSIGN_OR_RETURN(b.parent,
                           ParseName("parent branch name or CURRENT"));
  }
  if (WordAt(pos_, "AS")) {
    LARIX_ASSIGN_OR_RETURN(b.as_of, ParseSnapshotAsOf());
  }
  if (WordAt(pos_, "WITH")) {
    std::vector<ParsedOption> options;
    LARIX_RETURN_IF_ERROR(ParseOptions(&options));
    for (ParsedOption& o : options) b.options.push_back(std::move(o.option));
  }
  if (!EndAt(pos_)) {
    return Expected(pos_, b.as_of ? "WITH or end of statement"
                                  : "AS OF, WITH or end of statement");
  }
  return StatementBody(std::move(b));
}

// DROP DATABASE BRANCH [IF EXISTS] name
// DROP DATABASE BRANCH ALIAS [IF EXISTS] alias
Result<StatementBody> Parser::ParseDropDatabase() {
  pos_ = 2;
  LARIX_RETURN_IF_ERROR(ExpectWord("BRANCH"));
  const bool alias = WordAt(pos_, "ALIAS") && !EndAt(pos_ + 1);
  if (alias) ++pos_;
  bool if_exists = false;
  if (AcceptWord("IF")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    if_exists = true;
  }
  LARIX_ASSIGN_OR_RETURN(std::string name,
                         ParseName(alias ? "alias name" : "branch name"));
  LARIX_RETURN_IF_ERROR(ExpectEnd());
  if (alias) return StatementBody(DropBranchAlias{std::move(name), if_exists});
  return StatementBody(DropBranch{std::move(name), if_exists});
}

// ALTER DATABASE BRANCH name RENAME TO new_name
// ALTER DATABASE BRANCH name RESET TO ('id' | ref | ?)
// ALTER DATABASE BRANCH ALIAS alias FOR branch
Result<StatementBody> Parser::ParseAlterDatabase() {
  pos_ = 2;
  LARIX_RETURN_IF_ERROR(ExpectWord("BRANCH"));
  if (WordAt(pos_, "ALIAS") && !WordAt(pos_ + 1, "RENAME") &&
      !WordAt(pos_ + 1, "RESET")) {
    ++pos_;
    AlterBranchAlias alias;
    LARIX_ASSIGN_OR_RETURN(alias.alias, ParseName("alias name"));
    LARIX_RETURN_IF_ERROR(ExpectWord("FOR"));
    LARIX_ASSIGN_OR_RETURN(alias.target, ParseName("branch name"));
    LARIX_RETURN_IF_ERROR(ExpectEnd());
    return StatementBody(std::move(alias));
  }
  LARIX_ASSIGN_OR_RETURN(std::string name, ParseName("branch name"));
  if (AcceptWord("RENAME")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("TO"));
    RenameBranch r;
    r.name = std::move(name);
    LARIX_ASSIGN_OR_RETURN(r.new_name, ParseName("new branch name"));
    LARIX_RETURN_IF_ERROR(ExpectEnd());
    return StatementBody(std::move(r));
  }
  if (AcceptWord("RESET")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("TO"));
    ResetBranch r;
    r.name = std::move(name);
    LARIX_ASSIGN_OR_RETURN(
        r.target, ParseValue(kAllowString | kAllowName | kAllowParameter,
                             "commit id string, ref name or parameter"));
    LARIX_RETURN_IF_ERROR(ExpectEnd());
    return StatementBody(std::move(r));
  }
  return Expected(pos_, "RENAME TO or RESET TO");
}

// MERGE DATABASE BRANCH source INTO target [WITH (...)]
Result<StatementBody> Parser::ParseMerge() {
  pos_ = 2;
  LARIX_RETURN_IF_ERROR(ExpectWord("BRANCH"));
  MergeBranch m;
  LARIX_ASSIGN_OR_RETURN(m.source, ParseName("source branch name"));
  LARIX_RETURN_IF_ERROR(ExpectWord("INTO"));
  LARIX_ASSIGN_OR_RETURN(m.target, ParseName("target branch name"));
  if (WordAt(pos_, "WITH")) {
    std::vector<ParsedOption> options;
    LARIX_RETURN_IF_ERROR(ParseOptions(&options));
    for (const ParsedOption& o : options) {
      const Value& v = o.option.value;
      const std::size_t value_index = o.key_index + 2;
      if (EqualsIgnoreCase(o.option.key, "conflict_resolution")) {
        const bool literal =
            v.kind == Value::Kind::kString || v.kind == Value::Kind::kName;
        if (literal && EqualsIgnoreCase(v.text, "branch_wins")) {
          m.conflict_resolution = ConflictResolution::kBranchWins;
        } else if (literal && EqualsIgnoreCase(v.text, "target_wins")) {
          m.conflict_resolution = ConflictResolution::kTargetWins;
        } else if (literal && EqualsIgnoreCase(v.text, "manual")) {
          m.conflict_resolution = ConflictResolution::kManual;
        } else if (literal && EqualsIgnoreCase(v.text, "fail")) {
          m.conflict_resolution = ConflictResolution::kFail;
        } else {
          return Error(value_index, "invalid conflict_resolution",
                       "expected 'branch_wins', 'target_wins', 'fail' or "
                       "'manual'");
        }
      } else if (EqualsIgnoreCase(o.option.key, "delete_branch_after")) {
        if (v.kind == Value::Kind::kBoolean) {
          m.delete_branch_after = v.text == "true";
        } else if (v.kind == Value::Kind::kInteger &&
                   (v.text == "0" || v.text == "1")) {
          m.delete_branch_after = v.text == "1";
        } else {
          return Error(value_index, "invalid delete_branch_after",
                       "expected true or false");
        }
      } else {
        return Error(o.key_index, "unknown MERGE option",
                     "expected conflict_resolution or delete_branch_after");
      }
    }
  }
  LARIX_RETURN_IF_ERROR(ExpectEnd());
  return StatementBody(std::move(m));
}

// USE BRANCH name
Result<StatementBody> Parser::ParseUse() {
  pos_ = 1;
  LARIX_RETURN_IF_ERROR(ExpectWord("BRANCH"));
  UseBranch u;
  LARIX_ASSIGN_OR_RETURN(u.name, ParseName("branch name"));
  LARIX_RETURN_IF_ERROR(ExpectEnd());
  return StatementBody(std::move(u));
}

// CREATE TAG [IF NOT EXISTS] name [AS OF ...] [FROM branch], the last two
// in either order.
Result<StatementBody> Parser::ParseCreateTag() {
  pos_ = 2;
  CreateTag tag;
  if (AcceptWord("IF")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("NOT"));
    LARIX_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    tag.if_not_exists = true;
  }
  LARIX_ASSIGN_OR_RETURN(tag.name, ParseName("tag name"));
  bool from_seen = false;
  for (;;) {
    if (!tag.as_of && WordAt(pos_, "AS")) {
      LARIX_ASSIGN_OR_RETURN(tag.as_of, ParseSnapshotAsOf());
    } else if (!from_seen && AcceptWord("FROM")) {
      from_seen = true;
      LARIX_ASSIGN_OR_RETURN(tag.from_branch, ParseName("branch name"));
    } else {
      break;
    }
  }
  if (!EndAt(pos_)) {
    if (!tag.as_of && !from_seen) {
      return Expected(pos_, "AS OF, FROM or end of statement");
    }
    return Expected(pos_, !tag.as_of   ? "AS OF or end of statement"
                          : !from_seen ? "FROM or end of statement"
                                       : "end of statement");
  }
  return StatementBody(std::move(tag));
}

// DROP TAG [IF EXISTS] name
Result<StatementBody> Parser::ParseDropTag() {
  pos_ = 2;
  DropTag tag;
  if (AcceptWord("IF")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    tag.if_exists = true;
  }
  LARIX_ASSIGN_OR_RETURN(tag.name, ParseName("tag name"));
  LARIX_RETURN_IF_ERROR(ExpectEnd());
  return StatementBody(std::move(tag));
}

// ALTER TABLE [schema.]table ADD SYSTEM VERSIONING, exactly: with anything
// else it is SQLite's ALTER TABLE (ADD SYSTEM VERSIONING x would add a
// column named SYSTEM).
std::optional<AddSystemVersioning> Parser::MatchAddSystemVersioning() const {
  if (!WordAt(0, "ALTER") || !WordAt(1, "TABLE") || !IsNameToken(At(2))) {
    return std::nullopt;
  }
  AddSystemVersioning v;
  std::size_t i = 3;
  if (OpAt(3, ".") && IsNameToken(At(4))) {
    v.schema = NameText(*At(2));
    v.table = NameText(*At(4));
    i = 5;
  } else {
    v.table = NameText(*At(2));
  }
  if (WordAt(i, "ADD") && WordAt(i + 1, "SYSTEM") &&
      WordAt(i + 2, "VERSIONING") && EndAt(i + 3)) {
    return v;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The time-travel walk.

Result<StatementBody> Parser::ScanTimeTravel() {
  Frame top;
  top.core = NewCore();
  frames_.push_back(top);
  pos_ = 0;
  while (pos_ < sig_.size()) {
    const Token& t = *At(pos_);
    Frame& f = frames_.back();
    if (t.IsOperator("(")) {
      const bool query = WordAt(pos_ + 1, "SELECT") ||
                         WordAt(pos_ + 1, "WITH") || WordAt(pos_ + 1, "VALUES");
      Frame inner;
      inner.core = f.core;
      if (f.expect_table) {
        f.expect_table = false;
        inner.from_item = true;
        if (query) {
          items_.push_back({f.core, false, pos_, pos_, "", "", "", -1});
          inner.kind = Frame::Kind::kSubquery;
          inner.core = NewCore();
        } else {
          inner.kind = Frame::Kind::kJoinGroup;
          inner.clause = Clause::kFrom;
          inner.expect_table = true;
          inner.from_item = false;
        }
      } else if (query) {
        inner.kind = Frame::Kind::kSubquery;
        inner.core = NewCore();
      } else if (pos_ > 0 && WordAt(pos_ - 1, "CAST")) {
        inner.kind = Frame::Kind::kCast;
      } else {
        inner.kind = Frame::Kind::kParen;
        // The arguments of a table-valued function in FROM.
        inner.from_item = f.clause == Clause::kFrom && last_item_end_ == pos_;
      }
      frames_.push_back(inner);
      ++pos_;
      continue;
    }
    if (t.IsOperator(")")) {
      if (frames_.size() > 1) {
        const bool from_item = frames_.back().from_item;
        frames_.pop_back();
        if (from_item) last_item_close_ = pos_;
      }
      ++pos_;
      continue;
    }
    if (t.IsOperator(",")) {
      if (f.clause == Clause::kFrom) f.expect_table = true;
      if (f.clause == Clause::kWith) f.expect_cte = true;
      ++pos_;
      continue;
    }
    if (f.expect_table) {
      f.expect_table = false;
      if (IsNameToken(&t)) {
        LARIX_RETURN_IF_ERROR(ScanFromItem());
        continue;
      }
    }
    if (f.expect_target) {
      f.expect_target = false;
      if (IsNameToken(&t)) {
        LARIX_RETURN_IF_ERROR(ScanTarget());
        continue;
      }
    }
    if (f.expect_cte) {
      f.expect_cte = false;
      if (IsNameToken(&t)) {
        ctes_.emplace_back(NameText(t), pos_);
        ++pos_;
        continue;
      }
    }
    if (t.IsBareWord()) {
      const std::size_t before = pos_;
      LARIX_RETURN_IF_ERROR(ScanWord(t));
      if (pos_ != before) continue;  // ScanWord consumed tokens itself
    }
    ++pos_;
  }

  // A WITH table is not versioned: it has no history to travel to.
  for (const TimeTravelRef& ref : refs_) {
    if (!ref.schema.empty()) continue;
    for (const auto& [name, index] : ctes_) {
      if (EqualsIgnoreCase(name, ref.table)) {
        for (std::size_t i = 0; i < sig_.size(); ++i) {
          if (At(i)->offset == ref.table_span.offset) {
            return Error(i, "time travel on a common table expression",
                         "only stored tables have history");
          }
        }
      }
    }
  }
  if (refs_.empty()) return StatementBody(Passthrough{});

  // A view or trigger would store the clause in the schema, where SQLite
  // must parse it again without Larix.
  std::size_t k = 1;
  if (WordAt(k, "TEMP") || WordAt(k, "TEMPORARY")) ++k;
  if (WordAt(0, "CREATE") && (WordAt(k, "VIEW") || WordAt(k, "TRIGGER"))) {
    std::string msg = "time travel inside CREATE " + At(k)->value() +
                      " is not supported (at offset " +
                      std::to_string(refs_.front().table_span.offset) +
                      "): the schema would store the clause";
    return Status::NotSupported(msg);
  }
  std::sort(refs_.begin(), refs_.end(),
            [](const TimeTravelRef& a, const TimeTravelRef& b) {
              return a.table_span.offset < b.table_span.offset;
            });
  return StatementBody(TimeTravelQuery{std::move(refs_)});
}

// A bare word at frame level: clause changes, FROM and target positions,
// and the time-travel clauses that are not attached to a FROM item.  May
// advance pos_ itself; when it does not, the caller steps over the word.
Status Parser::ScanWord(const Token& t) {
  Frame& f = frames_.back();
  const Token* prev = pos_ > 0 ? At(pos_ - 1) : nullptr;
  if (t.IsWord("SELECT")) {
    f.clause = Clause::kSelectList;
    f.core = NewCore();
  } else if (t.IsWord("FROM")) {
    // a IS [NOT] DISTINCT FROM b is an expression, not a FROM clause.
    if (prev == nullptr || !prev->IsWord("DISTINCT")) {
      f.clause = Clause::kFrom;
      f.expect_table = true;
    }
  } else if (t.IsWord("JOIN")) {
    f.clause = Clause::kFrom;
    f.expect_table = true;
  } else if (t.IsWord("WHERE")) {
    f.clause = Clause::kWhere;
  } else if (t.IsWord("GROUP") || t.IsWord("HAVING") || t.IsWord("WINDOW") ||
             t.IsWord("ORDER") || t.IsWord("LIMIT") || t.IsWord("RETURNING")) {
    f.clause = Clause::kTail;
  } else if (t.IsWord("UNION") || t.IsWord("EXCEPT") || t.IsWord("INTERSECT") ||
             t.IsWord("VALUES") || t.IsWord("SET") || t.IsWord("INSERT")) {
    f.clause = Clause::kNone;
  } else if (t.IsWord("INTO")) {
    f.clause = Clause::kNone;
    f.expect_target = true;
  } else if (t.IsWord("UPDATE")) {
    // Not a statement after DO (upsert), ON (a foreign key action) or in a
    // trigger's header (BEFORE/AFTER/INSTEAD OF UPDATE).
    if (prev == nullptr ||
        !(prev->IsWord("DO") || prev->IsWord("ON") || prev->IsWord("BEFORE") ||
          prev->IsWord("AFTER") || prev->IsWord("OF"))) {
      f.clause = Clause::kNone;
      ++pos_;
      if (WordAt(pos_, "OR")) pos_ += 2;  // UPDATE OR REPLACE ...
      f.expect_target = true;
    }
  } else if (t.IsWord("DELETE") && WordAt(pos_ + 1, "FROM")) {
    f.clause = Clause::kNone;
    f.expect_target = true;
    pos_ += 2;
  } else if (t.IsWord("WITH")) {
    f.clause = Clause::kWith;
    f.expect_cte = true;
    if (WordAt(pos_ + 1, "RECURSIVE")) pos_ += 2;
  } else if (t.IsWord("FOR") && WordAt(pos_ + 1, "SYSTEM_TIME")) {
    if (f.clause == Clause::kFrom || f.clause == Clause::kWhere) {
      return ScanTrailingSystemTime();
    }
    if (f.clause == Clause::kTail) {
      return Error(pos_, "misplaced FOR SYSTEM_TIME",
                   "it must come before GROUP BY, HAVING, WINDOW, ORDER BY, "
                   "LIMIT and RETURNING");
    }
    // In the result columns it is SQLite's: a column "for" named
    // "system_time".
  } else if (t.IsWord("AS") && IsTableAsOfAt(pos_) &&
             f.kind != Frame::Kind::kCast) {
    return StrayAsOf();
  }
  return Status::OK();
}

// `AS OF <kind>` where no table name precedes it.
Status Parser::StrayAsOf() const {
  const std::string clause = TimeTravelKindName(*TableAsOfKind(At(pos_ + 2)));
  if (pos_ > 0 && last_item_close_ == pos_ - 1) {
    return Error(pos_, "misplaced " + clause,
                 "it applies to a table name, not to a subquery or "
                 "table-valued function");
  }
  if (last_item_end_ == pos_ && !items_.empty() &&
      !items_.back().alias.empty()) {
    return Error(pos_, "misplaced " + clause,
                 "it must come right after the table name, before the "
                 "alias \"" +
                     items_.back().alias + "\"");
  }
  return Error(pos_, "misplaced " + clause,
               "it must follow a table name in a FROM clause or JOIN");
}

// Whether the token at i is a correlation name written without AS.
bool Parser::IsAliasAt(std::size_t i) const {
  const Token* t = At(i);
  if (t == nullptr) return false;
  if (t->kind == TokenKind::kIdentifier || t->kind == TokenKind::kString) {
    return true;
  }
  if (t->kind != TokenKind::kKeyword || !IsUsableAsName(t->text)) return false;
  if (t->IsWord("FOR") && WordAt(i + 1, "SYSTEM_TIME")) return false;
  // SQLite reads WINDOW as the clause when a name and AS follow.
  if (t->IsWord("WINDOW") && IsNameToken(At(i + 1)) && WordAt(i + 2, "AS")) {
    return false;
  }
  return true;
}

// A FROM item that starts with a name: [schema.]table, then a function's
// argument list, or a time-travel clause and an alias.
Status Parser::ScanFromItem() {
  Frame& f = frames_.back();
  FromItem item;
  item.core = f.core;
  item.first = pos_;
  if (OpAt(pos_ + 1, ".") && IsNameToken(At(pos_ + 2))) {
    item.schema = NameText(*At(pos_));
    item.table = NameText(*At(pos_ + 2));
    item.last = pos_ + 2;
  } else {
    item.table = NameText(*At(pos_));
    item.last = pos_;
  }
  pos_ = item.last + 1;
  if (OpAt(pos_, "(")) {  // a table-valued function: the walk reads its args
    items_.push_back(item);
    last_item_end_ = pos_;
    return Status::OK();
  }
  item.plain = true;

  std::optional<TimeTravelRef> ref;
  if (IsTableAsOfAt(pos_) || IsSystemTimeAt(pos_)) {
    const std::size_t clause_first = pos_;
    ref.emplace();
    LARIX_RETURN_IF_ERROR(ParseTimeTravelClause(&ref->kind, &ref->values));
    ref->clause_span = ClauseStartingAt(clause_first, pos_);
  }
  if (WordAt(pos_, "AS") && !IsTableAsOfAt(pos_)) {
    const Token* name = At(pos_ + 1);
    if (IsNameToken(name) || (name != nullptr && IsJoinKeyword(*name))) {
      item.alias = NameText(*name);
      pos_ += 2;
    }
  } else if (IsAliasAt(pos_)) {
    item.alias = NameText(*At(pos_));
    ++pos_;
  }
  if (ref) {
    ref->schema = item.schema;
    ref->table = item.table;
    ref->table_span = TokensSpan(item.first, item.last);
    ref->clause_follows_table = true;
    ref->alias = item.alias;
    item.ref = static_cast<int>(refs_.size());
    refs_.push_back(std::move(*ref));
  }
  items_.push_back(std::move(item));
  last_item_end_ = pos_;
  return Status::OK();
}

// The table an INSERT, UPDATE or DELETE writes: history cannot be written.
Status Parser::ScanTarget() {
  pos_ += (OpAt(pos_ + 1, ".") && IsNameToken(At(pos_ + 2))) ? 3 : 1;
  if (IsTableAsOfAt(pos_) || IsSystemTimeAt(pos_)) {
    return Error(pos_, "time travel on a table being written",
                 "history is read-only; use AS OF in a SELECT's FROM clause");
  }
  return Status::OK();
}

// FOR SYSTEM_TIME after the FROM clause (SPEC.md: after WHERE): applies to
// the only FROM item of the current SELECT.
Status Parser::ScanTrailingSystemTime() {
  const Frame& f = frames_.back();
  const std::size_t clause_first = pos_;
  TimeTravelRef ref;
  LARIX_RETURN_IF_ERROR(ParseTimeTravelClause(&ref.kind, &ref.values));
  ref.clause_span = ClauseStartingAt(clause_first, pos_);
  ref.clause_follows_table = false;

  FromItem* only = nullptr;
  int count = 0;
  for (FromItem& item : items_) {
    if (item.core == f.core) {
      ++count;
      only = &item;
    }
  }
  if (count != 1) {
    return Error(clause_first, "ambiguous FOR SYSTEM_TIME",
                 "after the FROM clause it needs exactly one table in FROM "
                 "(found " +
                     std::to_string(count) +
                     "); write it right after the table name instead");
  }
  if (!only->plain) {
    return Error(clause_first, "misplaced FOR SYSTEM_TIME",
                 "it applies to a table name, not to a subquery or "
                 "table-valued function");
  }
  if (only->ref >= 0) {
    return Error(clause_first, "second time-travel clause",
                 "table \"" + only->table + "\" already has one");
  }
  ref.schema = only->schema;
  ref.table = only->table;
  ref.table_span = TokensSpan(only->first, only->last);
  ref.alias = only->alias;
  only->ref = static_cast<int>(refs_.size());
  refs_.push_back(std::move(ref));
  return Status::OK();
}

// AS OF <kind> v, or FOR SYSTEM_TIME (AS OF v | BETWEEN v AND w |
// FROM v TO w | ALL), the values optionally preceded by TIMESTAMP.
Status Parser::ParseTimeTravelClause(TimeTravelKind* kind,
                                     std::vector<Value>* values) {
  if (WordAt(pos_, "AS")) {
    *kind = *TableAsOfKind(At(pos_ + 2));
    pos_ += 3;
    LARIX_ASSIGN_OR_RETURN(Value v, ParseTimeValue(*kind));
    values->push_back(std::move(v));
    return Status::OK();
  }
  pos_ += 2;  // FOR SYSTEM_TIME
  auto value = [&]() -> Status {
    AcceptWord("TIMESTAMP");
    LARIX_ASSIGN_OR_RETURN(Value v,
                           ParseTimeValue(TimeTravelKind::kSystemTimeAsOf));
    values->push_back(std::move(v));
    return Status::OK();
  };
  if (AcceptWord("ALL")) {
    *kind = TimeTravelKind::kSystemTimeAll;
    return Status::OK();
  }
  if (AcceptWord("AS")) {
    LARIX_RETURN_IF_ERROR(ExpectWord("OF"));
    *kind = TimeTravelKind::kSystemTimeAsOf;
    return value();
  }
  if (AcceptWord("BETWEEN")) {
    *kind = TimeTravelKind::kSystemTimeBetween;
    LARIX_RETURN_IF_ERROR(value());
    LARIX_RETURN_IF_ERROR(ExpectWord("AND"));
    return value();
  }
  if (AcceptWord("FROM")) {
    *kind = TimeTravelKind::kSystemTimeFromTo;
    LARIX_RETURN_IF_ERROR(value());
    LARIX_RETURN_IF_ERROR(ExpectWord("TO"));
    return value();
  }
  return Expected(pos_, "AS OF, BETWEEN, FROM or ALL after FOR SYSTEM_TIME");
}

// The value of a time-travel clause: a literal or a parameter, never an
// expression, so that it can be bound before the query runs.
Result<Value> Parser::ParseTimeValue(TimeTravelKind kind) {
  switch (kind) {
    case TimeTravelKind::kAsOfTransaction:
    case TimeTravelKind::kAsOfScn:
      return ParseValue(kAllowInteger | kAllowParameter,
                        "a transaction number or parameter");
    case TimeTravelKind::kAsOfCommit:
      return ParseValue(kAllowString | kAllowParameter,
                        "a commit id string or parameter");
    case TimeTravelKind::kAsOfBranch:
    case TimeTravelKind::kAsOfTag:
      return ParseValue(kAllowString | kAllowName | kAllowParameter,
                        "a name, string or parameter");
    default:
      return ParseValue(kAllowString | kAllowNumber | kAllowParameter,
                        "a timestamp string, number or parameter");
  }
}

// The bytes a clause occupies for deletion: from the end of the token
// before it (a comment counts, whitespace does not) through its last token.
Span Parser::ClauseStartingAt(std::size_t first, std::size_t end) const {
  std::size_t k = sig_[first];
  while (k > 0 && all_[k - 1].kind == TokenKind::kSpace) --k;
  const std::size_t start = k > 0 ? all_[k - 1].end() : 0;
  return {start, At(end - 1)->end() - start};
}

// ---------------------------------------------------------------------------
// Rewriting.

bool IsGlueSafe(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v' || c == ',' || c == ';' || c == ')';
}

// Whether two bytes meeting at an edit need a space to stay two tokens.
// Conservative: only whitespace, ',', ';' and ')' on either side (and '('
// after a non-word byte) are known never to merge.
bool NeedsSpace(char left, char right) {
  if (IsGlueSafe(left) || IsGlueSafe(right)) return false;
  if (left == '(') return false;
  if (right == '(') {
    const unsigned char l = static_cast<unsigned char>(left);
    const bool word = (l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z') ||
                      (l >= '0' && l <= '9') || l == '_' || l == '$' ||
                      l >= 0x80;
    return word;
  }
  return true;
}

// SQLite's numbering replayed over the rewritten text.
class Renumberer {
 public:
  explicit Renumberer(const std::vector<Parameter>& original) {
    for (const Parameter& p : original) {
      if (p.name.size() > 1 && p.name[0] != '?') {
        original_names_.emplace_back(p.name, p.number);
      }
    }
  }

  // A parameter token kept from the original, numbered `original` there.
  // Returns the text to write.
  Result<std::string> Kept(std::string_view text, int original) {
    if (text == "?") {
      if (original == max_ + 1) {
        LARIX_RETURN_IF_ERROR(Assign(original, original));
        return std::string("?");
      }
      LARIX_RETURN_IF_ERROR(Assign(original, original));
      return "?" + std::to_string(original);
    }
    if (text[0] == '?') {
      LARIX_RETURN_IF_ERROR(Assign(original, original));
      return std::string(text);
    }
    LARIX_RETURN_IF_ERROR(Named(text, original));
    return std::string(text);
  }

  // A parameter written in a replacement.
  Status Inserted(std::string_view text, int original_count) {
    if (text == "?") {
      return Status::InvalidArgument(
          "replacement uses a bare ?: write ?N with the original number");
    }
    if (text[0] == '?') {
      const int n = ParameterDigits(text);
      if (n < 1 || n > original_count) {
        return Status::InvalidArgument("replacement uses " + std::string(text) +
                                       " but the statement has " +
                                       std::to_string(original_count) +
                                       " parameters");
      }
      return Assign(n, n);
    }
    int original = 0;
    for (const auto& [name, number] : original_names_) {
      if (name == text) original = number;
    }
    return Named(text, original);
  }

  std::vector<int> origin() const { return origin_; }

 private:
  Status Named(std::string_view text, int original) {
    for (const auto& [name, number] : names_) {
      if (name == text) return Assign(number, original);
    }
    const int number = max_ + 1;
    names_.emplace_back(std::string(text), number);
    return Assign(number, original);
  }

  // Parameter `number` of the output is the original's `original`.
  Status Assign(int number, int original) {
    if (number < 1) return Status::OK();  // ?0: SQLite reports it
    max_ = std::max(max_, number);
    if (static_cast<std::size_t>(number) > origin_.size()) {
      origin_.resize(number, 0);
      used_.resize(number, false);
    }
    if (used_[number - 1] && origin_[number - 1] != original) {
      return Status::InvalidArgument(
          "rewrite cannot keep parameter numbers: ?" + std::to_string(number) +
          " would stand for two different parameters");
    }
    used_[number - 1] = true;
    origin_[number - 1] = original;
    return Status::OK();
  }

  std::vector<std::pair<std::string, int>> original_names_;
  std::vector<std::pair<std::string, int>> names_;
  std::vector<int> origin_;
  std::vector<bool> used_;
  int max_ = 0;
};

}  // namespace

std::vector<Parameter> NumberParameters(const std::vector<Token>& tokens,
                                        int* count) {
  std::vector<Parameter> out;
  std::vector<std::pair<std::string_view, int>> names;
  int max = 0;
  for (const Token& t : tokens) {
    if (t.kind != TokenKind::kParameter) continue;
    int number = 0;
    if (t.text == "?") {
      number = ++max;
    } else if (t.text[0] == '?') {
      number = ParameterDigits(t.text);
      max = std::max(max, number);
    } else {
      for (const auto& [name, n] : names) {
        if (name == t.text) number = n;
      }
      if (number == 0) {
        number = ++max;
        names.emplace_back(t.text, number);
      }
    }
    out.push_back({std::string(t.text), number, {t.offset, t.length()}});
  }
  if (count != nullptr) *count = max;
  return out;
}

const char* TimeTravelKindName(TimeTravelKind kind) {
  switch (kind) {
    case TimeTravelKind::kAsOfTimestamp:
      return "AS OF TIMESTAMP";
    case TimeTravelKind::kAsOfTransaction:
      return "AS OF TRANSACTION";
    case TimeTravelKind::kAsOfScn:
      return "AS OF SCN";
    case TimeTravelKind::kAsOfCommit:
      return "AS OF COMMIT";
    case TimeTravelKind::kAsOfBranch:
      return "AS OF BRANCH";
    case TimeTravelKind::kAsOfTag:
      return "AS OF TAG";
    case TimeTravelKind::kSystemTimeAsOf:
      return "FOR SYSTEM_TIME AS OF";
    case TimeTravelKind::kSystemTimeBetween:
      return "FOR SYSTEM_TIME BETWEEN";
    case TimeTravelKind::kSystemTimeFromTo:
      return "FOR SYSTEM_TIME FROM";
    case TimeTravelKind::kSystemTimeAll:
      return "FOR SYSTEM_TIME ALL";
  }
  return "?";
}

const char* StatementKindName(const StatementBody& body) {
  struct Namer {
    const char* operator()(const Passthrough&) { return "passthrough"; }
    const char* operator()(const TimeTravelQuery&) {
      return "time-travel query";
    }
    const char* operator()(const CreateBranch&) {
      return "CREATE DATABASE BRANCH";
    }
    const char* operator()(const DropBranch&) { return "DROP DATABASE BRANCH"; }
    const char* operator()(const RenameBranch&) {
      return "ALTER DATABASE BRANCH RENAME";
    }
    const char* operator()(const ResetBranch&) {
      return "ALTER DATABASE BRANCH RESET";
    }
    const char* operator()(const CreateBranchAlias&) {
      return "CREATE DATABASE BRANCH ALIAS";
    }
    const char* operator()(const AlterBranchAlias&) {
      return "ALTER DATABASE BRANCH ALIAS";
    }
    const char* operator()(const DropBranchAlias&) {
      return "DROP DATABASE BRANCH ALIAS";
    }
    const char* operator()(const MergeBranch&) {
      return "MERGE DATABASE BRANCH";
    }
    const char* operator()(const UseBranch&) { return "USE BRANCH"; }
    const char* operator()(const CreateTag&) { return "CREATE TAG"; }
    const char* operator()(const DropTag&) { return "DROP TAG"; }
    const char* operator()(const AddSystemVersioning&) {
      return "ALTER TABLE ADD SYSTEM VERSIONING";
    }
  };
  return std::visit(Namer{}, body);
}

Result<ParsedStatement> ParseStatement(std::string_view sql) {
  const std::vector<Token> tokens = Tokenize(sql);
  ParsedStatement out;
  out.parameters = NumberParameters(tokens, &out.parameter_count);
  Parser parser(sql, tokens, out.parameters);
  LARIX_ASSIGN_OR_RETURN(out.body, parser.Parse());
  return out;
}

Result<RewrittenSql> RewriteSql(std::string_view sql,
                                std::vector<SqlEdit> edits) {
  const std::vector<Token> tokens = Tokenize(sql);
  int count = 0;
  const std::vector<Parameter> params = NumberParameters(tokens, &count);

  std::stable_sort(edits.begin(), edits.end(),
                   [](const SqlEdit& a, const SqlEdit& b) {
                     return a.span.offset < b.span.offset;
                   });
  // Token boundaries: every token start, and the end of the text.
  std::vector<std::size_t> bounds;
  for (const Token& t : tokens) bounds.push_back(t.offset);
  bounds.push_back(sql.size());
  auto on_boundary = [&](std::size_t offset) {
    return std::binary_search(bounds.begin(), bounds.end(), offset);
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const Span& s = edits[i].span;
    if (s.end() > sql.size()) {
      return Status::InvalidArgument("edit at offset " +
                                     std::to_string(s.offset) +
                                     " runs past the end of the statement");
    }
    if (i > 0 && s.offset < edits[i - 1].span.end()) {
      return Status::InvalidArgument("edits overlap at offset " +
                                     std::to_string(s.offset));
    }
    if (!on_boundary(s.offset) || !on_boundary(s.end())) {
      return Status::InvalidArgument(
          "edit at offset " + std::to_string(s.offset) + " splits a token");
    }
  }

  Renumberer renumber(params);
  RewrittenSql out;
  bool junction = false;  // the next piece meets an edit boundary
  auto append = [&](std::string_view piece) {
    if (piece.empty()) return;
    if (junction && !out.sql.empty() && NeedsSpace(out.sql.back(), piece[0])) {
      out.sql.push_back(' ');
    }
    junction = false;
    out.sql.append(piece);
  };

  std::size_t param = 0;  // next entry of params
  std::size_t e = 0;      // next edit
  std::size_t ti = 0;     // next token
  while (ti < tokens.size() || e < edits.size()) {
    if (e < edits.size() &&
        (ti == tokens.size() || edits[e].span.offset <= tokens[ti].offset)) {
      const SqlEdit& edit = edits[e++];
      const std::vector<Token> inserted = Tokenize(edit.replacement);
      for (const Token& t : inserted) {
        if (t.kind == TokenKind::kError) {
          return Status::InvalidArgument(
              "replacement \"" + Excerpt(edit.replacement) +
              "\" is not valid SQL: " + std::string(t.error));
        }
        const bool open_comment =
            t.kind == TokenKind::kComment &&
            (t.text[0] == '-' ? t.end() == edit.replacement.size()
                              : t.text.size() < 4 ||
                                    t.text.substr(t.text.size() - 2) != "*/");
        if (open_comment) {
          return Status::InvalidArgument("replacement \"" +
                                         Excerpt(edit.replacement) +
                                         "\" ends inside a comment");
        }
        if (t.kind == TokenKind::kParameter) {
          LARIX_RETURN_IF_ERROR(renumber.Inserted(t.text, count));
        }
      }
      junction = true;
      append(edit.replacement);
      junction = true;
      // Skip the original tokens the edit covers, and their parameters.
      while (ti < tokens.size() && tokens[ti].offset < edit.span.end()) {
        if (tokens[ti].kind == TokenKind::kParameter) ++param;
        ++ti;
      }
      continue;
    }
    const Token& t = tokens[ti++];
    if (t.kind == TokenKind::kParameter) {
      LARIX_ASSIGN_OR_RETURN(std::string text,
                             renumber.Kept(t.text, params[param++].number));
      append(text);
    } else {
      append(t.text);
    }
  }
  out.parameter_origin = renumber.origin();
  return out;
}

Result<RewrittenSql> RewriteTimeTravel(
    std::string_view sql, const TimeTravelQuery& query,
    const std::vector<std::string>& replacements) {
  if (replacements.size() != query.refs.size()) {
    return Status::InvalidArgument(
        "RewriteTimeTravel: " + std::to_string(replacements.size()) +
        " replacements for " + std::to_string(query.refs.size()) +
        " time-travel clauses");
  }
  std::vector<SqlEdit> edits;
  for (std::size_t i = 0; i < query.refs.size(); ++i) {
    edits.push_back({query.refs[i].table_span, replacements[i]});
    edits.push_back({query.refs[i].clause_span, ""});
  }
  return RewriteSql(sql, std::move(edits));
}

}  // namespace larix::sql
