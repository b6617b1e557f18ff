// The tokenizer and the statement splitter, checked three ways:
//   1. table tests: every token kind and every error, spelled out;
//   2. differential tests against the SQLite library itself: its keyword
//      list, the names it accepts bare, where it finds unrecognized tokens
//      and syntax errors in random text, sqlite3_complete() on every prefix
//      of random scripts, and sqlite3_prepare's statement tails;
//   3. properties: tokens tile any input.

#include "sql/tokenizer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cctype>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace larix::sql {
namespace {

using Kinds = std::vector<std::pair<TokenKind, std::string>>;

// Every token of `sql` as (kind, text).
Kinds All(std::string_view sql) {
  Kinds out;
  for (const Token& t : Tokenize(sql)) out.emplace_back(t.kind, t.text);
  return out;
}

// The one token `sql` must consist of.
Token Only(std::string_view sql) {
  std::vector<Token> tokens = Tokenize(sql);
  EXPECT_EQ(tokens.size(), 1u) << "in: " << sql;
  return tokens.empty() ? Token{} : tokens[0];
}

constexpr TokenKind kSpace = TokenKind::kSpace;
constexpr TokenKind kComment = TokenKind::kComment;
constexpr TokenKind kKeyword = TokenKind::kKeyword;
constexpr TokenKind kIdentifier = TokenKind::kIdentifier;
constexpr TokenKind kString = TokenKind::kString;
constexpr TokenKind kBlob = TokenKind::kBlob;
constexpr TokenKind kInteger = TokenKind::kInteger;
constexpr TokenKind kFloat = TokenKind::kFloat;
constexpr TokenKind kParameter = TokenKind::kParameter;
constexpr TokenKind kOperator = TokenKind::kOperator;
constexpr TokenKind kError = TokenKind::kError;

struct OneToken {
  const char* text;
  TokenKind kind;
  const char* value;  // Token::value(); null: not checked
};

TEST(TokenizerTest, SingleTokens) {
  const OneToken cases[] = {
      // Whitespace: \v may continue a run but not start one.
      {" ", kSpace, nullptr},
      {" \t\n\f\r\v ", kSpace, nullptr},
      {"\xEF\xBB\xBF", kSpace, nullptr},  // byte-order mark
      // Comments.
      {"-- to the end", kComment, nullptr},
      {"--", kComment, nullptr},
      {"/* c */", kComment, nullptr},
      {"/**/", kComment, nullptr},
      {"/* unterminated runs to the end", kComment, nullptr},
      {"/*/", kComment, nullptr},
      // Keywords: case-folded values.
      {"select", kKeyword, "SELECT"},
      {"SeLeCt", kKeyword, "SELECT"},
      {"current_timestamp", kKeyword, "CURRENT_TIMESTAMP"},
      // Identifiers.
      {"selectx", kIdentifier, "selectx"},
      {"_a1$b", kIdentifier, "_a1$b"},
      {"timestamp", kIdentifier, "timestamp"},
      {"caf\xC3\xA9", kIdentifier, "caf\xC3\xA9"},
      {"\xC3\xA9t\xC3\xA9", kIdentifier, "\xC3\xA9t\xC3\xA9"},
      {"\xEF\xBB", kIdentifier, nullptr},  // not a whole BOM
      {"x", kIdentifier, "x"},
      {"xy", kIdentifier, "xy"},
      {"\"a\"\"b\"", kIdentifier, "a\"b"},
      {"\"\"", kIdentifier, ""},
      {"\"select\"", kIdentifier, "select"},
      {"[a b]", kIdentifier, "a b"},
      {"[a\"b]", kIdentifier, "a\"b"},
      {"`a``b`", kIdentifier, "a`b"},
      // Strings.
      {"'abc'", kString, "abc"},
      {"'it''s'", kString, "it's"},
      {"''", kString, ""},
      {"'a;b -- c /* d'", kString, "a;b -- c /* d"},
      // Blobs.
      {"x'AB'", kBlob, "AB"},
      {"X'ab01'", kBlob, "ab01"},
      {"x''", kBlob, ""},
      // Numbers.
      {"42", kInteger, nullptr},
      {"0x1F", kInteger, nullptr},
      {"0XaBc", kInteger, nullptr},
      {"1.5", kFloat, nullptr},
      {".5", kFloat, nullptr},
      {"1.", kFloat, nullptr},
      {"1e10", kFloat, nullptr},
      {"1E+5", kFloat, nullptr},
      {"2.5e-3", kFloat, nullptr},
      {".5e3", kFloat, nullptr},
      {"1.e2", kFloat, nullptr},
      // Parameters.
      {"?", kParameter, nullptr},
      {"?12", kParameter, nullptr},
      {":name", kParameter, nullptr},
      {"@name", kParameter, nullptr},
      {"$name", kParameter, nullptr},
      {"#name", kParameter, nullptr},
      {":1", kParameter, nullptr},
      {"$a::b", kParameter, nullptr},
      {"$a::b::c(x)", kParameter, nullptr},
      {"$a(xy)", kParameter, nullptr},
      {":::x", kParameter, nullptr},  // SQLite's Tcl rules, not a cast
      // Operators.
      {"||", kOperator, nullptr},
      {"->", kOperator, nullptr},
      {"->>", kOperator, nullptr},
      {"<>", kOperator, nullptr},
      {"!=", kOperator, nullptr},
      {"==", kOperator, nullptr},
      {"<=", kOperator, nullptr},
      {">=", kOperator, nullptr},
      {"<<", kOperator, nullptr},
      {">>", kOperator, nullptr},
      {"<->", kOperator, nullptr},
      {"<=>", kOperator, nullptr},
      {"<#>", kOperator, nullptr},
      {"::", kOperator, nullptr},
      {";", kOperator, nullptr},
      // Errors.
      {"'abc", kError, nullptr},
      {"'it''s", kError, nullptr},
      {"\"abc", kError, nullptr},
      {"`abc", kError, nullptr},
      {"[abc", kError, nullptr},
      {"x'A'", kError, nullptr},
      {"x'zz'", kError, nullptr},
      {"x'AB", kError, nullptr},
      {"1e", kError, nullptr},
      {"1_000", kError, nullptr},  // no digit separators in SQLite 3.40
      {"12abc", kError, nullptr},
      {"1e5x", kError, nullptr},
      {"0x", kError, nullptr},
      {"0xg", kError, nullptr},
      {"!", kError, nullptr},
      {"^", kError, nullptr},
      {"{", kError, nullptr},
      {"\\", kError, nullptr},
      {"\x01", kError, nullptr},
      {"\v", kError, nullptr},
      {":", kError, nullptr},
      {"@", kError, nullptr},
      {"$", kError, nullptr},
      {"#", kError, nullptr},
  };
  for (const OneToken& c : cases) {
    SCOPED_TRACE(c.text);
    const Token t = Only(c.text);
    EXPECT_EQ(t.kind, c.kind) << TokenKindName(t.kind);
    EXPECT_EQ(t.text, c.text);
    EXPECT_EQ(t.offset, 0u);
    if (c.value != nullptr) {
      EXPECT_EQ(t.value(), c.value);
    }
    EXPECT_EQ(t.kind == kError, !t.error.empty());
  }
}

TEST(TokenizerTest, EveryOneCharacterOperator) {
  for (char c : std::string("()+*/%,&~=<>|-;.")) {
    const std::string s(1, c);
    SCOPED_TRACE(s);
    const Token t = Only(s);
    EXPECT_EQ(t.kind, kOperator);
    EXPECT_TRUE(t.IsOperator(s));
  }
}

TEST(TokenizerTest, Sequences) {
  EXPECT_EQ(All("SELECT a FROM t;"), (Kinds{{kKeyword, "SELECT"},
                                            {kSpace, " "},
                                            {kIdentifier, "a"},
                                            {kSpace, " "},
                                            {kKeyword, "FROM"},
                                            {kSpace, " "},
                                            {kIdentifier, "t"},
                                            {kOperator, ";"}}));
  // The newline ends a line comment but is not part of it.
  EXPECT_EQ(All("-- c\nx"),
            (Kinds{{kComment, "-- c"}, {kSpace, "\n"}, {kIdentifier, "x"}}));
  // A hex literal ends at its last hex digit: SQLite reads 0x1 AS g.
  EXPECT_EQ(All("0x1g"), (Kinds{{kInteger, "0x1"}, {kIdentifier, "g"}}));
  EXPECT_EQ(All("1.2.3"), (Kinds{{kFloat, "1.2"}, {kFloat, ".3"}}));
  EXPECT_EQ(All("1.5e+"), (Kinds{{kError, "1.5e"}, {kOperator, "+"}}));
  EXPECT_EQ(All("?a"), (Kinds{{kParameter, "?"}, {kIdentifier, "a"}}));
  EXPECT_EQ(All("?1a"), (Kinds{{kParameter, "?1"}, {kIdentifier, "a"}}));
  EXPECT_EQ(All("$a(x y)"), (Kinds{{kError, "$a(x"},
                                   {kSpace, " "},
                                   {kIdentifier, "y"},
                                   {kOperator, ")"}}));
  EXPECT_EQ(All(":a:b"), (Kinds{{kParameter, ":a"}, {kParameter, ":b"}}));
  // "/*" as the very last bytes is not a comment in SQLite.
  EXPECT_EQ(All("/*"), (Kinds{{kOperator, "/"}, {kOperator, "*"}}));
  EXPECT_EQ(All("a/b"),
            (Kinds{{kIdentifier, "a"}, {kOperator, "/"}, {kIdentifier, "b"}}));
  // Larix operators, and the look-alikes that are not.
  EXPECT_EQ(
      All("a<->b"),
      (Kinds{{kIdentifier, "a"}, {kOperator, "<->"}, {kIdentifier, "b"}}));
  EXPECT_EQ(All("a<-1"), (Kinds{{kIdentifier, "a"},
                                {kOperator, "<"},
                                {kOperator, "-"},
                                {kInteger, "1"}}));
  EXPECT_EQ(All("a<#b"),
            (Kinds{{kIdentifier, "a"}, {kOperator, "<"}, {kParameter, "#b"}}));
  EXPECT_EQ(
      All("a<=>b"),
      (Kinds{{kIdentifier, "a"}, {kOperator, "<=>"}, {kIdentifier, "b"}}));
  EXPECT_EQ(All("a<= >b"), (Kinds{{kIdentifier, "a"},
                                  {kOperator, "<="},
                                  {kSpace, " "},
                                  {kOperator, ">"},
                                  {kIdentifier, "b"}}));
  EXPECT_EQ(
      All("x::int"),
      (Kinds{{kIdentifier, "x"}, {kOperator, "::"}, {kIdentifier, "int"}}));
  EXPECT_EQ(
      All("'a'::text"),
      (Kinds{{kString, "'a'"}, {kOperator, "::"}, {kIdentifier, "text"}}));
  // Adjacent strings are one string with an escaped quote.
  EXPECT_EQ(All("'a''b'"), (Kinds{{kString, "'a''b'"}}));
  EXPECT_EQ(All("'a' 'b'"),
            (Kinds{{kString, "'a'"}, {kSpace, " "}, {kString, "'b'"}}));
  // A BOM glued to a word is part of the word, as in SQLite.
  EXPECT_EQ(All("select\xEF\xBB\xBF"),
            (Kinds{{kIdentifier, "select\xEF\xBB\xBF"}}));
  EXPECT_EQ(All("\xEF\xBB\xBFselect"),
            (Kinds{{kSpace, "\xEF\xBB\xBF"}, {kKeyword, "select"}}));
  // A NUL ends SQLite's reading: it and the rest are one error token.
  EXPECT_EQ(All(std::string_view("a\0b c", 5)),
            (Kinds{{kIdentifier, "a"}, {kError, std::string("\0b c", 4)}}));
  // Inside a string a NUL reads as the end of the text.
  EXPECT_EQ(All(std::string_view("'a\0b'", 5)),
            (Kinds{{kError, "'a"}, {kError, std::string("\0b'", 3)}}));
}

TEST(TokenizerTest, ErrorsCarryOffsetAndReason) {
  std::vector<Token> tokens = Tokenize("SELECT 'abc");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[2].kind, kError);
  EXPECT_EQ(tokens[2].offset, 7u);
  EXPECT_EQ(tokens[2].error, "unterminated string literal");
  tokens = Tokenize("a ! b");
  EXPECT_EQ(tokens[2].kind, kError);
  EXPECT_EQ(tokens[2].offset, 2u);
  EXPECT_EQ(tokens[2].error, "unrecognized token");
  tokens = Tokenize("SELECT [x");
  EXPECT_EQ(tokens[2].error, "unterminated quoted identifier");
}

