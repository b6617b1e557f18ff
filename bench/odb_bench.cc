// odb_bench: object write and read throughput of the Backend implementations,
// to choose the default on-disk backend
// (docs/decisions/0001-object-backend.md).
//
// Workload.  Commit-shaped batches: each Apply() holds one 4 KiB page, three
// small tree nodes (16 child ids each, ~0.5 KiB, incompressible) and one
// commit (~200 bytes), plus two record puts (the branch ref and a reflog
// entry), as one Larix transaction writes them.  Pages come in two kinds:
//   sqlite  SQLite-like table pages, half full: a header, a cell pointer
//           array, zero-filled free space, and cells of small integers and
//           words (zstd level 1 brings them to about a third);
//   random  4 KiB of random bytes (incompressible, stored raw).
// Objects are framed by Odb::Frame (zstd where it pays) before timing, so
// only the backend is measured.
//
// Measurements, each repeated --runs times (default 5) in fresh directories;
// runs of different backends interleave, in an order rotated every run, so
// that background load on the machine spreads over all of them, and every
// timed phase starts after sync(2) and a short pause; medians are printed:
//   write sync=true   objects/s of Apply(sync=true) over the first M objects
//                     (--sync-objects, default 10000): one fsync a commit,
//                     so the rate hardly depends on the store's size;
//   write sync=false  objects/s of Apply(sync=false) over all N objects,
//                     then Sync() -- where LevelDB's compactions show;
//   random read       objects/s of ReadObject() of uniformly random ids of
//                     that N-object store, one thread, after closing and
//                     reopening it (the OS page cache stays warm);
//   disk              bytes on disk per object after the reopen, all files;
//   write amp         bytes the process wrote to storage during the unsynced
//                     load and the close after it (Linux /proc/self/io,
//                     LevelDB's compactions included), per stored byte:
//                     immune to timing noise.
//
// Usage: odb_bench [--objects N] [--sync-objects M] [--quick] [--runs R]
//                  [--dir DIR] [--backends memory,leveldb,pack]
//                  [--pages sqlite,random]
// --quick is --objects 10000 --sync-objects 2500.  DIR (default: a new
// directory under the system temporary directory) must be on the
// filesystem to measure.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "larix/sys/backend.h"
#include "objects/odb.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Config {
  size_t objects = 100000;
  size_t sync_objects = 10000;  // synced commits are fsync-bound: fewer do
  int runs = 5;
  std::string dir;
  std::vector<std::string> backends = {"memory", "leveldb", "pack"};
  std::vector<std::string> pages = {"sqlite", "random"};
};

struct Workload {
  std::vector<WriteBatch> batches;
  std::vector<ObjectId> ids;
  std::vector<std::string> stored;  // parallel to ids, for checking reads
  uint64_t stored_bytes = 0;
};

