// The dialect recognizer and rewriter: every extension statement and its
// errors, time-travel detection in every place a table can appear (and the
// look-alikes that are not time travel), parameter numbering checked
// against SQLite, rewrites that SQLite then prepares, and a fuzz of plain
// statements that must pass through untouched.

#include "sql/dialect.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>
#include <string>
#include <vector>

namespace larix::sql {
namespace {

ParsedStatement Parse(std::string_view sql) {
  Result<ParsedStatement> r = ParseStatement(sql);
  EXPECT_TRUE(r.ok()) << sql << "\n  " << r.status().ToString();
  return r.ok() ? std::move(r).value() : ParsedStatement{};
}

template <typename T>
T ParseAs(std::string_view sql) {
  ParsedStatement p = Parse(sql);
  const T* body = p.As<T>();
  EXPECT_NE(body, nullptr) << sql << " parsed as " << StatementKindName(p.body);
  return body != nullptr ? *body : T{};
}

// The error message ParseStatement gives for `sql`.
std::string ErrorOf(std::string_view sql) {
  Result<ParsedStatement> r = ParseStatement(sql);
  EXPECT_FALSE(r.ok()) << sql << " parsed as "
                       << (r.ok() ? StatementKindName(r->body) : "");
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  return r.status().message();
}

std::string Near(std::string_view sql, std::string_view token) {
  return "near \"" + std::string(token) + "\" at offset " +
         std::to_string(sql.find(token));
}

std::string Text(std::string_view sql, Span span) {
  return std::string(sql.substr(span.offset, span.length));
}

bool IsPassthrough(std::string_view sql) { return Parse(sql).is_passthrough(); }

// ---------------------------------------------------------------------------
// Branch statements.

TEST(DialectBranchTest, CreateBranchForms) {
  CreateBranch b =
      ParseAs<CreateBranch>("CREATE DATABASE BRANCH dev FROM main AS OF NOW;");
  EXPECT_EQ(b.name, "dev");
  EXPECT_EQ(b.parent, "main");
  EXPECT_FALSE(b.from_current);
  EXPECT_FALSE(b.if_not_exists);
  ASSERT_TRUE(b.as_of.has_value());
  EXPECT_EQ(b.as_of->kind, AsOfKind::kNow);
  EXPECT_FALSE(b.as_of->value.has_value());

  b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH staging FROM CURRENT AS OF NOW");
  EXPECT_TRUE(b.from_current);
  EXPECT_EQ(b.parent, "");

  b = ParseAs<CreateBranch>(
      "create database branch test from main as of timestamp "
      "'2025-11-20 00:00:00'");
  EXPECT_EQ(b.as_of->kind, AsOfKind::kTimestamp);
  EXPECT_EQ(b.as_of->value->kind, Value::Kind::kString);
  EXPECT_EQ(b.as_of->value->text, "2025-11-20 00:00:00");

  b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH backup FROM CURRENT AS OF TRANSACTION 987654;");
  EXPECT_EQ(b.as_of->kind, AsOfKind::kTransaction);
  EXPECT_EQ(b.as_of->value->kind, Value::Kind::kInteger);
  EXPECT_EQ(b.as_of->value->text, "987654");

  b = ParseAs<CreateBranch>("CREATE DATABASE BRANCH b FROM main AS OF SCN 42");
  EXPECT_EQ(b.as_of->kind, AsOfKind::kScn);
  b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH b FROM main AS OF COMMIT '3fa9c0de'");
  EXPECT_EQ(b.as_of->kind, AsOfKind::kCommit);
  EXPECT_EQ(b.as_of->value->text, "3fa9c0de");

  b = ParseAs<CreateBranch>("CREATE DATABASE BRANCH b FROM main");
  EXPECT_FALSE(b.as_of.has_value());

  b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH IF NOT EXISTS \"feature/x\" FROM \"main\"");
  EXPECT_TRUE(b.if_not_exists);
  EXPECT_EQ(b.name, "feature/x");
  EXPECT_EQ(b.parent, "main");

  // Keywords SQLite accepts as names keep their case; ALIAS followed by FROM
  // is a branch called alias; a quoted "CURRENT" is a branch of that name.
  b = ParseAs<CreateBranch>("CREATE DATABASE BRANCH temp FROM Key");
  EXPECT_EQ(b.name, "temp");
  EXPECT_EQ(b.parent, "Key");
  b = ParseAs<CreateBranch>("CREATE DATABASE BRANCH alias FROM main");
  EXPECT_EQ(b.name, "alias");
  b = ParseAs<CreateBranch>("CREATE DATABASE BRANCH x FROM \"CURRENT\"");
  EXPECT_FALSE(b.from_current);
  EXPECT_EQ(b.parent, "CURRENT");

  b = ParseAs<CreateBranch>(
      "/* c */ CREATE  DATABASE\nBRANCH dev -- x\n FROM main ;  -- trailing");
  EXPECT_EQ(b.name, "dev");
}

TEST(DialectBranchTest, CreateBranchOptions) {
  CreateBranch b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH prod_copy FROM main AS OF NOW WITH "
      "(replication_factor = 3, region = 'us-west-2')");
  ASSERT_EQ(b.options.size(), 2u);
  EXPECT_EQ(b.options[0].key, "replication_factor");
  EXPECT_EQ(b.options[0].value.kind, Value::Kind::kInteger);
  EXPECT_EQ(b.options[0].value.text, "3");
  EXPECT_EQ(b.options[1].key, "region");
  EXPECT_EQ(b.options[1].value.kind, Value::Kind::kString);
  EXPECT_EQ(b.options[1].value.text, "us-west-2");

  b = ParseAs<CreateBranch>(
      "CREATE DATABASE BRANCH b FROM main WITH (a = TRUE, b = false, c = -1, "
      "d = 2.5e3, e = fast, f = ?, \"g h\" = 'x')");
  ASSERT_EQ(b.options.size(), 7u);
  EXPECT_EQ(b.options[0].value.kind, Value::Kind::kBoolean);
  EXPECT_EQ(b.options[0].value.text, "true");
  EXPECT_EQ(b.options[1].value.text, "false");
  EXPECT_EQ(b.options[2].value.kind, Value::Kind::kInteger);
  EXPECT_EQ(b.options[2].value.text, "-1");
  EXPECT_EQ(b.options[3].value.kind, Value::Kind::kFloat);
  EXPECT_EQ(b.options[4].value.kind, Value::Kind::kName);
  EXPECT_EQ(b.options[4].value.text, "fast");
  EXPECT_EQ(b.options[5].value.kind, Value::Kind::kParameter);
  EXPECT_EQ(b.options[5].value.parameter, 1);
  EXPECT_EQ(b.options[6].key, "g h");
}

