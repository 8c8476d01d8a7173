// A node's memory as a resource: admission of declared outputs, spilling to disk and reading
// back, OutOfMemoryError, and spill files that go with their objects. Embedded nodes, real
// files.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <tbb/parallel_for.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "engine/embedded_runtime.h"
#include "nums/errors.hpp"

namespace nums::engine {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kMiB = int64_t{1} << 20;

std::atomic<bool> gate_open{true};  // test.gate waits while false
std::atomic<int> at_gate{0};        // test.gate tasks waiting now

std::shared_ptr<KernelRegistry> Kernels() {
  auto r = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*r);
  // A float64 block of shape scalar 0 whose element i is scalar 1 + i.
  r->Register("test.ramp", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(float64, ctx.scalar<std::vector<int64_t>>(0));
    const double base = ctx.scalar<double>(1);
    for (int64_t i = 0; i < out.size(); ++i) out.data<double>()[i] = base + static_cast<double>(i);
    return std::vector<Block>{out};
  });
  // The sum of the input as a 1-element block.
  r->Register("test.total", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    Block out = Block::Allocate(float64, {1});
    out.data<double>()[0] = std::accumulate(in.data<double>(), in.data<double>() + in.size(), 0.0);
    return std::vector<Block>{out};
  });
  // 1.0 when every block allocated inside a parallel loop came from the node's pool, else 0.0.
  r->Register("test.parallel_pools", Device::kCpu, [](const KernelContext& ctx) {
    std::atomic<int> foreign{0};
    tbb::parallel_for(0, 64, [&](int) {
      Block b = Block::Allocate(float64, {1000});
      if (b.buffer()->pool() != ctx.pool) ++foreign;
    });
    Block out = Block::Allocate(float64, {1});
    out.data<double>()[0] = foreign == 0 ? 1.0 : 0.0;
    return std::vector<Block>{out};
  });
  // 1.0 when it runs on one of the node's I/O threads, else 0.0.
  r->Register("test.on_io_thread", Device::kCpu, [](const KernelContext&) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    Block out = Block::Allocate(float64, {1});
    out.data<double>()[0] = std::string(name) == "nums-io" ? 1.0 : 0.0;
    return std::vector<Block>{out};
  });
  // Holds its thread until the test opens the gate, then returns an empty block.
  r->Register("test.gate", Device::kCpu, [](const KernelContext&) {
    ++at_gate;
    while (!gate_open.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --at_gate;
    return std::vector<Block>{Block::Allocate(float64, {0})};
  });
  return r;
}