// A half-full SQLite table b-tree leaf page: 8-byte header, cell pointers,
// free space of zeros, then cells packed at the end of the page.
std::string SqliteLikePage(std::mt19937_64& rng, uint64_t page_no) {
  static const char* kWords[] = {
      "alpha", "bravo",  "charlie", "delta", "echo",   "foxtrot", "golf",
      "hotel", "india",  "juliet",  "kilo",  "lima",   "mike",    "november",
      "oscar", "papa",   "quebec",  "romeo", "sierra", "tango",   "uniform",
      "victor", "whiskey", "xray",  "yankee", "zulu",  "open",    "closed"};
  std::string page(4096, '\0');
  size_t end = page.size();
  std::vector<uint16_t> pointers;
  uint64_t rowid = page_no * 100;
  while (end > 2048 + 64) {
    std::string cell;
    cell.push_back(static_cast<char>(++rowid & 0x7f));
    cell.push_back(static_cast<char>(rng() % 100));  // an integer column
    for (int w = 0; w < 3; w++) cell += kWords[rng() % 28];
    cell += std::to_string(rng() % 100000);
    cell.insert(cell.begin(), static_cast<char>(cell.size()));
    end -= cell.size();
    std::memcpy(&page[end], cell.data(), cell.size());
    pointers.push_back(static_cast<uint16_t>(end));
  }
  page[0] = 0x0d;  // table leaf
  page[3] = static_cast<char>(pointers.size() >> 8);
  page[4] = static_cast<char>(pointers.size());
  page[5] = static_cast<char>(end >> 8);
  page[6] = static_cast<char>(end);
  for (size_t i = 0; i < pointers.size(); i++) {
    page[8 + 2 * i] = static_cast<char>(pointers[i] >> 8);
    page[9 + 2 * i] = static_cast<char>(pointers[i]);
  }
  return page;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

Workload MakeWorkload(size_t objects, const std::string& pages) {
  Workload w;
  std::mt19937_64 rng(42);
  OdbOptions odb_options;
  auto scratch = NewMemoryBackend();
  Odb odb(scratch.get(), odb_options);
  const size_t batches = std::max<size_t>(1, objects / 5);
  for (size_t b = 0; b < batches; b++) {
    WriteBatch batch;
    std::vector<std::string> canonical;
    canonical.push_back(std::string("\x01\x01", 2) +
                        (pages == "sqlite" ? SqliteLikePage(rng, b)
                                           : RandomBytes(rng, 4096)));
    for (int t = 0; t < 3; t++) {
      canonical.push_back(std::string("\x02\x01\x00", 3) +
                          RandomBytes(rng, 16 * 32));
    }
    canonical.push_back("\x03\x01" + RandomBytes(rng, 64) +
                        "author bench <bench@example.com> 1700000000000000\n"
                        "commit " + std::to_string(b) + ": update table t\n");
    for (const std::string& c : canonical) {
      ObjectId id = odb.IdOf(c);
      std::string stored = odb.Frame(c);
      w.stored_bytes += stored.size();
      batch.PutObject(id, stored);
      w.ids.push_back(id);
      w.stored.push_back(std::move(stored));
    }
    batch.PutRecord("refs/heads/main", w.ids.back().ToHex());
    char log_key[64];
    std::snprintf(log_key, sizeof(log_key), "reflog/main/%012zu", b);
    batch.PutRecord(log_key, w.ids.back().ToHex() + " commit");
    w.batches.push_back(std::move(batch));
  }
  return w;
}

Status Open(const std::string& kind, const std::string& dir,
            std::unique_ptr<Backend>* out) {
  if (kind == "memory") {
    *out = NewMemoryBackend();
    return Status::OK();
  }
  BackendOptions options;
  return kind == "leveldb" ? OpenLevelDbBackend(dir, options, out)
                           : OpenPackBackend(dir, options, out);
}

struct Sample {
  double write_per_s = 0;       // sync=false, whole workload
  double sync_write_per_s = 0;  // sync=true, first --sync-objects objects
  double read_per_s = 0;
  double disk_per_object = 0;
  double write_amplification = 0;  // bytes written to storage / stored bytes
};

// Bytes this process has caused to be written to storage, less those of
// files deleted before they were written back (Linux /proc/self/io;
// LevelDB's compaction thread included).
uint64_t StorageBytesWritten() {
  FILE* f = std::fopen("/proc/self/io", "r");
  if (!f) return 0;
  char line[128];
  unsigned long value = 0, written = 0, cancelled = 0;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::sscanf(line, "write_bytes: %lu", &value) == 1) written = value;
    if (std::sscanf(line, "cancelled_write_bytes: %lu", &value) == 1) {
      cancelled = value;
    }
  }
  std::fclose(f);
  return written - std::min(written, cancelled);
}

// Lets the previous phase's writeback and deletions finish, so that one
// backend's timed phase does not pay for another's leftovers.
void Settle() {
  ::sync();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "odb_bench: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  std::exit(1);
}

// Applies the first `batches` batches of `w` to a new store in `dir` and
// returns objects written per second (Sync() included).
double TimeWrites(Backend* backend, const Workload& w, size_t batches,
                  bool sync) {
  Settle();
  const auto t0 = Clock::now();
  for (size_t b = 0; b < batches; b++) {
    Status s = backend->Apply(w.batches[b], WriteOptions{sync});
    if (!s.ok()) Die("apply", s);
  }
  Status s = backend->Sync();
  if (!s.ok()) Die("sync", s);
  return 5.0 * batches / Seconds(Clock::now() - t0);
}

// One run for one backend: a synced-commit write measurement, then a full
// unsynced load, reopened and read back at random.
Sample MeasureOnce(const std::string& kind, const Workload& w,
                   size_t sync_batches, const std::string& dir,
                   uint64_t seed) {
  Sample sample;
  std::unique_ptr<Backend> backend;
  Status s;
  if (sync_batches > 0) {
    fs::remove_all(dir);
    s = Open(kind, dir, &backend);
    if (!s.ok()) Die("open " + dir, s);
    sample.sync_write_per_s = TimeWrites(backend.get(), w, sync_batches, true);
    backend.reset();
  }

  fs::remove_all(dir);
  s = Open(kind, dir, &backend);
  if (!s.ok()) Die("open " + dir, s);
  const uint64_t written_before = StorageBytesWritten();
  sample.write_per_s =
      TimeWrites(backend.get(), w, w.batches.size(), /*sync=*/false);
  if (kind != "memory") {
    backend.reset();  // waits for a running LevelDB compaction
    sample.write_amplification =
        static_cast<double>(StorageBytesWritten() - written_before) /
        w.stored_bytes;
    s = Open(kind, dir, &backend);
    if (!s.ok()) Die("reopen " + dir, s);
    BackendStats stats;
    s = backend->GetStats(&stats);
    if (!s.ok()) Die("stats", s);
    sample.disk_per_object = static_cast<double>(stats.disk_bytes) /
                             std::max<uint64_t>(1, stats.objects);
  }

  std::mt19937_64 rng(seed);
  std::vector<size_t> order(w.ids.size());
  for (size_t& i : order) i = rng() % w.ids.size();
  std::string stored;
  Settle();
  const auto t1 = Clock::now();
  for (size_t i : order) {
    s = backend->ReadObject(w.ids[i], &stored);
    if (!s.ok()) Die("read", s);
    if (stored != w.stored[i]) {
      Die("read", Status::Corruption("wrong bytes for " + w.ids[i].ToHex()));
    }
  }
  sample.read_per_s = order.size() / Seconds(Clock::now() - t1);
  backend.reset();
  fs::remove_all(dir);
  return sample;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2]
                      : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Config ParseArgs(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "odb_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      c.objects = 10000;
      c.sync_objects = 2500;
    } else if (a == "--objects") {
      c.objects = std::stoul(value());
    } else if (a == "--sync-objects") {
      c.sync_objects = std::stoul(value());
    } else if (a == "--runs") {
      c.runs = std::max(1, std::stoi(value()));
    } else if (a == "--dir") {
      c.dir = value();
    } else if (a == "--backends") {
      c.backends = SplitList(value());
    } else if (a == "--pages") {
      c.pages = SplitList(value());
    } else {
      std::fprintf(stderr,
                   "usage: odb_bench [--objects N] [--sync-objects M] "
                   "[--quick] [--runs R] [--dir DIR] "
                   "[--backends memory,leveldb,pack] "
                   "[--pages sqlite,random]\n");
      std::exit(2);
    }
  }
  return c;
}

