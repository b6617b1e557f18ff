// BtreeReader: the SQLite file format, read from a page tree.  See the
// header for the design; https://sqlite.org/fileformat2.html for the format.
//
// Every read below checks its bounds against the *usable* size of the page
// (page size minus the reserved bytes at its end), the way SQLite's own
// btree.c does, and reports Corruption naming the page.

#include "sql/btree_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "larix/store.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "sql/tokenizer.h"

namespace larix {
namespace {

// B-tree page types (the first byte of the b-tree page header).
constexpr uint8_t kIndexInterior = 2;
constexpr uint8_t kTableInterior = 5;
constexpr uint8_t kIndexLeaf = 10;
constexpr uint8_t kTableLeaf = 13;

// SQLite refuses to descend deeper than this (BTCURSOR_MAX_DEPTH).
constexpr int kMaxDepth = 20;
// The largest payload SQLite can write (SQLITE_MAX_LENGTH is at most 2^31-1).
constexpr uint64_t kMaxPayload = 0x7fffffff;
constexpr char kMagic[] = "SQLite format 3";  // plus its NUL: 16 bytes

uint32_t Get16(std::string_view p, size_t off) {
  auto u = reinterpret_cast<const unsigned char*>(p.data() + off);
  return uint32_t{u[0]} << 8 | u[1];
}

uint32_t Get32(std::string_view p, size_t off) {
  auto u = reinterpret_cast<const unsigned char*>(p.data() + off);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 |
         u[3];
}

// Reads the SQLite varint at p[off, end): 1-8 bytes of 7 bits, big-end
// first, high bit set on all but the last, or a 9th byte of 8 bits.
// Returns the bytes consumed, or 0 if the varint does not fit.
size_t GetVarint(std::string_view p, size_t off, size_t end, uint64_t* v) {
  uint64_t x = 0;
  for (size_t i = 0; i < 8; i++) {
    if (off + i >= end) return 0;
    unsigned char b = static_cast<unsigned char>(p[off + i]);
    x = (x << 7) | (b & 0x7f);
    if (!(b & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  if (off + 8 >= end) return 0;
  x = (x << 8) | static_cast<unsigned char>(p[off + 8]);
  *v = x;
  return 9;
}

std::string PageName(uint32_t pgno) { return "page " + std::to_string(pgno); }

Status PageCorruption(uint32_t pgno, const std::string& what) {
  return Status::Corruption(PageName(pgno) + ": " + what);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A real as SQLite renders it as text ("%!.15g": always a '.' or exponent).
std::string FormatReal15(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Parses `text` (surrounding spaces allowed) as a SQL integer or real
// literal.  Returns false if it is not one.
bool ParseNumericText(std::string_view text, SqlValue* out) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) b++;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) e--;
  if (b == e) return false;
  std::string s(text.substr(b, e - b));
  bool integral = true;
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') i++;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); k++) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) integral = false;
  }
  if (integral) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end == s.c_str() + s.size()) {
      *out = SqlValue::Integer(v);
      return true;
    }
  }
  // A real: digits, optional fraction, optional exponent; no hex, inf, nan.
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' &&
        c != 'e' && c != 'E' && c != '+' && c != '-') {
      return false;
    }
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *out = SqlValue::Real(d);
  return true;
}

// SQLite's sqlite3VdbeIntegerAffinity: a real that is exactly an int64
// (strictly inside the range) becomes that integer.
bool RealToExactInteger(double r, int64_t* out) {
  if (!(r > -9223372036854775808.0 && r < 9223372036854775808.0)) return false;
  int64_t i = static_cast<int64_t>(r);
  if (static_cast<double>(i) != r) return false;
  if (i == std::numeric_limits<int64_t>::min() ||
      i == std::numeric_limits<int64_t>::max()) {
    return false;
  }
  *out = i;
  return true;
}

int IntRealCompare(int64_t i, double r) {
  if (std::isnan(r)) return 1;
  if (r < -9223372036854775808.0) return 1;
  if (r >= 9223372036854775808.0) return -1;
  int64_t y = static_cast<int64_t>(r);
  if (i < y) return -1;
  if (i > y) return 1;
  double s = static_cast<double>(i);
  if (s < r) return -1;
  if (s > r) return 1;
  return 0;
}

int TypeClass(SqlValue::Type t) {
  switch (t) {
    case SqlValue::Type::kNull:
      return 0;
    case SqlValue::Type::kInteger:
    case SqlValue::Type::kReal:
      return 1;
    case SqlValue::Type::kText:
      return 2;
    case SqlValue::Type::kBlob:
      return 3;
  }
  return 4;
}

// --- CREATE TABLE parsing ---------------------------------------------------

using sql::Token;
using sql::TokenKind;

// A name as SQLite reads it: a bare word as written, a quoted identifier or
// a string literal without its quotes.
bool IsNameToken(const Token& t) {
  return t.kind == TokenKind::kKeyword || t.kind == TokenKind::kIdentifier ||
         t.kind == TokenKind::kString;
}

std::string NameOf(const Token& t) {
  if (t.kind == TokenKind::kKeyword) return std::string(t.text);
  return t.value();
}

// The index just past the ")" matching the "(" at tokens[i]; `end` if it
// is unbalanced.
size_t SkipParens(const std::vector<Token>& tokens, size_t i, size_t end) {
  int depth = 0;
  for (; i < end; i++) {
    if (tokens[i].IsOperator("(")) depth++;
    if (tokens[i].IsOperator(")") && --depth == 0) return i + 1;
  }
  return end;
}

// Splits tokens[b, e) at commas outside parentheses.
std::vector<std::pair<size_t, size_t>> SplitAtCommas(
    const std::vector<Token>& tokens, size_t b, size_t e) {
  std::vector<std::pair<size_t, size_t>> out;
  int depth = 0;
  size_t start = b;
  for (size_t i = b; i < e; i++) {
    if (tokens[i].IsOperator("(")) depth++;
    if (tokens[i].IsOperator(")")) depth--;
    if (depth == 0 && tokens[i].IsOperator(",")) {
      out.emplace_back(start, i);
      start = i + 1;
    }
  }
  if (start < e) out.emplace_back(start, e);
  return out;
}