// Polls `ready` every 5 ms for up to 10 s.
template <typename F>
bool PollFor(F ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

double RampSum(int64_t n, double base) {
  return static_cast<double>(n) * base + static_cast<double>(n) * static_cast<double>(n - 1) / 2;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "nums-spill-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Spill files anywhere under `root` (the lock files excluded).
int64_t SpillFiles(const std::string& root) {
  int64_t n = 0;
  for (const auto& f : fs::recursive_directory_iterator(root)) {
    if (f.is_regular_file() && f.path().filename() != ".lock") ++n;
  }
  return n;
}

struct Cluster {
  Cluster(int64_t memory, const std::string& spill_root) {
    EmbeddedOptions o;
    o.nodes = 1;
    o.threads_per_node = 2;
    o.memory_per_node = memory;
    o.spill_root = spill_root;
    rt = EmbeddedRuntime::Start(o, Kernels());
  }
  ObjectRef Ramp(int64_t n, double base, bool declare = true, bool recomputable = false) {
    TaskSpec s{"test.ramp", Device::kCpu, 0, {Scalar{std::vector<int64_t>{n}}, Scalar{base}}, 1,
               ""};
    if (declare) s.outputs = {OutputSpec{float64, {n}}};
    s.recomputable = recomputable;
    return rt->Submit(std::move(s))[0];
  }
  double Total(const ObjectRef& x) {
    TaskSpec s{"test.total", Device::kCpu, 0, {x}, 1, ""};
    s.outputs = {OutputSpec{float64, {1}}};
    return rt->Get(rt->Submit(std::move(s))[0]).data<double>()[0];
  }
  StoreStats stats() { return rt->node(0).store().stats(); }
  std::shared_ptr<EmbeddedRuntime> rt;
};

TEST(SpillTest, ObjectsBeyondTheCapacitySpillAndReadBackExactly) {
  TempDir dir;
  Cluster c(64 * kMiB, dir.path());  // spilling starts above 51.2 MiB
  const int64_t n = kMiB;            // 8 MiB blocks, 20 of them: 160 MiB
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 20; ++i) xs.push_back(c.Ramp(n, i));
  c.rt->Wait(xs, static_cast<int64_t>(xs.size()));
  const StoreStats after_fill = c.stats();
  EXPECT_GT(after_fill.spilled_bytes, 100 * kMiB);
  EXPECT_LE(after_fill.resident_bytes, 52 * kMiB);
  EXPECT_GT(SpillFiles(dir.path()), 0);
  for (int i = 0; i < 20; ++i) EXPECT_DOUBLE_EQ(c.Total(xs[i]), RampSum(n, i)) << "block " << i;
  const StoreStats end = c.stats();
  EXPECT_GE(end.restore_bytes_total, 100 * kMiB);
  EXPECT_GE(end.spill_bytes_total, end.spilled_bytes) << "every spilled byte was written once";
  EXPECT_LE(c.rt->node(0).pool()->peak_bytes(), 64 * kMiB) << "the pool never passed the capacity";
  const NodeInfo info = c.rt->Nodes()[0];
  EXPECT_EQ(info.memory_bytes, 64 * kMiB);
  EXPECT_EQ(info.spilled_bytes, end.spilled_bytes);
  EXPECT_EQ(info.restore_bytes_total, end.restore_bytes_total);
}

// Blocks a task makes from its scalars alone are dropped under pressure, not written, and made
// again when read: the same values, no spill file.
TEST(SpillTest, RecomputableObjectsAreDroppedAndRemadeInsteadOfWritten) {
  TempDir dir;
  Cluster c(64 * kMiB, dir.path());
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 20; ++i) xs.push_back(c.Ramp(kMiB, i, true, /*recomputable=*/true));
  c.rt->Wait(xs, static_cast<int64_t>(xs.size()));
  const StoreStats filled = c.stats();
  EXPECT_GT(filled.dropped_bytes_total, 100 * kMiB);
  EXPECT_EQ(filled.spill_bytes_total, 0);
  EXPECT_EQ(SpillFiles(dir.path()), 0);
  EXPECT_EQ(c.rt->Nodes()[0].spilled_bytes, filled.spilled_bytes) << "dropped bytes are off RAM";
  for (int i = 0; i < 20; ++i) EXPECT_DOUBLE_EQ(c.Total(xs[i]), RampSum(kMiB, i)) << "block " << i;
  const StoreStats end = c.stats();
  EXPECT_GE(end.remade_bytes_total, 100 * kMiB);
  EXPECT_EQ(end.spill_bytes_total, 0);
  EXPECT_EQ(end.restore_bytes_total, 0);
  EXPECT_LE(c.rt->node(0).pool()->peak_bytes(), 64 * kMiB);
}

// Without a spill disk, recomputable objects still make room; others cannot.
TEST(SpillTest, RecomputableObjectsMakeRoomWithoutASpillDisk) {
  Cluster c(64 * kMiB, "");
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 16; ++i) xs.push_back(c.Ramp(kMiB, i, true, /*recomputable=*/true));
  for (int i = 15; i >= 0; --i) EXPECT_DOUBLE_EQ(c.Total(xs[i]), RampSum(kMiB, i)) << i;
  EXPECT_GT(c.stats().remade_bytes_total, 0);
  // A peer (or the driver) reading a dropped block gets it made again.
  EXPECT_DOUBLE_EQ(c.rt->Get(xs[0]).data<double>()[kMiB - 1], static_cast<double>(kMiB - 1));
}

