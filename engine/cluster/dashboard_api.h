#pragma once
// The dashboard's JSON API (docs/dashboard.md), rendered from the head's membership and its
// ClusterMonitor. Pure functions of what they are given, so they are tested without a server.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/cluster/cluster_monitor.h"
#include "engine/cluster/gen/nums_types.h"

namespace nums::engine::cluster {

/// GET /api/nodes: each member with its address, cores, GPUs, liveness and latest load.
std::string NodesJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                      int64_t now_ms);
/// GET /api/cluster: totals over the live nodes and the driver sessions they hold.
std::string ClusterJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                        int64_t now_ms, int64_t started_ms);
/// GET /api/history?since=MS: the cluster on a 1 s grid after `since_ms`, and each node's
/// samples after it.
std::string HistoryJson(const std::vector<wire::NodeW>& members, const ClusterMonitor& monitor,
                        int64_t since_ms, int64_t now_ms);
/// GET /api/errors?limit=N: the last task errors, newest last.
std::string ErrorsJson(const ClusterMonitor& monitor, int64_t limit);
/// GET /api/jobs: the jobs the head runs, oldest first.
std::string JobsJson(const std::vector<wire::JobW>& jobs, int64_t now_ms);
/// The name of an error code ("ShapeError", "OutOfMemoryError", ...).
const char* ErrorCodeName(int code);

}  // namespace nums::engine::cluster
