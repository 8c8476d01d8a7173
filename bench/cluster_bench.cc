// The Thrift cluster on loopback: a head and two node processes started with the `nums` tool.
// Object transfer (put, get and node-to-node pull in 1 MiB chunks) of 1 MiB and 256 MiB objects
// against raw TCP moving the same bytes in the same chunk size, and task submission rates; and a
// small array operation's latency on a head and four nodes.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "engine/cluster/transport.h"
#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"

namespace nums::engine::cluster {
namespace {

// One head and two node processes of the `nums` tool for the whole program, as a user starts
// them; the driver is this process.
struct Cluster {
  nums::testing::LocalCluster processes{2, /*cores=*/1};
  std::shared_ptr<ThriftRuntime> rt =
      ThriftRuntime::Connect(processes.address(), ReadToken(processes.token_file()));

  static Cluster& Get() {
    static Cluster c;
    return c;
  }
};

Block Bytes(int64_t nbytes) {
  Block b = Block::Allocate(DType::kInt64, {nbytes / 8});
  std::memset(b.raw(), 1, static_cast<size_t>(b.nbytes()));
  return b;
}

// Driver -> node 0 in chunks.
void BM_Put(benchmark::State& state) {
  auto& c = Cluster::Get();
  const Block block = Bytes(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(c.rt->Put(block, 0));
  state.SetBytesProcessed(state.iterations() * block.nbytes());
}
BENCHMARK(BM_Put)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime()->MinTime(2.0);

// Node 0 -> driver in chunks.
void BM_Get(benchmark::State& state) {
  auto& c = Cluster::Get();
  const ObjectRef ref = c.rt->Put(Bytes(state.range(0)), 0);
  for (auto _ : state) benchmark::DoNotOptimize(c.rt->Get(ref));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Get)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime()->MinTime(2.0);

// Node 0 -> node 1 (a task on node 1 pulls its input), then the small result is fetched.
void BM_Pull(benchmark::State& state) {
  auto& c = Cluster::Get();
  const ObjectRef ref = c.rt->Put(Bytes(state.range(0)), 0);
  for (auto _ : state) {
    auto out = c.rt->Submit(TaskSpec{"engine.identity", Device::kCpu, 1, {ref}, 1, ""});
    c.rt->Wait(out, 1);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Pull)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime()->MinTime(2.0);

// The reference: the same bytes over one loopback TCP connection in 1 MiB writes, read into one
// reused buffer, as the chunked transfers do.
void BM_RawTcp(benchmark::State& state) {
  const int64_t total = state.range(0);
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 1);
  std::thread reader([&] {
    const int fd = accept(listener, nullptr, nullptr);
    Block sink = Bytes(total);
    int64_t got = 0;
    for (;;) {
      const ssize_t n =
          read(fd, static_cast<char*>(sink.raw()) + (got % total),
               static_cast<size_t>(std::min<int64_t>(kChunkBytes, total - got % total)));
      if (n <= 0) break;
      got += n;
    }
    close(fd);
  });
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  const Block src = Bytes(total);
  for (auto _ : state) {
    for (int64_t off = 0; off < total; off += kChunkBytes) {
      const char* p = static_cast<const char*>(src.raw()) + off;
      int64_t left = std::min<int64_t>(kChunkBytes, total - off);
      while (left > 0) {
        const ssize_t n = write(fd, p, static_cast<size_t>(left));
        if (n <= 0) break;
        p += n;
        left -= n;
      }
    }
  }
  close(fd);
  reader.join();
  close(listener);
  state.SetBytesProcessed(state.iterations() * total);
}
BENCHMARK(BM_RawTcp)->Arg(1 << 20)->Arg(256 << 20)->UseRealTime()->MinTime(2.0);

// Latency: one no-op task submitted to node 0 and awaited before the next.
void BM_TaskRoundTrip(benchmark::State& state) {
  auto& c = Cluster::Get();
  for (auto _ : state) {
    auto out = c.rt->Submit(TaskSpec{"engine.noop", Device::kCpu, 0, {}, 1, ""});
    c.rt->Wait(out, 1);
  }
}
BENCHMARK(BM_TaskRoundTrip)->UseRealTime()->Unit(benchmark::kMicrosecond);

// 2000 independent no-op tasks to node 0, then all awaited: one RPC each, or all in one
// SubmitBatch as an array operation sends them (one message per node).
void RunNoops(benchmark::State& state, bool batched) {
  auto& c = Cluster::Get();
  const int64_t n = 2000;
  for (auto _ : state) {
    std::vector<ObjectRef> refs;
    refs.reserve(n);
    {
      std::optional<SubmitBatch> batch;
      if (batched) batch.emplace(*c.rt);
      for (int64_t i = 0; i < n; ++i) {
        refs.push_back(c.rt->Submit(TaskSpec{"engine.noop", Device::kCpu, 0, {}, 1, ""})[0]);
      }
      if (batch) batch->Send();
    }
    c.rt->Wait(refs, n);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
void BM_NoopTasks(benchmark::State& state) { RunNoops(state, false); }
BENCHMARK(BM_NoopTasks)->UseRealTime()->Unit(benchmark::kMillisecond);
void BM_NoopTasksBatched(benchmark::State& state) { RunNoops(state, true); }
BENCHMARK(BM_NoopTasksBatched)->UseRealTime()->Unit(benchmark::kMillisecond);

// A head and four nodes with a driver Context, and x and y of 64 blocks of 16 float64 each
// (16 blocks per node): an operation small enough that its cost is the control path.
struct ArrayCluster {
  nums::testing::LocalCluster processes{4, /*cores=*/1};
  nums::Context ctx =
      nums::init({.address = processes.address(), .token_file = processes.token_file()});
  nums::BlockArray x = nums::arange(0, 1024, 1, nums::float64, {16});
  nums::BlockArray y = nums::full({1024}, 0.5, nums::float64, {16});

  static ArrayCluster& Get() {
    static ArrayCluster c;
    return c;
  }
};

// x + y, fused: one task per block, submitted (planned and sent) and then awaited.
void BM_ArrayAddWait(benchmark::State& state) {
  auto& c = ArrayCluster::Get();
  nums::wait({c.x, c.y});
  for (auto _ : state) (c.x + c.y).wait();
}
BENCHMARK(BM_ArrayAddWait)->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(3.0);

// x + y submitted only: the driver's cost of planning and sending an operation.
void BM_ArrayAddSubmit(benchmark::State& state) {
  auto& c = ArrayCluster::Get();
  nums::wait({c.x, c.y});
  for (auto _ : state) {
    nums::BlockArray z = c.x + c.y;
    benchmark::DoNotOptimize(z.impl());
  }
}
BENCHMARK(BM_ArrayAddSubmit)->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(3.0);

}  // namespace
}  // namespace nums::engine::cluster

BENCHMARK_MAIN();