int Main(int argc, char** argv) {
  Config config = ParseArgs(argc, argv);
  bool own_dir = false;
  if (config.dir.empty()) {
    std::string pattern =
        (fs::temp_directory_path() / "larix_odb_bench_XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    config.dir = pattern;
    own_dir = true;
  }
  const size_t sync_objects = std::min(config.sync_objects, config.objects);
  std::printf(
      "odb_bench: %zu objects (%zu commits of 5) per unsynced load, %zu "
      "objects per synced-commit run, %d runs, medians; in %s\n\n",
      config.objects, config.objects / 5, sync_objects, config.runs,
      config.dir.c_str());
  std::printf("%-8s %-7s %16s %16s %14s %12s %10s\n", "backend", "pages",
              "write sync=true", "write sync=false", "random read", "disk",
              "write amp");
  std::printf("%-8s %-7s %16s %16s %14s %12s %10s\n", "", "", "obj/s",
              "obj/s", "obj/s", "B/object", "");

  std::map<std::string, std::map<std::string, Sample>> medians;
  for (const std::string& pages : config.pages) {
    Workload w = MakeWorkload(config.objects, pages);
    std::map<std::string, std::vector<Sample>> samples;
    for (int run = 0; run < config.runs; run++) {
      // Rotate the order, so that no backend always follows the same one.
      for (size_t k = 0; k < config.backends.size(); k++) {
        const std::string& kind =
            config.backends[(k + run) % config.backends.size()];
        samples[kind].push_back(MeasureOnce(kind, w, sync_objects / 5,
                                            config.dir + "/" + kind,
                                            1000 + run));
      }
    }
    for (const std::string& kind : config.backends) {
      std::vector<double> sw, wr, rd, disk, amp;
      for (const Sample& s : samples[kind]) {
        sw.push_back(s.sync_write_per_s);
        wr.push_back(s.write_per_s);
        rd.push_back(s.read_per_s);
        disk.push_back(s.disk_per_object);
        amp.push_back(s.write_amplification);
      }
      Sample m{Median(wr), Median(sw), Median(rd), Median(disk), Median(amp)};
      medians[pages][kind] = m;
      std::printf("%-8s %-7s %16.0f %16.0f %14.0f %12.0f %10.2f\n",
                  kind.c_str(), pages.c_str(), m.sync_write_per_s,
                  m.write_per_s, m.read_per_s, m.disk_per_object,
                  m.write_amplification);
      std::fflush(stdout);
    }
    std::printf("  (%s pages: %.0f stored bytes per object on average)\n",
                pages.c_str(),
                static_cast<double>(w.stored_bytes) / w.ids.size());
  }

  std::printf("\npack / leveldb, ratio of medians (> 1: pack faster, or "
              "more bytes on disk / written)\n");
  std::printf("%-7s %16s %16s %14s %12s %10s\n", "pages", "write sync=true",
              "write sync=false", "random read", "disk", "write amp");
  for (auto& [pages, by_backend] : medians) {
    if (!by_backend.count("pack") || !by_backend.count("leveldb")) continue;
    const Sample& p = by_backend["pack"];
    const Sample& l = by_backend["leveldb"];
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    std::printf("%-7s %16.2f %16.2f %14.2f %12.2f %10.2f\n", pages.c_str(),
                ratio(p.sync_write_per_s, l.sync_write_per_s),
                ratio(p.write_per_s, l.write_per_s),
                ratio(p.read_per_s, l.read_per_s),
                ratio(p.disk_per_object, l.disk_per_object),
                ratio(p.write_amplification, l.write_amplification));
  }
  if (own_dir) fs::remove_all(config.dir);
  return 0;
}

}  // namespace
}  // namespace larix

int main(int argc, char** argv) { return larix::Main(argc, argv); }
