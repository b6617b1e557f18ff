// What a page costs to hash, checksum and compress, at several zstd levels,
// on the pages of a real SQLite table (sysbench's sbtest, built here with
// the system libsqlite3): the measurement behind
// docs/decisions/0003-page-compression.md.
//
//   page_codec_bench [--rows N] [--reps R]
//
// Prints per-page medians in microseconds and the average compressed size;
// "kept" counts the pages whose compression would be kept (saves >= 1/8),
// "zero-rule" the pages the Odb's zero-byte rule lets it try.

#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "objects/blake2b_lanes.h"

namespace {

using Clock = std::chrono::steady_clock;

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "page_codec_bench: %s: %s\n", what,
                 sqlite3_errmsg(db));
    std::exit(1);
  }
}

// sbtest rows like sql_bench's: digits with a '-' every 12th character.
std::string Digits(std::mt19937_64* rng, int n) {
  std::string s(n, '-');
  for (int i = 0; i < n; i++) {
    if (i % 12 != 11) s[i] = static_cast<char>('0' + (*rng)() % 10);
  }
  return s;
}

// Builds the table twice: loaded in key order (full pages) and in random
// order (pages split half-full, as in a table that grew by random
// inserts).  Returns the file's pages.
std::vector<std::string> Pages(const std::string& path, int rows,
                               bool random_order) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  Check(sqlite3_open(path.c_str(), &db), db, "open");
  Check(sqlite3_exec(db,
                     "CREATE TABLE sbtest(id INTEGER PRIMARY KEY, k INTEGER,"
                     " c TEXT, pad TEXT); CREATE INDEX k ON sbtest(k); BEGIN",
                     nullptr, nullptr, nullptr),
        db, "create");
  sqlite3_stmt* ins = nullptr;
  Check(sqlite3_prepare_v2(db, "INSERT INTO sbtest VALUES (?, ?, ?, ?)", -1,
                           &ins, nullptr),
        db, "prepare");
  std::mt19937_64 rng(7);
  std::vector<int> ids(rows);
  for (int i = 0; i < rows; i++) ids[i] = i + 1;
  if (random_order) std::shuffle(ids.begin(), ids.end(), rng);
  for (int id : ids) {
    std::string c = Digits(&rng, 120), pad = Digits(&rng, 60);
    sqlite3_bind_int(ins, 1, id);
    sqlite3_bind_int64(ins, 2, static_cast<int64_t>(rng() % rows) + 1);
    sqlite3_bind_text(ins, 3, c.data(), static_cast<int>(c.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 4, pad.data(), static_cast<int>(pad.size()),
                      SQLITE_TRANSIENT);
    Check(sqlite3_step(ins), db, "insert");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_close(db);
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove(path);
  std::vector<std::string> pages;
  for (size_t o = 0; o + 4096 <= all.size(); o += 4096) {
    pages.push_back(all.substr(o, 4096));
  }
  return pages;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over `reps` passes of the per-page time of fn.
double PerPage(const std::vector<std::string>& pages, int reps,
               const std::function<size_t(const std::string&)>& fn) {
  std::vector<double> runs;
  volatile size_t sink = 0;
  for (int r = 0; r < reps; r++) {
    auto t0 = Clock::now();
    for (const auto& p : pages) sink = sink + fn(p);
    runs.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
        pages.size());
  }
  return Median(runs);
}

void Report(const char* name, const std::vector<std::string>& pages,
            int reps) {
  size_t zero_rule = 0;
  for (const auto& p : pages) {
    size_t zeros = std::count(p.begin(), p.end(), '\0');
    zero_rule += zeros >= p.size() / 8;
  }
  std::printf("\n%s: %zu pages, %zu pass the zero-byte rule\n", name,
              pages.size(), zero_rule);
  std::printf("%-22s %10s %10s %10s %8s\n", "codec", "us/page", "decode us",
              "avg bytes", "kept");
  std::printf("%-22s %10.2f %10s %10s %8s\n", "blake2b-256",
              PerPage(pages, reps,
                      [](const std::string& p) {
                        unsigned char h[32];
                        crypto_generichash(
                            h, 32,
                            reinterpret_cast<const unsigned char*>(p.data()),
                            p.size(), nullptr, 0);
                        return static_cast<size_t>(h[0]);
                      }),
              "-", "-", "-");
  // The same digests, several pages at a time in SIMD lanes, as commits
  // hash their pages (objects/blake2b_lanes.h).
  using larix::blake2b_lanes::Kernel;
  for (Kernel kernel : {Kernel::kAvx2, Kernel::kAvx512}) {
    if (!larix::blake2b_lanes::Supported(kernel)) continue;
    const size_t lanes = larix::blake2b_lanes::Lanes(kernel);
    std::vector<double> runs;
    for (int r = 0; r < reps; r++) {
      auto t0 = Clock::now();
      for (size_t i = 0; i + lanes <= pages.size(); i += lanes) {
        larix::blake2b_lanes::Message m[8];
        uint8_t digests[8][32];
        for (size_t k = 0; k < lanes; k++) {
          m[k] = {nullptr,
                  reinterpret_cast<const uint8_t*>(pages[i + k].data())};
        }
        larix::blake2b_lanes::HashWith(kernel, m, lanes, 0,
                                       pages[i].size(), digests);
      }
      runs.push_back(std::chrono::duration<double, std::micro>(Clock::now() -
                                                               t0)
                         .count() /
                     (pages.size() / lanes * lanes));
    }
    std::string label = "blake2b-256 " + std::to_string(lanes) + " lanes";
    std::printf("%-22s %10.2f %10s %10s %8s\n", label.c_str(), Median(runs),
                "-", "-", "-");
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::string out(ZSTD_compressBound(4096), '\0'), back(4096, '\0');
  for (int level : {3, 1, -1, -3, -5, -10, -20}) {
    double enc = PerPage(pages, reps, [&](const std::string& p) {
      return ZSTD_compressCCtx(cctx, out.data(), out.size(), p.data(),
                               p.size(), level);
    });
    std::vector<std::string> frames;
    size_t bytes = 0, kept = 0;
    for (const auto& p : pages) {
      size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), p.data(),
                                   p.size(), level);
      frames.emplace_back(out.data(), n);
      bytes += n;
      kept += n + n / 8 < p.size();
    }
    std::vector<double> runs;
    for (int r = 0; r < reps; r++) {
      auto t0 = Clock::now();
      for (const auto& f : frames) {
        ZSTD_decompressDCtx(dctx, back.data(), back.size(), f.data(),
                            f.size());
      }
      runs.push_back(std::chrono::duration<double, std::micro>(
                         Clock::now() - t0)
                         .count() /
                     frames.size());
    }
    char label[32];
    std::snprintf(label, sizeof label, "zstd level %d", level);
    std::printf("%-22s %10.2f %10.2f %10zu %8zu\n", label, enc, Median(runs),
                bytes / pages.size(), kept);
  }
  ZSTD_freeCCtx(cctx);
  ZSTD_freeDCtx(dctx);
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 20000, reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  if (sodium_init() < 0 || rows < 1 || reps < 1) {
    std::fprintf(stderr, "usage: page_codec_bench [--rows N] [--reps R]\n");
    return 2;
  }
  std::string path = (std::filesystem::temp_directory_path() /
                      ("page_codec_bench_" + std::to_string(getpid())))
                         .string();
  Report("sbtest loaded in key order", Pages(path, rows, false), reps);
  Report("sbtest loaded in random order", Pages(path, rows, true), reps);
  return 0;
}