TEST(DialectBranchTest, CreateBranchParameters) {
  const std::string sql =
      "CREATE DATABASE BRANCH b FROM main AS OF TIMESTAMP ? WITH (x = :x)";
  ParsedStatement p = Parse(sql);
  EXPECT_EQ(p.parameter_count, 2);
  ASSERT_EQ(p.parameters.size(), 2u);
  EXPECT_EQ(p.parameters[0].name, "?");
  EXPECT_EQ(p.parameters[0].number, 1);
  EXPECT_EQ(p.parameters[1].name, ":x");
  EXPECT_EQ(p.parameters[1].number, 2);
  const CreateBranch* b = p.As<CreateBranch>();
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->as_of->value->is_parameter());
  EXPECT_EQ(b->as_of->value->parameter, 1);
  EXPECT_EQ(Text(sql, b->as_of->value->span), "?");
}

TEST(DialectBranchTest, CreateBranchErrors) {
  std::string sql = "CREATE DATABASE BRANCH dev FORM main";
  std::string msg = ErrorOf(sql);
  EXPECT_EQ(msg, "syntax error near \"FORM\" at offset 27: expected FROM");

  sql = "CREATE DATABASE BRANCH dev FROM";
  EXPECT_EQ(ErrorOf(sql),
            "syntax error at end of input at offset 31: expected parent "
            "branch name or CURRENT");

  sql = "CREATE DATABASE BRANCH dev FROM main AS OF YESTERDAY";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "YESTERDAY") +
                              ": expected NOW, TIMESTAMP, TRANSACTION, SCN or "
                              "COMMIT"),
            std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main AS OF TRANSACTION 'abc'";
  EXPECT_NE(
      ErrorOf(sql).find(Near(sql, "'abc'") + ": expected a transaction number"),
      std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main AS TIMESTAMP 'x'";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "TIMESTAMP") + ": expected OF"),
            std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main WITH (a = 1, A = 2)";
  EXPECT_EQ(ErrorOf(sql),
            "duplicate option near \"A\" at offset 50: each option once");

  sql = "CREATE DATABASE BRANCH dev FROM main WITH (a = 1";
  EXPECT_NE(ErrorOf(sql).find("at end of input at offset 48: expected ',' or "
                              "')'"),
            std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main WITH a = 1";
  EXPECT_EQ(ErrorOf(sql), "syntax error near \"a\" at offset 42: expected '('");

  sql = "CREATE DATABASE BRANCH select FROM main";
  EXPECT_EQ(ErrorOf(sql),
            "syntax error near \"select\" at offset 23: expected branch name "
            "(\"select\" is a keyword: quote it to use it as a name)");

  sql = "CREATE DATABASE dev";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "dev") + ": expected BRANCH"),
            std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main extra";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "extra") +
                              ": expected AS OF, WITH or end of statement"),
            std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main AS OF NOW; SELECT 1";
  EXPECT_NE(
      ErrorOf(sql).find(Near(sql, ";") + ": expected WITH or end of statement"),
      std::string::npos);

  sql = "CREATE DATABASE BRANCH dev FROM main AS OF TIMESTAMP '2025";
  EXPECT_EQ(ErrorOf(sql), "syntax error " + Near(sql, "'2025") +
                              ": unterminated string literal");
}

TEST(DialectBranchTest, DropRenameReset) {
  DropBranch d = ParseAs<DropBranch>("DROP DATABASE BRANCH staging");
  EXPECT_EQ(d.name, "staging");
  EXPECT_FALSE(d.if_exists);
  d = ParseAs<DropBranch>("drop database branch if exists staging;");
  EXPECT_TRUE(d.if_exists);
  d = ParseAs<DropBranch>("DROP DATABASE BRANCH alias");  // named alias
  EXPECT_EQ(d.name, "alias");

  RenameBranch r =
      ParseAs<RenameBranch>("ALTER DATABASE BRANCH main_new RENAME TO main;");
  EXPECT_EQ(r.name, "main_new");
  EXPECT_EQ(r.new_name, "main");

  ResetBranch s =
      ParseAs<ResetBranch>("ALTER DATABASE BRANCH b RESET TO '3fa9c0de'");
  EXPECT_EQ(s.name, "b");
  EXPECT_EQ(s.target.kind, Value::Kind::kString);
  EXPECT_EQ(s.target.text, "3fa9c0de");
  s = ParseAs<ResetBranch>("ALTER DATABASE BRANCH b RESET TO main");
  EXPECT_EQ(s.target.kind, Value::Kind::kName);
  EXPECT_EQ(s.target.text, "main");
  s = ParseAs<ResetBranch>("ALTER DATABASE BRANCH b RESET TO ?");
  EXPECT_EQ(s.target.kind, Value::Kind::kParameter);

  std::string sql = "DROP DATABASE BRANCH";
  EXPECT_NE(ErrorOf(sql).find("at end of input at offset 20: expected branch "
                              "name"),
            std::string::npos);
  sql = "DROP DATABASE BRANCH a b";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "b") + ": expected end of statement"),
            std::string::npos);
  sql = "DROP DATABASE BRANCH IF staging";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "staging") + ": expected EXISTS"),
            std::string::npos);
  sql = "ALTER DATABASE BRANCH a RENAME b";
  EXPECT_EQ(ErrorOf(sql), "syntax error near \"b\" at offset 31: expected TO");
  sql = "ALTER DATABASE BRANCH a DROP";
  EXPECT_NE(
      ErrorOf(sql).find(Near(sql, "DROP") + ": expected RENAME TO or RESET TO"),
      std::string::npos);
  sql = "ALTER DATABASE BRANCH a RESET TO 12";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "12") + ": expected commit id"),
            std::string::npos);
}

TEST(DialectBranchTest, Aliases) {
  CreateBranchAlias c = ParseAs<CreateBranchAlias>(
      "CREATE DATABASE BRANCH ALIAS production FOR blue;");
  EXPECT_EQ(c.alias, "production");
  EXPECT_EQ(c.target, "blue");
  AlterBranchAlias a = ParseAs<AlterBranchAlias>(
      "ALTER DATABASE BRANCH ALIAS production FOR green");
  EXPECT_EQ(a.alias, "production");
  EXPECT_EQ(a.target, "green");
  DropBranchAlias d =
      ParseAs<DropBranchAlias>("DROP DATABASE BRANCH ALIAS production");
  EXPECT_EQ(d.alias, "production");
  EXPECT_FALSE(d.if_exists);
  d = ParseAs<DropBranchAlias>(
      "DROP DATABASE BRANCH ALIAS IF EXISTS production;");
  EXPECT_TRUE(d.if_exists);
  // A branch called alias can still be renamed.
  RenameBranch r =
      ParseAs<RenameBranch>("ALTER DATABASE BRANCH alias RENAME TO other");
  EXPECT_EQ(r.name, "alias");

  std::string sql = "CREATE DATABASE BRANCH ALIAS production TO blue";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "TO") + ": expected FOR"),
            std::string::npos);
  sql = "ALTER DATABASE BRANCH ALIAS production FOR";
  EXPECT_NE(ErrorOf(sql).find("at end of input at offset 42: expected branch "
                              "name"),
            std::string::npos);
}

