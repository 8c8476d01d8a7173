#include "engine/executor.h"

#include <algorithm>
#include <thread>

#include <pthread.h>

#include <tbb/global_control.h>
#include <tbb/task_scheduler_observer.h>

#if defined(__SANITIZE_THREAD__)
#define NUMS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NUMS_TSAN 1
#endif
#endif
#if defined(NUMS_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace nums::engine {
namespace {

// TBB caps every arena by one process-wide worker pool of cores - 1 threads, so a node given
// `--cores 2` on a 2-core machine would run one thread. The limit follows the executors alive.
class Parallelism {
 public:
  static void Add(int64_t threads) {
    static Parallelism instance;
    instance.Change(threads);
  }

 private:
  void Change(int64_t delta) {
    std::lock_guard lock(mu_);
    threads_ += delta;
    const size_t want = static_cast<size_t>(
        std::max<int64_t>(std::max<int64_t>(1, std::thread::hardware_concurrency()), threads_ + 1));
    if (control_ && want <= limit_) return;  // never shrinks: arenas may still be winding down
    // TBB applies the smallest active limit, so the new one takes over as the old one goes.
    auto next =
        std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, want);
    control_ = std::move(next);
    limit_ = want;
  }

  std::mutex mu_;  // guards threads_, limit_ and control_
  int64_t threads_ = 0;
  size_t limit_ = 0;
  std::unique_ptr<tbb::global_control> control_;
};

// Names the worker threads that join an executor's arena, so that `top -H` and the tests can
// count a node's threads.
// Names the arena's workers, and makes the node's pool their current pool while they are in
// it, so that blocks allocated inside a kernel's parallel loops count against the node too.
class WorkerObserver final : public tbb::task_scheduler_observer {
 public:
  WorkerObserver(tbb::task_arena& arena, const std::shared_ptr<MemoryPool>* pool)
      : tbb::task_scheduler_observer(arena), pool_(pool) {
    observe(true);
  }
  ~WorkerObserver() override { observe(false); }
  void on_scheduler_entry(bool is_worker) override {
    if (is_worker) pthread_setname_np(pthread_self(), "nums-worker");
    if (pool_ != nullptr) previous_ = MemoryPool::Exchange(pool_);
  }
  void on_scheduler_exit(bool) override {
    if (pool_ != nullptr) MemoryPool::Exchange(previous_);
  }

 private:
  const std::shared_ptr<MemoryPool>* pool_;
  static thread_local const std::shared_ptr<MemoryPool>* previous_;
};
thread_local const std::shared_ptr<MemoryPool>* WorkerObserver::previous_ = nullptr;

}  // namespace

Executor::Executor(int64_t threads, const std::shared_ptr<MemoryPool>* pool) : threads_(threads) {
  Parallelism::Add(threads);
  arena_ = std::make_unique<tbb::task_arena>(static_cast<int>(threads), 0);
  arena_->initialize();
  observer_ = std::make_unique<WorkerObserver>(*arena_, pool);
}

Executor::~Executor() {
  WaitIdle();
  observer_.reset();
  arena_.reset();
  Parallelism::Add(-threads_);
}

void Executor::Run(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  arena_->enqueue(Task(this, std::move(fn)));
}

// ThreadSanitizer does not see the synchronisation inside libtbb, so the task's way through it is
// annotated. TBB moves the task into an object of its own and hands that to a worker through its
// queues: the last move (into TBB's object) publishes the task from its final address, and the
// worker takes it from there before anything else, so what the caller wrote before Run happens
// before the task runs. TBB recycles its task objects through a pool: a task releases its slot
// once it no longer reads it, and the next task built there takes it first.
namespace {

Executor* Claim(const void* slot, Executor* executor) {
#if defined(NUMS_TSAN)
  __tsan_acquire(const_cast<void*>(slot));
#endif
  return executor;
}

void Publish(const void* slot) {
#if defined(NUMS_TSAN)
  __tsan_release(const_cast<void*>(slot));
#endif
}

}  // namespace

Executor::Task::Task(Task&& other) noexcept
    : executor(Claim(this, other.executor)), fn(std::move(other.fn)) {
  Publish(this);
}

void Executor::Task::operator()() const {
  Claim(this, nullptr);
  fn();
  fn = nullptr;  // what it captured goes before the executor may be destroyed
  Executor* const e = executor;
  Publish(this);
  e->Done();
}

void Executor::Done() {
  // The count drops under the lock, and nothing of *this is touched after it is released: the
  // destructor's WaitIdle can only see zero once this task is done with the executor.
  std::lock_guard lock(mu_);
  if (--in_flight_ == 0) idle_cv_.notify_all();
}

void Executor::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return in_flight_ == 0; });
}

void Executor::Isolate(const std::function<void()>& fn) { arena_->execute(fn); }

}  // namespace nums::engine
