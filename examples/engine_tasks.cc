// Runs tasks on the embedded cluster: estimates pi by Monte Carlo, one sampling task per block
// spread over the nodes, then a tree of sum tasks, and checks the engine's bookkeeping.
//
//   engine_tasks [nodes] [tasks] [samples_per_task]

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "engine/embedded_runtime.h"

using namespace nums::engine;

int main(int argc, char** argv) {
  const int64_t nodes = argc > 1 ? std::atoll(argv[1]) : 2;
  const int64_t tasks = argc > 2 ? std::atoll(argv[2]) : 64;
  const int64_t samples = argc > 3 ? std::atoll(argv[3]) : 1'000'000;

  auto registry = std::make_shared<KernelRegistry>();
  RegisterEngineKernels(*registry);
  // Counts samples (seeded by scalar 0) that fall inside the unit quarter circle.
  registry->Register("pi.sample", Device::kCpu, [](const KernelContext& ctx) {
    std::mt19937_64 rng(static_cast<uint64_t>(ctx.scalar<int64_t>(0)));
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const int64_t n = ctx.scalar<int64_t>(1);
    int64_t hits = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double x = u(rng), y = u(rng);
      hits += x * x + y * y <= 1.0;
    }
    Block out = Block::Allocate(nums::int64, {});
    *out.data<int64_t>() = hits;
    return std::vector<Block>{out};
  });
  registry->Register("pi.sum", Device::kCpu, [](const KernelContext& ctx) {
    Block out = Block::Allocate(nums::int64, {});
    int64_t s = 0;
    for (const Block& b : ctx.inputs) s += *b.data<int64_t>();
    *out.data<int64_t>() = s;
    return std::vector<Block>{out};
  });

  auto rt = EmbeddedRuntime::Start({.nodes = nodes}, registry);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ObjectRef> level;
  for (int64_t i = 0; i < tasks; ++i) {
    level.push_back(rt->Submit(
        {"pi.sample", Device::kCpu, i % nodes, {Scalar{i + 1}, Scalar{samples}}, 1, "sample"})[0]);
  }
  // Pairwise sums, each on the node of its left input: no task waits for the driver.
  while (level.size() > 1) {
    std::vector<ObjectRef> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(rt->Submit(
          {"pi.sum", Device::kCpu, level[i].node(), {level[i], level[i + 1]}, 1, "sum"})[0]);
    }
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  const int64_t hits = *rt->Get(level[0]).data<int64_t>();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double pi = 4.0 * static_cast<double>(hits) / static_cast<double>(tasks * samples);

  std::printf("pi ~= %.6f (error %.2e) from %lld samples in %lld tasks on %lld nodes, %.3f s\n", pi,
              std::abs(pi - M_PI), static_cast<long long>(tasks * samples),
              static_cast<long long>(tasks), static_cast<long long>(nodes), secs);
  for (const NodeInfo& n : rt->Nodes()) {
    std::printf("  node %lld: %lld cores, %lld tasks run, %lld bytes in, %lld bytes out\n",
                static_cast<long long>(n.id), static_cast<long long>(n.cores),
                static_cast<long long>(n.tasks_run), static_cast<long long>(n.net_in_bytes),
                static_cast<long long>(n.net_out_bytes));
  }
  return std::abs(pi - M_PI) < 0.01 ? 0 : 1;
}
