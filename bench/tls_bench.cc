// TLS against plaintext on loopback, in one run: two clusters of a head and two node processes
// of the `nums` tool, one started with --tls. A 256 MiB (and a 1 MiB) block fetched by the
// driver from a node, and pulled by one node from the other, in 1 MiB chunks.

#include <benchmark/benchmark.h>

#include <cstring>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "tests/integration/cluster_fixture.h"

namespace nums::engine::cluster {
namespace {

struct Cluster {
  explicit Cluster(bool tls)
      : processes([tls] {
          nums::testing::LocalClusterOptions o;
          o.nodes = 2;
          if (tls) o.head_args = o.node_args = {"--tls"};
          return o;
        }()),
        rt(ThriftRuntime::Connect(
            processes.address(), ReadToken(processes.token_file()),
            tls ? (processes.state_dir() / "tls" / "ca.pem").string() : std::string())) {}
  nums::testing::LocalCluster processes;
  std::shared_ptr<ThriftRuntime> rt;

  // range 0: plaintext, 1: TLS.
  static Cluster& Get(int64_t tls) {
    static Cluster plain(false), secure(true);
    return tls != 0 ? secure : plain;
  }
};

Block Bytes(int64_t nbytes) {
  Block b = Block::Allocate(DType::kInt64, {nbytes / 8});
  std::memset(b.raw(), 1, static_cast<size_t>(b.nbytes()));
  return b;
}

// Node 0 -> driver. Args: bytes, TLS (0/1).
void BM_Get(benchmark::State& state) {
  auto& c = Cluster::Get(state.range(1));
  const ObjectRef ref = c.rt->Put(Bytes(state.range(0)), 0);
  for (auto _ : state) benchmark::DoNotOptimize(c.rt->Get(ref));
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetLabel(state.range(1) != 0 ? "tls" : "plaintext");
}
BENCHMARK(BM_Get)->ArgsProduct({{1 << 20, 256 << 20}, {0, 1}})->UseRealTime()->MinTime(2.0);

// Node 0 -> node 1: a task on node 1 pulls its input.
void BM_Pull(benchmark::State& state) {
  auto& c = Cluster::Get(state.range(1));
  const ObjectRef ref = c.rt->Put(Bytes(state.range(0)), 0);
  for (auto _ : state) {
    auto out = c.rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {ref}, 1, ""});
    c.rt->Wait(out, 1);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.SetLabel(state.range(1) != 0 ? "tls" : "plaintext");
}
BENCHMARK(BM_Pull)->ArgsProduct({{1 << 20, 256 << 20}, {0, 1}})->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace nums::engine::cluster

BENCHMARK_MAIN();
