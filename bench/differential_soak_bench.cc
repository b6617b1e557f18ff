// differential_soak_bench: the differential test (tests/sql/
// differential_test.cc) for as long as you like.
//
// Runs seeds S, S+1, ..., S+N-1 of the random SQL workload in tests/support/
// sql_workload.h, each against stock SQLite, an on-disk Larix store and an
// in-memory one, comparing every statement, and prints one line per seed
// and, at the end, how often each statement kind was generated and
// succeeded.  Stops at the first disagreement (unless --keep-going) and
// prints it: seed, statement index, statement, both outcomes, and the
// work directory holding script.sql, which replays in the sqlite3 shell.
//
// Usage:
//   differential_soak_bench [--seeds N] [--statements M] [--first-seed S]
//                           [--no-memory] [--no-reader] [--keep-going]
// Defaults: 200 seeds x 2000 statements from seed 1000 (the test uses
// 1..20).  Exit status 1 if any seed disagreed.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../tests/support/sql_workload.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: differential_soak_bench [--seeds N] [--statements M] "
               "[--first-seed S] [--no-memory] [--no-reader] "
               "[--keep-going]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 200;
  int statements = 2000;
  uint64_t first = 1000;
  bool keep_going = false;
  larix::sqlwork::DifferentialOptions options;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (arg == "--seeds") {
      seeds = std::atoi(value());
    } else if (arg == "--statements") {
      statements = std::atoi(value());
    } else if (arg == "--first-seed") {
      first = std::strtoull(value(), nullptr, 10);
    } else if (arg == "--no-memory") {
      options.memory_store = false;
    } else if (arg == "--no-reader") {
      options.second_connection = false;
    } else if (arg == "--keep-going") {
      keep_going = true;
    } else {
      Usage();
    }
  }
  if (seeds <= 0 || statements <= 0) Usage();

  larix::sqlwork::DifferentialStats total;
  int failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < seeds; n++) {
    options.seed = first + n;
    options.statements = statements;
    larix::sqlwork::DifferentialStats stats;
    std::string failure = larix::sqlwork::RunDifferential(options, &stats);
    std::printf("seed %llu: %d statements (%d ok), %d reads on the second "
                "connection, %.1f s: %s\n",
                static_cast<unsigned long long>(options.seed),
                stats.statements, stats.ok, stats.reader_statements,
                stats.seconds, failure.empty() ? "agree" : "DISAGREE");
    std::fflush(stdout);
    total.statements += stats.statements;
    total.ok += stats.ok;
    total.reader_statements += stats.reader_statements;
    for (auto& [k, v] : stats.kinds) total.kinds[k] += v;
    for (auto& [k, v] : stats.ok_kinds) total.ok_kinds[k] += v;
    for (auto& note : stats.notes) total.notes.push_back(note);
    if (!failure.empty()) {
      failures++;
      std::printf("\n%s\n\n", failure.c_str());
      if (!keep_going) break;
    }
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  std::printf("\n%-28s %10s %10s\n", "statement kind", "generated", "ok");
  for (auto& [kind, n] : total.kinds) {
    std::printf("%-28s %10d %10d\n", kind.c_str(), n, total.ok_kinds[kind]);
  }
  std::printf("\n%d statements (%d ok, %.0f%%), %d second-connection reads, "
              "%.0f s, %d disagreement(s)\n",
              total.statements, total.ok,
              total.statements ? 100.0 * total.ok / total.statements : 0.0,
              total.reader_statements, seconds, failures);
  for (auto& note : total.notes) std::printf("note: %s\n", note.c_str());
  return failures ? 1 : 0;
}
