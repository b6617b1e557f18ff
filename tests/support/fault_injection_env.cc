// FaultInjectionEnv: see the header for the durability model.
//
// Implementation notes.  Writable files are wrapped in TrackedWritableFile,
// which reports appended and synced byte counts back to the Env; the Env
// keeps one FileState per file name.  Truncation and removal in
// DropUnsyncedData() go through the wrapped Env (target()), so the class
// works over any base Env, including leveldb's in-memory one.

#include "tests/support/fault_injection_env.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace larix::test {
namespace {

std::string Dirname(const std::string& fname) {
  size_t slash = fname.rfind('/');
  return slash == std::string::npos ? std::string(".") : fname.substr(0, slash);
}

std::string Basename(const std::string& fname) {
  size_t slash = fname.rfind('/');
  return slash == std::string::npos ? fname : fname.substr(slash + 1);
}

// A writable file after the power went off: accepts everything, keeps
// nothing.
class NullWritableFile : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice&) override {
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
};

// A positional file after the power went off.
class NullPositionalFile : public PositionalFile {
 public:
  leveldb::Status Write(uint64_t, std::string_view) override {
    return leveldb::Status::OK();
  }
  leveldb::Status Read(uint64_t, size_t, std::string* out) override {
    out->clear();
    return leveldb::Status::OK();
  }
  leveldb::Status Size(uint64_t* size) override {
    *size = 0;
    return leveldb::Status::OK();
  }
  leveldb::Status Truncate(uint64_t) override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
};

}  // namespace

// Forwards to the real file and reports progress to the Env.
class TrackedWritableFile : public leveldb::WritableFile {
 public:
  TrackedWritableFile(FaultInjectionEnv* env, std::string name,
                      leveldb::WritableFile* base)
      : env_(env), name_(std::move(name)), base_(base) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    bool torn = false;
    leveldb::Status s = env_->ConsumeFaultPoint(name_, &torn);
    if (!s.ok()) {
      if (torn && data.size() > 1) {
        leveldb::Slice half(data.data(), data.size() / 2);
        if (base_->Append(half).ok() && base_->Flush().ok()) {
          env_->OnAppended(name_, half.size());
        }
      }
      return s;
    }
    s = base_->Append(data);
    if (s.ok()) env_->OnAppended(name_, data.size());
    return s;
  }

  leveldb::Status Close() override { return base_->Close(); }

  leveldb::Status Flush() override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    return base_->Flush();
  }

  leveldb::Status Sync() override {
    return env_->SyncTracked(name_, [this] { return base_->Sync(); });
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string name_;
  std::unique_ptr<leveldb::WritableFile> base_;
};

// Forwards to the real positional file, recording for each write and
// truncation what it replaced, so that a power failure can put it back.
class TrackedPositionalFile : public PositionalFile {
 public:
  TrackedPositionalFile(FaultInjectionEnv* env, std::string name,
                        std::unique_ptr<PositionalFile> base)
      : env_(env), name_(std::move(name)), base_(std::move(base)) {}

