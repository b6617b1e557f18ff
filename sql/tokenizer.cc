// The SQL tokenizer and statement splitter (see tokenizer.h).
//
// NextToken() is a transcription of the rules of SQLite 3.40's
// sqlite3GetToken() (tokenize.c), organised by the first byte of the token
// as SQLite's character classes are:
//
//   first byte        token                          notes
//   \t \n \f \r ' '   whitespace run                 may go on with \v;
//                                                      \v alone: error
//   --                comment to, not incl., newline
//   /*                comment through */, or to end  "/*" as the last
//                                                      bytes: '/' '*'
//   ' " `             string / quoted identifier,    unterminated: error
//                     doubled delimiter escapes        to the end
//   [                 identifier through ]           unterminated: error
//   0-9, .digit       integer, float, 0x hex         digits glued to
//                                                      letters: error
//   x' X'             blob, even number of hex       else error
//                     digits
//   ?                 ?, ?NNN
//   : @ # $           named parameter (Tcl forms:    no name: error
//                     $a::b, $a(x))
//   letters _ >=0x80  word: keyword or identifier    EF BB BF: space
//   operators         longest match                  ! alone: error
//
// Larix adds <-> <=> <#> (vector distances) and :: (cast), matched only where
// SQLite would have produced an error or an unparsable sequence.
//
// Like SQLite's C code, the scanner reads past the end as NUL (At()), so
// "end of text" and "embedded NUL" stop every loop the same way.

