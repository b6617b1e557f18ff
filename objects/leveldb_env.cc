#include "objects/leveldb_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace larix {
namespace {

leveldb::Status PosixError(const std::string& path, int err) {
  if (err == ENOENT) return leveldb::Status::NotFound(path, std::strerror(err));
  return leveldb::Status::IOError(path, std::strerror(err));
}

// Reads up to `n` bytes at `offset` into `dst`; *done is how many (short
// only at the end of the file).
leveldb::Status PreadFully(int fd, const std::string& path, uint64_t offset,
                           size_t n, char* dst, size_t* done) {
  *done = 0;
  while (*done < n) {
    ssize_t r = ::pread(fd, dst + *done, n - *done,
                        static_cast<off_t>(offset + *done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    if (r == 0) break;  // end of file
    *done += static_cast<size_t>(r);
  }
  return leveldb::Status::OK();
}

leveldb::Status FileSize(int fd, const std::string& path, uint64_t* size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return PosixError(path, errno);
  *size = static_cast<uint64_t>(st.st_size);
  return leveldb::Status::OK();
}

class PosixPositionalFile final : public PositionalFile {
 public:
  PosixPositionalFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixPositionalFile() override { ::close(fd_); }

  // Writes go out in pieces of at most kMaxWriteBytes.  One pwrite() of a
  // batched commit's ~470 KB record took anywhere from 95 to 940 us on
  // this machine's kernel (6.18, ext4), the time spent copying into freshly
  // allocated large page-cache folios; 64 KiB pieces took 130 us every
  // time (docs/performance.md).  A record is checksummed, so splitting the
  // write changes nothing for crash safety.
  static constexpr size_t kMaxWriteBytes = 64 << 10;

  leveldb::Status Write(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::pwrite(fd_, data.data() + done,
                           std::min(data.size() - done, kMaxWriteBytes),
                           static_cast<off_t>(offset + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      done += static_cast<size_t>(w);
    }
    return leveldb::Status::OK();
  }

  leveldb::Status Read(uint64_t offset, size_t n, std::string* out) override {
    out->resize(n);
    size_t done = 0;
    leveldb::Status s = PreadFully(fd_, path_, offset, n, out->data(), &done);
    out->resize(done);
    return s;
  }

  leveldb::Status Size(uint64_t* size) override {
    return FileSize(fd_, path_, size);
  }

  leveldb::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return PosixError(path_, errno);
    }
    return leveldb::Status::OK();
  }

  leveldb::Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return leveldb::Status::OK();
  }

  // Through a descriptor of its own, so that a write-back error is
  // reported to both this one and the writer's (each open file
  // description sees it once), and piece by piece: each piece of zeros is
  // written back (sync_file_range) before the next is written, so a
  // concurrent Sync finds at most one piece still dirty.  The final
  // fdatasync makes the new size and blocks durable.
  leveldb::Status FillZeros(uint64_t offset, uint64_t length) override {
    static const std::string zeros(kMaxWriteBytes, '\0');
    int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path_, errno);
    leveldb::Status s;
    for (uint64_t at = offset; s.ok() && at < offset + length;) {
      size_t n = static_cast<size_t>(
          std::min<uint64_t>(zeros.size(), offset + length - at));
      ssize_t w = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(at));
      if (w < 0) {
        if (errno != EINTR) s = PosixError(path_, errno);
        continue;
      }
#ifdef __linux__
      if (::sync_file_range(fd, static_cast<off_t>(at), w,
                            SYNC_FILE_RANGE_WAIT_BEFORE |
                                SYNC_FILE_RANGE_WRITE |
                                SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
        s = PosixError(path_, errno);
      }
#endif
      at += static_cast<uint64_t>(w);
    }
    if (s.ok() && ::fdatasync(fd) != 0) s = PosixError(path_, errno);
    ::close(fd);
    return s;
  }
  bool ConcurrentFill() const override { return true; }

 private:
  const std::string path_;
  const int fd_;
};

}  // namespace

leveldb::Status PositionalFile::FillZeros(uint64_t offset, uint64_t length) {
  static const std::string zeros(64 << 10, '\0');
  leveldb::Status s;
  for (uint64_t at = offset; s.ok() && at < offset + length;
       at += zeros.size()) {
    s = Write(at, std::string_view(zeros).substr(
                      0, std::min<uint64_t>(zeros.size(), offset + length - at)));
  }
  return s.ok() ? Sync() : s;
}

namespace {

class PreadEnvImpl final : public leveldb::EnvWrapper,
                           public PositionalFileEnv {
 public:
  PreadEnvImpl() : EnvWrapper(leveldb::Env::Default()) {}
  leveldb::Status NewRandomAccessFile(
      const std::string& path, leveldb::RandomAccessFile** result) override {
    std::unique_ptr<PreadFile> file;
    leveldb::Status s = PreadFile::Open(path, &file);
    *result = s.ok() ? file.release() : nullptr;
    return s;
  }
  leveldb::Status NewPositionalFile(
      const std::string& path, bool truncate,
      std::unique_ptr<PositionalFile>* out) override {
    int fd = ::open(path.c_str(),
                    O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0),
                    0644);
    if (fd < 0) return PosixError(path, errno);
    out->reset(new PosixPositionalFile(path, fd));
    return leveldb::Status::OK();
  }
};

}  // namespace

leveldb::Status PreadFile::Open(const std::string& path,
                                std::unique_ptr<PreadFile>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PosixError(path, errno);
  out->reset(new PreadFile(path, fd));
  return leveldb::Status::OK();
}

PreadFile::~PreadFile() { ::close(fd_); }

leveldb::Status PreadFile::Size(uint64_t* size) const {
  return FileSize(fd_, path_, size);
}

leveldb::Status PreadFile::Read(uint64_t offset, size_t n,
                                leveldb::Slice* result, char* scratch) const {
  size_t done = 0;
  leveldb::Status s = PreadFully(fd_, path_, offset, n, scratch, &done);
  // A short read at the end of the file is for the caller to judge.
  *result = leveldb::Slice(scratch, s.ok() ? done : 0);
  return s;
}

leveldb::Env* PreadEnv() {
  static PreadEnvImpl* env = new PreadEnvImpl();  // never destroyed
  return env;
}

Status FromLevelDb(const leveldb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotSupportedError()) return Status::NotSupported(msg);
  if (msg.find("No space left on device") != std::string::npos) {
    return Status::Full(msg);
  }
  if (s.IsInvalidArgument()) {
    if (msg.find("(create_if_missing is false)") != std::string::npos) {
      return Status::NotFound(msg);
    }
    if (msg.find("(error_if_exists is true)") != std::string::npos) {
      return Status::AlreadyExists(msg);
    }
    return Status::InvalidArgument(msg);
  }
  if (msg.find("already held by process") != std::string::npos ||
      msg.find("Resource temporarily unavailable") != std::string::npos) {
    return Status::Busy(msg + " (the store is open elsewhere)");
  }
  return Status::IOError(msg);
}

Status AddDirectoryBytes(leveldb::Env* env, const std::string& dir,
                         uint64_t* bytes) {
  std::vector<std::string> children;
  LARIX_RETURN_IF_ERROR(
      FromLevelDb(env->GetChildren(dir, &children), "list " + dir));
  for (const std::string& name : children) {
    uint64_t size = 0;
    if (name != "." && name != ".." &&
        env->GetFileSize(dir + "/" + name, &size).ok()) {
      *bytes += size;
    }
  }
  return Status::OK();
}

}  // namespace larix
