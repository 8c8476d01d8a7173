// GPUs in the engine: discovery, the node's GPU limit, CUDA tasks on nodes with and without a
// GPU, staging between host and device memory, and the store's device tier. Tests that need a
// GPU skip, saying why, where the process has none.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "engine/embedded_runtime.h"
#include "engine/gpu.h"
#include "engine/node.h"
#include "tests/testing/testing.h"

namespace nums::engine {
namespace {

using nums::testing::MakeBlock;
using nums::testing::Values;

#define SKIP_WITHOUT_GPU()                                       \
  if (DiscoverGpus().empty()) {                                  \
    GTEST_SKIP() << "no GPU in this process: " << NoGpuReason(); \
  }

// "test.where": returns which device each input reached the kernel on (0 host, 1 GPU), and
// its inputs as they came. Registered for the CPU and for CUDA: the host code reads no bytes.
std::shared_ptr<KernelRegistry> Kernels() {
  auto r = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*r);
  for (Device d : {Device::kCpu, Device::kCuda}) {
    r->Register("test.pass", d, [](const KernelContext& ctx) {
      return std::vector<Block>(ctx.inputs.begin(), ctx.inputs.end());
    });
  }
  // On the GPU for float64 only: other dtypes fall to the CPU twin. Returns its input.
  r->Register(
      "test.f64_on_gpu", Device::kCuda,
      [](const KernelContext& ctx) { return std::vector<Block>{ctx.inputs[0]}; },
      [](std::span<const Block> inputs, std::span<const Scalar>) {
        return inputs.size() == 1 && inputs[0].dtype() == DType::kFloat64;
      });
  r->Register("test.f64_on_gpu", Device::kCpu,
              [](const KernelContext& ctx) { return std::vector<Block>{ctx.inputs[0]}; });
  // On the host only: sums its float64 input (reads bytes, so it must see host memory).
  r->Register("test.sum", Device::kCpu, [](const KernelContext& ctx) {
    double s = 0;
    for (int64_t i = 0; i < ctx.inputs[0].size(); ++i) s += ctx.inputs[0].data<double>()[i];
    return std::vector<Block>{MakeBlock({1}, {s})};
  });
  return r;
}

TaskSpec Task(const char* kernel, Device device, const ObjectRef& input) {
  TaskSpec t;
  t.kernel = kernel;
  t.device = device;
  t.args = {input};
  return t;
}

std::shared_ptr<EmbeddedRuntime> Start(int64_t gpus_per_node) {
  EmbeddedOptions o;
  o.nodes = 1;
  o.threads_per_node = 1;
  o.gpus_per_node = gpus_per_node;
  return EmbeddedRuntime::Start(o, Kernels());
}

TEST(GpuDiscovery, AReasonIsGivenExactlyWhenThereAreNoGpus) {
  const auto& gpus = DiscoverGpus();
  EXPECT_EQ(gpus.empty(), !NoGpuReason().empty()) << NoGpuReason();
  for (size_t i = 0; i < gpus.size(); ++i) {
    EXPECT_EQ(gpus[i].ordinal, static_cast<int>(i));
    EXPECT_FALSE(gpus[i].name.empty());
    EXPECT_GT(gpus[i].memory_bytes, 0);
  }
}

TEST(GpuRegistry, AKernelTakesWhatItsPredicateAccepts) {
  auto r = Kernels();
  const Block f64 = MakeBlock({2}, {1, 2});
  const Block f32 = Block::Allocate(DType::kFloat32, {2});
  const std::vector<Scalar> none;
  EXPECT_TRUE(r->Accepts("test.f64_on_gpu", Device::kCuda, {&f64, 1}, none));
  EXPECT_FALSE(r->Accepts("test.f64_on_gpu", Device::kCuda, {&f32, 1}, none));
  // No predicate: every task; no kernel: none.
  EXPECT_TRUE(r->Accepts("test.f64_on_gpu", Device::kCpu, {&f32, 1}, none));
  EXPECT_FALSE(r->Accepts("test.sum", Device::kCuda, {&f64, 1}, none));
}

TEST(GpuNode, AskingForMoreGpusThanTheMachineHasIsAClusterError) {
  NodeMemory m;
  m.capacity = 64 << 20;
  m.gpus = static_cast<int64_t>(DiscoverGpus().size()) + 1;
  try {
    Node node(3, 1, std::move(m), Kernels(), nullptr);
    FAIL() << "a node with more GPUs than the machine has was made";
  } catch (const ClusterError& e) {
    EXPECT_NE(std::string(e.what()).find("node 3: asked for"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GPU"), std::string::npos) << e.what();
  }
}

TEST(GpuNode, ItUsesAtMostTheGpusItIsGivenAndReportsThem) {
  for (int64_t limit : {int64_t{-1}, int64_t{0}}) {
    auto rt = Start(limit);
    const auto nodes = rt->Nodes();
    ASSERT_EQ(nodes.size(), 1u);
    const auto expected = limit < 0 ? static_cast<int64_t>(DiscoverGpus().size()) : 0;
    EXPECT_EQ(nodes[0].gpus, expected);
    ASSERT_EQ(static_cast<int64_t>(nodes[0].gpu_devices.size()), expected);
    for (int64_t g = 0; g < expected; ++g) {
      EXPECT_EQ(nodes[0].gpu_devices[g].name, DiscoverGpus()[g].name);
    }
    EXPECT_EQ(nodes[0].gpu_memory_used, 0);
  }
}

TEST(GpuNode, ACudaTaskOnANodeWithoutAGpuFailsNamingTheNodeAndWhy) {
  auto rt = Start(0);
  ObjectRef x = rt->Put(MakeBlock({3}, {1, 2, 3}), 0);
  ObjectRef y = rt->Submit(Task("test.pass", Device::kCuda, x))[0];
  try {
    rt->Get(y);
    FAIL() << "a CUDA task ran on a node without a GPU";
  } catch (const ClusterError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("asks for a GPU, and node 0 has none"), std::string::npos) << what;
    EXPECT_NE(what.find(DiscoverGpus().empty() ? NoGpuReason() : "--gpus 0"), std::string::npos)
        << what;
  }
  // The node goes on serving CPU tasks.
  EXPECT_EQ(Values(rt->Get(rt->Submit(Task("test.sum", Device::kCpu, x))[0])),
            std::vector<double>{6});
}

TEST(GpuNode, BlocksGoToTheGpuForCudaTasksAndBackForHostOnes) {
  SKIP_WITHOUT_GPU();
  auto rt = Start(1);
  std::vector<double> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i);
  ObjectRef x = rt->Put(MakeBlock({1000}, values), 0);
  // On the GPU: the store counts it in the device tier, not the host's.
  ObjectRef on_gpu = rt->Submit(Task("test.pass", Device::kCuda, x))[0];
  rt->Wait({on_gpu}, 1, std::nullopt);
  EXPECT_EQ(rt->Nodes()[0].gpu_memory_used, 8000);
  // The driver reads it back through the host; a host kernel gets it staged too.
  EXPECT_EQ(Values(rt->Get(on_gpu)), values);
  ObjectRef sum = rt->Submit(Task("test.sum", Device::kCpu, on_gpu))[0];
  EXPECT_EQ(Values(rt->Get(sum)), std::vector<double>{249750});
  rt->Free({on_gpu});
  on_gpu = ObjectRef();
  sum = ObjectRef();
  for (int i = 0; i < 200 && rt->Nodes()[0].gpu_memory_used != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(rt->Nodes()[0].gpu_memory_used, 0);
}

TEST(GpuNode, AnOpWithNoCudaKernelRunsOnTheCpuWithItsInputsStaged) {
  SKIP_WITHOUT_GPU();
  auto rt = Start(1);
  ObjectRef x = rt->Put(MakeBlock({4}, {1, 2, 3, 4}), 0);
  ObjectRef on_gpu = rt->Submit(Task("test.pass", Device::kCuda, x))[0];
  // test.sum has no CUDA kernel: asked for on the GPU, it runs on the CPU.
  ObjectRef sum = rt->Submit(Task("test.sum", Device::kCuda, on_gpu))[0];
  EXPECT_EQ(Values(rt->Get(sum)), std::vector<double>{10});
}

TEST(GpuNode, ATaskItsGpuKernelRefusesRunsOnTheCpuTwin) {
  SKIP_WITHOUT_GPU();
  auto rt = Start(1);
  Block f32 = Block::Allocate(DType::kFloat32, {3});
  for (int i = 0; i < 3; ++i) f32.data<float>()[i] = 0.5f * static_cast<float>(i);
  ObjectRef x64 = rt->Put(MakeBlock({3}, {1, 2, 3}), 0);
  ObjectRef x32 = rt->Put(f32, 0);
  ObjectRef on_gpu = rt->Submit(Task("test.f64_on_gpu", Device::kCuda, x64))[0];
  ObjectRef on_cpu = rt->Submit(Task("test.f64_on_gpu", Device::kCuda, x32))[0];
  rt->Wait({on_gpu, on_cpu}, 2, std::nullopt);
  // The float64 block went to the GPU; the float32 one stayed on the host.
  EXPECT_EQ(rt->Nodes()[0].gpu_memory_used, 24);
  const Block back = rt->Get(on_cpu);
  EXPECT_EQ(back.dtype(), DType::kFloat32);
  EXPECT_EQ(back.data<float>()[2], 1.0f);
}

TEST(GpuPool, DeviceBuffersAreReusedAndCountedUntilTrimmed) {
  SKIP_WITHOUT_GPU();
  auto pool = MakeGpuPool("test gpu", 0, int64_t{1} << 30);
  EXPECT_EQ(pool->device(), Device::kCuda);
  void* a = pool->Allocate(3 << 20);
  const int64_t held = pool->bytes_allocated();
  EXPECT_GE(held, 3 << 20);
  pool->Free(a, 3 << 20);
  EXPECT_EQ(pool->bytes_allocated(), held);  // cached, still counted
  void* b = pool->Allocate(3 << 20);
  EXPECT_EQ(a, b);  // the cached buffer, no new cudaMalloc
  pool->Free(b, 3 << 20);
  EXPECT_THROW(pool->Allocate(int64_t{2} << 30), OutOfMemoryError);
}

TEST(GpuCopies, ARoundTripThroughTheGpuKeepsEveryByte) {
  SKIP_WITHOUT_GPU();
  auto pool = MakeGpuPool("test gpu", 0, int64_t{1} << 30);
  // Larger than a staging slice, and not a multiple of one.
  const int64_t n = (int64_t{80} << 20) / 8 + 3;
  Block host = Block::Allocate(DType::kFloat64, {n});
  for (int64_t i = 0; i < n; ++i) host.data<double>()[i] = static_cast<double>(i) * 1.25;
  Block dev = ToDevice(host, pool);
  EXPECT_EQ(dev.device(), Device::kCuda);
  Block back = ToHost(dev);
  EXPECT_EQ(back.device(), Device::kCpu);
  EXPECT_EQ(std::memcmp(back.raw(), host.raw(), static_cast<size_t>(host.nbytes())), 0);
  std::vector<double> part(5);
  CopyToHost(dev, 8 * (n - 5), 40, part.data());
  EXPECT_EQ(part[4], static_cast<double>(n - 1) * 1.25);
}

}  // namespace
}  // namespace nums::engine