TEST(DialectBranchTest, Merge) {
  MergeBranch m =
      ParseAs<MergeBranch>("MERGE DATABASE BRANCH staging INTO main;");
  EXPECT_EQ(m.source, "staging");
  EXPECT_EQ(m.target, "main");
  EXPECT_FALSE(m.conflict_resolution.has_value());
  EXPECT_FALSE(m.delete_branch_after);

  m = ParseAs<MergeBranch>(
      "MERGE DATABASE BRANCH staging INTO main\n"
      "  WITH (conflict_resolution = 'branch_wins', delete_branch_after = "
      "true);");
  EXPECT_EQ(m.conflict_resolution, ConflictResolution::kBranchWins);
  EXPECT_TRUE(m.delete_branch_after);
  m = ParseAs<MergeBranch>(
      "MERGE DATABASE BRANCH a INTO b WITH (conflict_resolution = target_wins, "
      "delete_branch_after = 0)");
  EXPECT_EQ(m.conflict_resolution, ConflictResolution::kTargetWins);
  EXPECT_FALSE(m.delete_branch_after);
  m = ParseAs<MergeBranch>(
      "MERGE DATABASE BRANCH a INTO b WITH (CONFLICT_RESOLUTION = 'FAIL')");
  EXPECT_EQ(m.conflict_resolution, ConflictResolution::kFail);
  m = ParseAs<MergeBranch>(
      "MERGE DATABASE BRANCH a INTO b WITH (conflict_resolution = 'manual')");
  EXPECT_EQ(m.conflict_resolution, ConflictResolution::kManual);

  std::string sql =
      "MERGE DATABASE BRANCH a INTO b WITH (conflict_resolution = 'bogus')";
  EXPECT_EQ(ErrorOf(sql), "invalid conflict_resolution " +
                              Near(sql, "'bogus'") +
                              ": expected 'branch_wins', 'target_wins', "
                              "'fail' or 'manual'");
  sql = "MERGE DATABASE BRANCH a INTO b WITH (delete_branch_after = 'yes')";
  EXPECT_EQ(ErrorOf(sql), "invalid delete_branch_after " + Near(sql, "'yes'") +
                              ": expected true or false");
  sql = "MERGE DATABASE BRANCH a INTO b WITH (squash = true)";
  EXPECT_EQ(ErrorOf(sql),
            "unknown MERGE option " + Near(sql, "squash") +
                ": expected conflict_resolution or delete_branch_after");
  sql = "MERGE DATABASE BRANCH staging main";
  EXPECT_EQ(ErrorOf(sql),
            "syntax error " + Near(sql, "main") + ": expected INTO");
  // SQL's MERGE INTO is not ours: SQLite reports it.
  EXPECT_TRUE(IsPassthrough("MERGE INTO t USING u ON t.a = u.a"));
}

TEST(DialectBranchTest, UseBranch) {
  EXPECT_EQ(ParseAs<UseBranch>("USE BRANCH dev;").name, "dev");
  EXPECT_EQ(ParseAs<UseBranch>("use branch \"Dev\"").name, "Dev");
  const std::string sql = "USE dev";
  EXPECT_EQ(ErrorOf(sql),
            "syntax error " + Near(sql, "dev") + ": expected BRANCH");
}

TEST(DialectBranchTest, Tags) {
  CreateTag t = ParseAs<CreateTag>("CREATE TAG v1");
  EXPECT_EQ(t.name, "v1");
  EXPECT_FALSE(t.as_of.has_value());
  EXPECT_EQ(t.from_branch, "");
  t = ParseAs<CreateTag>("CREATE TAG v1 AS OF COMMIT '3fa9' FROM dev;");
  EXPECT_EQ(t.as_of->kind, AsOfKind::kCommit);
  EXPECT_EQ(t.from_branch, "dev");
  t = ParseAs<CreateTag>("CREATE TAG v1 FROM dev AS OF TRANSACTION 5");
  EXPECT_EQ(t.as_of->kind, AsOfKind::kTransaction);
  EXPECT_EQ(t.from_branch, "dev");
  t = ParseAs<CreateTag>("CREATE TAG IF NOT EXISTS v1 AS OF NOW");
  EXPECT_TRUE(t.if_not_exists);
  EXPECT_EQ(t.as_of->kind, AsOfKind::kNow);

  DropTag d = ParseAs<DropTag>("DROP TAG v1");
  EXPECT_EQ(d.name, "v1");
  d = ParseAs<DropTag>("DROP TAG IF EXISTS v1;");
  EXPECT_TRUE(d.if_exists);

  std::string sql = "CREATE TAG v1 FROM";
  EXPECT_NE(ErrorOf(sql).find("at end of input at offset 18: expected branch "
                              "name"),
            std::string::npos);
  sql = "CREATE TAG v1 AS OF NOW FROM dev AS OF NOW";
  EXPECT_NE(ErrorOf(sql).find("near \"AS\" at offset 33: expected end of "
                              "statement"),
            std::string::npos);
  sql = "CREATE TAG v1 ON dev";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "ON") +
                              ": expected AS OF, FROM or end of statement"),
            std::string::npos);
}

TEST(DialectBranchTest, AddSystemVersioning) {
  AddSystemVersioning v = ParseAs<AddSystemVersioning>(
      "ALTER TABLE audit_logs ADD SYSTEM VERSIONING;");
  EXPECT_EQ(v.table, "audit_logs");
  EXPECT_EQ(v.schema, "");
  v = ParseAs<AddSystemVersioning>(
      "alter table main.\"Audit\" add system versioning");
  EXPECT_EQ(v.schema, "main");
  EXPECT_EQ(v.table, "Audit");
  // Anything else is SQLite's ALTER TABLE.
  EXPECT_TRUE(IsPassthrough("ALTER TABLE t ADD SYSTEM VERSIONING x"));
  EXPECT_TRUE(IsPassthrough("ALTER TABLE t ADD COLUMN system versioning"));
  EXPECT_TRUE(IsPassthrough("ALTER TABLE t RENAME TO u"));
}

TEST(DialectBranchTest, StatementKindNames) {
  EXPECT_STREQ(StatementKindName(Parse("SELECT 1").body), "passthrough");
  EXPECT_STREQ(StatementKindName(Parse("USE BRANCH x").body), "USE BRANCH");
  EXPECT_STREQ(StatementKindName(Parse("SELECT * FROM t AS OF SCN 1").body),
               "time-travel query");
  EXPECT_TRUE(IsPassthrough(""));
  EXPECT_TRUE(IsPassthrough("  -- nothing\n"));
}

// ---------------------------------------------------------------------------
// Time travel.

TimeTravelQuery Refs(std::string_view sql) {
  return ParseAs<TimeTravelQuery>(sql);
}

TEST(DialectTimeTravelTest, SimpleSelect) {
  const std::string sql =
      "SELECT * FROM orders AS OF TIMESTAMP '2025-11-20 00:00:00';";
  TimeTravelQuery q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  const TimeTravelRef& r = q.refs[0];
  EXPECT_EQ(r.kind, TimeTravelKind::kAsOfTimestamp);
  EXPECT_EQ(r.table, "orders");
  EXPECT_EQ(r.schema, "");
  EXPECT_EQ(Text(sql, r.table_span), "orders");
  EXPECT_EQ(Text(sql, r.clause_span), " AS OF TIMESTAMP '2025-11-20 00:00:00'");
  EXPECT_TRUE(r.clause_follows_table);
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0].kind, Value::Kind::kString);
  EXPECT_EQ(r.values[0].text, "2025-11-20 00:00:00");
  EXPECT_EQ(Text(sql, r.values[0].span), "'2025-11-20 00:00:00'");
  EXPECT_EQ(r.alias, "");
}

