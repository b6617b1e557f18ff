#include "store/process_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace larix {
namespace {

std::string CommandName(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

Status ProcessLock::Acquire(const std::string& path,
                            std::unique_ptr<ProcessLock>* out) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("cannot open lock file " + path + ": " +
                           strerror(errno));
  }
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_SETLK, &fl) != 0) {
    int err = errno;
    struct flock holder = fl;
    std::string who = "another process";
    if (fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK) {
      who = "process " + std::to_string(holder.l_pid);
      std::string cmd = CommandName(holder.l_pid);
      if (!cmd.empty()) who += " (" + cmd + ")";
    }
    ::close(fd);
    if (err == EACCES || err == EAGAIN) {
      return Status::Busy("store is in use by " + who +
                          "; one process opens a store at a time (lock " +
                          path + ")");
    }
    return Status::IOError("cannot lock " + path + ": " + strerror(err));
  }
  std::string note = "pid " + std::to_string(getpid()) + " (" +
                     CommandName(getpid()) + ")\n";
  if (ftruncate(fd, 0) == 0) {
    ssize_t n = pwrite(fd, note.data(), note.size(), 0);
    (void)n;  // the note is informative; the lock is what matters
  }
  out->reset(new ProcessLock(fd));
  return Status::OK();
}

ProcessLock::~ProcessLock() { ::close(fd_); }

}  // namespace larix