bool StartsColumnConstraint(const Token& t) {
  static constexpr const char* kWords[] = {
      "CONSTRAINT", "PRIMARY", "NOT",        "NULL",      "UNIQUE", "CHECK",
      "DEFAULT",    "COLLATE", "REFERENCES", "GENERATED", "AS"};
  for (const char* w : kWords) {
    if (t.IsWord(w)) return true;
  }
  return false;
}

bool StartsTableConstraint(const Token& t) {
  return t.IsWord("CONSTRAINT") || t.IsWord("PRIMARY") || t.IsWord("UNIQUE") ||
         t.IsWord("CHECK") || t.IsWord("FOREIGN");
}

// A numeric literal token, negated if `negative`.  False if it is not one
// SQLite would accept as a constant.
bool NumericLiteral(const Token& t, bool negative, SqlValue* out) {
  std::string text(t.text);
  if (t.kind == TokenKind::kFloat) {
    double d = std::strtod(text.c_str(), nullptr);
    *out = SqlValue::Real(negative ? -d : d);
    return true;
  }
  if (t.kind != TokenKind::kInteger) return false;
  uint64_t v = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (text.size() - 2 > 16) return false;  // "hex literal too big"
    v = std::strtoull(text.c_str() + 2, nullptr, 16);
    int64_t s = static_cast<int64_t>(v);
    *out = SqlValue::Integer(negative ? static_cast<int64_t>(0 - v) : s);
    return true;
  }
  errno = 0;
  v = std::strtoull(text.c_str(), nullptr, 10);
  bool overflow = errno == ERANGE;
  if (!overflow && v <= static_cast<uint64_t>(INT64_MAX)) {
    int64_t s = static_cast<int64_t>(v);
    *out = SqlValue::Integer(negative ? -s : s);
  } else if (!overflow && negative && v == uint64_t{1} << 63) {
    *out = SqlValue::Integer(std::numeric_limits<int64_t>::min());
  } else {
    double d = std::strtod(text.c_str(), nullptr);
    *out = SqlValue::Real(negative ? -d : d);
  }
  return true;
}

std::string HexDecode(std::string_view hex) {
  std::string out;
  auto nib = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nib(hex[i]) << 4 | nib(hex[i + 1])));
  }
  return out;
}

// Parses the DEFAULT clause starting at tokens[j] (the token after DEFAULT).
// Sets *value when it is a literal; returns the index after the clause.
size_t ParseDefault(const std::vector<Token>& tokens, size_t j, size_t e,
                    std::optional<SqlValue>* value) {
  value->reset();
  if (j >= e) return j;
  const Token& t = tokens[j];
  if (t.IsOperator("(")) return SkipParens(tokens, j, e);  // an expression
  if ((t.IsOperator("-") || t.IsOperator("+")) && j + 1 < e) {
    SqlValue v;
    if (NumericLiteral(tokens[j + 1], t.IsOperator("-"), &v)) *value = v;
    return j + 2;
  }
  SqlValue v;
  if (NumericLiteral(t, false, &v)) {
    *value = v;
  } else if (t.kind == TokenKind::kString) {
    *value = SqlValue::Text(t.value());
  } else if (t.kind == TokenKind::kBlob) {
    *value = SqlValue::Blob(HexDecode(t.value()));
  } else if (t.IsWord("NULL")) {
    *value = SqlValue::Null();
  } else if (t.IsWord("TRUE")) {
    *value = SqlValue::Integer(1);
  } else if (t.IsWord("FALSE")) {
    *value = SqlValue::Integer(0);
  } else if (t.kind == TokenKind::kIdentifier && !t.IsQuotedIdentifier()) {
    *value = SqlValue::Text(std::string(t.text));  // DEFAULT abc is 'abc'
  } else if (t.kind == TokenKind::kIdentifier) {
    *value = SqlValue::Text(t.value());
  }
  // CURRENT_TIME and friends are not constants: no value.
  return j + 1;
}

}  // namespace

// --- SqlValue -------------------------------------------------------------

SqlValue SqlValue::Integer(int64_t v) {
  SqlValue s;
  s.type = Type::kInteger;
  s.integer = v;
  return s;
}

SqlValue SqlValue::Real(double v) {
  SqlValue s;
  s.type = Type::kReal;
  s.real = v;
  return s;
}

SqlValue SqlValue::Text(std::string v) {
  SqlValue s;
  s.type = Type::kText;
  s.bytes = std::move(v);
  return s;
}

SqlValue SqlValue::Blob(std::string v) {
  SqlValue s;
  s.type = Type::kBlob;
  s.bytes = std::move(v);
  return s;
}

bool SqlValue::operator==(const SqlValue& other) const {
  if (type != other.type) return false;
  switch (type) {
    case Type::kNull:
      return true;
    case Type::kInteger:
      return integer == other.integer;
    case Type::kReal:
      return std::memcmp(&real, &other.real, sizeof real) == 0;
    case Type::kText:
    case Type::kBlob:
      return bytes == other.bytes;
  }
  return false;
}

