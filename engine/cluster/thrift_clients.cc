#include "engine/cluster/thrift_clients.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <mutex>

#include "engine/cluster/chunks.h"
#include "engine/cluster/gen/Head.h"
#include "engine/cluster/gen/Node.h"
#include "engine/cluster/timeline_rpc.h"
#include "engine/cluster/transport.h"
#include "engine/cluster/wire.h"

namespace nums::engine::cluster {
namespace {

using NodeConnection = Connection<wire::NodeClient>;

// A node's rates as it reported them; one that is not a finite, positive number (a peer's
// mistake) reads as not measured.
DeviceRates RatesOf(const wire::DeviceRatesW& w) {
  auto rate = [](double v) { return std::isfinite(v) && v > 0 ? v : 0.0; };
  return {.cpu_flops = rate(w.cpu_flops),
          .cpu_bytes_per_s = rate(w.cpu_bytes_per_s),
          .gpu_flops = rate(w.gpu_flops),
          .gpu_bytes_per_s = rate(w.gpu_bytes_per_s),
          .link_bytes_per_s = rate(w.link_bytes_per_s)};
}

std::vector<wire::ObjectIdW> WireIds(const std::vector<ObjectId>& ids) {
  std::vector<wire::ObjectIdW> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(ToWire(id));
  return out;
}

class ThriftNodeClient final : public NodeClient {
 public:
  ThriftNodeClient(const Member& m, std::string token, std::chrono::milliseconds io_timeout,
                   const std::shared_ptr<const TlsClient>& tls)
      : node_(m.id),
        first_(m.host, m.port, token, /*peer_is_node=*/true, io_timeout, tls),
        second_(m.host, m.port, token, /*peer_is_node=*/true, io_timeout, tls) {}

  NodeLoad SubmitTasks(const std::vector<const TaskRecord*>& tasks) override {
    std::vector<wire::TaskW> batch;
    batch.reserve(tasks.size());
    for (const TaskRecord* t : tasks) batch.push_back(ToWire(*t));
    wire::LoadW load;
    OnFirst("Node.SubmitTasks", [&](wire::NodeClient& c) { c.SubmitTasks(load, batch); });
    return FromWire(load);
  }

  void Put(const ObjectId& id, const Block& block) override {
    const wire::BlockMetaW meta = MetaOf(block);
    const wire::ObjectIdW wid = ToWire(id);
    const auto* bytes = static_cast<const char*>(block.raw());
    const int64_t total = block.nbytes();
    const int64_t chunks = std::max<int64_t>(1, (total + kChunkBytes - 1) / kChunkBytes);
    // Chunks first, first + step, ...: a large object goes two chunks at a time, one on each
    // connection; the node assembles them in any order.
    auto put = [&](int64_t first, int64_t step, bool second, const std::atomic<bool>& stop) {
      std::string chunk;
      for (int64_t k = first; k < chunks && !stop; k += step) {
        const int64_t offset = k * kChunkBytes;
        chunk.assign(bytes + offset, static_cast<size_t>(std::min(kChunkBytes, total - offset)));
        auto call = [&](wire::NodeClient& c) { c.PutChunk(wid, meta, offset, chunk); };
        if (second) {
          OnSecond("Node.PutChunk", call);
        } else {
          OnFirst("Node.PutChunk", call);
        }
      }
    };
    if (chunks > 2) {
      InTwoHalves([&](int half, const std::atomic<bool>& stop) { put(half, 2, half == 1, stop); });
    } else {
      put(0, 1, false, std::atomic<bool>{false});
    }
  }

  std::optional<ObjectValue> Get(const ObjectId& id, int32_t wait_ms) override {
    const wire::ObjectIdW wid = ToWire(id);
    const ChunkReader first = [&](int64_t offset, int32_t wait, wire::ChunkW& out) {
      OnFirst("Node.GetChunk",
              [&](wire::NodeClient& c) { c.GetChunk(out, wid, offset, kChunkBytes, wait); });
    };
    const ChunkReader second = [&](int64_t offset, int32_t wait, wire::ChunkW& out) {
      OnSecond("Node.GetChunk",
               [&](wire::NodeClient& c) { c.GetChunk(out, wid, offset, kChunkBytes, wait); });
    };
    return FetchChunked(id, wait_ms, first, &second, DriverPool());
  }

  std::shared_ptr<const ErrorInfo> Probe(const ObjectId& id) override {
    wire::ChunkW probe;
    OnFirst("Node.GetChunk", [&](wire::NodeClient& c) { c.GetChunk(probe, ToWire(id), 0, 0, 0); });
    if (probe.state != wire::ObjectState::FAILED) return nullptr;
    return FromWire(probe.error);
  }