TEST(TokenizerTest, WordHelpers) {
  const std::vector<Token> t = Tokenize("From \"FROM\" [from] from_x");
  EXPECT_TRUE(t[0].IsWord("FROM"));
  EXPECT_TRUE(t[0].IsWord("from"));
  EXPECT_TRUE(t[0].IsBareWord());
  EXPECT_FALSE(t[2].IsWord("FROM"));  // quoted: a name, not the keyword
  EXPECT_TRUE(t[2].IsQuotedIdentifier());
  EXPECT_FALSE(t[4].IsWord("FROM"));
  EXPECT_FALSE(t[6].IsWord("FROM"));
  EXPECT_TRUE(t[6].IsBareWord());
  EXPECT_FALSE(t[6].IsQuotedIdentifier());
}

TEST(TokenizerTest, NextTokenStartsAnywhere) {
  const std::string sql = "SELECT 'x' FROM t";
  const Token t = NextToken(sql, 7);
  EXPECT_EQ(t.kind, kString);
  EXPECT_EQ(t.offset, 7u);
  EXPECT_EQ(t.text, "'x'");
}

// Random text over an alphabet full of lexical edge cases.
std::string RandomText(std::mt19937& rng, const std::string& alphabet,
                       int max_len) {
  std::uniform_int_distribution<int> len(0, max_len);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (int n = len(rng); n > 0; --n) s.push_back(alphabet[pick(rng)]);
  return s;
}

