// MERGE DATABASE BRANCH: the test matrix of key kinds x change kinds x
// policies, keyless multisets, schema merges and conflicts, constraint
// violations, fast-forward, merging twice, delete_branch_after,
// AUTOINCREMENT counters, cherry-pick, revert and reset, and a property
// test against an independently computed result.

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>

#include "larix/store.h"
#include "sql/engine.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Larix;
using test::Query;
using test::QueryLarix;
using test::Rows;
using test::RunLarix;
using test::ScalarLarix;

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = test::MemoryStoreName();
    db_ = test::OpenOrDie(name_);
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { sqlite3_close(db_); }
  sqlite3* Open(const std::string& branch) {
    return test::OpenOrDie(name_ + "@" + branch);
  }

  std::string name_;
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// The matrix.  Every key kind runs the same ten scenarios, on separate
// rows, under each policy:
//   key 1   theirs sets a, ours sets b           -> both kept
//   key 2   both set a, differently              -> conflict on a
//   key 3   theirs deletes                       -> deleted
//   key 4   theirs deletes, ours updates         -> conflict
//   key 5   theirs updates, ours deletes         -> conflict
//   key 6   both delete                          -> deleted
//   key 7   both set a to the same value         -> no conflict
//   key 10  theirs inserts                       -> inserted
//   key 11  ours inserts                         -> kept
//   key 12  both insert, different values        -> conflict on a and b

struct KeyKind {
  const char* name;
  const char* create;
  // SQL expression of the key for row i, and a WHERE on it.
  std::string (*key_values)(int i);
  std::string (*where)(int i);
};

std::string IntKey(int i) { return std::to_string(i); }
std::string IntWhere(int i) { return "id = " + std::to_string(i); }
std::string TextKey(int i) { return "'k" + std::to_string(i) + "'"; }
std::string TextWhere(int i) { return "id = 'k" + std::to_string(i) + "'"; }
std::string PairKey(int i) { return "'x', " + std::to_string(i); }
std::string PairWhere(int i) {
  return "k1 = 'x' AND k2 = " + std::to_string(i);
}

const KeyKind kKeyKinds[] = {
    {"integer_primary_key", "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b)",
     IntKey, IntWhere},
    {"rowid_text_key", "CREATE TABLE t(id TEXT PRIMARY KEY, a, b)", TextKey,
     TextWhere},
    {"composite_key", "CREATE TABLE t(k1, k2, a, b, PRIMARY KEY (k1, k2))",
     PairKey, PairWhere},
    {"without_rowid",
     "CREATE TABLE t(id TEXT PRIMARY KEY, a, b) WITHOUT ROWID", TextKey,
     TextWhere},
};

enum class Policy { kFail, kBranchWins, kTargetWins };

struct Expect {
  int key;
  std::optional<std::pair<std::string, std::string>> row;  // (a, b)
};

class MergeMatrixTest
    : public MergeTest,
      public ::testing::WithParamInterface<std::tuple<int, Policy>> {};

