// The result formatters (see output.h for the formats).
//
// Table layout, as psql draws it:
//
//    id | name  | note
//   ----+-------+--------
//     1 | apple | two   +
//       |       | lines
//   (1 row)
//
// Headers are centred; numbers are right-aligned, everything else left.
// A value with newlines spans several lines, each but the last marked
// with '+'.  Other control characters are shown escaped (\t, \r, \x1b) so a
// value can never drive the terminal.  Widths count display columns
// (wcwidth of each UTF-8 code point; 1 when unknown).  Trailing blanks are
// not printed.

#include "cli/output.h"

#include <charconv>
#include <cmath>
#include <cwchar>

namespace larix::cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Decodes one UTF-8 code point at s[*i], advancing *i.  Invalid bytes come
// back as -1 (one byte consumed).
int32_t NextCodePoint(std::string_view s, size_t* i) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = u(*i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                                            : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return -1;
  }
  int32_t cp = len == 1 ? c : c & (0x7f >> len);
  for (int k = 1; k < len; k++) {
    unsigned char cc = u(*i + k);
    if ((cc & 0xc0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = cp << 6 | (cc & 0x3f);
  }
  // Overlong forms, surrogates and values beyond Unicode are invalid.
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++*i;
    return -1;
  }
  *i += len;
  return cp;
}

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    int32_t cp = NextCodePoint(s, &i);
    int w = cp < 0 ? 1 : wcwidth(static_cast<wchar_t>(cp));
    width += w < 0 ? 1 : static_cast<size_t>(w);
  }
  return width;
}

// A value as the table shows it, newlines kept, other controls escaped.
std::string TableText(const Value& v) {
  switch (v.type) {
    case Value::Type::kNull:
      return "";
    case Value::Type::kBlob:
      return BlobLiteral(v.bytes);
    case Value::Type::kInteger:
    case Value::Type::kReal:
      return v.bytes;
    case Value::Type::kText:
      break;
  }
  std::string out;
  out.reserve(v.bytes.size());
  for (unsigned char c : v.bytes) {
    if (c == '\n' || c >= 0x20) {
      if (c == 0x7f) {
        out += "\\x7f";
      } else {
        out += static_cast<char>(c);
      }
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(s.substr(start));
      return lines;
    }
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
}

void RightTrimAndPrint(std::string line, std::FILE* out) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out);
}

class TablePrinter : public ResultPrinter {
 public:
  TablePrinter(std::FILE* out, bool footer) : out_(out), footer_(footer) {}

  void Begin(const std::vector<std::string>& columns,
             const std::string& title) override {
    columns_ = columns;
    title_ = title;
    rows_.clear();
  }

  void Row(const std::vector<Value>& row) override {
    std::vector<Cell> cells;
    cells.reserve(row.size());
    for (const Value& v : row) {
      bool numeric =
          v.type == Value::Type::kInteger || v.type == Value::Type::kReal;
      cells.push_back({SplitLines(TableText(v)), numeric});
    }
    rows_.push_back(std::move(cells));
  }

  void End() override {
    size_t n = columns_.size();
    std::vector<size_t> width(n);
    for (size_t j = 0; j < n; j++) width[j] = DisplayWidth(columns_[j]);
    for (const auto& row : rows_) {
      for (size_t j = 0; j < n; j++) {
        for (const std::string& line : row[j].lines) {
          width[j] = std::max(width[j], DisplayWidth(line));
        }
      }
    }
    if (!title_.empty()) {
      size_t total = n == 0 ? 0 : n - 1;
      for (size_t w : width) total += w + 2;
      size_t tw = DisplayWidth(title_);
      RightTrimAndPrint(std::string(total > tw ? (total - tw) / 2 : 0, ' ') +
                            title_,
                        out_);
    }
    std::string line;
    for (size_t j = 0; j < n; j++) {
      if (j > 0) line += '|';
      size_t pad = width[j] - DisplayWidth(columns_[j]);
      line += ' ' + std::string(pad / 2, ' ') + columns_[j] +
              std::string(pad - pad / 2, ' ') + ' ';
    }
    RightTrimAndPrint(line, out_);
    line.clear();
    for (size_t j = 0; j < n; j++) {
      if (j > 0) line += '+';
      line += std::string(width[j] + 2, '-');
    }
    RightTrimAndPrint(line, out_);
    for (const auto& row : rows_) {
      size_t height = 1;
      for (const Cell& c : row) height = std::max(height, c.lines.size());
      for (size_t k = 0; k < height; k++) {
        line.clear();
        for (size_t j = 0; j < n; j++) {
          const Cell& c = row[j];
          std::string text = k < c.lines.size() ? c.lines[k] : "";
          size_t pad = width[j] - DisplayWidth(text);
          if (j > 0) line += '|';
          line += ' ';
          if (c.numeric) {
            line += std::string(pad, ' ') + text;
          } else {
            line += text + std::string(pad, ' ');
          }
          line += k + 1 < c.lines.size() ? '+' : ' ';
        }
        RightTrimAndPrint(line, out_);
      }
    }
    if (footer_) {
      std::fprintf(out_, "(%zu row%s)\n", rows_.size(),
                   rows_.size() == 1 ? "" : "s");
    }
    rows_.clear();
  }

