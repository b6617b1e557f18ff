// Tests for objects/worker_pool.{h,cc}: every item runs exactly once,
// concurrent callers all finish, and a forked child gets working helpers,
// even when another thread was using the pool as it forked.  Started tasks
// run exactly once, overlap their starter on a multi-core machine, and
// run on the joining thread when no helper is free.

#include "objects/worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace larix {
namespace {

// Runs a job of n items and checks that each ran exactly once.
bool EachItemOnce(size_t n, size_t min_items) {
  std::vector<std::atomic<int>> runs(n);
  WorkerPool::Shared().ParallelFor(n, min_items, [&](size_t i) {
    runs[i].fetch_add(1, std::memory_order_relaxed);
  });
  for (auto& r : runs) {
    if (r.load() != 1) return false;
  }
  return true;
}

TEST(WorkerPoolTest, EveryItemRunsExactlyOnce) {
  for (size_t n : {0, 1, 2, 3, 31, 32, 100, 1000}) {
    for (int rep = 0; rep < 20; rep++) {
      ASSERT_TRUE(EachItemOnce(n, 2)) << n << " items";
    }
  }
  // Below min_items the caller runs the job alone.
  ASSERT_TRUE(EachItemOnce(10, 32));
}

TEST(WorkerPoolTest, UsesTheHelpersOnAMultiCoreMachine) {
  if (std::thread::hardware_concurrency() < 2) {
    EXPECT_EQ(WorkerPool::Shared().helpers(), 0u);
    return;
  }
  EXPECT_GE(WorkerPool::Shared().helpers(), 1u);
  // Items that wait for each other finish only if two threads run them.
  std::atomic<int> arrived{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  WorkerPool::Shared().ParallelFor(2, 2, [&](size_t) {
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    arrived.fetch_add(1);
    for (int spin = 0; arrived.load() < 2 && spin < 200000000; spin++) {
    }
  });
  EXPECT_EQ(arrived.load(), 2);
  EXPECT_EQ(threads.size(), 2u);
}

TEST(WorkerPoolTest, ConcurrentCallersAllFinish) {
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; t++) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; rep++) {
        if (!EachItemOnce(64, 2)) failures++;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(WorkerPoolTest, StartedTasksRunExactlyOnceWhateverTheJoinOrder) {
  for (int rep = 0; rep < 200; rep++) {
    std::vector<std::atomic<int>> runs(5);
    std::vector<std::unique_ptr<WorkerPool::Task>> tasks;
    for (size_t i = 0; i < runs.size(); i++) {
      tasks.push_back(WorkerPool::Shared().Start([&runs, i] { runs[i]++; }));
    }
    // Join in another order than started; join one twice; let the
    // destructor join the rest.
    tasks[3]->Join();
    tasks[0]->Join();
    tasks[3]->Join();
    EXPECT_EQ(runs[3].load(), 1);
    EXPECT_EQ(runs[0].load(), 1);
    tasks.clear();
    for (auto& r : runs) ASSERT_EQ(r.load(), 1) << "rep " << rep;
  }
}

TEST(WorkerPoolTest, AStartedTaskOverlapsItsStarter) {
  if (std::thread::hardware_concurrency() < 2) return;  // nothing to overlap
  // The task waits for the starter, which waits for the task: both finish
  // only if a helper runs the task while the starter goes on.
  std::atomic<bool> starter_here{false}, task_here{false};
  std::thread::id ran_on;
  auto task = WorkerPool::Shared().Start([&] {
    ran_on = std::this_thread::get_id();
    task_here = true;
    for (int spin = 0; !starter_here.load() && spin < 200000000; spin++) {
    }
  });
  starter_here = true;
  for (int spin = 0; !task_here.load() && spin < 200000000; spin++) {
  }
  task->Join();
  EXPECT_TRUE(task_here.load());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

// After Wake(), a helper waits on its core (HelperReady) for the job
// announced, for kReadyMicros at most, and takes a task started then;
// without one it goes back to sleep, and the pool works as before.
// (What that saves, a sleeping helper's 30-70 us wake-up, is measured by
// sql_bench, not here: timings are not reliable under a parallel ctest.)
TEST(WorkerPoolTest, AWokenHelperWaitsReadyThenSleepsAgain) {
  WorkerPool& pool = WorkerPool::Shared();
  auto within_a_second = [](auto done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!done() && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
    return done();
  };
  if (pool.helpers() == 0) {
    pool.Wake();  // nobody to wake
    EXPECT_FALSE(pool.HelperReady());
    EXPECT_TRUE(EachItemOnce(100, 2));
    return;
  }
  for (int rep = 0; rep < 5; rep++) {
    ASSERT_TRUE(within_a_second([&] { return !pool.HelperReady(); }));
    pool.Wake();
    // Under load the helper may get the core only after its window; then
    // it is ready for no time at all.  Retry a few times before failing.
    bool seen = within_a_second([&] { return pool.HelperReady(); });
    for (int retry = 0; !seen && retry < 5; retry++) {
      within_a_second([&] { return !pool.HelperReady(); });
      pool.Wake();
      seen = within_a_second([&] { return pool.HelperReady(); });
    }
    ASSERT_TRUE(seen) << "rep " << rep;
    std::atomic<bool> ran{false};
    std::thread::id ran_on;
    auto task = pool.Start([&] {
      ran_on = std::this_thread::get_id();
      ran = true;
    });
    ASSERT_TRUE(within_a_second([&] { return ran.load(); }));
    task->Join();
    EXPECT_NE(ran_on, std::this_thread::get_id());
  }
  pool.Wake();  // and no job: ready for a while, then asleep
  EXPECT_TRUE(within_a_second([&] { return !pool.HelperReady(); }));
  EXPECT_TRUE(EachItemOnce(1000, 2));
}

TEST(WorkerPoolTest, ATaskNoHelperBeganRunsOnTheJoiningThread) {
  if (std::thread::hardware_concurrency() < 2) {
    std::thread::id ran_on;
    WorkerPool::Shared()
        .Start([&] { ran_on = std::this_thread::get_id(); })
        ->Join();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    return;
  }
  // Keep every helper busy with a task that waits for a release, then
  // start one more: joining it must run it here, not wait for a helper.
  std::atomic<bool> release{false};
  std::atomic<size_t> busy{0};
  std::vector<std::unique_ptr<WorkerPool::Task>> blockers;
  for (size_t i = 0; i < WorkerPool::Shared().helpers(); i++) {
    blockers.push_back(WorkerPool::Shared().Start([&] {
      busy++;
      while (!release.load()) std::this_thread::yield();
    }));
  }
  while (busy.load() < blockers.size()) std::this_thread::yield();
  std::thread::id ran_on;
  WorkerPool::Shared()
      .Start([&] { ran_on = std::this_thread::get_id(); })
      ->Join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  release = true;
  blockers.clear();
  // The helpers are free again: a ParallelFor still completes.
  EXPECT_TRUE(EachItemOnce(100, 2));
}

TEST(WorkerPoolTest, AForkedChildHasWorkingHelpers) {
  ASSERT_TRUE(EachItemOnce(100, 2));  // the parent's helpers exist now
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool ok = std::thread::hardware_concurrency() < 2 ||
              WorkerPool::Shared().helpers() >= 1;
    for (int rep = 0; rep < 50 && ok; rep++) ok = EachItemOnce(100, 2);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// fork() while another thread is inside the pool (taking its per-process
// state, running a job): the child must still get a pool of its own, not
// a lock that a thread which does not exist in the child left held.
TEST(WorkerPoolTest, AForkWhileAnotherThreadUsesThePoolLeavesTheChildOne) {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load()) EachItemOnce(64, 2);
  });
  int hung = 0, failed = 0;
  for (int i = 0; i < 200; i++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(EachItemOnce(64, 2) ? 0 : 1);
    int status = 0;
    bool exited = false;
    for (int wait_ms = 0; wait_ms < 5000 && !exited; wait_ms += 2) {
      exited = waitpid(pid, &status, WNOHANG) == pid;
      if (!exited) usleep(2000);
    }
    if (!exited) {  // deadlocked in the child
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      hung++;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failed++;
    }
  }
  stop = true;
  busy.join();
  EXPECT_EQ(hung, 0);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace larix
