// What both LevelDB-based backends (leveldb_backend.cc, pack_backend.cc)
// need from LevelDB besides the database itself: turning its Status into
// Larix's, and sizing a directory through the Env (so fault-injecting Envs
// see every file access).

#ifndef LARIX_OBJECTS_LEVELDB_ENV_H_
#define LARIX_OBJECTS_LEVELDB_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "larix/status.h"
#include "leveldb/env.h"
#include "leveldb/status.h"

namespace larix {

// Maps a LevelDB (or leveldb::Env) status to a Larix one, with `context`
// (naming the directory, object or record) in front of LevelDB's message:
// ENOSPC is Full, a held LOCK is Busy, a missing database NotFound, an
// existing one AlreadyExists.
Status FromLevelDb(const leveldb::Status& s, std::string_view context);

// A file read with pread.  LevelDB's POSIX Env maps read-only files into
// memory instead, and mapped pages count as the process's resident memory:
// a store's index tables and packs then added their whole size to RSS (50
// MB in a 1M-row bulk load), outside every cache budget.  A PreadFile also
// reads a file that is still being appended to (packs): Size() refreshes
// what is readable.
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  static leveldb::Status Open(const std::string& path,
                              std::unique_ptr<PreadFile>* out);
  ~PreadFile() override;

  leveldb::Status Size(uint64_t* size) const;
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override;

 private:
  PreadFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

// A file written at explicit offsets, for pack files whose space is filled
// with zeros ahead of the appends that later overwrite it
// (docs/decisions/0004-pack-prefill.md).  leveldb::WritableFile can only
// append.
class PositionalFile {
 public:
  virtual ~PositionalFile() = default;
  virtual leveldb::Status Write(uint64_t offset, std::string_view data) = 0;
  // Reads up to `n` bytes at `offset` (fewer at the end of the file).
  virtual leveldb::Status Read(uint64_t offset, size_t n, std::string* out) = 0;
  virtual leveldb::Status Size(uint64_t* size) = 0;
  virtual leveldb::Status Truncate(uint64_t size) = 0;
  // Makes every byte written so far durable (fdatasync).  A new file's
  // directory entry is not covered (see the pack backend's MANIFEST).
  virtual leveldb::Status Sync() = 0;

  // Writes zeros over [offset, offset + length) and makes them durable
  // (and, as Sync, whatever else was written).  This one writes them with
  // Write and then calls Sync.
  virtual leveldb::Status FillZeros(uint64_t offset, uint64_t length);
  // True if FillZeros may run on another thread while Write and Sync work
  // on other bytes of the file, without making a concurrent Sync write the
  // zeros too.
  virtual bool ConcurrentFill() const { return false; }
};

// Implemented by Envs that can open PositionalFiles: PreadEnv() and the
// tests' FaultInjectionEnv (over an Env that can).  The pack backend finds
// it with dynamic_cast and appends through leveldb::WritableFile without it.
class PositionalFileEnv {
 public:
  virtual ~PositionalFileEnv() = default;
  // False if this Env cannot open positional files after all (a wrapper
  // around an Env that cannot).
  virtual bool SupportsPositionalFiles() const { return true; }
  // Opens `path` for reading and writing, creating it if it is missing;
  // with `truncate`, empty.
  virtual leveldb::Status NewPositionalFile(
      const std::string& path, bool truncate,
      std::unique_ptr<PositionalFile>* out) = 0;
};

// leveldb::Env::Default() with its random-access files read by PreadFile.
// Backends use it in place of the default Env; other Envs (tests' fault
// injection, in-memory ones) are used as given.
leveldb::Env* PreadEnv();

// Adds the sizes of the files directly in `dir` to *bytes.
Status AddDirectoryBytes(leveldb::Env* env, const std::string& dir,
                         uint64_t* bytes);

}  // namespace larix

#endif  // LARIX_OBJECTS_LEVELDB_ENV_H_
