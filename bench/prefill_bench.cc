// What a durable append costs against a write over pre-filled zeros: the
// measurement behind docs/decisions/0004-pack-prefill.md.
//
//   prefill_bench [--dir DIR] [--commits N] [--reps R]
//
// For each record size, N "commits" each write one record and fdatasync
// the file, in three ways:
//   append     at the end of the file (the file grows: fdatasync must also
//              write the inode);
//   prefilled  over zeros written and fsynced ahead in 512 KiB steps, as
//              the pack backend does (the step's cost is included);
//   overwrite  always at offset 0 (the best case: SQLite's WAL after a
//              checkpoint rewrites its file from the start).
// Prints the median over R repetitions of the mean time per commit, and
// prefilled/append.  DIR (default: the current directory) should be on
// the file system the stores live on; /tmp is often tmpfs.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

enum class Mode { kAppend, kPrefilled, kOverwrite };

void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void WriteAt(int fd, const char* data, size_t n, off_t at) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, at);
    if (w < 0) Die("pwrite");
    data += w;
    n -= static_cast<size_t>(w);
    at += w;
  }
}

// Mean microseconds per commit of `commits` records of `size` bytes.
double Run(const std::string& path, Mode mode, size_t size, int commits) {
  constexpr off_t kStep = 512 << 10;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die(path.c_str());
  std::vector<char> record(size, 'x');
  static const std::vector<char> zeros(kStep, 0);
  off_t end = 0, filled = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < commits; i++) {
    record[0] = static_cast<char>(i);
    if (mode == Mode::kPrefilled && end + static_cast<off_t>(size) > filled) {
      while (filled < end + static_cast<off_t>(size) + kStep) {
        WriteAt(fd, zeros.data(), zeros.size(), filled);
        filled += kStep;
      }
      if (::fdatasync(fd) != 0) Die("fdatasync");
    }
    WriteAt(fd, record.data(), size, mode == Mode::kOverwrite ? 0 : end);
    if (::fdatasync(fd) != 0) Die("fdatasync");
    end += static_cast<off_t>(size);
  }
  double us =
      std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  return us / commits;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".";
  int commits = 1000, reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--commits") == 0) commits = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  if (commits < 1 || reps < 1 || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: prefill_bench [--dir DIR] [--commits N] [--reps R]\n");
    return 2;
  }
  const std::string path =
      dir + "/prefill_bench_" + std::to_string(::getpid()) + ".tmp";
  std::printf("prefill_bench: %d commits, median of %d reps, in %s\n",
              commits, reps, dir.c_str());
  std::printf("%-10s %12s %12s %12s %10s\n", "record", "append us",
              "prefilled us", "overwrite us", "pre/app");
  for (size_t size : {4096, 10000, 40000, 400000}) {
    const int n = size > 100000 ? std::max(1, commits / 10) : commits;
    std::vector<double> a, p, o;
    for (int r = 0; r < reps; r++) {  // interleaved: drift hits all three
      a.push_back(Run(path, Mode::kAppend, size, n));
      p.push_back(Run(path, Mode::kPrefilled, size, n));
      o.push_back(Run(path, Mode::kOverwrite, size, n));
    }
    std::printf("%-10zu %12.1f %12.1f %12.1f %9.2fx\n", size, Median(a),
                Median(p), Median(o), Median(p) / Median(a));
  }
  return 0;
}