TEST(DialectTimeTravelTest, EveryAsOfKind) {
  struct Case {
    const char* sql;
    TimeTravelKind kind;
    Value::Kind value_kind;
    const char* value;
  };
  const Case cases[] = {
      {"SELECT * FROM orders AS OF TRANSACTION 12345",
       TimeTravelKind::kAsOfTransaction, Value::Kind::kInteger, "12345"},
      {"SELECT * FROM orders AS OF SCN 987654321", TimeTravelKind::kAsOfScn,
       Value::Kind::kInteger, "987654321"},
      {"SELECT * FROM orders as of commit 'abc'", TimeTravelKind::kAsOfCommit,
       Value::Kind::kString, "abc"},
      {"SELECT * FROM orders AS OF BRANCH dev", TimeTravelKind::kAsOfBranch,
       Value::Kind::kName, "dev"},
      {"SELECT * FROM orders AS OF TAG 'v1.0'", TimeTravelKind::kAsOfTag,
       Value::Kind::kString, "v1.0"},
      {"SELECT * FROM orders AS OF TIMESTAMP 1732060800",
       TimeTravelKind::kAsOfTimestamp, Value::Kind::kInteger, "1732060800"},
      {"SELECT * FROM orders AS OF TIMESTAMP :when",
       TimeTravelKind::kAsOfTimestamp, Value::Kind::kParameter, ":when"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    TimeTravelQuery q = Refs(c.sql);
    ASSERT_EQ(q.refs.size(), 1u);
    EXPECT_EQ(q.refs[0].kind, c.kind);
    ASSERT_EQ(q.refs[0].values.size(), 1u);
    EXPECT_EQ(q.refs[0].values[0].kind, c.value_kind);
    EXPECT_EQ(q.refs[0].values[0].text, c.value);
  }
}

TEST(DialectTimeTravelTest, JoinWithAliasAfterClause) {
  const std::string sql =
      "SELECT cur.product_id, cur.price, old.price\n"
      "  FROM products cur\n"
      "  JOIN products AS OF TIMESTAMP '2025-11-20 00:00:00' old ON "
      "cur.product_id = old.product_id\n"
      " WHERE cur.price != old.price;";
  TimeTravelQuery q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].alias, "old");
  EXPECT_EQ(q.refs[0].table_span.offset, sql.find("products AS OF"));
  EXPECT_EQ(Text(sql, q.refs[0].clause_span),
            " AS OF TIMESTAMP '2025-11-20 00:00:00'");

  q = Refs(
      "SELECT * FROM a JOIN products AS OF TRANSACTION 3 AS \"Old\" USING "
      "(id)");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].alias, "Old");
  q = Refs(
      "SELECT * FROM a JOIN products AS OF TRANSACTION 3 AS left USING (id)");
  EXPECT_EQ(q.refs[0].alias, "left");
  q = Refs("SELECT * FROM t AS OF SCN 1 key");  // KEY may be an alias
  EXPECT_EQ(q.refs[0].alias, "key");
}

TEST(DialectTimeTravelTest, QualifiedNamesAndCommaJoins) {
  std::string sql = "SELECT * FROM main.orders AS OF TRANSACTION 5 o";
  TimeTravelQuery q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].schema, "main");
  EXPECT_EQ(q.refs[0].table, "orders");
  EXPECT_EQ(Text(sql, q.refs[0].table_span), "main.orders");
  EXPECT_EQ(q.refs[0].alias, "o");

  sql = "SELECT * FROM \"my db\" . [Orders] AS OF SCN 1";
  q = Refs(sql);
  EXPECT_EQ(q.refs[0].schema, "my db");
  EXPECT_EQ(q.refs[0].table, "Orders");
  EXPECT_EQ(Text(sql, q.refs[0].table_span), "\"my db\" . [Orders]");

  sql = "SELECT * FROM a AS OF SCN 1, b AS OF SCN 2 bb, c, d AS OF SCN 3";
  q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 3u);
  EXPECT_EQ(q.refs[0].table, "a");
  EXPECT_EQ(q.refs[1].table, "b");
  EXPECT_EQ(q.refs[1].alias, "bb");
  EXPECT_EQ(q.refs[2].table, "d");

  q = Refs("SELECT * FROM (a AS OF SCN 1 JOIN b ON a.id = b.id)");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].table, "a");
}

TEST(DialectTimeTravelTest, SubqueriesCtesAndOtherStatements) {
  TimeTravelQuery q = Refs(
      "SELECT * FROM (SELECT * FROM orders AS OF SCN 5) AS s "
      "WHERE x IN (SELECT id FROM users AS OF TRANSACTION 7) "
      "AND EXISTS (SELECT 1 FROM t AS OF TIMESTAMP 'x' WHERE t.a = s.a)");
  ASSERT_EQ(q.refs.size(), 3u);
  EXPECT_EQ(q.refs[0].table, "orders");
  EXPECT_EQ(q.refs[1].table, "users");
  EXPECT_EQ(q.refs[2].table, "t");

  const std::string insert =
      "INSERT INTO customers\n"
      "  SELECT * FROM customers AS OF TIMESTAMP '2025-11-20 23:00:00' WHERE "
      "customer_id = 999;";
  q = Refs(insert);
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].table_span.offset, insert.find("customers AS OF"));

  q = Refs(
      "WITH recent AS (SELECT * FROM orders AS OF TIMESTAMP 'x'), "
      "older(a) AS MATERIALIZED (SELECT a FROM orders AS OF SCN 1) "
      "SELECT * FROM recent JOIN older USING (a)");
  ASSERT_EQ(q.refs.size(), 2u);

  q = Refs(
      "UPDATE t SET v = o.v FROM t AS OF TRANSACTION 3 AS o WHERE o.id = t.id");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].alias, "o");
  q = Refs("INSERT OR REPLACE INTO t SELECT * FROM t AS OF SCN 2");
  ASSERT_EQ(q.refs.size(), 1u);
  q = Refs("EXPLAIN QUERY PLAN SELECT * FROM t AS OF SCN 2");
  ASSERT_EQ(q.refs.size(), 1u);
  q = Refs("CREATE TABLE snapshot AS SELECT * FROM t AS OF TIMESTAMP 'x'");
  ASSERT_EQ(q.refs.size(), 1u);
  q = Refs(
      "SELECT * FROM t WHERE a IS DISTINCT FROM b AND c IN "
      "(SELECT c FROM u AS OF SCN 1)");
  ASSERT_EQ(q.refs.size(), 1u);
  q = Refs("SELECT * FROM t AS OF SCN 1 UNION SELECT * FROM t AS OF SCN 2");
  ASSERT_EQ(q.refs.size(), 2u);
}

