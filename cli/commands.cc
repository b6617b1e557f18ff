// The verbs init, log, import, export, fsck and gc (see commands.h).
//
// Each verb opens the store itself with Store::Open (the process lock makes
// a second `larix` on the same store fail at once with Busy, naming the
// holder), does one thing through the public API, and closes it.  Results
// go to stdout in a stable, line-oriented form; progress (cli/progress.h)
// and errors go to stderr.

#include "cli/commands.h"

#include "larix/database.h"

#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <memory>

#include <map>

#include "cli/graph.h"
#include "cli/progress.h"
#include "larix/store.h"
#include "larix/transfer.h"
#include "objects/commit_graph.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix::cli {

Status OpenStore(const std::string& path, bool create,
                 std::unique_ptr<Store>* store) {
  if (path.empty()) return Status::InvalidArgument("no store path given");
  StoreOptions options;
  options.create_if_missing = create;
  return Store::Open(path, options, store);
}

std::string HumanBytes(uint64_t n) {
  static const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 " bytes", n);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

namespace {

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

std::string SpecName(const std::string& path, const std::string& branch) {
  return branch.empty() ? path : path + "@" + branch;
}

}  // namespace

int Fail(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "larix: %s\n", message.c_str());
  return kExitFailure;
}

int Fail(const Status& status) {
  // Messages name the thing that went wrong; the code name adds something
  // only for damage.
  if (status.IsCorruption()) return Fail("corruption: " + status.message());
  return Fail(status.message());
}

StoreSpec ParseStoreSpec(const std::string& spec) {
  StoreSpec out;
  SplitStoreSpec(spec, &out.path, &out.branch);
  return out;
}

Result<std::string> ChooseBranch(const StoreSpec& spec,
                                 const std::string& flag) {
  if (!spec.branch.empty() && !flag.empty() && spec.branch != flag) {
    return Status::InvalidArgument("two branches given: '" + spec.branch +
                                   "' (after '@') and '" + flag +
                                   "' (--branch)");
  }
  return spec.branch.empty() ? flag : spec.branch;
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "invalid duration '" + std::string(text) +
        "': use a number with a unit, e.g. 7d, 12h, 30m, 45s, 2w, or 0");
  };
  if (text == "0") return int64_t{0};
  if (text.size() < 2) return bad();
  int64_t unit_us;
  switch (text.back()) {
    case 's': unit_us = 1000000LL; break;
    case 'm': unit_us = 60 * 1000000LL; break;
    case 'h': unit_us = 3600 * 1000000LL; break;
    case 'd': unit_us = 86400 * 1000000LL; break;
    case 'w': unit_us = 7 * 86400 * 1000000LL; break;
    default: return bad();
  }
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return bad();
    n = n * 10 + (c - '0');
    if (n > INT64_MAX / unit_us) return bad();
  }
  return n * unit_us;
}