  leveldb::Status Write(uint64_t offset, std::string_view data) override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    bool torn = false;
    leveldb::Status s = env_->ConsumeFaultPoint(name_, &torn);
    if (!s.ok()) {
      if (torn && data.size() > 1) {
        (void)Change(offset, data.substr(0, data.size() / 2));
      }
      return s;
    }
    return Change(offset, data);
  }

  leveldb::Status Read(uint64_t offset, size_t n, std::string* out) override {
    return base_->Read(offset, n, out);
  }
  leveldb::Status Size(uint64_t* size) override { return base_->Size(size); }

  leveldb::Status Truncate(uint64_t size) override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    bool torn = false;
    leveldb::Status s = env_->ConsumeFaultPoint(name_, &torn);
    if (!s.ok()) return s;
    FaultInjectionEnv::Undo undo;
    s = Replaced(size, UINT64_MAX, &undo);
    if (s.ok()) s = base_->Truncate(size);
    if (s.ok()) env_->OnPositionalChange(name_, std::move(undo), size);
    return s;
  }

  leveldb::Status Sync() override {
    return env_->SyncTracked(name_, [this] { return base_->Sync(); });
  }

 private:
  // What writing or cutting [offset, offset + n) replaces: the bytes of it
  // the file has, and the file's size.
  leveldb::Status Replaced(uint64_t offset, uint64_t n,
                           FaultInjectionEnv::Undo* undo) {
    undo->offset = offset;
    leveldb::Status s = base_->Size(&undo->old_size);
    if (s.ok() && offset < undo->old_size) {
      s = base_->Read(offset, std::min(n, undo->old_size - offset),
                      &undo->old);
    }
    return s;
  }

  leveldb::Status Change(uint64_t offset, std::string_view data) {
    FaultInjectionEnv::Undo undo;
    leveldb::Status s = Replaced(offset, data.size(), &undo);
    if (s.ok()) s = base_->Write(offset, data);
    if (s.ok()) {
      const uint64_t new_size =
          std::max<uint64_t>(undo.old_size, offset + data.size());
      env_->OnPositionalChange(name_, std::move(undo), new_size);
    }
    return s;
  }

  FaultInjectionEnv* const env_;
  const std::string name_;
  std::unique_ptr<PositionalFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(leveldb::Env* base)
    : leveldb::EnvWrapper(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

uint64_t FaultInjectionEnv::fault_points() const {
  std::lock_guard lock(mu_);
  return points_;
}

void FaultInjectionEnv::ResetFaultPointCount() {
  std::lock_guard lock(mu_);
  points_ = 0;
  fail_at_ = 0;
}

void FaultInjectionEnv::FailNthFaultPoint(uint64_t n, FaultKind kind,
                                          bool torn_write, bool sticky) {
  std::lock_guard lock(mu_);
  fail_at_ = n == 0 ? 0 : points_ + n;
  kind_ = kind;
  torn_write_ = torn_write;
  sticky_ = sticky;
  sticky_firing_ = false;
  fired_ = false;
}

void FaultInjectionEnv::ClearFault() {
  std::lock_guard lock(mu_);
  fail_at_ = 0;
  sticky_firing_ = false;
}

bool FaultInjectionEnv::fault_fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

void FaultInjectionEnv::SetFilesystemActive(bool active) {
  std::lock_guard lock(mu_);
  active_ = active;
}

bool FaultInjectionEnv::IsFilesystemActive() const {
  std::lock_guard lock(mu_);
  return active_;
}

leveldb::Status FaultInjectionEnv::ConsumeFaultPoint(const std::string& fname,
                                                     bool* torn) {
  std::lock_guard lock(mu_);
  points_++;
  bool fail = sticky_firing_;
  if (!fail && fail_at_ != 0 && points_ == fail_at_) {
    fail = true;
    fired_ = true;
    fail_at_ = 0;
    sticky_firing_ = sticky_;
    *torn = torn_write_;
  }
  if (!fail) return leveldb::Status::OK();
  return leveldb::Status::IOError(fname, kind_ == FaultKind::kNoSpace
                                             ? "No space left on device"
                                             : "injected I/O error");
}

void FaultInjectionEnv::OnAppended(const std::string& fname, uint64_t bytes) {
  std::lock_guard lock(mu_);
  files_[fname].size += bytes;
}

void FaultInjectionEnv::OnOpened(const std::string& fname, bool existed,
                                 uint64_t size, bool emptied) {
  std::lock_guard lock(mu_);
  auto it = files_.find(fname);
  if (it == files_.end()) {
    FileState st;
    st.size = st.synced_size = size;
    st.entry_durable = existed;
    files_[fname] = st;
  } else if (emptied) {
    // Truncated by the open; the old content is gone either way.
    it->second.size = it->second.synced_size = size;
    it->second.undo.clear();
  }
}

leveldb::Status FaultInjectionEnv::SyncTracked(
    const std::string& fname, const std::function<leveldb::Status()>& sync) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  bool torn = false;
  leveldb::Status s = ConsumeFaultPoint(fname, &torn);
  if (!s.ok()) return s;
  s = sync();
  if (s.ok()) OnSynced(fname);
  return s;
}