TEST(SpillTest, ARecomputableTaskMustMakeItsBlockFromScalarsAlone) {
  Cluster c(64 * kMiB, "");
  ObjectRef x = c.Ramp(4, 1.0);
  TaskSpec with_input{"test.total", Device::kCpu, 0, {x}, 1, ""};
  with_input.outputs = {OutputSpec{float64, {1}}};
  with_input.recomputable = true;
  EXPECT_THROW(c.rt->Submit(with_input), ValueError);
  TaskSpec undeclared{
      "test.ramp", Device::kCpu, 0, {Scalar{std::vector<int64_t>{4}}, Scalar{1.0}}, 1, ""};
  undeclared.recomputable = true;
  EXPECT_THROW(c.rt->Submit(undeclared), ValueError);
}

// Blocking I/O runs on the node's I/O threads: it neither needs nor holds a compute thread.
TEST(SpillTest, IoTasksRunOnTheNodesIoThreadsWhileComputeThreadsAreHeld) {
  Cluster c(64 * kMiB, "");
  gate_open = false;
  std::vector<ObjectRef> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(c.rt->Submit(TaskSpec{"test.gate", Device::kCpu, 0, {}, 1, ""})[0]);
  }
  ASSERT_TRUE(PollFor([] { return at_gate.load() == 2; }));
  TaskSpec io{"test.on_io_thread", Device::kCpu, 0, {}, 1, ""};
  io.io = true;
  const WaitResult done = c.rt->Wait({c.rt->Submit(io)[0]}, 1, std::chrono::seconds(10));
  const bool ran = done.ready.size() == 1;
  gate_open = true;
  ASSERT_TRUE(ran) << "the I/O task waited for a compute thread";
  EXPECT_EQ(c.rt->Get(done.ready[0]).data<double>()[0], 1.0);
  const ObjectRef compute =
      c.rt->Submit(TaskSpec{"test.on_io_thread", Device::kCpu, 0, {}, 1, ""})[0];
  EXPECT_EQ(c.rt->Get(compute).data<double>()[0], 0.0);
}

// A task that waits for memory is not overtaken by a smaller one that arrives after it.
TEST(SpillTest, NewTasksQueueBehindTasksWaitingForMemory) {
  Cluster c(64 * kMiB, "");              // 51.2 MiB for objects, nothing can be spilled
  ObjectRef held = c.Ramp(5 * kMiB, 0);  // 40 MiB
  c.rt->Wait({held}, 1);
  gate_open = false;
  ObjectRef gate = c.rt->Submit(TaskSpec{"test.gate", Device::kCpu, 0, {}, 1, ""})[0];
  ASSERT_TRUE(PollFor([] { return at_gate.load() == 1; }));
  ObjectRef big = c.Ramp(kMiB + kMiB / 2, 1);  // 12 MiB: waits for `held` to go
  ASSERT_TRUE(PollFor([&] { return c.rt->node(0).parked_tasks() == 1; }));
  ObjectRef small = c.Ramp(kMiB / 8, 2);  // 1 MiB: would fit now
  const WaitResult early = c.rt->Wait({small}, 1, std::chrono::milliseconds(300));
  held = ObjectRef();
  gate_open = true;
  EXPECT_TRUE(early.ready.empty()) << "the small task went ahead of the waiting one";
  EXPECT_DOUBLE_EQ(c.Total(big), RampSum(kMiB + kMiB / 2, 1));
  EXPECT_DOUBLE_EQ(c.Total(small), RampSum(kMiB / 8, 2));
  c.rt->Get(gate);
}

