// The SQL tokenizer and statement splitter: SQLite's lexical rules, written
// out again so that Larix can find its extensions without ever changing a
// byte it does not own (docs/dialect.md).
//
// Design and invariants:
//   1. Tokenize() follows SQLite 3.40's tokenizer (tokenize.c) byte for
//      byte: the same token boundaries, the same tokens rejected.  The only
//      additions are the four Larix operators `<->`, `<=>`, `<#>` and `::`,
//      each of which SQLite itself rejects (or cannot parse), so no statement
//      SQLite accepts is lexed differently.
//   2. Tokens tile the input: concatenating every token's text gives the
//      input back exactly.  Whitespace and comments are tokens too.
//   3. Nothing is copied: a Token holds a view into the caller's text, which
//      must outlive it.  Unquoted values are computed on request.
//   4. Bytes SQLite would refuse become kError tokens carrying a reason; the
//      tokenizer itself never fails.  A NUL byte ends SQLite's reading, so it
//      and everything after it form one error token.
//   5. SplitStatements() ends statements exactly where sqlite3_complete()
//      would (its state machine, including CREATE TRIGGER ... BEGIN ... END
//      bodies), run over these tokens.
//
// Thread-safety: pure functions over values.

#ifndef LARIX_SQL_TOKENIZER_H_
#define LARIX_SQL_TOKENIZER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace larix::sql {

enum class TokenKind : unsigned char {
  kSpace,       // whitespace run, or a UTF-8 byte-order mark
  kComment,     // -- to end of line, or /* ... */ (unterminated: to the end)
  kKeyword,     // a bare word that is one of SQLite's 147 keywords
  kIdentifier,  // any other bare word, or a "quoted", [bracketed] or `grave`
                // name
  kString,      // 'text', with '' for a quote
  kBlob,        // x'00ff' or X'00FF'
  kInteger,     // 42, 0x2a
  kFloat,       // 1.5, .5, 1e-3, 1.
  kParameter,   // ?, ?7, :name, @name, $name, #name (and SQLite's Tcl forms)
  kOperator,    // punctuation and operators, including ';' and the Larix
                // operators <-> <=> <#> ::
  kError,       // bytes SQLite would reject; Token::error says why
};

// The name of a kind, for messages and tests ("identifier").
const char* TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kError;
  std::size_t offset = 0;  // byte offset of text within the tokenized input
  std::string_view text;   // the bytes as written; a view into the input
  // kError only: why SQLite would reject these bytes ("unterminated string
  // literal").  Empty for every other kind.
  std::string_view error;

  std::size_t length() const { return text.size(); }
  std::size_t end() const { return offset + text.size(); }

  // Not whitespace and not a comment.
  bool IsSignificant() const {
    return kind != TokenKind::kSpace && kind != TokenKind::kComment;
  }
  // A bare (unquoted) word: a keyword or an unquoted identifier.
  bool IsBareWord() const;
  // A bare word equal to `word` ignoring ASCII case.  Quoted identifiers
  // never match: "FROM" in double quotes is a name, not the keyword.
  bool IsWord(std::string_view word) const;
  // An operator token spelled exactly `op`.
  bool IsOperator(std::string_view op) const {
    return kind == TokenKind::kOperator && text == op;
  }
  // A quoted identifier ("x", [x] or `x`).
  bool IsQuotedIdentifier() const;

  // The normalized value:
  //   kKeyword      upper case ("SELECT");
  //   kIdentifier   the name without its quotes, doubled quotes collapsed,
  //                 case preserved ("a""b" -> a"b);
  //   kString       the contents, '' collapsed;
  //   kBlob         the hex digits between the quotes;
  //   other kinds   the text as written.
  std::string value() const;
};

// Every token of `sql`, in order; they tile `sql` exactly (invariant 2).
std::vector<Token> Tokenize(std::string_view sql);

// The token that starts at `offset` (< sql.size()) — Tokenize's step.
Token NextToken(std::string_view sql, std::size_t offset);

// Whether `word` (any case) is one of SQLite 3.40's keywords.
bool IsKeyword(std::string_view word);

// `s` with ASCII letters lower-cased, as SQLite compares identifiers.
std::string AsciiLower(std::string_view s);

// Whether `word` may stand unquoted where SQLite expects a name (a column,
// table or alias): an identifier that is not a keyword, or one of the
// keywords SQLite's grammar lets fall back to an identifier (KEY, OF, TEMP,
// FOR, ...).  Mirrors `SELECT * FROM t <word>` being accepted.
bool IsUsableAsName(std::string_view word);

// One statement of a script, as SplitStatements finds it.
struct StatementSlice {
  // From the first significant byte through the terminating ';' (when there
  // is one), or through the last significant token.  Leading whitespace and
  // comments are not part of it.
  std::string_view text;
  std::size_t offset = 0;   // of text within the script
  bool terminated = false;  // ends with the ';' that sqlite3_complete() needs
};

// Splits a script at top-level semicolons: not those inside strings,
// quoted names or comments, nor those inside a CREATE TRIGGER body.  Empty
// statements (a lone ';') and a trailing remainder of whitespace and
// comments are not statements.  A statement's end is where
// sqlite3_complete() first reports the text complete (invariant 5).
std::vector<StatementSlice> SplitStatements(std::string_view script);

// Whether `sql` ends a statement the way sqlite3_complete() decides it:
// the last significant token is a ';' that ends a statement.
bool IsCompleteStatement(std::string_view sql);

}  // namespace larix::sql

#endif  // LARIX_SQL_TOKENIZER_H_