TEST_P(MergeMatrixTest, EveryChangeKind) {
  const KeyKind& kind = kKeyKinds[std::get<0>(GetParam())];
  Policy policy = std::get<1>(GetParam());
  std::string setup = std::string(kind.create) + ";";
  for (int i : {1, 2, 3, 4, 5, 6, 7}) {
    setup += "INSERT INTO t VALUES (" + kind.key_values(i) + ", 'a0', 'b0');";
  }
  Larix(db_, setup + "CREATE DATABASE BRANCH feature FROM main AS OF NOW");
  sqlite3* theirs = Open("feature");
  auto upd = [&](const std::string& set, int i) {
    return "UPDATE t SET " + set + " WHERE " + kind.where(i) + ";";
  };
  auto del = [&](int i) { return "DELETE FROM t WHERE " + kind.where(i) + ";"; };
  auto ins = [&](int i, const std::string& a, const std::string& b) {
    return "INSERT INTO t VALUES (" + kind.key_values(i) + ", '" + a + "', '" +
           b + "');";
  };
  Larix(theirs, upd("a = 'ta'", 1) + upd("a = 't2'", 2) + del(3) + del(4) +
                    upd("a = 't5'", 5) + del(6) + upd("a = 'same'", 7) +
                    ins(10, "t10", "t10") + ins(12, "t12", "t12"));
  Larix(db_, upd("b = 'ob'", 1) + upd("a = 'o2'", 2) + upd("a = 'o4'", 4) +
                 del(5) + del(6) + upd("a = 'same'", 7) +
                 ins(11, "o11", "o11") + ins(12, "o12", "o12"));
  sqlite3_close(theirs);
  auto snapshot = [&] {
    return QueryLarix(db_, "SELECT a, b FROM t ORDER BY a, b");
  };
  Rows before = snapshot();
  const char* policy_name = policy == Policy::kFail         ? "fail"
                            : policy == Policy::kBranchWins ? "branch_wins"
                                                            : "target_wins";
  std::string error =
      RunLarix(db_, std::string("MERGE DATABASE BRANCH feature INTO main WITH "
                                "(conflict_resolution = '") +
                        policy_name + "')");
  if (policy == Policy::kFail) {
    ASSERT_NE(error, "");
    EXPECT_NE(error.find("5 conflicts"), std::string::npos) << error;
    EXPECT_NE(error.find("(deleted there, changed here"), std::string::npos)
        << error;
    EXPECT_NE(error.find("column a"), std::string::npos) << error;
    EXPECT_NE(error.find("base 'a0', ours 'o2', theirs 't2'"),
              std::string::npos)
        << error;
    EXPECT_EQ(snapshot(), before);  // nothing changed
    return;
  }
  ASSERT_EQ(error, "");
  bool tw = policy == Policy::kBranchWins;
  std::vector<Expect> expect = {
      {1, {{"ta", "ob"}}},
      {2, {{tw ? "t2" : "o2", "b0"}}},
      {3, std::nullopt},
      {4, tw ? std::nullopt : std::optional(std::pair<std::string, std::string>{"o4", "b0"})},
      {5, tw ? std::optional(std::pair<std::string, std::string>{"t5", "b0"}) : std::nullopt},
      {6, std::nullopt},
      {7, {{"same", "b0"}}},
      {10, {{"t10", "t10"}}},
      {11, {{"o11", "o11"}}},
      {12, {{tw ? "t12" : "o12", tw ? "t12" : "o12"}}},
  };
  for (const Expect& e : expect) {
    Rows rows = QueryLarix(db_, "SELECT a, b FROM t WHERE " + kind.where(e.key));
    if (!e.row) {
      EXPECT_TRUE(rows.empty()) << kind.name << " key " << e.key;
    } else {
      ASSERT_EQ(rows.size(), 1u) << kind.name << " key " << e.key;
      EXPECT_EQ(rows[0][0], e.row->first) << kind.name << " key " << e.key;
      EXPECT_EQ(rows[0][1], e.row->second) << kind.name << " key " << e.key;
    }
  }
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM t"), tw ? "7" : "7");
  // The merge is one commit with two parents.
  std::string parents = ScalarLarix(db_, "SELECT parents FROM larix_log LIMIT 1");
  EXPECT_EQ(std::count(parents.begin(), parents.end(), ' '), 1) << parents;
  EXPECT_EQ(ScalarLarix(db_, "PRAGMA integrity_check"), "ok");
}

INSTANTIATE_TEST_SUITE_P(
    KeysAndPolicies, MergeMatrixTest,
    ::testing::Combine(::testing::Range(0, 4),
                       ::testing::Values(Policy::kFail, Policy::kBranchWins,
                                         Policy::kTargetWins)),
    [](const auto& info) {
      Policy p = std::get<1>(info.param);
      return std::string(kKeyKinds[std::get<0>(info.param)].name) + "_" +
             (p == Policy::kFail         ? "fail"
              : p == Policy::kBranchWins ? "branch_wins"
                                         : "target_wins");
    });

TEST_F(MergeTest, KeylessTablesAreMultisets) {
  for (const char* policy : {"fail", "branch_wins", "target_wins"}) {
    Larix(db_,
          "DROP TABLE IF EXISTS log; CREATE TABLE log(msg, n);"
          "INSERT INTO log VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4);"
          "DROP DATABASE BRANCH IF EXISTS side;"
          "CREATE DATABASE BRANCH side FROM main AS OF NOW");
    sqlite3* side = Open("side");
    Larix(side,
          "INSERT INTO log VALUES ('x', 9); DELETE FROM log WHERE msg = 'b';"
          "UPDATE log SET n = 33 WHERE msg = 'c'");
    Larix(db_, "INSERT INTO log VALUES ('x', 9); DELETE FROM log WHERE msg = 'd'");
    sqlite3_close(side);
    Larix(db_, std::string("MERGE DATABASE BRANCH side INTO main WITH "
                           "(conflict_resolution = '") +
                   policy + "')");
    EXPECT_EQ(QueryLarix(db_, "SELECT msg, n FROM log ORDER BY msg, n"),
              (Rows{{"a", "1"}, {"c", "33"}, {"x", "9"}, {"x", "9"}}))
        << policy;
  }
}

