// ProcessLock: one process per store.
//
// An fcntl() write lock on STORE/larix.lock, whose contents name the holder
// ("pid 1234 (larix sql)").  fcntl locks vanish with the process, however it
// dies, so a kill -9 never leaves a stale lock.  A second process gets Busy
// naming the holder's pid (from F_GETLK) and command.  Within one process
// the Engine registry shares a Store instead of opening it twice.

#ifndef LARIX_STORE_PROCESS_LOCK_H_
#define LARIX_STORE_PROCESS_LOCK_H_

#include <memory>
#include <string>

#include "larix/status.h"

namespace larix {

class ProcessLock {
 public:
  // Takes the lock at `path`, creating the file.  Busy if another process
  // holds it; IOError if the file cannot be opened.
  static Status Acquire(const std::string& path,
                        std::unique_ptr<ProcessLock>* out);
  ~ProcessLock();

 private:
  explicit ProcessLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace larix

#endif  // LARIX_STORE_PROCESS_LOCK_H_