std::string SqlValue::ToSqlLiteral() const {
  switch (type) {
    case Type::kNull:
      return "NULL";
    case Type::kInteger:
      return std::to_string(integer);
    case Type::kReal: {
      if (std::isinf(real)) return real > 0 ? "9.0e+999" : "-9.0e+999";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.15g", real);
      if (std::strtod(buf, nullptr) != real) {
        std::snprintf(buf, sizeof buf, "%.17g", real);
      }
      std::string s = buf;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case Type::kText: {
      std::string s = "'";
      for (char c : bytes) {
        if (c == '\'') s += '\'';
        s += c;
      }
      return s + "'";
    }
    case Type::kBlob: {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string s = "X'";
      for (unsigned char c : bytes) {
        s += kHex[c >> 4];
        s += kHex[c & 15];
      }
      return s + "'";
    }
  }
  return "NULL";
}

int CompareSqlValues(const SqlValue& a, const SqlValue& b) {
  int ca = TypeClass(a.type), cb = TypeClass(b.type);
  if (ca != cb) return ca < cb ? -1 : 1;
  using T = SqlValue::Type;
  switch (ca) {
    case 0:
      return 0;
    case 1:
      if (a.type == T::kInteger && b.type == T::kInteger) {
        return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
      }
      if (a.type == T::kReal && b.type == T::kReal) {
        return a.real < b.real ? -1 : a.real > b.real ? 1 : 0;
      }
      if (a.type == T::kInteger) return IntRealCompare(a.integer, b.real);
      return -IntRealCompare(b.integer, a.real);
    default: {
      size_t n = std::min(a.bytes.size(), b.bytes.size());
      int c = std::memcmp(a.bytes.data(), b.bytes.data(), n);
      if (c != 0) return c < 0 ? -1 : 1;
      return a.bytes.size() < b.bytes.size()   ? -1
             : a.bytes.size() > b.bytes.size() ? 1
                                               : 0;
    }
  }
}

Affinity AffinityOfDeclaredType(std::string_view declared_type, bool strict) {
  std::string t = Upper(declared_type);
  if (strict && t == "ANY") return Affinity::kBlob;
  if (t.find("INT") != std::string::npos) return Affinity::kInteger;
  if (t.find("CHAR") != std::string::npos ||
      t.find("CLOB") != std::string::npos ||
      t.find("TEXT") != std::string::npos) {
    return Affinity::kText;
  }
  if (t.empty() || t.find("BLOB") != std::string::npos) return Affinity::kBlob;
  if (t.find("REAL") != std::string::npos ||
      t.find("FLOA") != std::string::npos ||
      t.find("DOUB") != std::string::npos) {
    return Affinity::kReal;
  }
  return Affinity::kNumeric;
}

SqlValue ApplyAffinity(SqlValue value, Affinity affinity) {
  using T = SqlValue::Type;
  switch (affinity) {
    case Affinity::kBlob:
      return value;
    case Affinity::kText:
      if (value.type == T::kInteger) {
        return SqlValue::Text(std::to_string(value.integer));
      }
      if (value.type == T::kReal) {
        return SqlValue::Text(FormatReal15(value.real));
      }
      return value;
    case Affinity::kNumeric:
    case Affinity::kInteger:
    case Affinity::kReal: {
      if (value.type == T::kText) {
        SqlValue number;
        if (ParseNumericText(value.bytes, &number)) value = number;
      }
      int64_t i;
      if (value.type == T::kReal && RealToExactInteger(value.real, &i)) {
        value = SqlValue::Integer(i);
      }
      // A REAL column reads every stored integer back as a real.
      if (affinity == Affinity::kReal && value.type == T::kInteger) {
        value = SqlValue::Real(static_cast<double>(value.integer));
      }
      return value;
    }
  }
  return value;
}

int TableInfo::FindColumn(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); i++) {
    if (EqualsIgnoreCase(columns[i].name, column)) return static_cast<int>(i);
  }
  return -1;
}