TEST(SpillTest, BlocksAllocatedInAKernelsParallelLoopCountAgainstTheNode) {
  Cluster c(64 * kMiB, "");
  TaskSpec s{"test.parallel_pools", Device::kCpu, 0, {}, 1, ""};
  EXPECT_EQ(c.rt->Get(c.rt->Submit(std::move(s))[0]).data<double>()[0], 1.0);
}

TEST(SpillTest, AQueuedTasksSpilledInputIsReadBackBeforeItRuns) {
  TempDir dir;
  Cluster c(64 * kMiB, dir.path());
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 10; ++i) xs.push_back(c.Ramp(kMiB, i));  // 80 MiB: the first ones spill
  c.rt->Wait(xs, 10);
  size_t k = 0;  // one that was spilled
  while (k < xs.size() && c.rt->node(0).store().SpilledBytes(xs[k].id()) == 0) ++k;
  ASSERT_LT(k, xs.size());
  const ObjectId first = xs[k].id();
  xs = {xs[k]};  // room for it again
  c.rt->WaitIdle();
  // Both threads held: the task that reads xs[0] waits in the queue.
  gate_open = false;
  std::vector<ObjectRef> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(c.rt->Submit(TaskSpec{"test.gate", Device::kCpu, 0, {}, 1, ""})[0]);
  }
  ASSERT_TRUE(PollFor([] { return at_gate.load() == 2; }));
  TaskSpec s{"test.total", Device::kCpu, 0, {xs[0]}, 1, ""};
  ObjectRef total = c.rt->Submit(std::move(s))[0];
  const bool back = PollFor([&] { return c.rt->node(0).store().SpilledBytes(first) == 0; });
  const int64_t run = c.rt->node(0).tasks_run();
  gate_open = true;
  EXPECT_TRUE(back) << "still on disk while its task waited behind the held threads";
  EXPECT_EQ(run, 10) << "only the ramps had run: it was read back ahead of its task";
  EXPECT_DOUBLE_EQ(c.rt->Get(total).data<double>()[0], RampSum(kMiB, static_cast<double>(k)));
}

// An input freed while its task queues fails the task as a missing input, which a driver with
// the lineage makes again, not as an error of the task.
TEST(SpillTest, AnInputFreedWhileItsTaskQueuesFailsItAsAMissingInput) {
  Cluster c(64 * kMiB, "");
  ObjectRef x = c.Ramp(1000, 1.0);
  c.rt->Wait({x}, 1);
  gate_open = false;
  std::vector<ObjectRef> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(c.rt->Submit(TaskSpec{"test.gate", Device::kCpu, 0, {}, 1, ""})[0]);
  }
  ASSERT_TRUE(PollFor([] { return at_gate.load() == 2; }));
  ObjectRef total = c.rt->Submit(TaskSpec{"test.total", Device::kCpu, 0, {x}, 1, "total"})[0];
  ASSERT_TRUE(PollFor([&] { return c.rt->node(0).tasks_queued() == 1; }));
  const bool freed = c.rt->node(0).store().Free(x.id());
  gate_open = true;
  ASSERT_TRUE(freed);
  std::promise<ObjectValue> done;
  c.rt->node(0).store().Subscribe(total.id(), [&](const ObjectValue& v) { done.set_value(v); });
  const ObjectValue v = done.get_future().get();
  ASSERT_FALSE(v.ok());
  EXPECT_TRUE(v.error->IsMissingInput()) << v.error->ToString();
  EXPECT_NE(v.error->message.find("'total'"), std::string::npos) << v.error->message;
  EXPECT_NE(v.error->message.find(x.id().ToString()), std::string::npos) << v.error->message;
}

TEST(SpillTest, UndeclaredOutputsSpillThroughThePool) {
  TempDir dir;
  Cluster c(64 * kMiB, dir.path());
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 12; ++i) xs.push_back(c.Ramp(kMiB, i, /*declare=*/false));
  for (int i = 0; i < 12; ++i) EXPECT_DOUBLE_EQ(c.Total(xs[i]), RampSum(kMiB, i));
  EXPECT_GT(c.stats().spill_bytes_total, 0);
  EXPECT_LE(c.rt->node(0).pool()->peak_bytes(), 64 * kMiB);
}