TEST_F(MergeTest, SchemaChangesOnEitherSideMerge) {
  Larix(db_,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO users VALUES (1, 'ada');"
        "CREATE DATABASE BRANCH schema FROM main AS OF NOW");
  sqlite3* side = Open("schema");
  Larix(side,
        "ALTER TABLE users ADD COLUMN email TEXT DEFAULT 'none';"
        "CREATE INDEX users_email ON users(email);"
        "CREATE VIEW named AS SELECT name FROM users;"
        "UPDATE users SET email = 'ada@example.com' WHERE id = 1;"
        "INSERT INTO users VALUES (2, 'bob', 'bob@example.com')");
  Larix(db_,
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER);"
        "INSERT INTO orders VALUES (1, 1);"
        "INSERT INTO users VALUES (3, 'cy')");
  sqlite3_close(side);
  Larix(db_, "MERGE DATABASE BRANCH schema INTO main");
  EXPECT_EQ(QueryLarix(db_, "SELECT id, name, email FROM users ORDER BY id"),
            (Rows{{"1", "ada", "ada@example.com"},
                  {"2", "bob", "bob@example.com"},
                  {"3", "cy", "none"}}));
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM orders"), "1");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM named"), "3");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM sqlite_master WHERE name = "
                             "'users_email'"),
            "1");
  EXPECT_EQ(ScalarLarix(db_, "PRAGMA integrity_check"), "ok");
}

TEST_F(MergeTest, SchemaConflictIsReportedBeforeAnyRowIsTouched) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a);"
        "INSERT INTO t VALUES (1, 'x');"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "ALTER TABLE t ADD COLUMN b INTEGER; INSERT INTO t VALUES (2, 'y', 1)");
  Larix(db_, "ALTER TABLE t ADD COLUMN c TEXT");
  sqlite3_close(side);
  std::string head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  for (const char* policy : {"fail", "branch_wins", "target_wins"}) {
    std::string error = RunLarix(
        db_, std::string("MERGE DATABASE BRANCH side INTO main WITH "
                         "(conflict_resolution = '") + policy + "')");
    EXPECT_NE(error.find("schema conflict: t"), std::string::npos) << error;
  }
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);
}

TEST_F(MergeTest, ConstraintViolationsAreReportedNeverCommitted) {
  Larix(db_,
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY, "
        "  parent_id INTEGER REFERENCES parent(id));"
        "CREATE TABLE people(id INTEGER PRIMARY KEY, email TEXT UNIQUE, "
        "  age INTEGER CHECK (age >= 0));"
        "INSERT INTO parent VALUES (1), (2);"
        "CREATE DATABASE BRANCH fk FROM main AS OF NOW;"
        "CREATE DATABASE BRANCH uniq FROM main AS OF NOW");
  sqlite3* fk = Open("fk");
  Larix(fk, "INSERT INTO child VALUES (1, 2)");
  sqlite3_close(fk);
  Larix(db_, "DELETE FROM parent WHERE id = 2");
  std::string head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  std::string error = RunLarix(
      db_, "MERGE DATABASE BRANCH fk INTO main WITH "
           "(conflict_resolution = 'branch_wins')");
  EXPECT_NE(error.find("foreign key"), std::string::npos) << error;
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);

  sqlite3* uniq = Open("uniq");
  Larix(uniq, "INSERT INTO people VALUES (10, 'a@x', 1)");
  sqlite3_close(uniq);
  Larix(db_, "INSERT INTO people VALUES (11, 'a@x', 2)");
  head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  error = RunLarix(db_, "MERGE DATABASE BRANCH uniq INTO main WITH "
                        "(conflict_resolution = 'branch_wins')");
  EXPECT_NE(error.find("UNIQUE"), std::string::npos) << error;
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);
}