#include "sql/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace larix::sql {
namespace {

// clang-format off
// SQLite 3.40's keywords (sqlite3_keyword_name), sorted.
constexpr std::array<std::string_view, 147> kKeywords = {
    "ABORT",        "ACTION",       "ADD",          "AFTER",
    "ALL",          "ALTER",        "ALWAYS",       "ANALYZE",
    "AND",          "AS",           "ASC",          "ATTACH",
    "AUTOINCREMENT", "BEFORE",      "BEGIN",        "BETWEEN",
    "BY",           "CASCADE",      "CASE",         "CAST",
    "CHECK",        "COLLATE",      "COLUMN",       "COMMIT",
    "CONFLICT",     "CONSTRAINT",   "CREATE",       "CROSS",
    "CURRENT",      "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "DATABASE",     "DEFAULT",      "DEFERRABLE",   "DEFERRED",
    "DELETE",       "DESC",         "DETACH",       "DISTINCT",
    "DO",           "DROP",         "EACH",         "ELSE",
    "END",          "ESCAPE",       "EXCEPT",       "EXCLUDE",
    "EXCLUSIVE",    "EXISTS",       "EXPLAIN",      "FAIL",
    "FILTER",       "FIRST",        "FOLLOWING",    "FOR",
    "FOREIGN",      "FROM",         "FULL",         "GENERATED",
    "GLOB",         "GROUP",        "GROUPS",       "HAVING",
    "IF",           "IGNORE",       "IMMEDIATE",    "IN",
    "INDEX",        "INDEXED",      "INITIALLY",    "INNER",
    "INSERT",       "INSTEAD",      "INTERSECT",    "INTO",
    "IS",           "ISNULL",       "JOIN",         "KEY",
    "LAST",         "LEFT",         "LIKE",         "LIMIT",
    "MATCH",        "MATERIALIZED", "NATURAL",      "NO",
    "NOT",          "NOTHING",      "NOTNULL",      "NULL",
    "NULLS",        "OF",           "OFFSET",       "ON",
    "OR",           "ORDER",        "OTHERS",       "OUTER",
    "OVER",         "PARTITION",    "PLAN",         "PRAGMA",
    "PRECEDING",    "PRIMARY",      "QUERY",        "RAISE",
    "RANGE",        "RECURSIVE",    "REFERENCES",   "REGEXP",
    "REINDEX",      "RELEASE",      "RENAME",       "REPLACE",
    "RESTRICT",     "RETURNING",    "RIGHT",        "ROLLBACK",
    "ROW",          "ROWS",         "SAVEPOINT",    "SELECT",
    "SET",          "TABLE",        "TEMP",         "TEMPORARY",
    "THEN",         "TIES",         "TO",           "TRANSACTION",
    "TRIGGER",      "UNBOUNDED",    "UNION",        "UNIQUE",
    "UPDATE",       "USING",        "VACUUM",       "VALUES",
    "VIEW",         "VIRTUAL",      "WHEN",         "WHERE",
    "WINDOW",       "WITH",         "WITHOUT",
};

// The keywords SQLite 3.40 accepts as a bare alias (`SELECT * FROM t KEY`):
// its grammar's %fallback ID set, sorted.  The join keywords (LEFT, CROSS,
// ...) and INDEXED are names only in some positions and are left out.
constexpr std::array<std::string_view, 81> kNameKeywords = {
    "ABORT",        "ACTION",     "AFTER",        "ALWAYS",
    "ANALYZE",      "ASC",        "ATTACH",       "BEFORE",
    "BEGIN",        "BY",         "CASCADE",      "CAST",
    "COLUMN",       "CONFLICT",   "CURRENT",      "CURRENT_DATE",
    "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFERRED",
    "DESC",         "DETACH",     "DO",           "EACH",
    "END",          "EXCLUDE",    "EXCLUSIVE",    "EXPLAIN",
    "FAIL",         "FILTER",     "FIRST",        "FOLLOWING",
    "FOR",          "GENERATED",  "GLOB",         "GROUPS",
    "IF",           "IGNORE",     "IMMEDIATE",    "INITIALLY",
    "INSTEAD",      "KEY",        "LAST",         "LIKE",
    "MATCH",        "MATERIALIZED", "NO",         "NULLS",
    "OF",           "OFFSET",     "OTHERS",       "OVER",
    "PARTITION",    "PLAN",       "PRAGMA",       "PRECEDING",
    "QUERY",        "RAISE",      "RANGE",        "RECURSIVE",
    "REGEXP",       "REINDEX",    "RELEASE",      "RENAME",
    "REPLACE",      "RESTRICT",   "ROLLBACK",     "ROW",
    "ROWS",         "SAVEPOINT",  "TEMP",         "TEMPORARY",
    "TIES",         "TRIGGER",    "UNBOUNDED",    "VACUUM",
    "VIEW",         "VIRTUAL",    "WINDOW",       "WITH",
    "WITHOUT",
};
// clang-format on

// Reasons carried by kError tokens.  IsCompleteStatement() tells the
// unterminated ones apart, as sqlite3_complete() does.
constexpr std::string_view kUnrecognized = "unrecognized token";
constexpr std::string_view kUnterminatedString = "unterminated string literal";
constexpr std::string_view kUnterminatedIdentifier =
    "unterminated quoted identifier";
constexpr std::string_view kUnterminatedBlob = "unterminated blob literal";
constexpr std::string_view kMalformedBlob =
    "malformed blob literal: needs an even number of hex digits";
constexpr std::string_view kMalformedNumber =
    "malformed number: digits run into letters";
constexpr std::string_view kMalformedParameter = "malformed parameter";
constexpr std::string_view kNulByte =
    "NUL byte in SQL text: SQLite ignores it and everything after it";

char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsXDigit(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// sqlite3Isspace: \t \n \v \f \r and space.
bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
// SQLite's IdChar(): may appear in an unquoted identifier.
bool IsIdChar(unsigned char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '$' || c >= 0x80;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToUpper(a[i]) != ToUpper(b[i])) return false;
  }
  return true;
}

// Whether the upper-cased `word` is in the sorted `table`.
template <std::size_t N>
bool InTable(const std::array<std::string_view, N>& table,
             std::string_view word) {
  if (word.empty() || word.size() > 17) return false;  // longest keyword
  std::string upper(word);
  for (char& c : upper) c = ToUpper(c);
  return std::binary_search(table.begin(), table.end(),
                            std::string_view(upper));
}

