#include "tools/nums/microbenchmark.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iomanip>

#include "engine/cluster/thrift_runtime.h"
#include "engine/cluster/token.h"
#include "nums/errors.hpp"

namespace nums::tools {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The q-quantile of `v` (nearest rank); `v` is sorted here.
double Quantile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

double Median(std::vector<double> v) { return Quantile(v, 0.5); }

engine::TaskSpec Noop(engine::NodeId node) {
  return {.kernel = "engine.noop", .node = node, .name = "microbenchmark.noop"};
}

}  // namespace

CLI::App* AddMicrobenchmarkCommand(CLI::App& app, MicrobenchmarkOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "microbenchmark", "measure task latency, tasks per second and transfer rates of a cluster");
  cmd->add_option("--round-trips", options.round_trips,
                  "trivial tasks run one at a time for the latency (default 200)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", options.batch_tasks,
                  "trivial tasks submitted at once for the throughput (default 5000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--bytes", options.bytes, "size of the block moved, e.g. 64MiB (default)");
  cmd->add_option("--repeats", options.transfer_repeats,
                  "moves per direction; the median is shown (default 3)")
      ->check(CLI::PositiveNumber);
  return cmd;
}

std::vector<Measurement> RunMicrobenchmark(engine::Runtime& rt, const MicrobenchmarkOptions& o,
                                           int64_t block_bytes) {
  if (o.round_trips < 1 || o.batch_tasks < 1 || o.transfer_repeats < 1) {
    throw ValueError("microbenchmark: round trips, batch and repeats must be >= 1, got " +
                     std::to_string(o.round_trips) + ", " + std::to_string(o.batch_tasks) +
                     " and " + std::to_string(o.transfer_repeats));
  }
  if (block_bytes < 8) {
    throw ValueError("microbenchmark: the block must hold at least 8 bytes, got " +
                     std::to_string(block_bytes));
  }
  const auto nodes = static_cast<int64_t>(rt.Nodes().size());
  std::vector<Measurement> out;

  // Round trip: one trivial task at a time, from submit to its result at the driver.
  rt.Get(rt.Submit(Noop(0)));  // connections dialled, kernels paged in
  std::vector<double> latency;
  for (int64_t i = 0; i < o.round_trips; ++i) {
    const auto t0 = Clock::now();
    rt.Get(rt.Submit(Noop(i % nodes)));
    latency.push_back(Seconds(t0) * 1e3);
  }
  out.push_back({"task round trip p50", Quantile(latency, 0.5), "ms"});
  out.push_back({"task round trip p99", Quantile(latency, 0.99), "ms"});

  // Throughput: a batch spread over the nodes, sent per node in one message, all awaited.
  {
    std::vector<engine::ObjectRef> refs;
    refs.reserve(static_cast<size_t>(o.batch_tasks));
    const auto t0 = Clock::now();
    {
      engine::SubmitBatch batch(rt);
      for (int64_t i = 0; i < o.batch_tasks; ++i) refs.push_back(rt.Submit(Noop(i % nodes))[0]);
      batch.Send();
    }
    const auto waited = rt.Wait(refs, static_cast<int64_t>(refs.size()));
    if (!waited.not_ready.empty()) throw ClusterError("microbenchmark: the batch did not finish");
    out.push_back(
        {"tasks per second", static_cast<double>(o.batch_tasks) / Seconds(t0), "tasks/s"});
  }

  // Transfers: a block with every page written, so that no first touch is timed.
  const int64_t n = block_bytes / 8;
  engine::Block block = engine::Block::Allocate(float64, {n});
  std::memset(block.raw(), 1, static_cast<size_t>(block.nbytes()));
  const double gb = static_cast<double>(block.nbytes()) / 1e9;
  std::vector<double> put_rate, pull_rate, get_rate;
  for (int64_t r = 0; r < o.transfer_repeats; ++r) {
    auto t0 = Clock::now();
    engine::ObjectRef x = rt.Put(block, 0);
    rt.Wait({x}, 1);
    put_rate.push_back(gb / Seconds(t0));
    if (nodes > 1) {
      // engine.identity on node 1 returns its input: the time is that of pulling it across.
      t0 = Clock::now();
      auto y = rt.Submit(
          {.kernel = "engine.identity", .node = 1, .args = {x}, .name = "microbenchmark.pull"});
      const auto waited = rt.Wait(y, 1);
      if (waited.ready.size() != 1) throw ClusterError("microbenchmark: the pull did not finish");
      pull_rate.push_back(gb / Seconds(t0));
      rt.Get(y);  // raises the pull's error, if any
    }
    t0 = Clock::now();
    rt.Get(x);
    get_rate.push_back(gb / Seconds(t0));
    rt.Free({x});
  }
  out.push_back({"transfer driver to node", Median(put_rate), "GB/s"});
  if (nodes > 1) out.push_back({"transfer node to node", Median(pull_rate), "GB/s"});
  out.push_back({"transfer node to driver", Median(get_rate), "GB/s"});
  return out;
}

int RunMicrobenchmarkCommand(const MicrobenchmarkOptions& options, int64_t block_bytes,
                             const std::string& address, const std::string& token_file,
                             std::ostream& out) {
  auto rt =
      engine::cluster::ThriftRuntime::Connect(address, engine::cluster::ReadToken(token_file));
  const auto nodes = rt->Nodes().size();
  const auto rows = RunMicrobenchmark(*rt, options, block_bytes);
  out << "nums microbenchmark: " << nodes << " node" << (nodes == 1 ? "" : "s") << " at " << address
      << "; " << options.round_trips << " round trips, batch of " << options.batch_tasks
      << ", block of " << block_bytes << " bytes\n";
  out << std::left << std::setw(28) << "metric" << std::right << std::setw(14) << "value"
      << "  unit\n";
  for (const auto& m : rows) {
    out << std::left << std::setw(28) << m.metric << std::right << std::setw(14) << std::fixed
        << std::setprecision(m.value >= 100 ? 0 : 3) << m.value << "  " << m.unit << "\n";
  }
  return 0;
}

}  // namespace nums::tools
