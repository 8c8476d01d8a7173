#pragma once
// ClusterState: the optimizer's estimate of each node's load while it places block operations.

#include <cstdint>
#include <string>
#include <vector>

namespace nums::optimizer {

/// `bytes` sent from node `from` to node `to`; the receiver keeps a copy.
struct Transfer {
  int64_t from = 0;
  int64_t to = 0;
  int64_t bytes = 0;
};
/// `bytes` of a new block on `node`.
struct Allocation {
  int64_t node = 0;
  int64_t bytes = 0;
};
/// `bytes` of a block (or of a copy) dropped from `node`.
struct Release {
  int64_t node = 0;
  int64_t bytes = 0;
};

/// Per node: memory in use, its high-water mark, bytes received (net_in) and sent (net_out).
/// A copyable value; every load is in bytes.
///
/// A node's memory load counts the blocks it holds in every tier: those in RAM and those its
/// store spilled to disk. A node over its high-water mark that is given one more block spills
/// another, and reads it back when it is used, so the bytes it holds on disk weigh as much as
/// those in RAM when LSHS balances the nodes.
class ClusterState {
 public:
  /// `memory[i]` bytes already in RAM on node i (existing blocks) and `spilled[i]` (empty: none)
  /// on its spill disk; no traffic yet. Throws ValueError for no nodes, a negative figure, or
  /// `spilled` of another length.
  explicit ClusterState(std::vector<int64_t> memory, std::vector<int64_t> spilled = {});
  /// `nodes` empty nodes.
  static ClusterState Empty(int64_t nodes);

  /// net_out[from] and net_in[to] grow by the bytes, and so does memory[to] (the copy).
  /// A transfer to the node itself is a no-op.
  void Apply(const Transfer& t);
  void Apply(const Allocation& a);
  /// Throws ValueError when the node holds fewer bytes than released (an accounting bug).
  void Apply(const Release& r);

  int64_t num_nodes() const { return static_cast<int64_t>(memory_.size()); }
  /// Bytes held on `node`: in RAM, on its spill disk, and those placed so far.
  int64_t memory(int64_t node) const { return memory_[static_cast<size_t>(node)]; }
  /// Of those, the bytes that were on its spill disk when the state was taken.
  int64_t spilled(int64_t node) const {
    return spilled_.empty() ? 0 : spilled_[static_cast<size_t>(node)];
  }
  int64_t peak_memory(int64_t node) const { return peak_memory_[static_cast<size_t>(node)]; }
  int64_t net_in(int64_t node) const { return net_in_[static_cast<size_t>(node)]; }
  int64_t net_out(int64_t node) const { return net_out_[static_cast<size_t>(node)]; }
  /// Whether steps may be placed on `node` (a lost node may not); all are at first.
  bool available(int64_t node) const { return available_[static_cast<size_t>(node)] != 0; }
  /// Takes `node` out of the candidates; ValueError when no node would be left.
  void MarkUnavailable(int64_t node);

  int64_t MaxMemory() const;
  int64_t MaxPeakMemory() const;
  int64_t MaxNetIn() const;
  int64_t MaxNetOut() const;
  int64_t TotalMemory() const;
  int64_t TotalNetIn() const;
  int64_t TotalNetOut() const;
  /// LSHS's objective: max(memory) + max(net_in) + max(net_out) over the nodes.
  int64_t Objective() const { return MaxMemory() + MaxNetIn() + MaxNetOut(); }

  /// One line per node: memory (peak), net_in, net_out.
  std::string ToString() const;
  friend bool operator==(const ClusterState&, const ClusterState&) = default;

 private:
  void CheckNode(int64_t node) const;

  std::vector<int64_t> memory_;
  std::vector<int64_t> spilled_;  // empty when nothing was spilled
  std::vector<int64_t> peak_memory_;
  std::vector<int64_t> net_in_;
  std::vector<int64_t> net_out_;
  std::vector<char> available_;
};

/// "1.50 GiB", "512 B": bytes for people.
std::string FormatBytes(int64_t bytes);

}  // namespace nums::optimizer