Status ParseCreateTable(std::string_view sql, TableInfo* out) {
  std::vector<Token> tokens;
  for (const Token& t : sql::Tokenize(sql)) {
    if (t.kind == TokenKind::kError) {
      return Status::InvalidArgument("CREATE TABLE: " + std::string(t.error));
    }
    if (t.IsSignificant()) tokens.push_back(t);
  }
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("CREATE TABLE: " + what);
  };
  size_t n = tokens.size(), i = 0;
  auto word = [&](const char* w) { return i < n && tokens[i].IsWord(w); };
  if (!word("CREATE")) return bad("not a CREATE statement");
  i++;
  if (word("TEMP") || word("TEMPORARY")) i++;
  if (word("VIRTUAL")) return Status::NotSupported("virtual table");
  if (!word("TABLE")) return bad("not a CREATE TABLE statement");
  i++;
  if (word("IF")) i += 3;  // IF NOT EXISTS
  if (i >= n || !IsNameToken(tokens[i])) return bad("no table name");
  i++;
  if (i + 1 < n && tokens[i].IsOperator(".")) i += 2;  // schema.name
  if (i >= n || !tokens[i].IsOperator("(")) {
    return bad("no column list (CREATE TABLE ... AS is stored expanded)");
  }
  size_t close = n;
  int depth = 0;
  for (size_t k = i; k < n; k++) {
    if (tokens[k].IsOperator("(")) depth++;
    if (tokens[k].IsOperator(")") && --depth == 0) {
      close = k + 1;
      break;
    }
  }
  if (depth != 0) return bad("unbalanced parentheses");
  TableInfo info;
  for (size_t k = close; k < n; k++) {
    if (tokens[k].IsWord("WITHOUT") && k + 1 < n &&
        tokens[k + 1].IsWord("ROWID")) {
      info.without_rowid = true;
    }
    if (tokens[k].IsWord("STRICT")) info.strict = true;
  }

  std::vector<int> pk;        // primary key columns, in key order
  bool column_pk_desc = false;  // "x INTEGER PRIMARY KEY DESC"
  bool column_pk = false;
  for (auto [b, e] : SplitAtCommas(tokens, i + 1, close - 1)) {
    if (b == e) return bad("empty column definition");
    if (StartsTableConstraint(tokens[b])) {
      for (size_t j = b; j + 1 < e; j++) {
        if (!tokens[j].IsWord("PRIMARY") || !tokens[j + 1].IsWord("KEY")) {
          continue;
        }
        if (j + 2 >= e || !tokens[j + 2].IsOperator("(")) {
          return bad("PRIMARY KEY without a column list");
        }
        size_t list_end = SkipParens(tokens, j + 2, e);
        if (!pk.empty()) return bad("more than one primary key");
        for (auto [cb, ce] : SplitAtCommas(tokens, j + 3, list_end - 1)) {
          if (cb == ce || !IsNameToken(tokens[cb])) {
            return bad("PRIMARY KEY term is not a column name");
          }
          int col = info.FindColumn(NameOf(tokens[cb]));
          if (col < 0) {
            return bad("PRIMARY KEY names unknown column " +
                       NameOf(tokens[cb]));
          }
          pk.push_back(col);
        }
        break;
      }
      continue;
    }
    if (!IsNameToken(tokens[b])) return bad("column definition without a name");
    ColumnInfo col;
    col.name = NameOf(tokens[b]);
    size_t j = b + 1, type_begin = j;
    while (j < e && !StartsColumnConstraint(tokens[j]) &&
           !tokens[j].IsOperator("(")) {
      j++;
    }
    if (j < e && j > type_begin && tokens[j].IsOperator("(")) {
      j = SkipParens(tokens, j, e);  // VARCHAR(10), DECIMAL(10, 2)
    }
    if (j > type_begin) {
      size_t from = tokens[type_begin].offset;
      col.declared_type =
          std::string(sql.substr(from, tokens[j - 1].end() - from));
    }
    col.affinity = AffinityOfDeclaredType(col.declared_type, info.strict);
    int index = static_cast<int>(info.columns.size());
    std::optional<SqlValue> default_value;
    while (j < e) {
      const Token& t = tokens[j];
      if (t.IsOperator("(")) {
        j = SkipParens(tokens, j, e);
      } else if (t.IsWord("PRIMARY") && j + 1 < e &&
                 tokens[j + 1].IsWord("KEY")) {
        if (!pk.empty()) return bad("more than one primary key");
        pk.push_back(index);
        column_pk = true;
        j += 2;
        if (j < e && tokens[j].IsWord("DESC")) column_pk_desc = true;
      } else if (t.IsWord("DEFAULT")) {
        j = ParseDefault(tokens, j + 1, e, &default_value);
      } else if (t.IsWord("AS")) {
        j++;
        if (j < e && tokens[j].IsOperator("(")) j = SkipParens(tokens, j, e);
        if (j < e && tokens[j].IsWord("STORED")) {
          col.stored_generated = true;
          j++;
        } else {
          if (j < e && tokens[j].IsWord("VIRTUAL")) j++;
          col.virtual_generated = true;
        }
      } else {
        j++;
      }
    }
    if (default_value) {
      col.default_value = ApplyAffinity(*default_value, col.affinity);
    }
    info.columns.push_back(std::move(col));
  }
  if (info.columns.empty()) return bad("no columns");

  // Duplicate primary key columns are dropped (SQLite does the same).
  for (int c : pk) {
    if (std::find(info.primary_key.begin(), info.primary_key.end(), c) ==
        info.primary_key.end()) {
      info.primary_key.push_back(c);
      info.columns[c].in_primary_key = true;
    }
  }
  if (info.without_rowid && info.primary_key.empty()) {
    return bad("WITHOUT ROWID table has no PRIMARY KEY");
  }
  // The rowid alias rule of sqlite3AddPrimaryKey: one column, declared type
  // exactly "INTEGER", not "PRIMARY KEY DESC" as a column constraint.
  if (!info.without_rowid && pk.size() == 1 &&
      Upper(info.columns[pk[0]].declared_type) == "INTEGER" &&
      !(column_pk && column_pk_desc)) {
    info.rowid_alias = pk[0];
  }
  if (info.without_rowid) {
    info.record_columns = info.primary_key;
  }
  for (size_t c = 0; c < info.columns.size(); c++) {
    if (info.columns[c].virtual_generated) continue;
    if (info.without_rowid && info.columns[c].in_primary_key) continue;
    info.record_columns.push_back(static_cast<int>(c));
  }
  std::string name = out->name;
  uint32_t root = out->root_page;
  *out = std::move(info);
  out->name = std::move(name);
  out->root_page = root;
  return Status::OK();
}

TableInfo SchemaTableInfo() {
  TableInfo t;
  t.name = "sqlite_schema";
  t.root_page = 1;
  const char* names[] = {"type", "name", "tbl_name", "rootpage", "sql"};
  for (int i = 0; i < 5; i++) {
    ColumnInfo c;
    c.name = names[i];
    c.declared_type = i == 3 ? "int" : "text";
    c.affinity = i == 3 ? Affinity::kInteger : Affinity::kText;
    t.columns.push_back(c);
    t.record_columns.push_back(i);
  }
  return t;
}

std::vector<uint32_t> BtreeShape::EntryPages() const {
  std::vector<uint32_t> pages = leaves;
  if (kind == BtreeKind::kIndex) {
    pages.insert(pages.end(), interior.begin(), interior.end());
  }
  std::sort(pages.begin(), pages.end());
  return pages;
}

// --- BtreeReader ----------------------------------------------------------

struct BtreeReader::PageHeader {
  uint8_t type = 0;
  uint32_t cell_count = 0;
  uint32_t right_child = 0;  // interior pages only
  size_t cell_pointers = 0;  // offset of the cell pointer array

  bool leaf() const { return type == kTableLeaf || type == kIndexLeaf; }
  BtreeKind kind() const {
    return type == kTableLeaf || type == kTableInterior ? BtreeKind::kTable
                                                        : BtreeKind::kIndex;
  }
};

Status BtreeReader::Open(Store* store, const ObjectId& tree,
                         std::unique_ptr<BtreeReader>* out) {
  std::unique_ptr<BtreeReader> reader(new BtreeReader(store, tree));
  LARIX_RETURN_IF_ERROR(reader->ReadHeader());
  *out = std::move(reader);
  return Status::OK();
}

