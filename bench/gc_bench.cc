// GC on a store of about N objects (default 1M): time of each phase and
// the process's peak resident memory, for the default backend.
//
// The store gets N/2 live objects on main and N/2 on a branch that is then
// dropped with no retention, so GC marks half and sweeps half.  Objects are
// 512-byte pages (SQLite's smallest page size) with distinct contents,
// written 1000 to a commit.  Each repetition builds a fresh store in a child
// process, so peak memory is that run's alone.
//
//   gc_bench [--objects N] [--reps R] [--dir /tmp/x]

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "larix/store.h"
#include "objects/commit_graph.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

long PeakRssKb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void Die(const Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}

// Commits `count` fresh pages to `branch`, 1000 per commit.
void Fill(Store* store, const std::string& branch, uint64_t count,
          uint32_t* next_seed) {
  std::string ref = BranchRef(branch);
  std::mt19937_64 rng(*next_seed);
  uint32_t pgno = 0;
  for (uint64_t done = 0; done < count;) {
    Result<ObjectId> head = store->refs()->Resolve(ref);
    Die(head.status(), "resolve");
    auto commit = store->commits()->Load(*head);
    Die(commit.status(), "load");
    CommitRequest req;
    req.ref = ref;
    req.expected_head = *head;
    req.base_tree = (*commit)->tree;
    req.sync = false;
    for (int i = 0; i < 1000 && done < count; i++, done++) {
      std::string page(512, '\0');
      for (size_t j = 0; j < page.size(); j += 8) {
        uint64_t v = rng();
        memcpy(&page[j], &v, 8);
      }
      req.pages.push_back({pgno++, std::move(page)});
    }
    Die(store->CommitPages(req).status(), "commit");
  }
  *next_seed += 1;
}

struct Run {
  double fill_s, gc_s, mark_s, sweep_s;
  uint64_t before, swept;
  long rss_before_kb, rss_peak_kb;
};

Run OneRun(const std::string& dir, uint64_t objects) {
  std::filesystem::remove_all(dir);
  StoreOptions o;
  o.create_if_missing = true;
  std::unique_ptr<Store> store;
  Die(Store::Open(dir, o, &store), "open");
  uint32_t seed = 1;
  double t0 = Now();
  Fill(store.get(), "main", objects / 2, &seed);
  ObjectId head = *store->refs()->Resolve(BranchRef("main"));
  RefTransaction tx;
  tx.Update(BranchRef("tmp"), ObjectId(), head, "bench");
  Die(store->UpdateRefs(tx), "branch");
  Fill(store.get(), "tmp", objects / 2, &seed);
  RefTransaction drop;
  drop.Delete(BranchRef("tmp"), std::nullopt, "bench");
  Die(store->UpdateRefs(drop), "drop");
  Die(store->Sync(), "sync");
  Run r{};
  r.fill_s = Now() - t0;
  r.rss_before_kb = PeakRssKb();
  GcOptions gc;
  gc.retention_us = -1000000;
  GcStats stats;
  double t1 = Now();
  Die(store->Gc(gc, &stats), "gc");
  r.gc_s = Now() - t1;
  r.mark_s = stats.mark_seconds;
  r.sweep_s = stats.sweep_seconds;
  r.before = stats.objects_before;
  r.swept = stats.swept;
  r.rss_peak_kb = PeakRssKb();
  store.reset();
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace
}  // namespace larix

int main(int argc, char** argv) {
  uint64_t objects = 1000000;
  int reps = 3;
  std::string dir = "/tmp/larix_gc_bench";
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--objects" && i + 1 < argc) objects = std::stoull(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else {
      fprintf(stderr, "usage: gc_bench [--objects N] [--reps R] [--dir D]\n");
      return 2;
    }
  }
  std::vector<larix::Run> runs;
  for (int r = 0; r < reps; r++) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      larix::Run run = larix::OneRun(dir, objects);
      if (write(fds[1], &run, sizeof(run)) != sizeof(run)) _exit(1);
      _exit(0);
    }
    close(fds[1]);
    larix::Run run;
    bool ok = read(fds[0], &run, sizeof(run)) == sizeof(run);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!ok) return 1;
    runs.push_back(run);
    printf("run %d: %llu objects, swept %llu, gc %.2f s (mark %.2f, sweep "
           "%.2f), peak RSS %ld MB (before gc %ld MB)\n",
           r + 1, (unsigned long long)run.before,
           (unsigned long long)run.swept, run.gc_s, run.mark_s, run.sweep_s,
           run.rss_peak_kb / 1024, run.rss_before_kb / 1024);
  }
  auto median = [&](auto field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(field(r));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  printf("\nmedian of %d: gc %.2f s, mark %.2f s, sweep %.2f s, peak RSS %.0f MB"
         " (%.0f MB before gc)\n",
         reps, median([](const auto& r) { return r.gc_s; }),
         median([](const auto& r) { return r.mark_s; }),
         median([](const auto& r) { return r.sweep_s; }),
         median([](const auto& r) { return r.rss_peak_kb / 1024.0; }),
         median([](const auto& r) { return r.rss_before_kb / 1024.0; }));
  return 0;
}