TEST_F(MergeTest, FastForwardTwiceAndDeleteAfter) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
        "CREATE DATABASE BRANCH ff FROM main AS OF NOW");
  sqlite3* ff = Open("ff");
  Larix(ff, "INSERT INTO t VALUES (1, 'one')");
  std::string ff_head = ScalarLarix(ff, "SELECT larix_hashof('ff')");
  sqlite3_close(ff);
  Larix(db_, "MERGE DATABASE BRANCH ff INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), ff_head);
  // A diverged merge, then the same merge again: the second is a no-op.
  Larix(db_, "INSERT INTO t VALUES (2, 'two')");
  sqlite3* side = Open("ff");
  Larix(side, "INSERT INTO t VALUES (3, 'three')");
  sqlite3_close(side);
  Larix(db_, "MERGE DATABASE BRANCH ff INTO main");
  std::string merged = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "MERGE DATABASE BRANCH ff INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), merged);
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(id) FROM t"), "1,2,3");
  Larix(db_, "MERGE DATABASE BRANCH ff INTO main WITH (delete_branch_after = true)");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM larix_branches WHERE "
                             "branch_name = 'ff'"),
            "0");
}

TEST_F(MergeTest, NoDataChangeStillRecordsTheMerge) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
        "INSERT INTO t VALUES (1, 'x');"
        "CREATE DATABASE BRANCH same FROM main AS OF NOW");
  sqlite3* same = Open("same");
  Larix(same, "UPDATE t SET v = 'y'");
  sqlite3_close(same);
  Larix(db_, "UPDATE t SET v = 'y'");  // the same change on both sides
  Larix(db_, "MERGE DATABASE BRANCH same INTO main");
  std::string parents = ScalarLarix(db_, "SELECT parents FROM larix_log LIMIT 1");
  EXPECT_EQ(std::count(parents.begin(), parents.end(), ' '), 1) << parents;
  // and the branch now counts as merged
  std::string head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "MERGE DATABASE BRANCH same INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);
}

TEST_F(MergeTest, AutoincrementCountersTakeTheLargerValue) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
        "INSERT INTO t(v) VALUES ('a');"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "INSERT INTO t(id, v) VALUES (50, 'far'); DELETE FROM t WHERE id = 50");
  sqlite3_close(side);
  Larix(db_, "INSERT INTO t(id, v) VALUES (20, 'mid')");
  Larix(db_, "MERGE DATABASE BRANCH side INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT seq FROM sqlite_sequence WHERE name = 't'"),
            "50");
  Larix(db_, "INSERT INTO t(v) VALUES ('next')");
  EXPECT_EQ(ScalarLarix(db_, "SELECT max(id) FROM t"), "51");
}

TEST_F(MergeTest, TriggersDoNotFireForMergedRows) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
        "CREATE TABLE audit(id INTEGER);"
        "CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN "
        "  INSERT INTO audit VALUES (new.id); END;"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "INSERT INTO t VALUES (1, 'x')");  // audit gets its row there
  sqlite3_close(side);
  Larix(db_, "INSERT INTO t VALUES (2, 'y')");
  Larix(db_, "MERGE DATABASE BRANCH side INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(id) FROM (SELECT id FROM "
                             "audit ORDER BY id)"),
            "1,2");  // once each, not twice
  Larix(db_, "INSERT INTO t VALUES (3, 'z')");  // the trigger is back
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM audit"), "3");
}

TEST_F(MergeTest, CherryPickRevertAndReset) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
        "INSERT INTO t VALUES (1, 'a');"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "INSERT INTO t VALUES (2, 'picked')");
  std::string pick = ScalarLarix(side, "SELECT larix_hashof('side')");
  Larix(side, "INSERT INTO t VALUES (3, 'not picked')");
  sqlite3_close(side);
  Larix(db_, "SELECT larix_cherry_pick('" + pick.substr(0, 10) + "', NULL)");
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(v) FROM t"), "a,picked");
  Larix(db_, "UPDATE t SET v = 'oops' WHERE id = 1");
  std::string oops = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "INSERT INTO t VALUES (4, 'later')");
  Larix(db_, "SELECT larix_revert('" + oops + "', NULL)");
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(v) FROM t"), "a,picked,later");
  std::string message = ScalarLarix(db_, "SELECT message FROM larix_log LIMIT 1");
  EXPECT_EQ(message.rfind("Revert ", 0), 0u) << message;
  // Reset moves the branch back; the old head stays in the reflog.
  Larix(db_, "ALTER DATABASE BRANCH main RESET TO '" + oops + "'");
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(v) FROM t"), "oops,picked");
}

