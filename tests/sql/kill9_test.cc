// kill -9 during writes.  A child process runs a mixed write workload on a
// store and reports every transaction SQLite acknowledged (COMMIT returned
// SQLITE_OK) through a pipe; the parent kills it with SIGKILL at a random
// moment, reopens the store and checks:
//   1. PRAGMA integrity_check is ok;
//   2. fsck finds no problem;
//   3. every acknowledged transaction's row is there (none lost), and no
//      row of an unacknowledged transaction is half there (atomicity).
// Many rounds on the same store, so later rounds start from a store that
// has already survived kills.  LARIX_KILL9_ROUNDS raises the count (the
// soak version in bench/ does).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "larix/store.h"
#include "sql_test_util.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using test::Exec;
using test::Query;
using test::Scalar;

// The child: transactions of several shapes, each inserting one "marker"
// row with its sequence number and a few payload rows whose count is
// recorded in the marker.  Writes the sequence number to `fd` after
// COMMIT returns OK.  Never returns.
[[noreturn]] void ChildWorkload(const std::string& store, int fd,
                                int start_seq, unsigned seed) {
  sqlite3* db = nullptr;
  if (!OpenDatabase(store, {}, &db).ok()) _exit(2);
  std::mt19937 rng(seed);
  for (int seq = start_seq;; seq++) {
    int payload = 1 + rng() % 20;
    std::string sql = "BEGIN;";
    sql += "INSERT INTO marker VALUES (" + std::to_string(seq) + ", " +
           std::to_string(payload) + ");";
    for (int i = 0; i < payload; i++) {
      sql += "INSERT INTO payload(seq, data) VALUES (" + std::to_string(seq) +
             ", randomblob(" + std::to_string(50 + rng() % 3000) + "));";
    }
    if (rng() % 5 == 0) {
      sql += "UPDATE payload SET data = randomblob(100) WHERE rowid IN "
             "(SELECT rowid FROM payload ORDER BY random() LIMIT 3);";
    }
    if (rng() % 7 == 0) {
      sql += "DELETE FROM scratch; INSERT INTO scratch SELECT randomblob(500) "
             "FROM payload LIMIT 50;";
    }
    sql += "COMMIT;";
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      _exit(3);
    }
    if (write(fd, &seq, sizeof(seq)) != sizeof(seq)) _exit(4);
  }
}

TEST(Kill9Test, AcknowledgedCommitsSurviveSigkill) {
  fs::path dir = fs::temp_directory_path() /
                 ("larix_kill9_" + std::to_string(getpid()));
  fs::remove_all(dir);
  {
    sqlite3* db = test::OpenOrDie(dir.string());
    ASSERT_NE(db, nullptr);
    Exec(db,
         "CREATE TABLE marker(seq INTEGER PRIMARY KEY, payload_rows INTEGER);"
         "CREATE TABLE payload(id INTEGER PRIMARY KEY, seq INTEGER, data BLOB);"
         "CREATE INDEX payload_seq ON payload(seq);"
         "CREATE TABLE scratch(x BLOB);");
    sqlite3_close(db);
  }
  int rounds = 25;
  if (const char* env = getenv("LARIX_KILL9_ROUNDS")) rounds = atoi(env);
  std::mt19937 rng(12345);
  std::set<int> acknowledged;
  int next_seq = 1;
  int total_killed_mid_run = 0;
  for (int round = 0; round < rounds; round++) {
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipefd[0]);
      ChildWorkload(dir.string(), pipefd[1], next_seq, rng());
    }
    close(pipefd[1]);
    // Let it run 5..120 ms, then kill it wherever it is.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 115));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "child exited by itself with " << WEXITSTATUS(status);
    total_killed_mid_run++;
    int seq;
    while (read(pipefd[0], &seq, sizeof(seq)) == sizeof(seq)) {
      acknowledged.insert(seq);
      next_seq = std::max(next_seq, seq + 1);
    }
    close(pipefd[0]);
    next_seq += 1000;  // never reuse a number a killed child may have used

    // Reopen and check.
    {
      std::unique_ptr<Store> store;
      Status s = Store::Open(dir.string(), {}, &store);
      ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.ToString();
      FsckReport report;
      ASSERT_TRUE(store->Fsck(&report).ok());
      ASSERT_TRUE(report.ok()) << "round " << round << ": "
                               << report.problems[0].where << ": "
                               << report.problems[0].what;
    }
    sqlite3* db = test::OpenOrDie(dir.string());
    ASSERT_NE(db, nullptr);
    ASSERT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok") << "round " << round;
    std::set<int> present;
    for (const auto& row : Query(db, "SELECT seq FROM marker")) {
      present.insert(std::stoi(row[0]));
    }
    for (int a : acknowledged) {
      ASSERT_TRUE(present.count(a)) << "round " << round
                                    << ": acknowledged transaction " << a
                                    << " was lost";
    }
    // Atomicity: every marker has exactly its payload rows.
    ASSERT_EQ(Scalar(db,
                     "SELECT count(*) FROM marker m WHERE payload_rows != "
                     "(SELECT count(*) FROM payload p WHERE p.seq = m.seq)"),
              "0")
        << "round " << round;
    ASSERT_EQ(Scalar(db, "SELECT count(*) FROM payload WHERE seq NOT IN "
                         "(SELECT seq FROM marker)"),
              "0");
    sqlite3_close(db);
  }
  EXPECT_EQ(total_killed_mid_run, rounds);
  EXPECT_GT(acknowledged.size(), static_cast<size_t>(rounds));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace larix