  void Abort() override { rows_.clear(); }

 private:
  struct Cell {
    std::vector<std::string> lines;
    bool numeric;
  };

  std::FILE* const out_;
  const bool footer_;
  std::vector<std::string> columns_;
  std::string title_;
  std::vector<std::vector<Cell>> rows_;
};

class CsvPrinter : public ResultPrinter {
 public:
  explicit CsvPrinter(std::FILE* out) : out_(out) {}

  void Begin(const std::vector<std::string>& columns,
             const std::string&) override {
    std::string line;
    for (size_t j = 0; j < columns.size(); j++) {
      if (j > 0) line += ',';
      AppendField(columns[j], /*force_quotes=*/columns[j].empty(), &line);
    }
    Emit(&line);
  }

  void Row(const std::vector<Value>& row) override {
    std::string line;
    for (size_t j = 0; j < row.size(); j++) {
      if (j > 0) line += ',';
      const Value& v = row[j];
      switch (v.type) {
        case Value::Type::kNull:
          break;  // NULL: an empty, unquoted field
        case Value::Type::kBlob:
          line += BlobLiteral(v.bytes);
          break;
        case Value::Type::kText:
          AppendField(v.bytes, /*force_quotes=*/v.bytes.empty(), &line);
          break;
        default:
          line += v.bytes;
      }
    }
    Emit(&line);
  }

  void End() override { std::fflush(out_); }
  void Abort() override { std::fflush(out_); }

 private:
  static void AppendField(const std::string& s, bool force_quotes,
                          std::string* line) {
    if (!force_quotes && s.find_first_of(",\"\r\n") == std::string::npos) {
      *line += s;
      return;
    }
    *line += '"';
    for (char c : s) {
      if (c == '"') *line += '"';
      *line += c;
    }
    *line += '"';
  }

  void Emit(std::string* line) {
    *line += "\r\n";
    std::fwrite(line->data(), 1, line->size(), out_);
  }

  std::FILE* const out_;
};

class JsonPrinter : public ResultPrinter {
 public:
  explicit JsonPrinter(std::FILE* out) : out_(out) {}

  void Begin(const std::vector<std::string>& columns,
             const std::string&) override {
    keys_.clear();
    for (const std::string& c : columns) {
      std::string k;
      AppendString(c, &k);
      keys_.push_back(k + ":");
    }
    rows_ = 0;
  }

  void Row(const std::vector<Value>& row) override {
    std::string line = rows_++ == 0 ? "[\n{" : ",\n{";
    for (size_t j = 0; j < row.size(); j++) {
      if (j > 0) line += ',';
      line += keys_[j];
      const Value& v = row[j];
      switch (v.type) {
        case Value::Type::kNull:
          line += "null";
          break;
        case Value::Type::kInteger:
          line += v.bytes;
          break;
        case Value::Type::kReal:
          AppendReal(v.real, &line);
          break;
        case Value::Type::kText:
          AppendString(v.bytes, &line);
          break;
        case Value::Type::kBlob:
          line += '"' + BlobLiteral(v.bytes) + '"';
          break;
      }
    }
    line += '}';
    std::fwrite(line.data(), 1, line.size(), out_);
  }

  void End() override {
    std::fputs(rows_ == 0 ? "[]\n" : "\n]\n", out_);
    std::fflush(out_);
  }
  void Abort() override { End(); }

