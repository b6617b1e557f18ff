// page_tree_bench: measures the page tree at fanouts 16..256 to choose the
// default (docs/decisions/0002-page-tree-fanout.md).
//
// For each fanout F = 2^b, b = 4..8, and tree sizes of 1K, 100K and 1M
// pages (dense, pages 0..N-1, as SQLite files are), on the memory backend
// with the Odb's defaults (zstd on, hash-verified reads):
//   - height (levels);
//   - bytes a one-page commit stages: the sum of the *stored* sizes
//     (Odb::Frame output: codec byte + maybe-zstd payload) of the new tree
//     nodes in the batch; the page object itself is not counted.  Also the
//     canonical (unframed) size, and a two-page commit (page 0, which SQLite
//     rewrites on every commit for its change counter, plus a random page);
//   - time of Apply for one page (tree walk, node encoding, hashing,
//     framing), not including Backend::Apply;
//   - Diff of a one-page change in the 1M tree: time with a warm node cache,
//     time with no caches at all (every node read from the backend,
//     unframed, hash-verified and decoded), and nodes read;
//   - Get of a random page, warm cache;
//   - time to build the 1M tree from empty in batches of 65536 pages, each
//     batch applied to the backend;
//   - Apply and build again with zstd off: Odb::Frame attempts compression
//     of every object, at a roughly fixed ~20 us each, and tree nodes (random
//     ids) never compress, so this shows the tree's own cost;
//   - stored bytes of the whole 1M tree, per page.
// Page ids are random 32-byte hashes, as real page ids are, so nodes
// compress only where they are sparse (the bitmap).  Every time is the
// median of the runs.
//
// Usage: page_tree_bench [runs]   (default 301; the 1M build runs 3 times)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "larix/sys/backend.h"
#include "objects/odb.h"
#include "objects/page_tree.h"

namespace larix {
namespace {

using Clock = std::chrono::steady_clock;
using Sets = std::vector<std::pair<uint32_t, ObjectId>>;

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start)
      .count();
}

template <typename T>
T Median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T Check(Result<T> r) {
  Check(r.status());
  return std::move(r).value();
}

// One store and tree at one fanout.
struct Fixture {
  explicit Fixture(int bits, bool compress = true)
      : backend(NewMemoryBackend()),
        odb(backend.get(), Options(compress)),
        tree(&odb, 256 << 20, bits) {}
  static OdbOptions Options(bool compress) {
    OdbOptions options;
    options.compress = compress;
    return options;
  }
  std::unique_ptr<Backend> backend;
  Odb odb;
  PageTree tree;
};

// Builds pages 0..n-1 in batches of 65536, applying each batch.
ObjectId Build(Fixture* fx, const std::vector<ObjectId>& ids, uint32_t n) {
  ObjectId root;
  for (uint32_t base = 0; base < n; base += 1 << 16) {
    Sets sets;
    uint32_t end = std::min<uint32_t>(n, base + (1 << 16));
    for (uint32_t p = base; p < end; p++) sets.push_back({p, ids[p]});
    WriteBatch batch;
    root = Check(fx->tree.Apply(root, sets, std::nullopt, &batch));
    Check(fx->backend->Apply(batch, WriteOptions{false}));
  }
  return root;
}

struct CommitCost {
  size_t stored = 0, canonical = 0, nodes = 0;
};

CommitCost CostOf(const Odb& odb, const WriteBatch& batch) {
  CommitCost c;
  for (const auto& put : batch.objects()) {
    c.stored += put.stored.size();
    std::string canonical;
    Check(odb.Unframe(put.id, put.stored, &canonical));
    c.canonical += canonical.size();
    c.nodes++;
  }
  return c;
}