TEST(TokenizerTest, TokensTileAnyInput) {
  std::mt19937 rng(20250101);
  std::string alphabet = "ax09e.'\"`[]-/*<>=!|?:@$#(),; \n\t\v";
  alphabet += std::string("\0\x80\xEF\xBB\xBF", 5);
  for (int round = 0; round < 20000; ++round) {
    const std::string s = RandomText(rng, alphabet, 24);
    std::string joined;
    std::size_t expect_offset = 0;
    for (const Token& t : Tokenize(s)) {
      ASSERT_EQ(t.offset, expect_offset) << s;
      ASSERT_GT(t.length(), 0u) << s;
      joined += t.text;
      expect_offset = t.end();
    }
    ASSERT_EQ(joined, s);
  }
}

// ---------------------------------------------------------------------------
// Against the SQLite library.

class SqliteDb {
 public:
  SqliteDb() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec("CREATE TABLE t(a, x, e)");
  }
  ~SqliteDb() { sqlite3_close(db_); }
  sqlite3* get() { return db_; }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // Prepares the first statement of `sql`; returns the result code.
  int Prepare(const std::string& sql, const char** tail = nullptr) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()),
                                &stmt, tail);
    sqlite3_finalize(stmt);
    return rc;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(TokenizerSqliteTest, KeywordListMatchesSqlite) {
  ASSERT_EQ(sqlite3_keyword_count(), 147);
  for (int i = 0; i < sqlite3_keyword_count(); ++i) {
    const char* name = nullptr;
    int len = 0;
    ASSERT_EQ(sqlite3_keyword_name(i, &name, &len), SQLITE_OK);
    const std::string word(name, len);
    EXPECT_TRUE(IsKeyword(word)) << word;
    std::string lower = word;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    EXPECT_TRUE(IsKeyword(lower)) << word;
    EXPECT_EQ(Only(lower).kind, kKeyword) << word;
  }
  EXPECT_FALSE(IsKeyword("TIMESTAMP"));
  EXPECT_FALSE(IsKeyword("BRANCH"));
  EXPECT_FALSE(IsKeyword("SELECTS"));
}

