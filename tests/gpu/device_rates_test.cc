// DeviceRates: the CPU measurement through the registry's kernels (runs everywhere), nodes
// without a GPU reporting zeros, and a node with one reporting its GPU's rates (skips, saying
// why, where the process has no GPU).

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "engine/device_rates.h"
#include "engine/embedded_runtime.h"
#include "engine/gpu.h"
#include "src/context_impl.h"

namespace nums::engine {
namespace {

#define SKIP_WITHOUT_GPU()                                       \
  if (DiscoverGpus().empty()) {                                  \
    GTEST_SKIP() << "no GPU in this process: " << NoGpuReason(); \
  }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::shared_ptr<EmbeddedRuntime> Start(int64_t gpus_per_node) {
  EmbeddedOptions o;
  o.nodes = 2;
  o.threads_per_node = 1;
  o.gpus_per_node = gpus_per_node;
  return EmbeddedRuntime::Start(o, DefaultKernels());
}

TEST(DeviceRates, TheCpuMeasurementGivesPlausibleRatesQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const DeviceRates r = MeasureCpuRates(*DefaultKernels(), 2);
  const double seconds = SecondsSince(start);
  RecordProperty("seconds", std::to_string(seconds));
  RecordProperty("cpu_flops", std::to_string(r.cpu_flops));
  RecordProperty("cpu_bytes_per_s", std::to_string(r.cpu_bytes_per_s));
  EXPECT_GT(r.cpu_flops, 1e8);
  EXPECT_LT(r.cpu_flops, 1e13);
  EXPECT_GT(r.cpu_bytes_per_s, 1e8);
  EXPECT_LT(r.cpu_bytes_per_s, 1e12);
  EXPECT_EQ(r.gpu_flops, 0);
  EXPECT_EQ(r.gpu_bytes_per_s, 0);
  EXPECT_EQ(r.link_bytes_per_s, 0);
  // Two phases of kPhaseSeconds and the first touch of its blocks; generous for a busy machine.
  EXPECT_LT(seconds, 2.0);
}

TEST(DeviceRates, MoreThreadsComputeAtLeastAsFastAsOne) {
  const DeviceRates one = MeasureCpuRates(*DefaultKernels(), 1);
  const DeviceRates two = MeasureCpuRates(*DefaultKernels(), 2);
  ASSERT_GT(one.cpu_flops, 0);
  // Not twice: the cores may be busy. Far below one thread's rate would mean the threads'
  // calls were not counted together.
  EXPECT_GT(two.cpu_flops, 0.6 * one.cpu_flops);
}

TEST(DeviceRates, WithoutTheKernelsNothingIsMeasured) {
  KernelRegistry empty;
  RegisterEngineKernels(empty);
  EXPECT_EQ(MeasureCpuRates(empty, 2), DeviceRates{});
}

TEST(DeviceRates, ANodeWithoutAGpuMeasuresNothing) {
  const auto kernels = DefaultKernels();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(MeasureNodeRates(*kernels, 2, {}), DeviceRates{});
  EXPECT_LT(SecondsSince(start), 0.001);
  auto rt = Start(/*gpus_per_node=*/0);
  for (const NodeInfo& n : rt->Nodes()) {
    EXPECT_EQ(n.gpus, 0);
    EXPECT_EQ(n.rates, DeviceRates{}) << "node " << n.id << " cpu_flops " << n.rates.cpu_flops;
  }
}

TEST(DeviceRates, ANodeWithAGpuReportsItsRates) {
  SKIP_WITHOUT_GPU();
  const auto start = std::chrono::steady_clock::now();
  auto rt = Start(/*gpus_per_node=*/-1);
  RecordProperty("start_seconds", std::to_string(SecondsSince(start)));
  const auto nodes = rt->Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  const DeviceRates& r = nodes[0].rates;
  EXPECT_GT(r.gpu_flops, 1e9);
  EXPECT_LT(r.gpu_flops, 1e15);
  EXPECT_GT(r.gpu_bytes_per_s, 1e9);
  EXPECT_LT(r.gpu_bytes_per_s, 1e13);
  EXPECT_GT(r.link_bytes_per_s, 1e8);
  EXPECT_LT(r.link_bytes_per_s, 1e12);
  EXPECT_GT(r.cpu_flops, 1e8);
  EXPECT_GT(r.cpu_bytes_per_s, 1e8);
  EXPECT_EQ(nodes[1].rates, r);  // measured once, for both
}

TEST(DeviceRates, TheGpuMeasurementTakesAFractionOfASecondOnceCublasIsLoaded) {
  SKIP_WITHOUT_GPU();
  const auto kernels = DefaultKernels();
  (void)MeasureGpuRates(*kernels, DiscoverGpus()[0]);  // loads cuBLAS
  const auto start = std::chrono::steady_clock::now();
  const DeviceRates r = MeasureNodeRates(*kernels, 4, DiscoverGpus());
  const double seconds = SecondsSince(start);
  RecordProperty("seconds", std::to_string(seconds));
  EXPECT_GT(r.gpu_flops, 0);
  EXPECT_GT(r.link_bytes_per_s, 0);
  EXPECT_LT(seconds, 0.3);
}

}  // namespace
}  // namespace nums::engine