// The scanner over one input: At() reads past the end as NUL.
class Scanner {
 public:
  explicit Scanner(std::string_view sql) : sql_(sql) {}

  unsigned char At(std::size_t i) const {
    return i < sql_.size() ? static_cast<unsigned char>(sql_[i]) : 0;
  }

  Token Make(TokenKind kind, std::size_t offset, std::size_t end,
             std::string_view error = {}) const {
    Token t;
    t.kind = kind;
    t.offset = offset;
    t.text = sql_.substr(offset, end - offset);
    t.error = error;
    return t;
  }

  Token Next(std::size_t p) const;

 private:
  Token Quoted(std::size_t p) const;
  Token Number(std::size_t p) const;
  Token Blob(std::size_t p) const;
  Token NamedParameter(std::size_t p) const;
  Token Word(std::size_t p) const;

  std::string_view sql_;
};

// ' " ` : scan to the closing delimiter, a doubled delimiter standing for
// itself.  '...' is a string; the others are identifiers.
Token Scanner::Quoted(std::size_t p) const {
  const unsigned char delim = At(p);
  std::size_t i = p + 1;
  for (;; ++i) {
    unsigned char c = At(i);
    if (c == 0) break;
    if (c == delim) {
      if (At(i + 1) == delim) {
        ++i;
      } else {
        break;
      }
    }
  }
  if (At(i) == 0) {
    return Make(TokenKind::kError, p, i,
                delim == '\'' ? kUnterminatedString : kUnterminatedIdentifier);
  }
  return Make(delim == '\'' ? TokenKind::kString : TokenKind::kIdentifier, p,
              i + 1);
}

// Digits, or '.' followed by a digit.  A hex literal ends at its last hex
// digit with no further check (SQLite reads "0x1g" as 0x1 followed by g);
// a decimal one glued to identifier characters is one error token.
Token Scanner::Number(std::size_t p) const {
  if (At(p) == '0' && (At(p + 1) == 'x' || At(p + 1) == 'X') &&
      IsXDigit(At(p + 2))) {
    std::size_t i = p + 3;
    while (IsXDigit(At(i))) ++i;
    return Make(TokenKind::kInteger, p, i);
  }
  TokenKind kind = TokenKind::kInteger;
  std::size_t i = p;
  while (IsDigit(At(i))) ++i;
  if (At(i) == '.') {
    ++i;
    while (IsDigit(At(i))) ++i;
    kind = TokenKind::kFloat;
  }
  if ((At(i) == 'e' || At(i) == 'E') &&
      (IsDigit(At(i + 1)) ||
       ((At(i + 1) == '+' || At(i + 1) == '-') && IsDigit(At(i + 2))))) {
    i += 2;
    while (IsDigit(At(i))) ++i;
    kind = TokenKind::kFloat;
  }
  if (IsIdChar(At(i))) {
    while (IsIdChar(At(i))) ++i;
    return Make(TokenKind::kError, p, i, kMalformedNumber);
  }
  return Make(kind, p, i);
}

// x'...': an even number of hex digits.  Anything else is an error that
// runs through the closing quote, or to the end when there is none.
Token Scanner::Blob(std::size_t p) const {
  std::size_t i = p + 2;
  while (IsXDigit(At(i))) ++i;
  if (At(i) == '\'' && (i - p) % 2 == 0) {
    return Make(TokenKind::kBlob, p, i + 1);
  }
  while (At(i) != 0 && At(i) != '\'') ++i;
  if (At(i) == 0) return Make(TokenKind::kError, p, i, kUnterminatedBlob);
  return Make(TokenKind::kError, p, i + 1, kMalformedBlob);
}