TEST(TokenizerSqliteTest, NamesAcceptedBareMatchSqlite) {
  SqliteDb db;
  for (int i = 0; i < sqlite3_keyword_count(); ++i) {
    const char* name = nullptr;
    int len = 0;
    ASSERT_EQ(sqlite3_keyword_name(i, &name, &len), SQLITE_OK);
    const std::string word(name, len);
    const bool sqlite_ok = db.Prepare("SELECT * FROM t " + word) == SQLITE_OK;
    EXPECT_EQ(IsUsableAsName(word), sqlite_ok) << word;
  }
  EXPECT_TRUE(IsUsableAsName("orders"));
  EXPECT_TRUE(IsUsableAsName("timestamp"));
  EXPECT_FALSE(IsUsableAsName("1abc"));
  EXPECT_FALSE(IsUsableAsName("$abc"));
  EXPECT_FALSE(IsUsableAsName("a b"));
  EXPECT_FALSE(IsUsableAsName(""));
}

// Random text after "SELECT ": where SQLite finds an unrecognized token we
// find the same error token; where it reports a syntax error a token of the
// same text starts there and nothing before it was an error; where it
// accepts the text we find no error at all.
TEST(TokenizerSqliteTest, AgreesWithSqliteOnRandomText) {
  SqliteDb db;
  std::mt19937 rng(7);
  const std::string alphabet = "ax09e.'\"`[]-/*<>=!|?:@$#(), \n\v+";
  int unrecognized = 0, syntax = 0, accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string sql = "SELECT " + RandomText(rng, alphabet, 10);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(
        db.get(), sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    sqlite3_finalize(stmt);
    const std::string msg = sqlite3_errmsg(db.get());
    const int off = sqlite3_error_offset(db.get());
    const std::vector<Token> tokens = Tokenize(sql);
    auto first_error = [&]() -> const Token* {
      for (const Token& t : tokens) {
        if (t.kind == kError) return &t;
      }
      return nullptr;
    };
    auto larix_operator_at = [&](std::size_t offset) {
      for (const Token& t : tokens) {
        if (t.offset <= offset && offset < t.end() &&
            (t.IsOperator("<->") || t.IsOperator("<=>") ||
             t.IsOperator("<#>") || t.IsOperator("::"))) {
          return true;
        }
      }
      return false;
    };
    SCOPED_TRACE(sql + " => " + msg);
    if (rc == SQLITE_OK) {
      ++accepted;
      EXPECT_EQ(first_error(), nullptr);
    } else if (msg.rfind("unrecognized token: \"", 0) == 0 && off >= 0) {
      ++unrecognized;
      const std::string text = msg.substr(21, msg.size() - 22);
      if (larix_operator_at(off)) continue;
      const Token* e = first_error();
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->offset, static_cast<std::size_t>(off));
      EXPECT_EQ(e->text, text);
    } else if (msg.rfind("near \"", 0) == 0 && off >= 0) {
      ++syntax;
      if (larix_operator_at(off)) continue;  // <=> is "<=" ">" to SQLite
      const std::string text = msg.substr(6, msg.find("\": syntax error") - 6);
      bool found = false;
      for (const Token& t : tokens) {
        if (t.offset == static_cast<std::size_t>(off)) {
          found = true;
          EXPECT_EQ(t.text, text);
          break;
        }
        if (!larix_operator_at(t.offset)) {
          EXPECT_NE(t.kind, kError);
        }
      }
      EXPECT_TRUE(found);
    }
  }
  // The random text must exercise all three outcomes.
  EXPECT_GT(unrecognized, 1000);
  EXPECT_GT(syntax, 1000);
  EXPECT_GT(accepted, 100);
}