Status BtreeReader::ReadHeader() {
  Result<uint32_t> count = store_->trees()->PageCount(tree_);
  if (!count.ok()) return count.status().WithContext("database tree");
  page_count_ = *count;
  zero_page_ = std::make_shared<const std::string>(page_size_, '\0');
  if (page_count_ == 0) return Status::OK();  // the empty database

  Result<ObjectId> id = store_->trees()->Get(tree_, 0);
  if (!id.ok()) return id.status().WithContext(PageName(1));
  if (id->IsNull()) return PageCorruption(1, "missing from the tree");
  Result<Odb::Object> object = store_->odb()->Read(*id);
  if (!object.ok()) return object.status().WithContext(PageName(1));
  Result<std::string_view> bytes = DecodePage(**object);
  if (!bytes.ok()) return bytes.status().WithContext(PageName(1));
  std::string_view p = *bytes;
  stats_.pages_read++;
  if (p.size() < 100) return PageCorruption(1, "shorter than the header");
  if (std::memcmp(p.data(), kMagic, 16) != 0) {
    return PageCorruption(1, "not a SQLite database (bad magic string)");
  }
  uint32_t size = Get16(p, 16);
  if (size == 1) size = 65536;
  if (size < 512 || size > 65536 || (size & (size - 1)) != 0) {
    return PageCorruption(1, "invalid page size " + std::to_string(size));
  }
  if (size != p.size()) {
    return PageCorruption(1, "header declares page size " +
                                 std::to_string(size) + " but the page has " +
                                 std::to_string(p.size()) + " bytes");
  }
  uint32_t reserved = static_cast<unsigned char>(p[20]);
  if (size - reserved < 480) {
    return PageCorruption(1, std::to_string(reserved) +
                                 " reserved bytes leave under 480 usable");
  }
  if (p[21] != 64 || p[22] != 32 || p[23] != 32) {
    return PageCorruption(1, "payload fractions are not 64/32/32");
  }
  uint32_t encoding = Get32(p, 56);
  if (encoding == 2 || encoding == 3) {
    return Status::NotSupported(
        "database text encoding is UTF-16; row diff reads UTF-8 only");
  }
  if (encoding > 3) {
    return PageCorruption(1,
                          "unknown text encoding " + std::to_string(encoding));
  }
  // SQLite's own idea of the database size: the in-header size when it is
  // valid (non-zero, and the change counter equals version-valid-for),
  // else the file size.  Pages beyond it are not part of the database
  // (a file is not always truncated when the database shrinks).
  uint32_t header_pages = Get32(p, 28);
  if (header_pages != 0 && Get32(p, 24) == Get32(p, 92) &&
      header_pages < page_count_) {
    page_count_ = header_pages;
  }
  page_size_ = size;
  usable_size_ = size - reserved;
  auto_vacuum_ = Get32(p, 52) != 0;
  freelist_trunk_ = Get32(p, 32);
  zero_page_ = std::make_shared<const std::string>(page_size_, '\0');
  cache_[1] = PageRef{*object, p};
  return Status::OK();
}

Result<BtreeReader::PageRef> BtreeReader::Page(uint32_t pgno) {
  if (pgno == 0 || pgno > page_count_) {
    return Status::Corruption(PageName(pgno) +
                              " is out of range (the database has " +
                              std::to_string(page_count_) + " pages)");
  }
  auto it = cache_.find(pgno);
  if (it != cache_.end()) {
    stats_.page_cache_hits++;
    return it->second;
  }
  Result<ObjectId> id = store_->trees()->Get(tree_, pgno - 1);
  if (!id.ok()) return id.status().WithContext(PageName(pgno));
  PageRef ref;
  if (id->IsNull()) {
    ref = PageRef{zero_page_, *zero_page_};  // a hole reads as zeros
  } else {
    Result<Odb::Object> object = store_->odb()->Read(*id);
    if (!object.ok()) return object.status().WithContext(PageName(pgno));
    Result<std::string_view> bytes = DecodePage(**object);
    if (!bytes.ok()) return bytes.status().WithContext(PageName(pgno));
    if (bytes->size() != page_size_) {
      return PageCorruption(pgno, "has " + std::to_string(bytes->size()) +
                                      " bytes; the page size is " +
                                      std::to_string(page_size_));
    }
    ref = PageRef{*object, *bytes};
  }
  stats_.pages_read++;
  if (cache_.size() >= kPageCacheLimit) cache_.clear();
  cache_.emplace(pgno, ref);
  return ref;
}

Status BtreeReader::ParsePageHeader(uint32_t pgno, std::string_view page,
                                    PageHeader* out) {
  size_t off = pgno == 1 ? 100 : 0;
  if (off + 12 > usable_size_) return PageCorruption(pgno, "too small");
  uint8_t type = static_cast<uint8_t>(page[off]);
  if (type != kIndexInterior && type != kTableInterior &&
      type != kIndexLeaf && type != kTableLeaf) {
    return PageCorruption(pgno, "not a b-tree page (type byte " +
                                    std::to_string(type) + ")");
  }
  out->type = type;
  out->cell_count = Get16(page, off + 3);
  size_t header = out->leaf() ? 8 : 12;
  out->cell_pointers = off + header;
  if (out->cell_pointers + 2 * size_t{out->cell_count} > usable_size_) {
    return PageCorruption(pgno, std::to_string(out->cell_count) +
                                    " cells do not fit on the page");
  }
  out->right_child = 0;
  if (!out->leaf()) {
    out->right_child = Get32(page, off + 8);
    if (out->right_child < 2 || out->right_child > page_count_) {
      return PageCorruption(pgno, "right child pointer " +
                                      std::to_string(out->right_child) +
                                      " is out of range");
    }
  }
  return Status::OK();
}

Status BtreeReader::ReadChildren(uint32_t pgno, std::string_view page,
                                 const PageHeader& header,
                                 std::vector<uint32_t>* out) {
  size_t array_end = header.cell_pointers + 2 * size_t{header.cell_count};
  for (uint32_t i = 0; i < header.cell_count; i++) {
    size_t cell = Get16(page, header.cell_pointers + 2 * i);
    if (cell < array_end || cell + 4 > usable_size_) {
      return PageCorruption(pgno, "cell " + std::to_string(i) +
                                      " offset " + std::to_string(cell) +
                                      " is out of bounds");
    }
    uint32_t child = Get32(page, cell);
    if (child < 2 || child > page_count_) {
      return PageCorruption(pgno, "cell " + std::to_string(i) +
                                      " child pointer " +
                                      std::to_string(child) +
                                      " is out of range");
    }
    out->push_back(child);
  }
  out->push_back(header.right_child);
  return Status::OK();
}