  std::vector<bool> Await(const std::vector<ObjectId>& ids, int64_t min_done, int32_t wait_ms,
                          std::vector<bool>* failed) override {
    std::vector<bool> done;
    const auto need = static_cast<int32_t>(std::clamp<int64_t>(min_done, 0, INT32_MAX));
    OnFirst("Node.Await", [&](wire::NodeClient& c) {
      c.Await(done, WireIds(ids), need, wait_ms, failed != nullptr);
    });
    if (failed != nullptr) {
      // The second half of the reply; a node that ignored the flag sent only the first.
      failed->clear();
      if (done.size() == 2 * ids.size()) {
        failed->assign(done.begin() + static_cast<std::ptrdiff_t>(ids.size()), done.end());
      }
    }
    done.resize(ids.size(), false);
    return done;
  }

  void Free(const std::vector<ObjectId>& ids) override {
    OnFirst("Node.Free", [&](wire::NodeClient& c) { c.Free(WireIds(ids)); });
  }

  NodeStats Stats() override {
    wire::StatsW s;
    OnFirst("Node.Stats", [&](wire::NodeClient& c) { c.Stats(s); });
    return {.memory_used = s.memory_used,
            .num_objects = s.num_objects,
            .tasks_run = s.tasks_run,
            .net_in_bytes = s.net_in_bytes,
            .net_out_bytes = s.net_out_bytes,
            .memory_capacity = s.memory_capacity,
            .spilled_bytes = s.spilled_bytes,
            .spill_bytes_total = s.spill_bytes_total,
            .restore_bytes_total = s.restore_bytes_total,
            .gpu_memory_used = s.gpu_memory_used};
  }

  void Ping() override {
    OnFirst("Node.Ping", [](wire::NodeClient& c) { c.Ping(); });
  }

  NodeLoad KeepAlive(uint64_t session, std::chrono::milliseconds ttl) override {
    wire::LoadW load;
    OnFirst("Node.KeepAlive", [&](wire::NodeClient& c) {
      c.KeepAlive(load, static_cast<int64_t>(session), static_cast<int32_t>(ttl.count()));
    });
    return FromWire(load);
  }

  TraceSnapshot Timeline(int64_t since, std::optional<bool> record) override {
    return FetchTimeline(node_, since, record, [&](int64_t s, int8_t r, wire::TimelineW& page) {
      OnFirst("Node.Timeline", [&](wire::NodeClient& c) { c.Timeline(page, s, r); });
    });
  }

  void Reconnect() override {
    {
      std::lock_guard lock(first_mu_);
      first_.Close();
    }
    std::lock_guard lock(second_mu_);
    second_.Close();
  }

 private:
  template <typename Fn>
  void OnFirst(const char* what, Fn&& fn) {
    std::lock_guard lock(first_mu_);
    first_.Invoke(what, std::forward<Fn>(fn));
  }
  template <typename Fn>
  void OnSecond(const char* what, Fn&& fn) {
    std::lock_guard lock(second_mu_);
    second_.Invoke(what, std::forward<Fn>(fn));
  }

  const NodeId node_;
  std::mutex first_mu_;  // guards first_
  NodeConnection first_;
  std::mutex second_mu_;  // guards second_
  NodeConnection second_;
};

class ThriftHeadClient final : public HeadClient {
 public:
  ThriftHeadClient(const std::string& host, int port, const std::string& token,
                   std::shared_ptr<const TlsClient> tls)
      : conn_(host, port, token, /*peer_is_node=*/false, std::chrono::seconds(60), std::move(tls)) {
  }

  std::vector<Member> ListNodes() override {
    std::vector<wire::NodeW> listed;
    {
      std::lock_guard lock(mu_);
      conn_.Invoke("Head.ListNodes", [&](wire::HeadClient& c) { c.ListNodes(listed); });
    }
    std::vector<Member> out;
    out.reserve(listed.size());
    for (const auto& n : listed) {
      std::vector<GpuInfo> gpus;
      for (const wire::GpuW& g : n.gpu_devices) {
        gpus.push_back({.ordinal = static_cast<int>(gpus.size()),
                        .name = g.name,
                        .memory_bytes = g.memory_bytes});
      }
      out.push_back({.id = n.id,
                     .host = n.host,
                     .port = n.port,
                     .cores = n.cores,
                     .memory_bytes = n.memory_bytes,
                     .gpus = n.gpus,
                     .gpu_devices = std::move(gpus),
                     .rates = n.__isset.rates ? RatesOf(n.rates) : DeviceRates{},
                     .live = n.live,
                     .incarnation = n.incarnation});
    }
    return out;
  }

 private:
  std::mutex mu_;  // guards conn_
  Connection<wire::HeadClient> conn_;
};

}  // namespace

NodeDialer ThriftDialer(std::string token, std::shared_ptr<const TlsClient> tls) {
  return [token = std::move(token), tls = std::move(tls)](const Member& m,
                                                          std::chrono::milliseconds io_timeout) {
    return std::make_unique<ThriftNodeClient>(m, token, io_timeout, tls);
  };
}

std::unique_ptr<HeadClient> ConnectThriftHead(const std::string& host, int port,
                                              const std::string& token,
                                              std::shared_ptr<const TlsClient> tls) {
  return std::make_unique<ThriftHeadClient>(host, port, token, std::move(tls));
}

}  // namespace nums::engine::cluster