// ---------------------------------------------------------------------------
// Statement splitting.

std::vector<std::string> Texts(std::string_view script) {
  std::vector<std::string> out;
  for (const StatementSlice& s : SplitStatements(script)) {
    EXPECT_EQ(script.substr(s.offset, s.text.size()), s.text);
    out.emplace_back(s.text);
  }
  return out;
}

TEST(SplitStatementsTest, Basics) {
  EXPECT_EQ(Texts("SELECT 1; SELECT 2;"),
            (std::vector<std::string>{"SELECT 1;", "SELECT 2;"}));
  EXPECT_EQ(Texts("  -- lead\n SELECT 1 ;\n\n  SELECT 2  -- tail"),
            (std::vector<std::string>{"SELECT 1 ;", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT 'a;b', \"c;d\", [e;f], `g;h` /* ; */ -- ;\n;"),
            (std::vector<std::string>{
                "SELECT 'a;b', \"c;d\", [e;f], `g;h` /* ; */ -- ;\n;"}));
  EXPECT_EQ(Texts(";;  ; SELECT 1;;"), (std::vector<std::string>{"SELECT 1;"}));
  EXPECT_TRUE(Texts("").empty());
  EXPECT_TRUE(Texts("   \n -- only a comment").empty());
  EXPECT_TRUE(Texts("/* unterminated ; comment").empty());
  EXPECT_EQ(Texts("SELECT 1; /* unterminated"),
            (std::vector<std::string>{"SELECT 1;"}));
  EXPECT_EQ(Texts("SELECT 'unterminated; string"),
            (std::vector<std::string>{"SELECT 'unterminated; string"}));

  const std::vector<StatementSlice> s = SplitStatements(" SELECT 1; x");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].offset, 1u);
  EXPECT_TRUE(s[0].terminated);
  EXPECT_EQ(s[1].offset, 11u);
  EXPECT_FALSE(s[1].terminated);
}