// Random edits on two branches from a random base, merged with
// branch_wins, equal the merge computed independently from full-table
// reads of base, ours and theirs.
TEST_F(MergeTest, PropertyBranchWinsEqualsIndependentReplay) {
  using Row = std::vector<std::string>;  // a, b, c
  std::mt19937 rng(2024);
  for (int round = 0; round < 12; round++) {
    std::string main_name = "m" + std::to_string(round);
    Larix(db_, "CREATE DATABASE BRANCH " + main_name + " FROM main AS OF NOW");
    sqlite3* m = Open(main_name);
    Larix(m, "CREATE TABLE p(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL)");
    std::string ins;
    for (int i = 1; i <= 40; i++) {
      ins += "INSERT INTO p VALUES (" + std::to_string(i) + ", " +
             std::to_string(rng() % 5) + ", 'b" + std::to_string(rng() % 5) +
             "', " + std::to_string(rng() % 5) + ".5);";
    }
    Larix(m, ins);
    // A random extra commit or two so the base is not the branch point of
    // a fresh table.
    Larix(m, "UPDATE p SET a = a + 1 WHERE id % 7 = 0");
    std::string side_name = "s" + std::to_string(round);
    Larix(m, "CREATE DATABASE BRANCH " + side_name + " FROM CURRENT AS OF NOW");
    sqlite3* s = Open(side_name);
    auto edit = [&](sqlite3* db) {
      std::string sql;
      for (int k = 0; k < 25; k++) {
        int id = 1 + rng() % 50;
        switch (rng() % 5) {
          case 0:
            sql += "DELETE FROM p WHERE id = " + std::to_string(id) + ";";
            break;
          case 1:
            sql += "INSERT OR REPLACE INTO p VALUES (" + std::to_string(id) +
                   ", " + std::to_string(rng() % 5) + ", 'n" +
                   std::to_string(rng() % 3) + "', 1.25);";
            break;
          case 2:
            sql += "UPDATE p SET a = " + std::to_string(rng() % 5) +
                   " WHERE id = " + std::to_string(id) + ";";
            break;
          case 3:
            sql += "UPDATE p SET b = 'u" + std::to_string(rng() % 3) +
                   "' WHERE id = " + std::to_string(id) + ";";
            break;
          default:
            sql += "UPDATE p SET c = c * 2 WHERE id = " + std::to_string(id) + ";";
        }
        if (rng() % 6 == 0) {
          Larix(db, sql);
          sql.clear();
        }
      }
      if (!sql.empty()) Larix(db, sql);
    };
    std::string base_hash = ScalarLarix(m, "SELECT larix_hashof('" + main_name + "')");
    edit(m);
    edit(s);
    auto read = [&](sqlite3* db, const std::string& as_of) {
      std::map<int, Row> out;
      for (const auto& r : QueryLarix(db, "SELECT id, a, b, c FROM p" + as_of)) {
        out[std::stoi(r[0])] = {r[1], r[2], r[3]};
      }
      return out;
    };
    auto base = read(m, " AS OF COMMIT '" + base_hash + "'");
    auto ours = read(m, "");
    auto theirs = read(s, "");
    std::map<int, Row> expected;
    std::set<int> keys;
    for (auto* side : {&base, &ours, &theirs})
      for (auto& [k, v] : *side) keys.insert(k);
    for (int k : keys) {
      auto b = base.find(k), o = ours.find(k), t = theirs.find(k);
      std::optional<Row> B = b == base.end() ? std::nullopt : std::optional(b->second);
      std::optional<Row> O = o == ours.end() ? std::nullopt : std::optional(o->second);
      std::optional<Row> T = t == theirs.end() ? std::nullopt : std::optional(t->second);
      std::optional<Row> R;
      if (T == B) R = O;
      else if (O == B) R = T;
      else if (!T) R = std::nullopt;
      else if (!O) R = T;
      else {
        R = Row(3);
        for (int c = 0; c < 3; c++) {
          bool theirs_changed = !B || (*T)[c] != (*B)[c];
          (*R)[c] = theirs_changed ? (*T)[c] : (*O)[c];
        }
      }
      if (R) expected[k] = *R;
    }
    std::string error = RunLarix(
        m, "MERGE DATABASE BRANCH " + side_name + " INTO " + main_name +
               " WITH (conflict_resolution = 'branch_wins')");
    ASSERT_EQ(error, "") << "round " << round;
    EXPECT_EQ(read(m, ""), expected) << "round " << round;
    sqlite3_close(s);
    sqlite3_close(m);
  }
}

}  // namespace
}  // namespace larix