TEST(DialectTimeTravelTest, LookAlikesAreNotTimeTravel) {
  const char* cases[] = {
      "SELECT * FROM t AS x",
      "SELECT * FROM t AS of",
      "SELECT * FROM t AS of WHERE of.a = 1",
      "SELECT * FROM t of",
      "SELECT of FROM t",
      "SELECT t.of, x AS of FROM t",
      "SELECT 'AS OF TIMESTAMP ''2025''' FROM t",
      "SELECT * FROM t /* AS OF TIMESTAMP 'x' */ -- AS OF SCN 1",
      "SELECT * FROM t AS \"OF\" WHERE \"timestamp\" = 1",
      "SELECT * FROM t \"AS\" ",
      "SELECT CAST(a AS of timestamp) FROM t",
      "SELECT CAST((a) AS OF TRANSACTION) FROM t",
      "SELECT for system_time FROM t",
      "SELECT * FROM t WHERE a = 'FOR SYSTEM_TIME ALL'",
      "SELECT * FROM pg_database_branches()",
      "CREATE TRIGGER tr AFTER UPDATE OF a ON t FOR EACH ROW BEGIN SELECT 1; "
      "END",
      "SELECT a FROM t WINDOW w AS (ORDER BY a)",
      "SELECT * FROM t WHERE a <-> b < 1",
      "SELECT x::int FROM t",
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
      "SELECT * FROM c",
      "SELECT * FROM t WHERE 'unterminated",
      "SELECT ! FROM t",
  };
  for (const char* sql : cases) {
    EXPECT_TRUE(IsPassthrough(sql)) << sql;
  }
}

TEST(DialectTimeTravelTest, ForSystemTimeAfterWhere) {
  std::string sql =
      "SELECT system_time, id, name, email, role FROM users WHERE id = ?\n"
      "  FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY system_time;";
  TimeTravelQuery q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  const TimeTravelRef& r = q.refs[0];
  EXPECT_EQ(r.kind, TimeTravelKind::kSystemTimeBetween);
  EXPECT_EQ(r.table, "users");
  EXPECT_EQ(Text(sql, r.table_span), "users");
  EXPECT_FALSE(r.clause_follows_table);
  EXPECT_EQ(Text(sql, r.clause_span), "\n  FOR SYSTEM_TIME BETWEEN ? AND ?");
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_EQ(r.values[0].parameter, 2);
  EXPECT_EQ(r.values[1].parameter, 3);

  sql =
      "SELECT * FROM users WHERE id = 123\n"
      "  FOR SYSTEM_TIME BETWEEN TIMESTAMP '2024-01-01 00:00:00' AND TIMESTAMP "
      "'2024-01-31 23:59:59';";
  q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].values[0].text, "2024-01-01 00:00:00");
  EXPECT_EQ(q.refs[0].values[1].text, "2024-01-31 23:59:59");

  q = Refs("SELECT * FROM users u WHERE u.id = 1 FOR SYSTEM_TIME ALL");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].kind, TimeTravelKind::kSystemTimeAll);
  EXPECT_EQ(q.refs[0].alias, "u");
  EXPECT_TRUE(q.refs[0].values.empty());

  q = Refs("SELECT * FROM users FOR SYSTEM_TIME AS OF '2024-01-01'");
  EXPECT_EQ(q.refs[0].kind, TimeTravelKind::kSystemTimeAsOf);
  // In a compound, the clause belongs to its own SELECT.
  q = Refs(
      "SELECT * FROM a UNION ALL SELECT * FROM b WHERE x = 1 "
      "FOR SYSTEM_TIME FROM 1 TO 2");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].table, "b");
  EXPECT_EQ(q.refs[0].kind, TimeTravelKind::kSystemTimeFromTo);
}

TEST(DialectTimeTravelTest, ForSystemTimeAfterTable) {
  std::string sql =
      "SELECT * FROM users FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01' AS u "
      "WHERE u.id = 1";
  TimeTravelQuery q = Refs(sql);
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].kind, TimeTravelKind::kSystemTimeAsOf);
  EXPECT_TRUE(q.refs[0].clause_follows_table);
  EXPECT_EQ(q.refs[0].alias, "u");
  EXPECT_EQ(Text(sql, q.refs[0].clause_span),
            " FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01'");
  q = Refs(
      "SELECT * FROM a JOIN users FOR SYSTEM_TIME FROM ? TO ? h ON a.id = "
      "h.id");
  ASSERT_EQ(q.refs.size(), 1u);
  EXPECT_EQ(q.refs[0].alias, "h");
  EXPECT_EQ(q.refs[0].values.size(), 2u);
}