Status BtreeReader::WalkBtree(uint32_t root, BtreeShape* out) {
  *out = BtreeShape();
  out->root = root;
  if (root == 0 || root > page_count_) {
    return Status::Corruption("b-tree root page " + std::to_string(root) +
                              " is out of range (the database has " +
                              std::to_string(page_count_) + " pages)");
  }
  std::unordered_set<uint32_t> seen{root};
  std::vector<uint32_t> level{root};
  PageHeader header;
  LARIX_ASSIGN_OR_RETURN(PageRef first, Page(root));
  LARIX_RETURN_IF_ERROR(ParsePageHeader(root, first.bytes, &header));
  out->kind = header.kind();
  out->depth = 1;
  while (!header.leaf()) {
    std::vector<uint32_t> next;
    for (uint32_t pgno : level) {
      LARIX_ASSIGN_OR_RETURN(PageRef page, Page(pgno));
      LARIX_RETURN_IF_ERROR(ParsePageHeader(pgno, page.bytes, &header));
      if (header.leaf() || header.kind() != out->kind) {
        return PageCorruption(
            pgno, "expected an interior page at depth " +
                      std::to_string(out->depth) + " of the b-tree rooted at " +
                      std::to_string(root) + ", found page type " +
                      std::to_string(header.type));
      }
      size_t before = next.size();
      LARIX_RETURN_IF_ERROR(ReadChildren(pgno, page.bytes, header, &next));
      for (size_t i = before; i < next.size(); i++) {
        if (!seen.insert(next[i]).second) {
          return PageCorruption(next[i], "reached twice in the b-tree rooted "
                                         "at " + std::to_string(root) +
                                             " (a cycle or a shared page)");
        }
      }
      out->interior.push_back(pgno);
    }
    if (++out->depth > kMaxDepth) {
      return Status::Corruption("b-tree rooted at page " +
                                std::to_string(root) + " is deeper than " +
                                std::to_string(kMaxDepth) + " levels");
    }
    level = std::move(next);
    // All leaves are at one depth, so the leftmost child tells whether this
    // level is the leaf level.  The other leaves are checked when read.
    LARIX_ASSIGN_OR_RETURN(PageRef leftmost, Page(level.front()));
    LARIX_RETURN_IF_ERROR(
        ParsePageHeader(level.front(), leftmost.bytes, &header));
    if (header.kind() != out->kind) {
      return PageCorruption(level.front(),
                            "b-tree page of the wrong kind under root " +
                                std::to_string(root));
    }
  }
  out->leaves = std::move(level);
  return Status::OK();
}

Status BtreeReader::ReadPayload(uint32_t pgno, std::string_view page,
                                size_t offset, uint64_t payload_size,
                                bool index_cell, bool want_payload,
                                BtreeCell* cell) {
  if (payload_size > kMaxPayload) {
    return PageCorruption(pgno, "cell payload of " +
                                    std::to_string(payload_size) +
                                    " bytes is larger than SQLite allows");
  }
  const uint64_t u = usable_size_;
  // How much of the payload stays on the page (fileformat2, "Cell Payload
  // Overflow Pages").
  uint64_t max_local = index_cell ? (u - 12) * 64 / 255 - 23 : u - 35;
  uint64_t local = payload_size;
  if (payload_size > max_local) {
    uint64_t min_local = (u - 12) * 32 / 255 - 23;
    uint64_t k = min_local + (payload_size - min_local) % (u - 4);
    local = k <= max_local ? k : min_local;
  }
  bool overflows = local < payload_size;
  if (offset + local + (overflows ? 4 : 0) > u) {
    return PageCorruption(pgno, "cell at offset " + std::to_string(offset) +
                                    " extends past the usable page");
  }
  cell->payload.clear();
  cell->overflow.clear();
  if (want_payload) {
    cell->payload.reserve(payload_size);
    cell->payload.assign(page.substr(offset, local));
  }
  if (!overflows) return Status::OK();
  uint64_t remaining = payload_size - local;
  uint64_t pages = (remaining + u - 5) / (u - 4);
  if (pages > page_count_) {
    return PageCorruption(pgno, "cell payload needs " + std::to_string(pages) +
                                    " overflow pages, more than the database "
                                    "has");
  }
  uint32_t next = Get32(page, offset + local);
  std::unordered_set<uint32_t> chain;
  for (uint64_t i = 0; i < pages; i++) {
    if (next < 2 || next > page_count_) {
      return PageCorruption(pgno, "overflow chain of the cell at offset " +
                                      std::to_string(offset) + " points to " +
                                      std::to_string(next) +
                                      ", out of range");
    }
    if (!chain.insert(next).second) {
      return PageCorruption(next, "overflow chain of a cell on page " +
                                      std::to_string(pgno) +
                                      " loops back to it");
    }
    cell->overflow.push_back(next);
    LARIX_ASSIGN_OR_RETURN(PageRef over, Page(next));
    stats_.overflow_pages_read++;
    uint64_t take = std::min<uint64_t>(remaining, u - 4);
    if (want_payload) cell->payload.append(over.bytes.substr(4, take));
    remaining -= take;
    next = Get32(over.bytes, 0);
  }
  return Status::OK();
}

