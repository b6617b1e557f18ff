// FaultInjectionEnv: a leveldb::Env wrapper for crash and I/O-error tests.
//
// Every on-disk Larix backend does all of its file access through a
// leveldb::Env (BackendOptions::env), and so does the LevelDB inside it.
// Wrapping that Env lets a test (1) make the Nth write or sync fail, and
// (2) simulate a power failure by throwing away everything that was not
// made durable.  Written in the spirit of LevelDB's FaultInjectionTestEnv.
//
// The durability model (what a power failure keeps):
//   1. Bytes appended to a file survive only up to the file's size at its
//      last successful Sync().  Positional files (PositionalFileEnv, over a
//      base Env that has them, such as PreadEnv()) also lose their
//      unsynced overwrites and truncations: the old bytes come back.
//   2. A file created (or renamed into place) since tracking began
//      survives only if its directory was synced afterwards.  leveldb::Env
//      has no directory sync; its POSIX implementation fsyncs a file's
//      directory whenever a file whose name begins with "MANIFEST" is
//      synced, and this model follows that convention: syncing
//      dir/MANIFEST* marks every file in dir as having a durable entry.
//   3. Deletes are not modelled: a removed file stays removed.
// Files the Env never opened for writing are never touched.
//
// Fault points.  Each of these operations is one "fault point": Append()
// and Sync() on a writable file, Write(), Truncate() and Sync() on a
// positional file, and creating either kind of file (NewWritableFile,
// NewAppendableFile, NewPositionalFile).  FailNthFaultPoint(n) makes the nth
// point from now fail with IOError ("No space left on device" for
// FaultKind::kNoSpace, which Larix maps to Status::Full).  A failed Append
// can optionally write half of its data first (a torn write).  A test that
// wants to try every failure point of an operation first counts them:
//
//   env.ResetFaultPointCount();
//   RunWorkload();                       // on a scratch copy
//   uint64_t points = env.fault_points();
//
// or simply sweeps n = 1, 2, ... until fault_fired() stays false.
//
// A crash is simulated in four steps; the order matters because closing a
// backend may still write (destructors flush buffers):
//
//   env.SetFilesystemActive(false);  // the power is off: nothing more lands
//   backend.reset();                 // the process goes away
//   ASSERT_TRUE(env.DropUnsyncedData().ok());
//   env.SetFilesystemActive(true);
//   env.ResetState();                // what is on disk now is "synced"
//
// Thread-safety: all methods may be called from any thread (LevelDB writes
// from its background thread too).  DropUnsyncedData() must not run while
// files are being written.

#ifndef LARIX_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_
#define LARIX_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <memory>
#include <vector>

#include "leveldb/env.h"
#include "leveldb/status.h"
#include "objects/leveldb_env.h"