namespace larix {
namespace {

// conflict_resolution = 'manual': clean changes applied, conflicts left in
// tables, the target locked to the merge state until it is continued.
TEST_F(MergeTest, ManualMergeLeavesConflictTablesUntilContinued) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b);"
        "INSERT INTO t VALUES (1, 'a0', 'b0'), (2, 'a0', 'b0');"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "UPDATE t SET a = 'theirs' WHERE id = 1; UPDATE t SET b = 'tb' WHERE id = 2");
  sqlite3_close(side);
  Larix(db_, "UPDATE t SET a = 'ours' WHERE id = 1");
  std::string head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "MERGE DATABASE BRANCH side INTO main WITH "
             "(conflict_resolution = 'manual')");
  // The branch itself has not moved; its connections see the merge state.
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);
  EXPECT_EQ(QueryLarix(db_, "SELECT * FROM larix_conflicts"), (Rows{{"t", "1"}}));
  EXPECT_EQ(QueryLarix(db_, "SELECT key, base_a, our_a, their_a FROM "
                            "larix_conflicts_t"),
            (Rows{{"1", "a0", "ours", "theirs"}}));
  EXPECT_EQ(ScalarLarix(db_, "SELECT b FROM t WHERE id = 2"), "tb");  // clean
  // Continuing with conflicts left is refused.
  std::string error = RunLarix(db_, "SELECT larix_merge_continue(NULL)");
  EXPECT_NE(error.find("conflicts remain (1 in larix_conflicts_t)"),
            std::string::npos)
      << error;
  // Resolve by SQL, then continue.
  Larix(db_, "UPDATE t SET a = 'both' WHERE id = 1; DELETE FROM larix_conflicts_t");
  Larix(db_, "SELECT larix_merge_continue(NULL)");
  EXPECT_EQ(QueryLarix(db_, "SELECT id, a, b FROM t ORDER BY id"),
            (Rows{{"1", "both", "b0"}, {"2", "a0", "tb"}}));
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM sqlite_master WHERE name "
                             "LIKE 'larix_conflicts%'"),
            "0");
  std::string parents = ScalarLarix(db_, "SELECT parents FROM larix_log LIMIT 1");
  EXPECT_EQ(std::count(parents.begin(), parents.end(), ' '), 1) << parents;
  EXPECT_NE(ScalarLarix(db_, "SELECT larix_hashof('main')"), head);
  // The source is merged: merging again changes nothing.
  std::string merged = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "MERGE DATABASE BRANCH side INTO main");
  EXPECT_EQ(ScalarLarix(db_, "SELECT larix_hashof('main')"), merged);
}

TEST_F(MergeTest, ManualMergeCanBeAborted) {
  Larix(db_,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a);"
        "INSERT INTO t VALUES (1, 'x');"
        "CREATE DATABASE BRANCH side FROM main AS OF NOW");
  sqlite3* side = Open("side");
  Larix(side, "UPDATE t SET a = 'theirs'");
  sqlite3_close(side);
  Larix(db_, "UPDATE t SET a = 'ours'");
  Larix(db_, "MERGE DATABASE BRANCH side INTO main WITH "
             "(conflict_resolution = 'manual')");
  EXPECT_NE(RunLarix(db_, "MERGE DATABASE BRANCH side INTO main WITH "
                          "(conflict_resolution = 'manual')"),
            "");  // one merge at a time
  std::string busy = RunLarix(db_, "MERGE DATABASE BRANCH side INTO main WITH "
                                   "(conflict_resolution = 'branch_wins')");
  EXPECT_NE(busy.find("is in progress"), std::string::npos) << busy;
  Larix(db_, "SELECT larix_merge_abort(NULL)");
  EXPECT_EQ(ScalarLarix(db_, "SELECT a FROM t"), "ours");
  EXPECT_NE(RunLarix(db_, "SELECT * FROM larix_conflicts"), "");
}

}  // namespace
}  // namespace larix