 private:
  // Shortest text that reads back as the same double; always with a '.'
  // or exponent so it reads back as a real.  Infinities, which JSON cannot
  // spell, become +-1e999 (what SQLite itself prints); NaN is null.
  static void AppendReal(double d, std::string* out) {
    if (std::isnan(d)) {
      *out += "null";
      return;
    }
    if (std::isinf(d)) {
      *out += d < 0 ? "-1e999" : "1e999";
      return;
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
    std::string s(buf, ec == std::errc() ? end : buf);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    *out += s;
  }

  // A JSON string; invalid UTF-8 becomes U+FFFD so the output stays valid.
  static void AppendString(std::string_view s, std::string* out) {
    *out += '"';
    for (size_t i = 0; i < s.size();) {
      size_t start = i;
      int32_t cp = NextCodePoint(s, &i);
      if (cp < 0) {
        *out += "\\ufffd";
      } else if (cp == '"') {
        *out += "\\\"";
      } else if (cp == '\\') {
        *out += "\\\\";
      } else if (cp == '\n') {
        *out += "\\n";
      } else if (cp == '\r') {
        *out += "\\r";
      } else if (cp == '\t') {
        *out += "\\t";
      } else if (cp < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
        *out += buf;
      } else {
        out->append(s.substr(start, i - start));
      }
    }
    *out += '"';
  }

  std::FILE* const out_;
  std::vector<std::string> keys_;
  uint64_t rows_ = 0;
};

}  // namespace

bool ParseOutputFormat(std::string_view name, OutputFormat* format) {
  if (name == "table") {
    *format = OutputFormat::kTable;
  } else if (name == "csv") {
    *format = OutputFormat::kCsv;
  } else if (name == "json") {
    *format = OutputFormat::kJson;
  } else {
    return false;
  }
  return true;
}

Value Value::FromColumn(sqlite3_stmt* stmt, int i) {
  Value v;
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return Integer(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      v.type = Type::kReal;
      v.real = sqlite3_column_double(stmt, i);
      // SQLite's own rendering, as the sqlite3 shell prints it.
      v.bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return v;
    case SQLITE_TEXT: {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      v.type = Type::kText;
      v.bytes.assign(reinterpret_cast<const char*>(t),
                     sqlite3_column_bytes(stmt, i));
      return v;
    }
    case SQLITE_BLOB: {
      const void* b = sqlite3_column_blob(stmt, i);
      v.type = Type::kBlob;
      if (b != nullptr) {
        v.bytes.assign(static_cast<const char*>(b),
                       sqlite3_column_bytes(stmt, i));
      }
      return v;
    }
    default:
      return v;
  }
}

std::string BlobLiteral(std::string_view bytes) {
  std::string out = "x'";
  out.reserve(bytes.size() * 2 + 3);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  out += '\'';
  return out;
}

std::unique_ptr<ResultPrinter> ResultPrinter::New(OutputFormat format,
                                                  std::FILE* out,
                                                  bool footer) {
  switch (format) {
    case OutputFormat::kCsv:
      return std::make_unique<CsvPrinter>(out);
    case OutputFormat::kJson:
      return std::make_unique<JsonPrinter>(out);
    case OutputFormat::kTable:
      break;
  }
  return std::make_unique<TablePrinter>(out, footer);
}

int PrintStatement(sqlite3_stmt* stmt, ResultPrinter* printer, uint64_t* rows,
                   const std::string& title) {
  *rows = 0;
  int ncol = sqlite3_column_count(stmt);
  int rc = sqlite3_step(stmt);
  if (ncol == 0) {
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
    return rc;
  }
  std::vector<std::string> columns;
  for (int i = 0; i < ncol; i++) {
    const char* name = sqlite3_column_name(stmt, i);
    columns.push_back(name ? name : "");
  }
  printer->Begin(columns, title);
  std::vector<Value> row(ncol);
  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    for (int i = 0; i < ncol; i++) row[i] = Value::FromColumn(stmt, i);
    printer->Row(row);
    ++*rows;
  }
  if (rc == SQLITE_DONE) {
    printer->End();
  } else {
    printer->Abort();
  }
  return rc;
}

}  // namespace larix::cli