void FaultInjectionEnv::OnPositionalChange(const std::string& fname,
                                           Undo undo, uint64_t new_size) {
  std::lock_guard lock(mu_);
  FileState& st = files_[fname];
  st.undo.push_back(std::move(undo));
  st.size = new_size;
}

void FaultInjectionEnv::OnSynced(const std::string& fname) {
  std::lock_guard lock(mu_);
  FileState& st = files_[fname];
  st.synced_size = st.size;
  st.undo.clear();
  // The POSIX Env fsyncs the directory of any MANIFEST* file it syncs.
  if (Basename(fname).rfind("MANIFEST", 0) == 0) {
    const std::string dir = Dirname(fname);
    for (auto& [name, state] : files_) {
      if (Dirname(name) == dir) state.entry_durable = true;
    }
  }
}

leveldb::Status FaultInjectionEnv::NewTrackedFile(
    const std::string& fname, bool append, leveldb::WritableFile** result) {
  *result = nullptr;
  if (!IsFilesystemActive()) {
    *result = new NullWritableFile;
    return leveldb::Status::OK();
  }
  bool torn = false;
  leveldb::Status s = ConsumeFaultPoint(fname, &torn);
  if (!s.ok()) return s;
  const bool existed = target()->FileExists(fname);
  uint64_t existing_size = 0;
  if (append && existed) {
    s = target()->GetFileSize(fname, &existing_size);
    if (!s.ok()) return s;
  }
  leveldb::WritableFile* base = nullptr;
  s = append ? target()->NewAppendableFile(fname, &base)
             : target()->NewWritableFile(fname, &base);
  if (!s.ok()) return s;
  OnOpened(fname, existed, existing_size, /*emptied=*/!append);
  *result = new TrackedWritableFile(this, fname, base);
  return leveldb::Status::OK();
}

bool FaultInjectionEnv::SupportsPositionalFiles() const {
  PositionalFileEnv* base = positional_target();
  return base != nullptr && base->SupportsPositionalFiles();
}

leveldb::Status FaultInjectionEnv::NewPositionalFile(
    const std::string& fname, bool truncate,
    std::unique_ptr<PositionalFile>* out) {
  out->reset();
  if (!SupportsPositionalFiles()) {
    return leveldb::Status::NotSupported("positional files", fname);
  }
  if (!IsFilesystemActive()) {
    *out = std::make_unique<NullPositionalFile>();
    return leveldb::Status::OK();
  }
  bool torn = false;
  leveldb::Status s = ConsumeFaultPoint(fname, &torn);
  if (!s.ok()) return s;
  const bool existed = target()->FileExists(fname);
  std::unique_ptr<PositionalFile> base;
  s = positional_target()->NewPositionalFile(fname, truncate, &base);
  if (!s.ok()) return s;
  uint64_t size = 0;
  s = base->Size(&size);
  if (!s.ok()) return s;
  OnOpened(fname, existed, size, /*emptied=*/truncate);
  *out = std::make_unique<TrackedPositionalFile>(this, fname, std::move(base));
  return leveldb::Status::OK();
}

leveldb::Status FaultInjectionEnv::NewWritableFile(
    const std::string& fname, leveldb::WritableFile** result) {
  return NewTrackedFile(fname, /*append=*/false, result);
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(
    const std::string& fname, leveldb::WritableFile** result) {
  return NewTrackedFile(fname, /*append=*/true, result);
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  leveldb::Status s = target()->RemoveFile(fname);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(fname);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& src,
                                              const std::string& target_name) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  uint64_t size = 0;
  leveldb::Status s = target()->GetFileSize(src, &size);
  if (s.ok()) s = target()->RenameFile(src, target_name);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  FileState st;
  auto it = files_.find(src);
  if (it != files_.end()) {
    st = it->second;
    files_.erase(it);
  } else {
    st.size = st.synced_size = size;
  }
  st.entry_durable = false;  // a rename is a directory change
  files_[target_name] = st;
  return leveldb::Status::OK();
}

