// A process-wide pool of helper threads for the CPU-bound part of a large
// commit: hashing and compressing its pages.  The calling thread works too,
// so a machine with one core, a small job or a pool busy with another
// commit simply runs the job on the caller.
//
// The helpers start on first use, one fewer than the machine's cores (at
// most kMaxHelpers), and sleep on a condition variable between jobs.  In a
// child process after fork() (no helper threads there) the pool starts its
// own helpers afresh; fork() waits for a thread that is creating the
// process's pool (pthread_atfork), so the child never inherits that lock
// held.
//
// Start hands one job to a helper and returns at once, so that the caller
// can work meanwhile (a commit does its bookkeeping while a helper waits
// for fdatasync).  Joining a job that no helper has begun runs it on the
// joining thread: with one core, or helpers busy, only the overlap is lost.
//
// Thread-safety: ParallelFor and Start may be called from any thread; one
// ParallelFor job runs on the helpers at a time, others run on their
// callers.

#ifndef LARIX_OBJECTS_WORKER_POOL_H_
#define LARIX_OBJECTS_WORKER_POOL_H_

#include <cstddef>
#include <functional>
#include <memory>

namespace larix {

class WorkerPool {
 public:
  // The process's pool.
  static WorkerPool& Shared();

  // Calls fn(i) once for every i in [0, n), on this thread and the
  // helpers; returns when all calls have returned.  fn must not throw.
  // Jobs of fewer than `min_items` items run on this thread alone.
  void ParallelFor(size_t n, size_t min_items,
                   const std::function<void(size_t)>& fn);

  class Task;
  // Queues fn for a helper; the returned Task must be joined (its
  // destructor joins) before anything fn uses goes away.  fn must not
  // throw.
  std::unique_ptr<Task> Start(std::function<void()> fn);

  // Says that a job is about to come (a commit is writing its pages): one
  // helper wakes now and waits for it for up to kReadyMicros, spinning
  // (yielding the core to anything else runnable), so that the job does
  // not wait 30-70 us for a sleeping helper to wake.
  void Wake();
  static constexpr int64_t kReadyMicros = 300;
  // True while a helper woken by Wake() waits on its core; for tests.
  bool HelperReady();

  // Helper threads this process has (0 on a single core); for tests.
  size_t helpers();

  static constexpr size_t kMaxHelpers = 3;

 private:
  struct State;
  WorkerPool() = default;
  State* state();  // the state of this process (fork starts a new one)
};

// A job queued by Start.
class WorkerPool::Task {
 public:
  ~Task() { Join(); }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Returns once fn has run: here, if no helper has begun it, else on the
  // helper that has.  Idempotent.
  void Join();

 private:
  friend class WorkerPool;
  enum class Phase { kQueued, kRunning, kDone };
  Task(State* state, std::function<void()> fn)
      : state_(state), fn_(std::move(fn)) {}

  State* state_;
  std::function<void()> fn_;
  Phase phase_ = Phase::kQueued;  // guarded by the state's mutex
};

}  // namespace larix

#endif  // LARIX_OBJECTS_WORKER_POOL_H_