std::string FormatTime(int64_t time_us, bool micros) {
  int64_t secs = time_us / 1000000;
  int64_t frac = time_us % 1000000;
  if (frac < 0) {
    secs -= 1;
    frac += 1000000;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (micros) {
    std::snprintf(buf + n, sizeof(buf) - n, ".%06" PRId64 "Z", frac);
  } else {
    std::snprintf(buf + n, sizeof(buf) - n, "Z");
  }
  return buf;
}

int RunInit(const InitArgs& args) {
  StoreOptions options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.backend = args.backend;
  std::unique_ptr<Store> store;
  Status s = Store::Open(args.store, options, &store);
  if (!s.ok()) return Fail(s);
  std::printf("initialized empty Larix store in %s (branch %s)\n",
              args.store.c_str(), kDefaultBranch);
  return kExitOk;
}

Result<ObjectId> ResolveRev(Store* store, const std::string& rev) {
  // Ref names cannot hold '^' or '~' (git's check-ref-format), nor can ids:
  // the first one starts the suffixes.
  size_t end = rev.find_first_of("^~");
  std::string base = rev.substr(0, end);
  if (base.empty()) {
    return Status::InvalidArgument("invalid revision '" + rev + "'");
  }
  Result<ObjectId> id = store->ResolveRevision(base);
  if (!id.ok()) return id.status();
  ObjectId at = *id;
  size_t i = end == std::string::npos ? rev.size() : end;
  while (i < rev.size()) {
    uint64_t steps = 1;
    if (rev[i] == '~' && i + 1 < rev.size() && rev[i + 1] >= '0' &&
        rev[i + 1] <= '9') {
      steps = 0;
      for (i++; i < rev.size() && rev[i] >= '0' && rev[i] <= '9'; i++) {
        steps = steps * 10 + (rev[i] - '0');
        if (steps > (1u << 30)) {
          return Status::InvalidArgument("invalid revision '" + rev + "'");
        }
      }
    } else if (rev[i] == '~' || rev[i] == '^') {
      i++;
    } else {
      return Status::InvalidArgument("invalid revision '" + rev +
                                     "': use NAME, NAME^ or NAME~N");
    }
    for (uint64_t k = 0; k < steps; k++) {
      Result<std::shared_ptr<const Commit>> c = store->commits()->Load(at);
      if (!c.ok()) return c.status();
      if ((*c)->parents.empty()) {
        return Status::NotFound("revision '" + rev +
                                "' goes past the first commit");
      }
      at = (*c)->parents[0];
    }
  }
  return at;
}

std::string DefaultBranch(Store* store) {
  Result<std::string> head = store->refs()->ResolveName("HEAD");
  if (head.ok() && IsBranchRef(*head)) return std::string(ShortRefName(*head));
  return kDefaultBranch;
}

Status OpenStoreAtBranch(const std::string& store_arg,
                         const std::string& branch_flag,
                         std::unique_ptr<Store>* store, std::string* rev,
                         bool* named) {
  StoreSpec spec = ParseStoreSpec(store_arg);
  LARIX_ASSIGN_OR_RETURN(std::string branch, ChooseBranch(spec, branch_flag));
  LARIX_RETURN_IF_ERROR(OpenStore(spec.path, /*create=*/false, store));
  if (named != nullptr) *named = !branch.empty();
  *rev = branch.empty() ? DefaultBranch(store->get()) : branch;
  return Status::OK();
}

std::vector<std::string> CommitLines(const ObjectId& id, const Commit& c,
                                     const std::string& decoration,
                                     bool oneline) {
  std::vector<std::string> out;
  std::string deco = decoration.empty() ? "" : " (" + decoration + ")";
  if (oneline) {
    out.push_back(id.ShortHex() + deco + "  " + FormatTime(c.time_us, false) +
                  "  txn " + std::to_string(c.txn) + "  " + c.author + "  " +
                  FirstLine(c.message));
    return out;
  }
  out.push_back("commit " + id.ToHex() + deco);
  if (c.parents.size() > 1) {
    std::string merge;
    for (const ObjectId& p : c.parents) merge += " " + p.ShortHex();
    out.push_back("Merge: " + merge.substr(1));
  }
  out.push_back("Author: " + c.author);
  out.push_back("Date:   " + FormatTime(c.time_us, true));
  out.push_back("Txn:    " + std::to_string(c.txn));
  out.push_back("");
  size_t start = 0;
  const std::string& m = c.message;
  do {
    size_t nl = m.find('\n', start);
    out.push_back("    " + m.substr(start, nl == std::string::npos
                                               ? std::string::npos
                                               : nl - start));
    start = nl == std::string::npos ? m.size() + 1 : nl + 1;
  } while (start <= m.size());
  return out;
}

std::map<ObjectId, std::string> RefDecorations(Store* store) {
  std::map<ObjectId, std::string> out;
  for (const char* prefix : {"refs/heads/", "refs/tags/"}) {
    std::vector<std::pair<std::string, RefValue>> refs;
    if (!store->refs()->List(prefix, &refs).ok()) continue;
    bool tags = std::string_view(prefix) == "refs/tags/";
    for (const auto& [name, value] : refs) {
      Result<ObjectId> commit = store->ResolveRevision(name);
      if (!commit.ok()) continue;
      std::string& d = out[*commit];
      if (!d.empty()) d += ", ";
      d += (tags ? "tag: " : "") + std::string(ShortRefName(name));
    }
  }
  return out;
}

int RunLog(const LogArgs& args) {
  std::unique_ptr<Store> store;
  std::string rev;
  bool named = false;
  Status s = OpenStoreAtBranch(args.store, args.branch, &store, &rev, &named);
  if (!s.ok()) return Fail(s);
  if (args.all && named) return Fail("give --all or a branch, not both");
  std::map<ObjectId, std::string> decorations;
  if (args.graph || args.all) decorations = RefDecorations(store.get());
  std::vector<ObjectId> heads;
  if (args.all) {
    for (const auto& [id, names] : decorations) heads.push_back(id);
  } else {
    Result<ObjectId> head = ResolveRev(store.get(), rev);
    if (!head.ok()) return Fail(head.status());
    heads.push_back(*head);
  }

  CommitGraphDrawing drawing;
  bool first = true;
  s = store->commits()->Log(
      heads, args.max_count, [&](const ObjectId& id, const Commit& c) {
        std::string decoration;
        if (args.graph || args.all) {
          auto it = decorations.find(id);
          if (it != decorations.end()) decoration = it->second;
        } else if (first && !args.oneline) {
          decoration = rev;  // the full form names what it starts from
        }
        std::vector<std::string> lines =
            CommitLines(id, c, decoration, args.oneline);
        if (!args.graph) {
          if (!first && !args.oneline) std::printf("\n");
          for (const std::string& line : lines) {
            std::printf("%s\n", line.c_str());
          }
        } else {
          if (!first && !args.oneline) {
            std::printf("%s\n", drawing.Padding().c_str());
          }
          // The commit's row carries its first line, straight lanes the
          // rest; then the rows that join and fork lanes.
          CommitGraphDrawing::Rows rows = drawing.Add(id, c.parents);
          std::printf("%s %s\n", rows.commit.c_str(), lines[0].c_str());
          for (size_t i = 1; i < lines.size(); i++) {
            std::string line = rows.beside + " " + lines[i];
            while (!line.empty() && line.back() == ' ') line.pop_back();
            std::printf("%s\n", line.c_str());
          }
          for (const std::string& row : rows.moves) {
            std::printf("%s\n", row.c_str());
          }
        }
        first = false;
        return true;
      });
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int RunImport(const ImportArgs& args) {
  StoreSpec spec = ParseStoreSpec(args.store);
  Result<std::string> branch = ChooseBranch(spec, args.branch);
  if (!branch.ok()) return Fail(branch.status());
  // Check the file before creating a store for it.
  Status s = CheckSqliteFile(args.file);
  if (!s.ok()) return Fail(s);
  std::unique_ptr<Store> store;
  s = OpenStore(spec.path, /*create=*/true, &store);
  if (!s.ok()) return Fail(s);

  ProgressLine progress("importing " + args.file, args.progress);
  ImportOptions options;
  options.force = args.force;
  options.progress = [&](uint64_t done, uint64_t total) {
    progress.Update(done, total, "pages");
  };
  CommitResult result;
  s = ImportSqliteFile(args.file, store.get(), *branch, options, &result);
  progress.Finish();
  if (!s.ok()) return Fail(s);
  Result<uint32_t> pages = store->trees()->PageCount(result.tree);
  struct stat st;
  uint64_t bytes = stat(args.file.c_str(), &st) == 0 ? st.st_size : 0;
  std::printf("imported %s into %s: %u pages (%s), commit %s, txn %" PRIu64
              "\n",
              args.file.c_str(),
              SpecName(spec.path, branch->empty() ? kDefaultBranch : *branch)
                  .c_str(),
              pages.ok() ? *pages : 0, HumanBytes(bytes).c_str(),
              result.commit.ShortHex().c_str(), result.txn);
  return kExitOk;
}

int RunExport(const ExportArgs& args) {
  StoreSpec spec = ParseStoreSpec(args.store);
  Result<std::string> branch = ChooseBranch(spec, args.branch);
  if (!branch.ok()) return Fail(branch.status());
  if (!branch->empty() && !args.commit.empty()) {
    return Fail("give a branch or --commit, not both");
  }
  std::string rev = !args.commit.empty() ? args.commit
                    : branch->empty()    ? std::string(kDefaultBranch)
                                         : *branch;
  std::unique_ptr<Store> store;
  Status s = OpenStore(spec.path, /*create=*/false, &store);
  if (!s.ok()) return Fail(s);
  Result<ObjectId> commit = store->ResolveRevision(rev);
  if (!commit.ok()) return Fail(commit.status());

  ProgressLine progress("exporting " + rev, args.progress);
  ExportOptions options;
  options.force = args.force;
  options.progress = [&](uint64_t done, uint64_t total) {
    progress.Update(done, total, "pages");
  };
  ExportStats stats;
  s = ExportToSqliteFile(store.get(), *commit, args.out, options, &stats);
  progress.Finish();
  if (!s.ok()) return Fail(s);
  std::printf("exported %s (commit %s) to %s: %" PRIu64 " pages (%s)\n",
              rev.c_str(), commit->ShortHex().c_str(), args.out.c_str(),
              stats.pages, HumanBytes(stats.bytes).c_str());
  return kExitOk;
}

int RunFsck(const FsckArgs& args) {
  StoreSpec spec = ParseStoreSpec(args.store);
  std::unique_ptr<Store> store;
  Status s = OpenStore(spec.path, /*create=*/false, &store);
  if (!s.ok()) return Fail(s);
  ProgressLine progress("fsck", args.progress);
  FsckReport report;
  s = store->Fsck(&report, [&](uint64_t done, uint64_t total) {
    progress.Update(done, total, "objects");
  });
  progress.Finish();
  if (!s.ok()) return Fail(s);
  for (const FsckProblem& p : report.problems) {
    std::printf("%s: %s\n", p.where.c_str(), p.what.c_str());
  }
  std::printf("checked %" PRIu64 " objects and %" PRIu64 " refs: ",
              report.objects_checked, report.refs_checked);
  if (report.ok()) {
    std::printf("no problems\n");
    return kExitOk;
  }
  std::printf("%zu problem%s\n", report.problems.size(),
              report.problems.size() == 1 ? "" : "s");
  return kExitFailure;
}

int RunGc(const GcArgs& args) {
  GcOptions options;
  if (!args.retention.empty()) {
    Result<int64_t> retention = ParseDuration(args.retention);
    if (!retention.ok()) return Fail(retention.status());
    options.retention_us = *retention;
  }
  StoreSpec spec = ParseStoreSpec(args.store);
  std::unique_ptr<Store> store;
  Status s = OpenStore(spec.path, /*create=*/false, &store);
  if (!s.ok()) return Fail(s);
  ProgressLine progress("gc", args.progress);
  options.progress = [&](const std::string& phase, uint64_t done,
                         uint64_t total) {
    progress.Update(done, total, "objects", phase);
  };
  GcStats stats;
  s = store->Gc(options, &stats);
  progress.Finish();
  if (!s.ok()) return Fail(s);
  std::printf("gc: %" PRIu64 " objects before, %" PRIu64 " reachable, %" PRIu64
              " removed; %" PRIu64
              " reflog entries expired (mark %.2f s, sweep %.2f s)\n",
              stats.objects_before, stats.marked, stats.swept,
              stats.reflog_entries_expired, stats.mark_seconds,
              stats.sweep_seconds);
  return kExitOk;
}

}  // namespace larix::cli