TEST(DialectTimeTravelTest, Errors) {
  std::string sql = "SELECT * FROM t x AS OF TIMESTAMP 'a'";
  EXPECT_EQ(ErrorOf(sql), "misplaced AS OF TIMESTAMP " + Near(sql, "AS") +
                              ": it must come right after the table name, "
                              "before the alias \"x\"");
  sql = "SELECT * FROM (SELECT 1) AS OF TIMESTAMP 'a'";
  EXPECT_NE(ErrorOf(sql).find("not to a subquery"), std::string::npos);
  sql = "SELECT * FROM pg_database_branches() AS OF SCN 1";
  EXPECT_NE(ErrorOf(sql).find("not to a subquery or table-valued function"),
            std::string::npos);
  sql = "SELECT a AS OF TIMESTAMP 'x' FROM t";
  EXPECT_EQ(ErrorOf(sql), "misplaced AS OF TIMESTAMP " + Near(sql, "AS") +
                              ": it must follow a table name in a FROM clause "
                              "or JOIN");
  sql = "SELECT * FROM t AS OF TIMESTAMP";
  EXPECT_NE(ErrorOf(sql).find("at end of input at offset 31: expected a "
                              "timestamp string, number or parameter"),
            std::string::npos);
  sql = "SELECT * FROM t AS OF TRANSACTION 'x'";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "'x'") +
                              ": expected a transaction number or parameter"),
            std::string::npos);
  sql = "SELECT * FROM t AS OF TIMESTAMP now() WHERE 1";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "now")), std::string::npos);
  sql = "SELECT * FROM a, b WHERE x = 1 FOR SYSTEM_TIME ALL";
  EXPECT_EQ(ErrorOf(sql),
            "ambiguous FOR SYSTEM_TIME " + Near(sql, "FOR") +
                ": after the FROM clause it needs exactly one table in FROM "
                "(found 2); write it right after the table name instead");
  sql = "SELECT * FROM t AS OF SCN 1 WHERE x FOR SYSTEM_TIME ALL";
  EXPECT_NE(ErrorOf(sql).find("second time-travel clause " + Near(sql, "FOR")),
            std::string::npos);
  sql = "SELECT * FROM t ORDER BY x FOR SYSTEM_TIME ALL";
  EXPECT_NE(ErrorOf(sql).find("misplaced FOR SYSTEM_TIME " + Near(sql, "FOR")),
            std::string::npos);
  sql = "SELECT * FROM t FOR SYSTEM_TIME SOMETIME";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "SOMETIME") +
                              ": expected AS OF, BETWEEN, FROM or ALL"),
            std::string::npos);
  sql = "SELECT * FROM t FOR SYSTEM_TIME BETWEEN 'a' 'b'";
  EXPECT_NE(ErrorOf(sql).find(Near(sql, "'b'") + ": expected AND"),
            std::string::npos);
  sql = "SELECT * FROM t WHERE a IN (SELECT 1) FOR SYSTEM_TIME ALL";
  EXPECT_EQ(Refs(sql).refs.size(), 1u);  // the subquery is not a FROM item

  for (const char* dml :
       {"DELETE FROM t AS OF TIMESTAMP 'x'", "UPDATE t AS OF SCN 1 SET a = 1",
        "UPDATE OR IGNORE main.t AS OF SCN 1 SET a = 1",
        "INSERT INTO t AS OF SCN 1 SELECT 1",
        "DELETE FROM t FOR SYSTEM_TIME ALL"}) {
    EXPECT_NE(ErrorOf(dml).find("time travel on a table being written"),
              std::string::npos)
        << dml;
  }
  sql = "WITH c AS (SELECT 1) SELECT * FROM c AS OF SCN 1";
  EXPECT_EQ(ErrorOf(sql),
            "time travel on a common table expression near \"c\" at offset 35: "
            "only stored tables have history");

  for (const char* stored :
       {"CREATE VIEW v AS SELECT * FROM t AS OF SCN 1",
        "CREATE TEMP VIEW v AS SELECT * FROM t AS OF SCN 1",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log SELECT * "
        "FROM u AS OF SCN 1; END"}) {
    Result<ParsedStatement> r = ParseStatement(stored);
    ASSERT_FALSE(r.ok()) << stored;
    EXPECT_TRUE(r.status().IsNotSupported()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("at offset"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// Parameters: SQLite's numbering, checked against SQLite.

class SqliteDb {
 public:
  SqliteDb() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec(
        "CREATE TABLE t(a, b, \"of\", \"for\", v, id);"
        "CREATE TABLE u(a, b, c, id);"
        "CREATE TABLE orders(id, total);"
        "CREATE TABLE users(id, name, email, role, system_time);"
        "CREATE TABLE log(x, y);"
        "ATTACH ':memory:' AS larix_asof_1;"
        "CREATE TABLE larix_asof_1.orders(id, total);"
        "CREATE TABLE larix_asof_1.t(a, b, \"of\", \"for\", v, id);"
        "CREATE TABLE larix_asof_1.users(id, name, email, role, "
        "system_time);");
  }
  ~SqliteDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
  }
  // Prepares `sql`; on success fills the parameter count and names (empty
  // string for a nameless one).
  bool Prepare(const std::string& sql, int* count = nullptr,
               std::vector<std::string>* names = nullptr,
               std::string* error = nullptr) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      if (error) *error = sqlite3_errmsg(db_);
      return false;
    }
    if (count) *count = sqlite3_bind_parameter_count(stmt);
    if (names) {
      names->clear();
      for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) {
        const char* n = sqlite3_bind_parameter_name(stmt, i);
        names->push_back(n ? n : "");
      }
    }
    sqlite3_finalize(stmt);
    return true;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The names SQLite reports per number: the first non-bare parameter written
// with that number.
std::vector<std::string> ExpectedNames(const std::vector<Parameter>& params,
                                       int count) {
  std::vector<std::string> names(count);
  for (const Parameter& p : params) {
    if (p.name != "?" && names[p.number - 1].empty()) {
      names[p.number - 1] = p.name;
    }
  }
  return names;
}

TEST(DialectParameterTest, NumberingMatchesSqlite) {
  SqliteDb db;
  const char* cases[] = {
      "SELECT ?, ?, ?",
      "SELECT ?5, ?, :a, ?, :a, @b, $c, ?2, ?",
      "SELECT :a, :b, :a, ?1, ?",
      "SELECT ?3, :x, ?",
      "SELECT $a::b, $a(x), #z, ?, :A, :a",
      "SELECT * FROM t WHERE a = ? AND b IN (SELECT b FROM u WHERE c = :c) "
      "LIMIT ? OFFSET ?",
      "SELECT ?2, ?2, ?1",
  };
  for (const char* sql : cases) {
    SCOPED_TRACE(sql);
    int count = 0;
    std::vector<std::string> names;
    ASSERT_TRUE(db.Prepare(sql, &count, &names));
    ParsedStatement p = Parse(sql);
    EXPECT_EQ(p.parameter_count, count);
    EXPECT_EQ(ExpectedNames(p.parameters, p.parameter_count), names);
  }
  ParsedStatement p = Parse("SELECT ?5, ?, :a, ?, :a");
  std::vector<int> numbers;
  for (const Parameter& q : p.parameters) numbers.push_back(q.number);
  EXPECT_EQ(numbers, (std::vector<int>{5, 6, 7, 8, 7}));
}

// ---------------------------------------------------------------------------
// Rewriting.

RewrittenSql Rewrite(std::string_view sql,
                     const std::vector<std::string>& replacements) {
  ParsedStatement p = Parse(sql);
  const TimeTravelQuery* q = p.As<TimeTravelQuery>();
  EXPECT_NE(q, nullptr) << sql;
  if (q == nullptr) return {};
  Result<RewrittenSql> r = RewriteTimeTravel(sql, *q, replacements);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : RewrittenSql{};
}

TEST(DialectRewriteTest, ReplacesTablesAndKeepsEverythingElse) {
  EXPECT_EQ(Rewrite("SELECT * FROM orders AS OF TIMESTAMP '2025-11-20' o "
                    "WHERE o.id = 1;",
                    {"\"larix_asof_3\".\"orders\""})
                .sql,
            "SELECT * FROM \"larix_asof_3\".\"orders\" o WHERE o.id = 1;");
  EXPECT_EQ(
      Rewrite("SELECT cur.price, old.price\n  FROM products cur\n  JOIN "
              "products AS OF TIMESTAMP '2025-11-20 00:00:00' old ON "
              "cur.id = old.id  -- keep me\n",
              {"\"larix_asof_1\".\"products\""})
          .sql,
      "SELECT cur.price, old.price\n  FROM products cur\n  JOIN "
      "\"larix_asof_1\".\"products\" old ON cur.id = old.id  -- keep me\n");
  // A table-valued function needs the table's name as its alias.
  EXPECT_EQ(Rewrite("SELECT orders.id FROM orders AS OF SCN 5 WHERE "
                    "orders.total > 0",
                    {"larix_table_asof('orders', 5) AS orders"})
                .sql,
            "SELECT orders.id FROM larix_table_asof('orders', 5) AS orders "
            "WHERE orders.total > 0");
  // Two clauses, a comment between table and clause, parentheses.
  EXPECT_EQ(Rewrite("SELECT * FROM(a /* c */ AS OF SCN 1), b AS OF SCN 2;",
                    {"x.a", "y.b"})
                .sql,
            "SELECT * FROM(x.a /* c */), y.b;");
  // The trailing clause goes, the table is replaced where it stands.
  EXPECT_EQ(Rewrite("SELECT * FROM users u WHERE u.id = 1 FOR SYSTEM_TIME ALL "
                    "ORDER BY 1",
                    {"larix_history('users')"})
                .sql,
            "SELECT * FROM larix_history('users') u WHERE u.id = 1 ORDER BY 1");
}

