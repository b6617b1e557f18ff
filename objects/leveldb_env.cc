#include "objects/leveldb_env.h"

#include <vector>

namespace larix {

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