Status BtreeReader::ReadCells(uint32_t pgno, BtreeKind kind,
                              bool want_payload, std::vector<BtreeCell>* out) {
  out->clear();
  LARIX_ASSIGN_OR_RETURN(PageRef ref, Page(pgno));
  std::string_view page = ref.bytes;
  PageHeader header;
  LARIX_RETURN_IF_ERROR(ParsePageHeader(pgno, page, &header));
  if (header.kind() != kind) {
    return PageCorruption(pgno, std::string("expected a ") +
                                    (kind == BtreeKind::kTable ? "table"
                                                               : "index") +
                                    " b-tree page, found type " +
                                    std::to_string(header.type));
  }
  if (header.type == kTableInterior) {
    return PageCorruption(pgno, "expected a table leaf page (the b-tree's "
                                "leaves are not all at one depth)");
  }
  size_t array_end = header.cell_pointers + 2 * size_t{header.cell_count};
  out->resize(header.cell_count);
  for (uint32_t i = 0; i < header.cell_count; i++) {
    size_t off = Get16(page, header.cell_pointers + 2 * i);
    if (off < array_end || off >= usable_size_) {
      return PageCorruption(pgno, "cell " + std::to_string(i) + " offset " +
                                      std::to_string(off) +
                                      " is out of bounds");
    }
    BtreeCell& cell = (*out)[i];
    if (header.type == kIndexInterior) off += 4;  // left child pointer
    uint64_t payload_size = 0;
    size_t used = GetVarint(page, off, usable_size_, &payload_size);
    if (used == 0) {
      return PageCorruption(pgno, "cell " + std::to_string(i) +
                                      ": payload size varint runs off the "
                                      "page");
    }
    off += used;
    if (header.type == kTableLeaf) {
      uint64_t rowid = 0;
      used = GetVarint(page, off, usable_size_, &rowid);
      if (used == 0) {
        return PageCorruption(pgno, "cell " + std::to_string(i) +
                                        ": rowid varint runs off the page");
      }
      cell.rowid = static_cast<int64_t>(rowid);
      off += used;
    }
    LARIX_RETURN_IF_ERROR(ReadPayload(pgno, page, off, payload_size,
                                      header.type != kTableLeaf, want_payload,
                                      &cell));
  }
  return Status::OK();
}

Result<uint32_t> BtreeReader::CellCount(uint32_t pgno, BtreeKind kind) {
  LARIX_ASSIGN_OR_RETURN(PageRef ref, Page(pgno));
  PageHeader header;
  LARIX_RETURN_IF_ERROR(ParsePageHeader(pgno, ref.bytes, &header));
  if (header.kind() != kind) {
    return PageCorruption(pgno, "b-tree page of the wrong kind");
  }
  return header.cell_count;
}

Status BtreeReader::DecodeRecord(std::string_view payload,
                                 std::vector<SqlValue>* fields) {
  fields->clear();
  size_t n = payload.size();
  uint64_t header_size = 0;
  size_t used = GetVarint(payload, 0, n, &header_size);
  if (used == 0 || header_size < used || header_size > n) {
    return Status::Corruption("record header size " +
                              std::to_string(header_size) +
                              " does not fit a payload of " +
                              std::to_string(n) + " bytes");
  }
  size_t pos = used;
  uint64_t body = header_size;
  while (pos < header_size) {
    uint64_t st = 0;
    used = GetVarint(payload, pos, header_size, &st);
    if (used == 0) {
      return Status::Corruption("record serial type runs off its header");
    }
    pos += used;
    uint64_t len;
    if (st <= 4) {
      len = st;
    } else if (st == 5) {
      len = 6;
    } else if (st == 6 || st == 7) {
      len = 8;
    } else if (st == 8 || st == 9) {
      len = 0;
    } else if (st == 10 || st == 11) {
      return Status::Corruption("record uses reserved serial type " +
                                std::to_string(st));
    } else {
      len = (st - 12) / 2;
    }
    if (len > n - body) {
      return Status::Corruption("record field of " + std::to_string(len) +
                                " bytes runs past the payload");
    }
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(payload.data() + body);
    SqlValue v;
    if (st == 0) {
      // NULL
    } else if (st <= 6) {
      uint64_t x = (p[0] & 0x80) ? ~uint64_t{0} : 0;  // sign extension
      for (uint64_t k = 0; k < len; k++) x = (x << 8) | p[k];
      v = SqlValue::Integer(static_cast<int64_t>(x));
    } else if (st == 7) {
      uint64_t x = 0;
      for (int k = 0; k < 8; k++) x = (x << 8) | p[k];
      double d;
      std::memcpy(&d, &x, sizeof d);
      v = SqlValue::Real(d);
    } else if (st == 8 || st == 9) {
      v = SqlValue::Integer(st == 9 ? 1 : 0);
    } else if (st % 2 == 0) {
      v = SqlValue::Blob(std::string(payload.substr(body, len)));
    } else {
      v = SqlValue::Text(std::string(payload.substr(body, len)));
    }
    fields->push_back(std::move(v));
    body += len;
  }
  return Status::OK();
}

Status BtreeReader::DecodeRow(const TableInfo& table, const BtreeCell& cell,
                              std::vector<SqlValue>* row) {
  std::vector<SqlValue> fields;
  LARIX_RETURN_IF_ERROR(DecodeRecord(cell.payload, &fields));
  row->assign(table.columns.size(), SqlValue());
  for (size_t i = 0; i < table.record_columns.size(); i++) {
    int c = table.record_columns[i];
    SqlValue v = i < fields.size() ? std::move(fields[i])
                                   : table.columns[c].default_value;
    if (table.columns[c].affinity == Affinity::kReal &&
        v.type == SqlValue::Type::kInteger) {
      v = SqlValue::Real(static_cast<double>(v.integer));
    }
    (*row)[c] = std::move(v);
  }
  if (table.rowid_alias >= 0) {
    (*row)[table.rowid_alias] = SqlValue::Integer(cell.rowid);
  }
  return Status::OK();
}

Status BtreeReader::ScanTable(
    const TableInfo& table,
    const std::function<Status(int64_t rowid, std::vector<SqlValue>& row)>&
        fn) {
  if (table.root_page == 0) {
    return Status::NotSupported("table " + table.name +
                                " is a virtual table: it has no b-tree");
  }
  BtreeShape shape;
  LARIX_RETURN_IF_ERROR(WalkBtree(table.root_page, &shape));
  BtreeKind want = table.without_rowid ? BtreeKind::kIndex : BtreeKind::kTable;
  if (shape.kind != want) {
    return PageCorruption(table.root_page,
                          "root of table " + table.name + " is " +
                              (want == BtreeKind::kTable ? "an index"
                                                         : "a table") +
                              " b-tree");
  }
  std::vector<uint32_t> pages = want == BtreeKind::kTable ? shape.leaves
                                                          : shape.EntryPages();
  std::vector<BtreeCell> cells;
  std::vector<SqlValue> row;
  for (uint32_t pgno : pages) {
    LARIX_RETURN_IF_ERROR(ReadCells(pgno, want, true, &cells));
    for (const BtreeCell& cell : cells) {
      Status s = DecodeRow(table, cell, &row);
      if (!s.ok()) return s.WithContext(PageName(pgno));
      LARIX_RETURN_IF_ERROR(fn(cell.rowid, row));
    }
  }
  return Status::OK();
}