TEST(SpillTest, FreeingObjectsDeletesTheirSpillFiles) {
  TempDir dir;
  Cluster c(32 * kMiB, dir.path());
  {
    std::vector<ObjectRef> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(c.Ramp(kMiB / 2, i));
    c.rt->Wait(xs, static_cast<int64_t>(xs.size()));
    ASSERT_GT(SpillFiles(dir.path()), 0);
  }
  c.rt->WaitIdle();
  EXPECT_EQ(SpillFiles(dir.path()), 0);
  EXPECT_EQ(c.stats().objects, 0);
  EXPECT_EQ(c.stats().spilled_bytes, 0);
}

TEST(SpillTest, StaleSpillFilesOfACrashedNodeAreRemovedAtStart) {
  TempDir dir;
  const fs::path stale = fs::path(dir.path()) / "embedded-999999999-0";
  fs::create_directories(stale);
  { std::ofstream(stale / ".lock") << ""; }
  { std::ofstream(stale / "spill-7.bin") << "old bytes"; }
  Cluster c(32 * kMiB, dir.path());
  EXPECT_FALSE(fs::exists(stale)) << "a spill directory no live process holds is deleted";
  EXPECT_DOUBLE_EQ(c.Total(c.Ramp(1000, 1)), RampSum(1000, 1));
}

TEST(SpillTest, ATaskThatCanNeverFitFailsWithOutOfMemoryError) {
  TempDir dir;
  Cluster c(32 * kMiB, dir.path());
  ObjectRef big = c.Ramp(8 * kMiB, 0);  // 64 MiB on a 32 MiB node
  try {
    c.rt->Get({big});
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("node 0"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(64 * kMiB) + " bytes"), std::string::npos) << what;
  }
  EXPECT_DOUBLE_EQ(c.Total(c.Ramp(1000, 2)), RampSum(1000, 2)) << "the node keeps serving";
}

TEST(SpillTest, WithoutASpillDiskAFullNodeFailsClearlyAndKeepsServing) {
  Cluster c(32 * kMiB, "");
  std::vector<ObjectRef> xs;
  for (int i = 0; i < 3; ++i) xs.push_back(c.Ramp(kMiB, i));  // 8 MiB each: 24 of 25.6 MiB
  c.rt->Wait(xs, 3);
  ObjectRef more = c.Ramp(kMiB, 3);
  EXPECT_THROW(c.rt->Get({more}), OutOfMemoryError);
  xs.pop_back();
  c.rt->WaitIdle();
  EXPECT_DOUBLE_EQ(c.Total(c.Ramp(kMiB, 4)), RampSum(kMiB, 4)) << "freed memory is used again";
}

TEST(SpillTest, AFullSpillDiskGivesAClearErrorAndCorruptsNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  if (mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=24m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  {
    Cluster c(32 * kMiB, dir.path());
    std::vector<ObjectRef> xs;
    bool failed = false;
    for (int i = 0; i < 12 && !failed; ++i) {
      xs.push_back(c.Ramp(kMiB, i));
      try {
        c.rt->Get({xs.back()});
      } catch (const OutOfMemoryError& e) {
        failed = true;
        EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
        xs.pop_back();
      }
    }
    EXPECT_TRUE(failed) << "24 MiB of disk and 32 MiB of memory cannot hold 96 MiB";
    // The newest objects fill the memory and cannot be spilled: free them, and every spilled
    // one reads back exactly.
    ASSERT_GE(xs.size(), 3u);
    xs.resize(xs.size() - 3);
    c.rt->WaitIdle();
    for (size_t i = 0; i < xs.size(); ++i) {
      EXPECT_DOUBLE_EQ(c.Total(xs[i]), RampSum(kMiB, static_cast<double>(i))) << i;
    }
  }
  umount2(dir.path().c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace nums::engine