TEST(DialectRewriteTest, NeverGluesTokens) {
  EXPECT_EQ(
      Rewrite("SELECT * FROM t AS OF TIMESTAMP 'x'WHERE a = 1", {"\"s\".\"t\""})
          .sql,
      "SELECT * FROM \"s\".\"t\" WHERE a = 1");
  EXPECT_EQ(Rewrite("SELECT*FROM t AS OF SCN 1", {"s.t"}).sql,
            "SELECT*FROM s.t");
  EXPECT_EQ(Rewrite("SELECT * FROM t AS OF SCN 1;", {"s.t"}).sql,
            "SELECT * FROM s.t;");
}

TEST(DialectRewriteTest, PositionalParametersKeepTheirNumbers) {
  SqliteDb db;
  const std::string sql =
      "SELECT * FROM t AS OF TIMESTAMP ? WHERE a = ? AND b = ?";
  const RewrittenSql r = Rewrite(sql, {"larix_asof_1.t"});
  // Only the first ? needs its number written out: after ?2, a bare ? is 3
  // again.
  EXPECT_EQ(r.sql, "SELECT * FROM larix_asof_1.t WHERE a = ?2 AND b = ?");
  EXPECT_EQ(r.parameter_origin, (std::vector<int>{0, 2, 3}));
  int count = 0;
  std::vector<std::string> names;
  ASSERT_TRUE(db.Prepare(r.sql, &count, &names));
  EXPECT_EQ(count, 3);  // the caller can bind the original values as they are
  EXPECT_EQ(names, (std::vector<std::string>{"", "?2", ""}));

  // A parameter before the clause: nothing to renumber.
  const RewrittenSql kept =
      Rewrite("SELECT ?, * FROM t AS OF SCN 5 WHERE a = ?", {"larix_asof_1.t"});
  EXPECT_EQ(kept.sql, "SELECT ?, * FROM larix_asof_1.t WHERE a = ?");
  EXPECT_EQ(kept.parameter_origin, (std::vector<int>{1, 2}));

  // The SPEC's audit trail: the clause's parameters were the last ones.
  const RewrittenSql audit = Rewrite(
      "SELECT system_time, id, name, email, role FROM users WHERE id = ?\n"
      "  FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY system_time;",
      {"larix_asof_1.users"});
  EXPECT_EQ(audit.sql,
            "SELECT system_time, id, name, email, role FROM larix_asof_1.users "
            "WHERE id = ? ORDER BY system_time;");
  EXPECT_EQ(audit.parameter_origin, (std::vector<int>{1}));
  ASSERT_TRUE(db.Prepare(audit.sql, &count));
  EXPECT_EQ(count, 1);

  // A replacement may carry the clause's parameter, by its original number.
  const RewrittenSql tvf =
      Rewrite("SELECT * FROM orders AS OF TIMESTAMP ? WHERE id = ?",
              {"larix_table_asof('orders', ?1) AS orders"});
  EXPECT_EQ(
      tvf.sql,
      "SELECT * FROM larix_table_asof('orders', ?1) AS orders WHERE id = ?");
  EXPECT_EQ(tvf.parameter_origin, (std::vector<int>{1, 2}));
}

TEST(DialectRewriteTest, NamedParametersKeepTheirNames) {
  SqliteDb db;
  const RewrittenSql r = Rewrite(
      "SELECT * FROM t AS OF TIMESTAMP :ts WHERE a = :a AND b = ? AND v = :ts",
      {"larix_asof_1.t"});
  EXPECT_EQ(r.sql,
            "SELECT * FROM larix_asof_1.t WHERE a = :a AND b = ?3 AND v = :ts");
  // :a moved from 2 to 1, :ts from 1 to 4; the bare ? kept 3.
  EXPECT_EQ(r.parameter_origin, (std::vector<int>{2, 0, 3, 1}));
  int count = 0;
  std::vector<std::string> names;
  ASSERT_TRUE(db.Prepare(r.sql, &count, &names));
  EXPECT_EQ(names, (std::vector<std::string>{":a", "", "?3", ":ts"}));
}