leveldb::Status FaultInjectionEnv::CreateDir(const std::string& dirname) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  return target()->CreateDir(dirname);
}

leveldb::Status FaultInjectionEnv::RemoveDir(const std::string& dirname) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  return target()->RemoveDir(dirname);
}

leveldb::Status FaultInjectionEnv::DropUnsyncedData() {
  return PowerFailure(
      [](const std::string&, const FileState& st, uint64_t) {
        return st.entry_durable ? st.synced_size : 0;
      },
      [](const FileState&) { return size_t{0}; });
}

leveldb::Status FaultInjectionEnv::DropRandomUnsyncedData(uint64_t seed) {
  std::mt19937_64 rng(seed);
  return PowerFailure(
      [&rng](const std::string&, const FileState& st, uint64_t actual) {
        if (!st.entry_durable && rng() % 2 == 0) return uint64_t{0};
        const uint64_t unsynced = actual - std::min(actual, st.synced_size);
        return st.synced_size + (unsynced == 0 ? 0 : rng() % (unsynced + 1));
      },
      [&rng](const FileState& st) { return rng() % (st.undo.size() + 1); });
}

leveldb::Status FaultInjectionEnv::UndoPositional(
    const std::string& fname, const std::vector<Undo>& undo, size_t keep) {
  if (keep >= undo.size()) return leveldb::Status::OK();
  std::unique_ptr<PositionalFile> file;
  leveldb::Status s =
      positional_target()->NewPositionalFile(fname, false, &file);
  for (size_t i = undo.size(); s.ok() && i-- > keep;) {
    s = file->Write(undo[i].offset, undo[i].old);
    if (s.ok()) s = file->Truncate(undo[i].old_size);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::PowerFailure(
    const std::function<uint64_t(const std::string&, const FileState&,
                                 uint64_t)>& keep,
    const std::function<size_t(const FileState&)>& keep_changes) {
  std::map<std::string, FileState> files;
  {
    std::lock_guard lock(mu_);
    files = files_;
  }
  leveldb::Status result;
  std::map<std::string, uint64_t> kept;  // files that survive, and sizes
  for (auto& [name, st] : files) {  // std::map: a deterministic order
    if (!target()->FileExists(name)) continue;
    leveldb::Status s;
    if (!st.undo.empty()) s = UndoPositional(name, st.undo, keep_changes(st));
    uint64_t actual = 0;
    if (s.ok()) s = target()->GetFileSize(name, &actual);
    if (!s.ok()) {
      if (result.ok()) result = s;
      continue;
    }
    uint64_t size = keep(name, st, actual);
    if (!st.entry_durable && size == 0) {
      s = target()->RemoveFile(name);
    } else {
      size = std::min(actual, std::max(size, std::min(actual, st.synced_size)));
      kept[name] = size;
      if (size < actual) {
        std::string data;
        s = leveldb::ReadFileToString(target(), name, &data);
        if (s.ok()) {
          data.resize(size);
          s = leveldb::WriteStringToFile(target(), data, name);
        }
      }
    }
    if (!s.ok() && result.ok()) result = s;
  }
  std::lock_guard lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    auto k = kept.find(it->first);
    if (k == kept.end() && !it->second.entry_durable) {
      it = files_.erase(it);
    } else {
      if (k != kept.end()) it->second.size = k->second;
      FileState& st = it->second;
      st.undo.clear();
      st.synced_size = std::min(st.synced_size, st.size);
      ++it;
    }
  }
  return result;
}

void FaultInjectionEnv::ResetState() {
  std::lock_guard lock(mu_);
  for (auto& [name, st] : files_) {
    st.synced_size = st.size;
    st.entry_durable = true;
    st.undo.clear();
  }
}

uint64_t FaultInjectionEnv::UnsyncedBytes(const std::string& fname) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(fname);
  if (it == files_.end()) return 0;
  const FileState& st = it->second;
  uint64_t bytes = st.size - std::min(st.size, st.synced_size);
  for (const Undo& u : st.undo) bytes += u.old.size();  // overwritten
  return bytes;
}

}  // namespace larix::test