// :name @name #name $name, including SQLite's Tcl forms: "::" inside the
// name ($a::b) and one parenthesised suffix without spaces ($a(x)).  With
// no name characters at all the token is an error — except "::", which
// Larix reads as the cast operator.
Token Scanner::NamedParameter(std::size_t p) const {
  std::size_t i = p + 1;
  int n = 0;
  bool ok = true;
  for (;; ++i) {
    unsigned char c = At(i);
    if (c == 0) break;
    if (IsIdChar(c)) {
      ++n;
    } else if (c == '(' && n > 0) {
      do {
        ++i;
        c = At(i);
      } while (c != 0 && !IsSpace(c) && c != ')');
      if (c == ')') {
        ++i;
      } else {
        ok = false;
      }
      break;
    } else if (c == ':' && At(i + 1) == ':') {
      ++i;
    } else {
      break;
    }
  }
  if (n == 0) {
    if (At(p) == ':' && At(p + 1) == ':') {
      return Make(TokenKind::kOperator, p, p + 2);
    }
    return Make(TokenKind::kError, p, i, kUnrecognized);
  }
  if (!ok) return Make(TokenKind::kError, p, i, kMalformedParameter);
  return Make(TokenKind::kParameter, p, i);
}

// A run of identifier characters; a keyword when the run is one.
Token Scanner::Word(std::size_t p) const {
  std::size_t i = p + 1;
  while (IsIdChar(At(i))) ++i;
  Token t = Make(TokenKind::kIdentifier, p, i);
  if (IsKeyword(t.text)) t.kind = TokenKind::kKeyword;
  return t;
}

// The token starting at p (< size): dispatch on its first byte, as
// sqlite3GetToken() dispatches on the byte's character class.
Token Scanner::Next(std::size_t p) const {
  const unsigned char c = At(p);
  const unsigned char c1 = At(p + 1);
  switch (c) {
    case '\t':
    case '\n':
    case '\f':
    case '\r':
    case ' ': {
      std::size_t i = p + 1;
      while (IsSpace(At(i))) ++i;
      return Make(TokenKind::kSpace, p, i);
    }
    case '-': {
      if (c1 == '-') {
        std::size_t i = p + 2;
        while (At(i) != 0 && At(i) != '\n') ++i;
        return Make(TokenKind::kComment, p, i);
      }
      if (c1 == '>') {
        return Make(TokenKind::kOperator, p, p + (At(p + 2) == '>' ? 3 : 2));
      }
      return Make(TokenKind::kOperator, p, p + 1);
    }
    case '/': {
      if (c1 != '*' || At(p + 2) == 0) {
        return Make(TokenKind::kOperator, p, p + 1);
      }
      std::size_t i = p + 2;
      while (At(i) != 0 && !(At(i) == '*' && At(i + 1) == '/')) ++i;
      return Make(TokenKind::kComment, p, At(i) == 0 ? i : i + 2);
    }
    case '(':
    case ')':
    case ';':
    case '+':
    case '*':
    case '%':
    case ',':
    case '&':
    case '~':
      return Make(TokenKind::kOperator, p, p + 1);
    case '=':
      return Make(TokenKind::kOperator, p, p + (c1 == '=' ? 2 : 1));
    case '<': {
      const unsigned char c2 = At(p + 2);
      if (c2 == '>' && (c1 == '-' || c1 == '=' || c1 == '#')) {
        return Make(TokenKind::kOperator, p, p + 3);  // Larix: <-> <=> <#>
      }
      if (c1 == '=' || c1 == '>' || c1 == '<') {
        return Make(TokenKind::kOperator, p, p + 2);
      }
      return Make(TokenKind::kOperator, p, p + 1);
    }
    case '>':
      if (c1 == '=' || c1 == '>') return Make(TokenKind::kOperator, p, p + 2);
      return Make(TokenKind::kOperator, p, p + 1);
    case '!':
      if (c1 == '=') return Make(TokenKind::kOperator, p, p + 2);
      return Make(TokenKind::kError, p, p + 1, kUnrecognized);
    case '|':
      return Make(TokenKind::kOperator, p, p + (c1 == '|' ? 2 : 1));
    case '\'':
    case '"':
    case '`':
      return Quoted(p);
    case '.':
      if (!IsDigit(c1)) return Make(TokenKind::kOperator, p, p + 1);
      return Number(p);
    case '[': {
      std::size_t i = p + 1;
      while (At(i) != 0 && At(i) != ']') ++i;
      if (At(i) == 0) {
        return Make(TokenKind::kError, p, i, kUnterminatedIdentifier);
      }
      return Make(TokenKind::kIdentifier, p, i + 1);
    }
    case '?': {
      std::size_t i = p + 1;
      while (IsDigit(At(i))) ++i;
      return Make(TokenKind::kParameter, p, i);
    }
    case '$':
    case '@':
    case '#':
    case ':':
      return NamedParameter(p);
    case 'x':
    case 'X':
      if (c1 == '\'') return Blob(p);
      return Word(p);
    case 0xEF:
      if (c1 == 0xBB && At(p + 2) == 0xBF) {
        return Make(TokenKind::kSpace, p, p + 3);  // byte-order mark
      }
      return Word(p);
    case 0:
      // An embedded NUL (p < size): SQLite stops reading here.
      return Make(TokenKind::kError, p, sql_.size(), kNulByte);
    default:
      if (IsDigit(c)) return Number(p);
      if (IsIdChar(c)) return Word(p);
      return Make(TokenKind::kError, p, p + 1, kUnrecognized);
  }
}