Result<const std::vector<SchemaEntry>*> BtreeReader::Schema() {
  if (schema_) return &*schema_;
  std::vector<SchemaEntry> entries;
  if (page_count_ > 0) {
    Status s = ScanTable(
        SchemaTableInfo(), [&](int64_t, std::vector<SqlValue>& row) {
          SchemaEntry e;
          e.type = row[0].bytes;
          e.name = row[1].bytes;
          e.tbl_name = row[2].bytes;
          if (row[3].type == SqlValue::Type::kInteger) {
            if (row[3].integer < 0 || row[3].integer > page_count_) {
              return Status::Corruption(
                  "sqlite_schema: " + e.type + " " + e.name +
                  " has root page " + std::to_string(row[3].integer) +
                  ", out of range");
            }
            e.root_page = static_cast<uint32_t>(row[3].integer);
          }
          e.sql = row[4].bytes;
          entries.push_back(std::move(e));
          return Status::OK();
        });
    LARIX_RETURN_IF_ERROR(s);
  }
  schema_ = std::move(entries);
  return &*schema_;
}

Status BtreeReader::FindTable(std::string_view name, TableInfo* out) {
  if (EqualsIgnoreCase(name, "sqlite_schema") ||
      EqualsIgnoreCase(name, "sqlite_master")) {
    *out = SchemaTableInfo();
    return Status::OK();
  }
  LARIX_ASSIGN_OR_RETURN(const std::vector<SchemaEntry>* schema, Schema());
  for (const SchemaEntry& e : *schema) {
    if (e.type != "table" || !EqualsIgnoreCase(e.name, name)) continue;
    if (e.root_page == 0) {
      return Status::NotSupported("table " + e.name +
                                  " is a virtual table: it has no b-tree");
    }
    TableInfo info;
    Status s = ParseCreateTable(e.sql, &info);
    if (!s.ok()) return s.WithContext("table " + e.name);
    info.name = e.name;
    info.root_page = e.root_page;
    *out = std::move(info);
    return Status::OK();
  }
  return Status::NotFound("no table named " + std::string(name));
}

Status BtreeReader::FreelistPages(std::vector<uint32_t>* out) {
  out->clear();
  std::unordered_set<uint32_t> seen;
  uint32_t trunk = freelist_trunk_;
  const uint32_t max_leaves = usable_size_ / 4 - 2;
  while (trunk != 0) {
    if (trunk < 2 || trunk > page_count_) {
      return PageCorruption(trunk, "freelist trunk page out of range");
    }
    if (!seen.insert(trunk).second) {
      return PageCorruption(trunk, "freelist trunk chain loops");
    }
    out->push_back(trunk);
    LARIX_ASSIGN_OR_RETURN(PageRef page, Page(trunk));
    uint32_t n = Get32(page.bytes, 4);
    if (n > max_leaves) {
      return PageCorruption(trunk, "freelist trunk lists " +
                                       std::to_string(n) + " leaves, at most " +
                                       std::to_string(max_leaves) + " fit");
    }
    for (uint32_t i = 0; i < n; i++) {
      uint32_t leaf = Get32(page.bytes, 8 + 4 * size_t{i});
      if (leaf < 2 || leaf > page_count_ || !seen.insert(leaf).second) {
        return PageCorruption(trunk, "freelist leaf " + std::to_string(leaf) +
                                         " is out of range or listed twice");
      }
      out->push_back(leaf);
    }
    trunk = Get32(page.bytes, 0);
  }
  std::sort(out->begin(), out->end());
  return Status::OK();
}

uint32_t BtreeReader::PendingBytePage() const {
  return static_cast<uint32_t>(0x40000000u / page_size_ + 1);
}

bool BtreeReader::IsPtrmapPage(uint32_t pgno) const {
  if (!auto_vacuum_ || pgno < 2) return false;
  uint32_t per_map = usable_size_ / 5 + 1;
  uint32_t map = (pgno - 2) / per_map * per_map + 2;
  if (map == PendingBytePage()) map++;
  return map == pgno;
}

Status BtreeReader::ReadPtrmap(uint32_t pgno, uint8_t* type, uint32_t* parent) {
  if (!auto_vacuum_) {
    return Status::NotSupported("the database has no pointer map");
  }
  if (pgno < 3 || pgno > page_count_ || IsPtrmapPage(pgno)) {
    return Status::InvalidArgument(PageName(pgno) +
                                   " has no pointer-map entry");
  }
  uint32_t per_map = usable_size_ / 5 + 1;
  uint32_t map = (pgno - 2) / per_map * per_map + 2;
  if (map == PendingBytePage()) map++;
  if (map >= pgno) {
    return Status::InvalidArgument(PageName(pgno) +
                                   " has no pointer-map entry");
  }
  size_t off = 5 * size_t{pgno - map - 1};
  if (off + 5 > usable_size_) {
    return PageCorruption(map, "pointer-map entry out of bounds");
  }
  LARIX_ASSIGN_OR_RETURN(PageRef page, Page(map));
  *type = static_cast<uint8_t>(page.bytes[off]);
  *parent = Get32(page.bytes, off + 1);
  if (*type < 1 || *type > 5) {
    return PageCorruption(map, "pointer-map entry of page " +
                                   std::to_string(pgno) + " has type " +
                                   std::to_string(*type));
  }
  return Status::OK();
}

}  // namespace larix