TEST(SplitStatementsTest, TriggerBodies) {
  const std::string trigger =
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
      "  INSERT INTO log VALUES (new.a, 'x;y');\n"
      "  UPDATE t SET a = CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
      "END;";
  EXPECT_EQ(Texts(trigger + " SELECT 1;"),
            (std::vector<std::string>{trigger, "SELECT 1;"}));
  const std::string temp =
      "create temp trigger tr before delete on t begin select 1; end ;";
  EXPECT_EQ(Texts(temp), (std::vector<std::string>{temp}));
  const std::string temporary =
      "CREATE TEMPORARY TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; END;";
  EXPECT_EQ(Texts(temporary), (std::vector<std::string>{temporary}));
  const std::string explain =
      "EXPLAIN CREATE TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; END;";
  EXPECT_EQ(Texts(explain), (std::vector<std::string>{explain}));
  // Not a trigger: CREATE TABLE named trigger-ish things.
  EXPECT_EQ(
      Texts("CREATE TABLE \"trigger\"(x); SELECT 1;"),
      (std::vector<std::string>{"CREATE TABLE \"trigger\"(x);", "SELECT 1;"}));
  // An unfinished trigger swallows the rest.
  EXPECT_EQ(Texts("CREATE TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; "
                  "SELECT 2;"),
            (std::vector<std::string>{
                "CREATE TRIGGER tr BEFORE DELETE ON t BEGIN SELECT 1; "
                "SELECT 2;"}));
  EXPECT_FALSE(SplitStatements("CREATE TRIGGER tr BEFORE DELETE ON t BEGIN "
                               "SELECT 1;")[0]
                   .terminated);
}

TEST(SplitStatementsTest, IsCompleteStatementMatchesSqliteExamples) {
  const char* cases[] = {
      "",
      " ",
      ";",
      "SELECT 1",
      "SELECT 1;",
      "SELECT 1; -- c",
      "SELECT 1; /* c",
      "SELECT 1; /* c */",
      "SELECT 'a;",
      "SELECT [a;",
      "SELECT x'AB",
      "SELECT 1 /*",
      "CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END;",
      "CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1;",
      "CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END",
  };
  for (const char* c : cases) {
    EXPECT_EQ(IsCompleteStatement(c), sqlite3_complete(c) != 0) << c;
  }
}

// Fragments of scripts: everything that decides where sqlite3_complete()
// ends a statement.  None is unterminated; unterminated ones come from
// cutting scripts into prefixes.
const char* const kFragments[] = {
    "SELECT",
    "select",
    "CREATE",
    "create",
    "TRIGGER",
    "trigger",
    "TEMP",
    "temp",
    "TEMPORARY",
    "BEGIN",
    "END",
    "end",
    "CASE",
    "WHEN",
    "THEN",
    "EXPLAIN",
    "QUERY",
    "PLAN",
    "TABLE",
    "x",
    "t1",
    "1.5",
    "0x1F",
    "x'AB'",
    "'a;b'",
    "'it''s; END;'",
    "\"q;\"\"END\"",
    "[a;END]",
    "`b;``c`",
    "/* ; END; */",
    "-- ; END;\n",
    "?",
    "?1",
    ":end",
    "@x",
    "$y",
    "(",
    ")",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "<->",
    "::",
    "\xC3\xA9",
    "end_x",
    "xend",
    ";",
    ";",
    ";",
    ";",
};

std::string RandomScript(std::mt19937& rng, int max_fragments) {
  std::uniform_int_distribution<int> count(0, max_fragments);
  std::uniform_int_distribution<std::size_t> pick(
      0, sizeof(kFragments) / sizeof(kFragments[0]) - 1);
  std::uniform_int_distribution<int> sep(0, 5);
  std::string s;
  for (int n = count(rng); n > 0; --n) {
    switch (sep(rng)) {
      case 0:
        break;  // glued to the previous fragment
      case 1:
        s += "\n";
        break;
      case 2:
        s += "\t";
        break;
      default:
        s += " ";
    }
    s += kFragments[pick(rng)];
  }
  return s;
}