// sqlite3_complete()'s token classes and states (complete.c).
enum CompleteToken {
  kSemi,
  kWs,
  kOther,
  kExplain,
  kCreate,
  kTemp,
  kTrigger,
  kEnd
};
enum CompleteState : std::uint8_t {
  kInvalid,
  kStart,
  kNormal,
  kExplainState,
  kCreateState,
  kTriggerState,
  kSemiState,
  kEndState,
};

// trans[state][token], copied from complete.c's table.
constexpr std::uint8_t kTransitions[8][8] = {
    /*               SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
    /* INVALID */ {1, 0, 2, 3, 4, 2, 2, 2},
    /* START   */ {1, 1, 2, 3, 4, 2, 2, 2},
    /* NORMAL  */ {1, 2, 2, 2, 2, 2, 2, 2},
    /* EXPLAIN */ {1, 3, 3, 2, 4, 2, 2, 2},
    /* CREATE  */ {1, 4, 2, 2, 2, 4, 5, 2},
    /* TRIGGER */ {6, 5, 5, 5, 5, 5, 5, 5},
    /* SEMI    */ {6, 6, 5, 5, 5, 5, 5, 7},
    /* END     */ {1, 7, 5, 5, 5, 5, 5, 5},
};

CompleteToken ClassifyForComplete(const Token& t) {
  if (!t.IsSignificant()) return kWs;
  if (t.IsOperator(";")) return kSemi;
  if (t.kind == TokenKind::kKeyword) {
    if (t.IsWord("CREATE")) return kCreate;
    if (t.IsWord("TEMP") || t.IsWord("TEMPORARY")) return kTemp;
    if (t.IsWord("TRIGGER")) return kTrigger;
    if (t.IsWord("END")) return kEnd;
    if (t.IsWord("EXPLAIN")) return kExplain;
  }
  return kOther;
}

}  // namespace

const char* TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kSpace:
      return "space";
    case TokenKind::kComment:
      return "comment";
    case TokenKind::kKeyword:
      return "keyword";
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kString:
      return "string";
    case TokenKind::kBlob:
      return "blob";
    case TokenKind::kInteger:
      return "integer";
    case TokenKind::kFloat:
      return "float";
    case TokenKind::kParameter:
      return "parameter";
    case TokenKind::kOperator:
      return "operator";
    case TokenKind::kError:
      return "error";
  }
  return "?";
}

bool Token::IsBareWord() const {
  return kind == TokenKind::kKeyword ||
         (kind == TokenKind::kIdentifier && !IsQuotedIdentifier());
}

bool Token::IsWord(std::string_view word) const {
  return IsBareWord() && EqualsIgnoreCase(text, word);
}