struct Row {
  int fanout;
  int height[3];
  size_t stored[3];       // one-page commit, stored bytes, per size
  size_t canonical_1m;    // one-page commit, canonical bytes, 1M
  size_t two_page_1m;     // page 0 + random page, stored bytes, 1M
  double apply_us;        // one-page Apply, 1M
  double apply_raw_us;    // the same with zstd off
  double diff_warm_us, diff_cold_us;
  uint64_t diff_nodes;
  double get_us;
  double build_ms, build_raw_ms;  // zstd on, off
  double tree_bytes_per_page;
};

Row Measure(int bits, const std::vector<ObjectId>& ids,
            const std::vector<ObjectId>& new_ids, int runs) {
  Row row{};
  row.fanout = 1 << bits;
  const uint32_t sizes[3] = {1000, 100000, 1000000};
  for (int si = 0; si < 3; si++) {
    const uint32_t n = sizes[si];
    Fixture fx(bits);
    const bool big = si == 2;
    ObjectId root;
    if (big) {
      for (bool compress : {true, false}) {
        std::vector<double> build_ms;
        for (int r = 0; r < 3; r++) {
          Fixture scratch(bits, compress);
          auto start = Clock::now();
          Build(&scratch, ids, n);
          build_ms.push_back(MicrosSince(start) / 1000);
        }
        (compress ? row.build_ms : row.build_raw_ms) = Median(build_ms);
      }
      // One-page Apply with zstd off: the tree's own cost, without the
      // compression attempt Odb::Frame makes for every object.
      Fixture raw(bits, false);
      ObjectId raw_root = Build(&raw, ids, n);
      std::mt19937 raw_rng(bits);
      std::vector<double> apply_us;
      for (int r = 0; r < runs; r++) {
        WriteBatch batch;
        auto start = Clock::now();
        Check(raw.tree.Apply(raw_root, {{raw_rng() % n, new_ids[r]}},
                             std::nullopt, &batch));
        apply_us.push_back(MicrosSince(start));
      }
      row.apply_raw_us = Median(apply_us);
    }
    root = Build(&fx, ids, n);
    row.height[si] = Check(fx.tree.Height(root));

    std::mt19937 rng(bits * 1000 + si);
    std::vector<size_t> stored, canonical, two_page;
    std::vector<double> apply_us;
    for (int r = 0; r < runs; r++) {
      uint32_t p = rng() % n;
      WriteBatch batch;
      auto start = Clock::now();
      Check(fx.tree.Apply(root, {{p, new_ids[r]}}, std::nullopt, &batch));
      apply_us.push_back(MicrosSince(start));
      CommitCost c = CostOf(fx.odb, batch);
      stored.push_back(c.stored);
      canonical.push_back(c.canonical);

      WriteBatch two;
      uint32_t q = 1 + rng() % (n - 1);
      Check(fx.tree.Apply(root, {{0, new_ids[r]}, {q, new_ids[r + 1]}},
                          std::nullopt, &two));
      two_page.push_back(CostOf(fx.odb, two).stored);
    }
    row.stored[si] = Median(stored);
    if (!big) continue;
    row.canonical_1m = Median(canonical);
    row.two_page_1m = Median(two_page);
    row.apply_us = Median(apply_us);

    // Diff of one-page changes: warm (this tree's cache) and cold (a tree
    // and Odb with no caches over the same backend).
    OdbOptions no_cache;
    no_cache.cache_bytes = 0;
    Odb cold_odb(fx.backend.get(), no_cache);
    PageTree cold(&cold_odb, 0, bits);
    std::vector<double> warm_us, cold_us;
    std::vector<uint64_t> nodes;
    for (int r = 0; r < runs; r++) {
      uint32_t p = rng() % n;
      WriteBatch batch;
      ObjectId changed =
          Check(fx.tree.Apply(root, {{p, new_ids[r]}}, std::nullopt, &batch));
      Check(fx.backend->Apply(batch, WriteOptions{false}));
      std::vector<PageChange> out;
      DiffStats stats;
      auto start = Clock::now();
      Check(fx.tree.Diff(root, changed, &out, &stats));
      warm_us.push_back(MicrosSince(start));
      nodes.push_back(stats.nodes_read);
      if (out.size() != 1 || out[0].pgno != p) {
        std::fprintf(stderr, "diff returned a wrong answer\n");
        std::exit(1);
      }
      out.clear();
      start = Clock::now();
      Check(cold.Diff(root, changed, &out));
      cold_us.push_back(MicrosSince(start));
    }
    row.diff_warm_us = Median(warm_us);
    row.diff_cold_us = Median(cold_us);
    row.diff_nodes = Median(nodes);

    // Get, warm: median over rounds of 1000 random look-ups.
    std::vector<double> get_us;
    for (int r = 0; r < runs; r++) {
      auto start = Clock::now();
      for (int k = 0; k < 1000; k++) {
        ObjectId id = Check(fx.tree.Get(root, rng() % n));
        if (id.IsNull()) std::exit(1);
      }
      get_us.push_back(MicrosSince(start) / 1000);
    }
    row.get_us = Median(get_us);

    // Stored size of the whole tree.
    size_t tree_bytes = 0;
    Check(fx.tree.WalkNodes(
        root,
        [&](const ObjectId& node) {
          std::string stored_body;
          Check(fx.backend->ReadObject(node, &stored_body));
          tree_bytes += stored_body.size();
          return true;
        },
        [](const ObjectId&) {}));
    row.tree_bytes_per_page = static_cast<double>(tree_bytes) / n;
  }
  return row;
}