TEST(DialectRewriteTest, Errors) {
  const std::string sql =
      "SELECT * FROM t AS OF TIMESTAMP ? WHERE a = :a AND b = ?1";
  ParsedStatement p = Parse(sql);
  const TimeTravelQuery& q = *p.As<TimeTravelQuery>();
  // ?1 meant the removed parameter, and :a now takes number 1.
  Result<RewrittenSql> r = RewriteTimeTravel(sql, q, {"s.t"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot keep parameter numbers"),
            std::string::npos);

  EXPECT_FALSE(RewriteTimeTravel(sql, q, {}).ok());
  EXPECT_FALSE(RewriteTimeTravel(sql, q, {"f(?)"}).ok());      // bare ?
  EXPECT_FALSE(RewriteTimeTravel(sql, q, {"f(?9)"}).ok());     // no ?9
  EXPECT_FALSE(RewriteTimeTravel(sql, q, {"'open"}).ok());     // bad SQL
  EXPECT_FALSE(RewriteTimeTravel(sql, q, {"s.t -- x"}).ok());  // comment
  EXPECT_FALSE(RewriteTimeTravel(sql, q, {"s.t /* x"}).ok());  // comment

  const std::string plain = "SELECT abc FROM t";
  EXPECT_FALSE(RewriteSql(plain, {{{8, 2}, "x"}}).ok());  // splits abc
  EXPECT_FALSE(RewriteSql(plain, {{{0, 6}, "x"}, {{5, 6}, "y"}}).ok());
  EXPECT_FALSE(RewriteSql(plain, {{{15, 5}, "x"}}).ok());  // past the end
  Result<RewrittenSql> ok = RewriteSql(plain, {{{7, 3}, "a, b"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sql, "SELECT a, b FROM t");
  ok = RewriteSql(plain, {{{17, 0}, " LIMIT 1"}});  // an insertion at the end
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sql, "SELECT abc FROM t LIMIT 1");
}

TEST(DialectRewriteTest, RewrittenStatementsPrepare) {
  SqliteDb db;
  const char* cases[] = {
      "SELECT * FROM orders AS OF TIMESTAMP '2025-11-20 00:00:00'",
      "SELECT * FROM orders AS OF TRANSACTION ? o WHERE o.id = ?",
      "SELECT o.total, n.total FROM orders n JOIN orders AS OF SCN ?2 o USING "
      "(id) WHERE n.id = ?1",
      "INSERT INTO orders SELECT * FROM orders AS OF TIMESTAMP :t WHERE id = "
      ":id",
      "SELECT * FROM users WHERE id = ? FOR SYSTEM_TIME BETWEEN ? AND ? ORDER "
      "BY system_time",
      "WITH x AS (SELECT * FROM t AS OF SCN 3) SELECT * FROM x WHERE a = ?",
  };
  for (const char* sql : cases) {
    SCOPED_TRACE(sql);
    ParsedStatement p = Parse(sql);
    const TimeTravelQuery* q = p.As<TimeTravelQuery>();
    ASSERT_NE(q, nullptr);
    std::vector<std::string> replacements;
    for (const TimeTravelRef& ref : q->refs) {
      replacements.push_back("larix_asof_1." + ref.table);
    }
    Result<RewrittenSql> r = RewriteTimeTravel(sql, *q, replacements);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    int count = 0;
    std::vector<std::string> names;
    std::string error;
    ASSERT_TRUE(db.Prepare(r->sql, &count, &names, &error))
        << r->sql << ": " << error;
    EXPECT_EQ(static_cast<int>(r->parameter_origin.size()), count);
    // Every surviving parameter has its original name, or ?N with its
    // original number.
    for (int j = 1; j <= count; ++j) {
      const int origin = r->parameter_origin[j - 1];
      if (origin == 0) continue;
      for (const Parameter& orig : p.parameters) {
        if (orig.number == origin && orig.name != "?" && orig.name[0] != '?') {
          EXPECT_EQ(names[j - 1], orig.name);
        }
      }
      if (names[j - 1].empty() || names[j - 1][0] == '?') {
        EXPECT_EQ(origin, j);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Passthrough fuzz: plain statements built from pieces that look like the
// extensions but are not.  SQLite must accept each one, the recognizer must
// leave it alone, and a rewrite without edits must return it byte for byte.

std::string Pick(std::mt19937& rng, const std::vector<std::string>& pieces) {
  std::uniform_int_distribution<std::size_t> d(0, pieces.size() - 1);
  return pieces[d(rng)];
}

TEST(DialectPassthroughTest, RandomPlainStatementsComeBackIdentical) {
  SqliteDb db;
  const std::vector<std::string> prefixes = {"",
                                             "EXPLAIN ",
                                             "EXPLAIN QUERY PLAN ",
                                             "/* AS OF SCN 1 */ ",
                                             "-- FOR SYSTEM_TIME ALL\n",
                                             "WITH w(of) AS (SELECT 1) "};
  const std::vector<std::string> columns = {"*",
                                            "t.a",
                                            "t.a AS of",
                                            "t.b AS \"AS OF TIMESTAMP\"",
                                            "'AS OF TIMESTAMP ''x'''",
                                            "CAST(t.a AS of timestamp)",
                                            "t.of",
                                            "t.\"for\" system_time",
                                            "?",
                                            ":of",
                                            "@timestamp",
                                            "$scn",
                                            "?7",
                                            "x'AB'",
                                            "0x1F",
                                            "1.5e3",
                                            "t.a || 'FOR SYSTEM_TIME'",
                                            "t.a -> '$.x'",
                                            "\"of\"",
                                            "[of]",
                                            "`for`"};
  const std::vector<std::string> froms = {"t",
                                          "t AS x",
                                          "t AS of",
                                          "t of",
                                          "t AS \"of\"",
                                          "main.t",
                                          "t key",
                                          "t AS x JOIN u ON x.a = u.a",
                                          "(SELECT a, b FROM t) AS s",
                                          "t AS tt LEFT JOIN u USING (a)",
                                          "t, u AS uu",
                                          "(t CROSS JOIN u)",
                                          "t INDEXED BY sqlite_autoindex_t_1",
                                          "t NOT INDEXED",
                                          "(SELECT 1 AS a) AS of"};
  const std::vector<std::string> wheres = {"",
                                           " WHERE 1",
                                           " WHERE ? IS NOT DISTINCT FROM 1",
                                           " WHERE 1 IN (SELECT 1 FROM u)",
                                           " WHERE :a = 'AS OF TIMESTAMP'",
                                           " WHERE 2 LIKE 'FOR SYSTEM_TIME%'",
                                           " WHERE 1 /* AS OF COMMIT 'x' */"};
  const std::vector<std::string> tails = {"",
                                          " ORDER BY 1",
                                          " LIMIT 3",
                                          " -- AS OF TIMESTAMP 'x'",
                                          ";",
                                          " ; -- trailing",
                                          " UNION ALL SELECT 1 AS of, 2"};
  int checked = 0;
  std::mt19937 rng(99);
  for (int round = 0; round < 3000; ++round) {
    const std::string columns_piece = Pick(rng, columns);
    const std::string tail = Pick(rng, tails);
    if (tail.find("UNION") != std::string::npos && columns_piece != "*") {
      continue;  // compound SELECTs need matching column counts
    }
    std::string sql = Pick(rng, prefixes) + "SELECT " + columns_piece +
                      " FROM " + Pick(rng, froms) + Pick(rng, wheres) + tail;
    // Only statements SQLite itself accepts: t.x needs table t in scope.
    std::string error;
    if (!db.Prepare(sql, nullptr, nullptr, &error)) {
      ASSERT_TRUE(error.find("no such column") != std::string::npos ||
                  error.find("SELECTs to the left and right") !=
                      std::string::npos ||
                  error.find("no such index") != std::string::npos ||
                  error.find("ambiguous column") != std::string::npos)
          << sql << ": " << error;
      continue;
    }
    ++checked;
    SCOPED_TRACE(sql);
    Result<ParsedStatement> p = ParseStatement(sql);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(p->is_passthrough()) << StatementKindName(p->body);
    Result<RewrittenSql> same = RewriteSql(sql, {});
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->sql, sql);
    for (int j = 1; j <= static_cast<int>(same->parameter_origin.size()); ++j) {
      const int origin = same->parameter_origin[j - 1];
      EXPECT_TRUE(origin == j || origin == 0);
    }
    EXPECT_EQ(static_cast<int>(same->parameter_origin.size()),
              p->parameter_count);
  }
  EXPECT_GT(checked, 1000);
}

// Random mutations of extension statements must never crash and must give
// either a parse or an error that names an offset.
TEST(DialectPassthroughTest, MutatedExtensionsFailWithOffsets) {
  const std::vector<std::string> seeds = {
      "CREATE DATABASE BRANCH dev FROM main AS OF TIMESTAMP '2025-11-20' WITH "
      "(a = 1, b = 'x')",
      "MERGE DATABASE BRANCH staging INTO main WITH (conflict_resolution = "
      "'branch_wins', delete_branch_after = true)",
      "ALTER DATABASE BRANCH ALIAS production FOR green",
      "CREATE TAG v1 AS OF COMMIT 'abc' FROM dev",
      "SELECT * FROM users u WHERE id = ? FOR SYSTEM_TIME BETWEEN ? AND ?",
      "SELECT * FROM a JOIN b AS OF TIMESTAMP 'x' old ON a.id = old.id",
  };
  std::mt19937 rng(5);
  for (int round = 0; round < 5000; ++round) {
    // Tokens view the text they came from, so it must outlive them.
    const std::string seed = Pick(rng, seeds);
    std::vector<Token> tokens = Tokenize(seed);
    std::uniform_int_distribution<std::size_t> at(0, tokens.size() - 1);
    const std::size_t drop = at(rng);
    std::string sql;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i != drop) sql += tokens[i].text;
    }
    Result<ParsedStatement> r = ParseStatement(sql);
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("at offset"), std::string::npos)
          << sql << ": " << r.status().message();
    }
  }
}

}  // namespace
}  // namespace larix::sql