namespace larix::test {

class FaultInjectionEnv : public leveldb::EnvWrapper,
                          public PositionalFileEnv {
 public:
  enum class FaultKind {
    kIOError,  // "injected I/O error"
    kNoSpace,  // "No space left on device" (ENOSPC)
  };

  // `base` must outlive this Env.  The default, PreadEnv(), is the Env the
  // backends use on their own; positional files need a base that has them.
  explicit FaultInjectionEnv(leveldb::Env* base = PreadEnv());
  ~FaultInjectionEnv() override;

  // ---- fault points -------------------------------------------------------

  // Fault points reached since construction or the last reset.
  uint64_t fault_points() const;
  void ResetFaultPointCount();

  // Arms one fault: the nth fault point from now (n >= 1) fails.  With
  // `torn_write`, a failing Append first writes the first half of its data.
  // With `sticky`, every later point fails too until ClearFault(), like a
  // disk that stays full.
  void FailNthFaultPoint(uint64_t n, FaultKind kind = FaultKind::kIOError,
                         bool torn_write = false, bool sticky = false);
  // Disarms any armed or sticky fault.  fault_fired() keeps its value.
  void ClearFault();
  // True once an armed fault has fired (until the next FailNthFaultPoint).
  bool fault_fired() const;

  // ---- crash simulation ---------------------------------------------------

  // While inactive, every write, sync, file creation, rename and removal
  // reports success and does nothing durable: the machine has lost power
  // and the process is still unwinding.
  void SetFilesystemActive(bool active);
  bool IsFilesystemActive() const;

  // Applies the durability model above to the real files: truncates each
  // written file to its last synced size and removes files whose directory
  // entry was never synced.  Call with the filesystem inactive or with no
  // file open for writing.
  leveldb::Status DropUnsyncedData();

  // Like DropUnsyncedData(), but as if the OS had written back part of its
  // cache before the power failed: each file keeps a random prefix of its
  // unsynced bytes (possibly none, possibly all), and each new file whose
  // directory was never synced survives or vanishes at random.  Different
  // files keep different amounts, so this catches code that assumes one
  // file's unsynced writes reach the disk before another's.  Deterministic
  // for a given `seed`.
  leveldb::Status DropRandomUnsyncedData(uint64_t seed);

  // Forgets the history: every tracked file counts as fully synced with a
  // durable directory entry.  Call after a (re)open that a test does not
  // want to crash.
  void ResetState();

  // Bytes appended to `fname` since its last sync, plus bytes overwritten
  // or truncated away in it as a positional file (0 if untracked).
  uint64_t UnsyncedBytes(const std::string& fname) const;

  // ---- leveldb::Env overrides ---------------------------------------------

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status RenameFile(const std::string& src,
                             const std::string& target) override;
  leveldb::Status CreateDir(const std::string& dirname) override;
  leveldb::Status RemoveDir(const std::string& dirname) override;

  // ---- PositionalFileEnv --------------------------------------------------

  bool SupportsPositionalFiles() const override;
  leveldb::Status NewPositionalFile(
      const std::string& fname, bool truncate,
      std::unique_ptr<PositionalFile>* out) override;

 private:
  friend class TrackedWritableFile;
  friend class TrackedPositionalFile;

  // What an unsynced positional write or truncation replaced: the bytes
  // that were at [offset, offset + old.size()) and the file's size then.
  struct Undo {
    uint64_t offset = 0;
    std::string old;
    uint64_t old_size = 0;
  };
  struct FileState {
    uint64_t size = 0;         // bytes appended through this Env so far
    uint64_t synced_size = 0;  // size at the last successful Sync
    bool entry_durable = true;  // directory synced since creation/rename
    std::vector<Undo> undo;    // positional changes since the last Sync
  };
  PositionalFileEnv* positional_target() const {
    return dynamic_cast<PositionalFileEnv*>(target());
  }

  // Consumes one fault point.  Returns OK, or the injected error (and sets
  // *torn when the failing Append should write half its data).
  leveldb::Status ConsumeFaultPoint(const std::string& fname, bool* torn);
  // Applies a power failure in which file `name` keeps
  // keep(name, state, actual_size) bytes (clamped to at least its synced
  // size); new files whose entry is not durable are removed if keep()
  // returns 0 for them.
  // Positional files first lose their unsynced changes after the first
  // keep_changes(state) of them.
  leveldb::Status PowerFailure(
      const std::function<uint64_t(const std::string&, const FileState&,
                                   uint64_t)>& keep,
      const std::function<size_t(const FileState&)>& keep_changes);
  leveldb::Status NewTrackedFile(const std::string& fname, bool append,
                                 leveldb::WritableFile** result);
  // Starts tracking a file just opened for writing (`size` bytes now), or,
  // if it was tracked and the open emptied it, starts it over.
  void OnOpened(const std::string& fname, bool existed, uint64_t size,
                bool emptied);
  // Sync() of either kind of tracked file: a fault point, then `sync`.
  leveldb::Status SyncTracked(const std::string& fname,
                              const std::function<leveldb::Status()>& sync);
  void OnAppended(const std::string& fname, uint64_t bytes);
  void OnPositionalChange(const std::string& fname, Undo undo,
                          uint64_t new_size);
  // Puts back what a power failure takes from a positional file: the
  // changes after the first `keep` unsynced ones, newest first.
  leveldb::Status UndoPositional(const std::string& fname,
                                 const std::vector<Undo>& undo, size_t keep);
  void OnSynced(const std::string& fname);

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;  // GUARDED_BY(mu_)
  bool active_ = true;                      // GUARDED_BY(mu_)
  uint64_t points_ = 0;                     // GUARDED_BY(mu_)
  uint64_t fail_at_ = 0;  // absolute point number to fail; 0 = disarmed
  FaultKind kind_ = FaultKind::kIOError;
  bool torn_write_ = false;
  bool sticky_ = false;
  bool sticky_firing_ = false;
  bool fired_ = false;
};

}  // namespace larix::test

#endif  // LARIX_TESTS_SUPPORT_FAULT_INJECTION_ENV_H_