// Scripts biased towards triggers, whose bodies hold semicolons.
std::string RandomTriggerScript(std::mt19937& rng) {
  static const char* const kPieces[] = {
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
      "CREATE TEMP TRIGGER tr BEFORE DELETE ON t BEGIN",
      "SELECT 1;",
      "INSERT INTO u VALUES('a;END;');",
      "UPDATE u SET x = CASE WHEN 1 THEN 2 END;",
      "END;",
      "END",
      ";",
      "SELECT 'x' -- END;\n;",
      "/* END; */",
      "EXPLAIN",
  };
  std::uniform_int_distribution<int> count(1, 12);
  std::uniform_int_distribution<std::size_t> pick(
      0, sizeof(kPieces) / sizeof(kPieces[0]) - 1);
  std::string s;
  for (int n = count(rng); n > 0; --n) {
    s += kPieces[pick(rng)];
    s += ' ';
  }
  return s;
}

// The property: on every prefix of a random script IsCompleteStatement and
// sqlite3_complete agree, and every statement SplitStatements returns ends
// exactly where sqlite3_complete first says "complete".
TEST(SplitStatementsTest, AgreesWithSqliteCompleteOnRandomScripts) {
  std::mt19937 rng(42);
  int statements = 0;
  for (int round = 0; round < 4000; ++round) {
    const std::string script =
        round % 2 ? RandomScript(rng, 16) : RandomTriggerScript(rng);
    SCOPED_TRACE(script);
    for (std::size_t n = 0; n <= script.size(); ++n) {
      const std::string prefix = script.substr(0, n);
      ASSERT_EQ(IsCompleteStatement(prefix),
                sqlite3_complete(prefix.c_str()) != 0)
          << "prefix: " << prefix;
    }
    const std::vector<StatementSlice> slices = SplitStatements(script);
    std::size_t previous_end = 0;
    for (const StatementSlice& s : slices) {
      ++statements;
      const std::string text(s.text);
      ASSERT_FALSE(text.empty());
      ASSERT_GE(s.offset, previous_end);
      // Only whitespace, comments and empty statements in between.
      const std::string gap =
          "SELECT 1;" + script.substr(previous_end, s.offset - previous_end);
      EXPECT_NE(sqlite3_complete(gap.c_str()), 0) << "gap: " << gap;
      // Complete exactly at the end, never before.
      EXPECT_EQ(sqlite3_complete(text.c_str()) != 0, s.terminated) << text;
      for (std::size_t k = 1; k < text.size(); ++k) {
        if (text[k - 1] != ';') continue;
        EXPECT_EQ(sqlite3_complete(text.substr(0, k).c_str()), 0)
            << "early end in: " << text.substr(0, k);
      }
      previous_end = s.offset + s.text.size();
    }
    const std::string rest = "SELECT 1;" + script.substr(previous_end);
    if (slices.empty() || slices.back().terminated) {
      EXPECT_NE(sqlite3_complete(rest.c_str()), 0) << "rest: " << rest;
    }
  }
  EXPECT_GT(statements, 5000);
}

// On a real script, statements end where sqlite3_prepare_v2 says they do.
TEST(SplitStatementsTest, AgreesWithSqlitePrepareTails) {
  const std::string script =
      "-- a schema\n"
      "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);\n"
      "CREATE TABLE log(x, y);\n"
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
      "  INSERT INTO log VALUES (new.a, 'a;b');\n"
      "  UPDATE log SET y = CASE WHEN y IS NULL THEN 'END;' END;\n"
      "END;\n"
      "/* a ; comment */ INSERT INTO t(b) VALUES ('x;y'), (\"z\");\n"
      "INSERT INTO t(b) SELECT [b] FROM t WHERE b <> ';' ;"
      "SELECT count(*) FROM log -- the end;\n;"
      "  SELECT x'00', 0x10, 1e3, `b` FROM t";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  std::vector<std::size_t> ends;
  const char* p = script.c_str();
  while (*p != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, p, -1, &stmt, &tail), SQLITE_OK)
        << sqlite3_errmsg(db);
    if (stmt == nullptr) break;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
    }
    sqlite3_finalize(stmt);
    ends.push_back(tail - script.c_str());
    p = tail;
  }
  sqlite3_close(db);

  const std::vector<StatementSlice> slices = SplitStatements(script);
  ASSERT_EQ(slices.size(), ends.size());
  for (std::size_t i = 0; i < slices.size(); ++i) {
    EXPECT_EQ(slices[i].offset + slices[i].text.size(), ends[i]) << i;
  }
}

}  // namespace
}  // namespace larix::sql