bool Token::IsQuotedIdentifier() const {
  if (kind != TokenKind::kIdentifier || text.empty()) return false;
  const char c = text.front();
  return c == '"' || c == '[' || c == '`';
}

std::string Token::value() const {
  switch (kind) {
    case TokenKind::kKeyword: {
      std::string upper(text);
      for (char& c : upper) c = ToUpper(c);
      return upper;
    }
    case TokenKind::kIdentifier:
    case TokenKind::kString: {
      if (kind == TokenKind::kIdentifier && !IsQuotedIdentifier()) {
        return std::string(text);
      }
      const char open = text.front();
      std::string_view body = text.substr(1, text.size() - 2);
      if (open == '[') return std::string(body);
      std::string out;
      out.reserve(body.size());
      for (std::size_t i = 0; i < body.size(); ++i) {
        out.push_back(body[i]);
        if (body[i] == open) ++i;  // a doubled delimiter stands for one
      }
      return out;
    }
    case TokenKind::kBlob:
      return std::string(text.substr(2, text.size() - 3));
    default:
      return std::string(text);
  }
}

Token NextToken(std::string_view sql, std::size_t offset) {
  return Scanner(sql).Next(offset);
}

std::vector<Token> Tokenize(std::string_view sql) {
  Scanner scanner(sql);
  std::vector<Token> tokens;
  std::size_t p = 0;
  while (p < sql.size()) {
    tokens.push_back(scanner.Next(p));
    p = tokens.back().end();
  }
  return tokens;
}

bool IsKeyword(std::string_view word) { return InTable(kKeywords, word); }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsUsableAsName(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!IsIdChar(static_cast<unsigned char>(c))) return false;
  }
  const unsigned char first = static_cast<unsigned char>(word.front());
  if (IsDigit(first) || first == '$') return false;  // a number, a parameter
  return !IsKeyword(word) || InTable(kNameKeywords, word);
}

std::vector<StatementSlice> SplitStatements(std::string_view script) {
  std::vector<StatementSlice> out;
  std::uint8_t state = kInvalid;
  std::size_t start = std::string_view::npos;  // of the open statement
  std::size_t last_end = 0;  // end of its last significant token
  Scanner scanner(script);
  for (std::size_t p = 0; p < script.size();) {
    const Token t = scanner.Next(p);
    p = t.end();
    const CompleteToken c = ClassifyForComplete(t);
    state = kTransitions[state][c];
    if (c == kWs) continue;
    if (c == kSemi && state == kStart) {
      if (start != std::string_view::npos) {
        out.push_back({script.substr(start, t.end() - start), start, true});
        start = std::string_view::npos;
      }
      continue;
    }
    if (start == std::string_view::npos) start = t.offset;
    last_end = t.end();
  }
  if (start != std::string_view::npos) {
    out.push_back({script.substr(start, last_end - start), start, false});
  }
  return out;
}

bool IsCompleteStatement(std::string_view sql) {
  std::uint8_t state = kInvalid;
  Scanner scanner(sql);
  for (std::size_t p = 0; p < sql.size();) {
    const Token t = scanner.Next(p);
    p = t.end();
    if (t.kind == TokenKind::kError) {
      // sqlite3_complete() gives up inside an unterminated quote and stops
      // at a NUL; other rejected bytes are just "other" tokens to it.
      if (t.error == kNulByte) break;
      if (t.error == kUnterminatedString ||
          t.error == kUnterminatedIdentifier || t.error == kUnterminatedBlob) {
        return false;
      }
    }
    if (t.kind == TokenKind::kComment && t.text.size() >= 2 &&
        t.text[0] == '/' &&
        (t.text.size() < 4 || t.text.substr(t.text.size() - 2) != "*/")) {
      return false;  // unterminated /* comment
    }
    state = kTransitions[state][ClassifyForComplete(t)];
  }
  return state == kStart;
}

}  // namespace larix::sql
