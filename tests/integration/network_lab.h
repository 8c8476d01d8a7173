#pragma once
// Network namespaces for cluster tests: a bridge in this process's namespace and one namespace
// per node joined to it by a veth pair, so that traffic between nodes crosses real interfaces.
// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the `ip` tool of iproute2.

#include <string>
#include <vector>

namespace nums::testing {

class NetworkLab {
 public:
  /// Makes bridge `nums-br<pid>` with 10.213.X.1/24 (X not in use on this host) and `count`
  /// namespaces `nums-<pid>-<k>`, namespace k holding 10.213.X.(k+2)/24 on its end of a veth
  /// pair whose other end is on the bridge. First removes what test processes that died left.
  /// Throws std::runtime_error naming the `ip` command that failed and its output, after removing
  /// what it made.
  explicit NetworkLab(int count);
  /// Removes the namespaces (their veth pairs go with them) and the bridge.
  ~NetworkLab();
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;

  /// The bridge's address, reachable from this namespace and from every lab namespace.
  const std::string& bridge_address() const { return bridge_address_; }
  /// Namespace k's name, for `ip netns exec`.
  std::string ns(int k) const;
  /// Namespace k's address.
  std::string address(int k) const;
  /// The bridge end of namespace k's veth pair (its counters are in /sys/class/net/NAME).
  std::string host_link(int k) const;

 private:
  void Create();
  void Remove() noexcept;

  const int count_;
  const std::string tag_;  // this process's pid
  std::string bridge_;
  std::string prefix_;  // "10.213.X."
  std::string bridge_address_;
};

/// Runs `argv` (found on PATH) with its stdout and stderr in `output`; returns its exit status,
/// or -1 when it could not run or was killed.
int RunCommand(const std::vector<std::string>& argv, std::string* output);

}  // namespace nums::testing