int Main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(3, std::atoi(argv[1])) : 301;
  std::vector<ObjectId> ids, new_ids;
  ids.reserve(1000000);
  for (uint32_t p = 0; p < 1000000; p++) {
    ids.push_back(ObjectId::Hash("page " + std::to_string(p)));
  }
  for (int r = 0; r <= runs; r++) {
    new_ids.push_back(ObjectId::Hash("new page " + std::to_string(r)));
  }

  std::vector<Row> rows;
  for (int bits = PageTree::kMinFanoutBits; bits <= PageTree::kMaxFanoutBits;
       bits++) {
    std::fprintf(stderr, "measuring fanout %d...\n", 1 << bits);
    rows.push_back(Measure(bits, ids, new_ids, runs));
  }

  std::printf("page_tree_bench: memory backend, zstd level 1 on, %d runs, "
              "medians\n\n",
              runs);
  std::printf("Bytes staged per commit (stored = after Odb::Frame; tree nodes "
              "only, page excluded)\n\n");
  std::printf("| fanout | height 1K/100K/1M | 1-page commit stored, 1K | "
              "100K | 1M | 1M canonical | 2-page commit (pg 0 + random), 1M "
              "| tree bytes/page, 1M |\n");
  std::printf("|---:|:---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::printf("| %d | %d / %d / %d | %zu | %zu | %zu | %zu | %zu | %.1f |\n",
                r.fanout, r.height[0], r.height[1], r.height[2], r.stored[0],
                r.stored[1], r.stored[2], r.canonical_1m, r.two_page_1m,
                r.tree_bytes_per_page);
  }
  std::printf("\nTimes on the 1M-page tree\n\n");
  std::printf("| fanout | Apply 1 page (us) | Apply, zstd off (us) | "
              "Diff 1-page change, warm (us) | Diff, no cache (us) | "
              "Diff nodes read | Get, warm (us) | build 1M pages (ms) | "
              "build, zstd off (ms) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::printf("| %d | %.1f | %.1f | %.2f | %.1f | %llu | %.2f | %.0f | %.0f "
                "|\n",
                r.fanout, r.apply_us, r.apply_raw_us, r.diff_warm_us,
                r.diff_cold_us, static_cast<unsigned long long>(r.diff_nodes),
                r.get_us, r.build_ms, r.build_raw_ms);
  }
  return 0;
}

}  // namespace
}  // namespace larix

int main(int argc, char** argv) { return larix::Main(argc, argv); }
