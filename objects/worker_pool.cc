#include "objects/worker_pool.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace larix {

// A job is published under `mu` with a new generation.  A helper joins it
// (active++) under `mu`, claims items through `next`, and leaves (active--,
// finished += what it ran) under `mu`.  The caller returns only when every
// item has finished and no helper is still in the job, so a helper never
// holds a job's `fn` after its caller has returned, and `next` is reset
// only when nobody claims from it.
struct WorkerPool::State {
  pid_t pid = 0;
  std::mutex job_mu;  // held by the caller whose job the helpers run
  std::mutex mu;      // guards everything below except `next`
  std::condition_variable wake;  // helpers wait for a new generation
  std::condition_variable done;  // the caller waits for its job's end
  uint64_t generation = 0;
  const std::function<void(size_t)>* fn = nullptr;  // null: no job
  size_t n = 0;
  size_t finished = 0;
  size_t active = 0;
  std::atomic<size_t> next{0};  // the next item to claim
  size_t helpers = 0;  // detached threads running HelperLoop
  std::deque<Task*> tasks;  // started, not yet begun by anyone
  std::condition_variable task_done;
  // Wake()'s request, from the call to the end of the helper's readiness:
  // kAsked (set under `mu`, so no helper misses it), then kReady while a
  // helper waits on its core, then kIdle again.
  enum Readiness { kIdle, kAsked, kReady };
  std::atomic<int> readiness{kIdle};
  // Bumped whenever a job or task is published, so that a ready helper
  // notices it without the mutex.
  std::atomic<uint64_t> published{0};

  // Claims and runs items until none is left; returns how many it ran.
  size_t Drain(const std::function<void(size_t)>& f, size_t count) {
    size_t ran = 0;
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) {
      f(i);
      ran++;
    }
    return ran;
  }

  // Runs `t`, which its caller has just taken out of `tasks`; `lock` (on
  // mu) is held on entry and exit, not while the task runs.
  void RunTask(Task* t, std::unique_lock<std::mutex>& lock) {
    t->phase_ = Task::Phase::kRunning;
    lock.unlock();
    t->fn_();
    lock.lock();
    t->phase_ = Task::Phase::kDone;
    task_done.notify_all();
  }

  void HelperLoop() {
    uint64_t seen = 0;
    std::unique_lock lock(mu);
    while (true) {
      wake.wait(lock, [&] {
        return generation != seen || !tasks.empty() || readiness == kAsked;
      });
      if (readiness == kAsked && generation == seen && tasks.empty()) {
        // Wait for the job announced, on the core instead of the futex.
        readiness = kReady;
        const uint64_t before = published.load(std::memory_order_acquire);
        lock.unlock();
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::microseconds(kReadyMicros);
        while (published.load(std::memory_order_acquire) == before &&
               std::chrono::steady_clock::now() < until) {
          std::this_thread::yield();
        }
        readiness = kIdle;
        lock.lock();
        continue;
      }
      if (!tasks.empty()) {
        Task* t = tasks.front();
        tasks.pop_front();
        RunTask(t, lock);
        continue;
      }
      seen = generation;
      if (fn == nullptr) continue;  // that job is over already
      const std::function<void(size_t)>* f = fn;
      size_t count = n;
      active++;
      lock.unlock();
      size_t ran = Drain(*f, count);
      lock.lock();
      active--;
      finished += ran;
      done.notify_one();
    }
  }
};

WorkerPool& WorkerPool::Shared() {
  static WorkerPool* pool = new WorkerPool();  // never destroyed: helpers
  return *pool;                                // may outlive static teardown
}

namespace {

// Guards the creation of a process's State.  fork() takes it first and
// both sides release it after (pthread_atfork), so a child never inherits
// it held by a thread that does not exist in the child.
std::mutex& InitMutex() {
  static std::mutex mu;
  return mu;
}

[[maybe_unused]] const int kForkHandlers = pthread_atfork(
    [] { InitMutex().lock(); }, [] { InitMutex().unlock(); },
    [] { InitMutex().unlock(); });

}  // namespace

WorkerPool::State* WorkerPool::state() {
  // One state per process: after fork() the child has none of the
  // parent's threads, and the parent's mutexes may have been held.  The
  // parent's state is left behind (a few hundred bytes).
  static std::atomic<State*> current{nullptr};
  const pid_t pid = getpid();
  State* s = current.load(std::memory_order_acquire);
  if (s != nullptr && s->pid == pid) return s;
  std::lock_guard lock(InitMutex());
  s = current.load(std::memory_order_acquire);
  if (s == nullptr || s->pid != pid) {
    s = new State();
    s->pid = pid;
    unsigned cores = std::thread::hardware_concurrency();
    s->helpers = cores > 1 ? std::min<size_t>(cores - 1, kMaxHelpers) : 0;
    for (size_t i = 0; i < s->helpers; i++) {
      std::thread([s] { s->HelperLoop(); }).detach();
    }
    current.store(s, std::memory_order_release);
  }
  return s;
}

size_t WorkerPool::helpers() { return state()->helpers; }

void WorkerPool::Wake() {
  State* s = state();
  if (s->helpers == 0 || s->readiness != State::kIdle) return;
  {
    std::lock_guard lock(s->mu);
    int idle = State::kIdle;
    if (!s->readiness.compare_exchange_strong(idle, State::kAsked)) {
      return;  // one is asked or ready already
    }
  }
  s->wake.notify_one();
}

bool WorkerPool::HelperReady() {
  return state()->readiness == State::kReady;
}

std::unique_ptr<WorkerPool::Task> WorkerPool::Start(std::function<void()> fn) {
  State* s = state();
  std::unique_ptr<Task> task(new Task(s, std::move(fn)));
  if (s->helpers == 0) return task;  // Join runs it
  {
    std::lock_guard lock(s->mu);
    s->tasks.push_back(task.get());
  }
  s->published.fetch_add(1, std::memory_order_release);
  s->wake.notify_one();
  return task;
}

void WorkerPool::Task::Join() {
  std::unique_lock lock(state_->mu);
  if (phase_ == Phase::kQueued) {  // no helper has it: run it here
    auto& q = state_->tasks;
    auto it = std::find(q.begin(), q.end(), this);
    if (it != q.end()) q.erase(it);
    state_->RunTask(this, lock);
    return;
  }
  state_->task_done.wait(lock, [&] { return phase_ == Phase::kDone; });
}

void WorkerPool::ParallelFor(size_t n, size_t min_items,
                             const std::function<void(size_t)>& fn) {
  auto inline_all = [&] {
    for (size_t i = 0; i < n; i++) fn(i);
  };
  if (n < std::max<size_t>(min_items, 2)) return inline_all();
  State* s = state();
  if (s->helpers == 0) return inline_all();
  std::unique_lock job(s->job_mu, std::try_to_lock);
  if (!job.owns_lock()) return inline_all();  // another commit has them
  {
    std::lock_guard lock(s->mu);
    s->fn = &fn;
    s->n = n;
    s->finished = 0;
    s->next.store(0, std::memory_order_relaxed);
    s->generation++;
  }
  s->published.fetch_add(1, std::memory_order_release);
  s->wake.notify_all();
  size_t ran = s->Drain(fn, n);
  std::unique_lock lock(s->mu);
  s->finished += ran;
  s->done.wait(lock, [&] { return s->finished == n && s->active == 0; });
  s->fn = nullptr;
}

}  // namespace larix
