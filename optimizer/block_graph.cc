#include "optimizer/block_graph.h"

#include <algorithm>
#include <cmath>

#include "nums/errors.hpp"

namespace nums::optimizer {
namespace {

void CheckBytes(int64_t bytes, const char* what) {
  if (bytes < 0) {
    throw ValueError(std::string("BlockGraph::") + what + ": negative size " +
                     std::to_string(bytes));
  }
}

}  // namespace

double ProductFlops(int64_t a_bytes, int64_t b_bytes, int64_t out_bytes, int64_t itemsize) {
  CheckBytes(a_bytes, "ProductFlops");
  CheckBytes(b_bytes, "ProductFlops");
  CheckBytes(out_bytes, "ProductFlops");
  if (itemsize < 1) {
    throw ValueError("BlockGraph::ProductFlops: itemsize must be >= 1, got " +
                     std::to_string(itemsize));
  }
  const auto elements = [&](int64_t bytes) {
    return static_cast<double>(bytes) / static_cast<double>(itemsize);
  };
  // |A| |B| |C| = (mk)(kn)(mn) = (mnk)^2 elements.
  return 2 * std::sqrt(elements(a_bytes) * elements(b_bytes) * elements(out_bytes));
}

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kLeaf:
      return "leaf";
    case OpKind::kUnary:
      return "unary";
    case OpKind::kBinary:
      return "binary";
    case OpKind::kProduct:
      return "product";
    case OpKind::kReduce:
      return "reduce";
    case OpKind::kGather:
      return "gather";
    case OpKind::kSource:
      return "source";
  }
  return "op";
}

void BlockGraph::CheckInput(OpId in, const char* what) const {
  if (in < 0 || in >= size()) {
    throw ValueError(std::string("BlockGraph::") + what + ": input " + std::to_string(in) +
                     " is not an op of this graph (size " + std::to_string(size()) + ")");
  }
}

void BlockGraph::Reserve(int64_t ops) {
  ops_.reserve(static_cast<size_t>(ops));
  consumers_.reserve(static_cast<size_t>(ops));
}

OpId BlockGraph::Add(Op op) {
  for (OpId in : op.inputs) ++consumers_[static_cast<size_t>(in)];
  ops_.push_back(std::move(op));
  consumers_.push_back(0);
  return size() - 1;
}

OpId BlockGraph::AddLeaf(int64_t node, int64_t bytes, std::string name, Device device) {
  if (node < 0) throw ValueError("BlockGraph::AddLeaf: negative node " + std::to_string(node));
  CheckBytes(bytes, "AddLeaf");
  min_nodes_ = std::max(min_nodes_, node + 1);
  return Add(Op{OpKind::kLeaf, std::move(name), {}, bytes, node, false, device});
}

OpId BlockGraph::AddUnary(OpId in, int64_t out_bytes, std::string name) {
  CheckInput(in, "AddUnary");
  CheckBytes(out_bytes, "AddUnary");
  return Add(Op{OpKind::kUnary, std::move(name), {in}, out_bytes, -1, false});
}

OpId BlockGraph::AddBinary(OpId a, OpId b, int64_t out_bytes, std::string name) {
  CheckInput(a, "AddBinary");
  CheckInput(b, "AddBinary");
  CheckBytes(out_bytes, "AddBinary");
  return Add(Op{OpKind::kBinary, std::move(name), {a, b}, out_bytes, -1, false});
}

OpId BlockGraph::AddProduct(OpId a, OpId b, int64_t out_bytes, std::string name, int64_t itemsize) {
  CheckInput(a, "AddProduct");
  CheckInput(b, "AddProduct");
  CheckBytes(out_bytes, "AddProduct");
  const double flops = ProductFlops(op(a).bytes, op(b).bytes, out_bytes, itemsize);
  return Add(
      Op{OpKind::kProduct, std::move(name), {a, b}, out_bytes, -1, false, Device::kCpu, flops});
}

OpId BlockGraph::AddReduce(std::vector<OpId> inputs, int64_t out_bytes, std::string name) {
  if (inputs.size() < 2) {
    throw ValueError("BlockGraph::AddReduce: needs at least 2 inputs, got " +
                     std::to_string(inputs.size()) + " (a single block is its own reduction)");
  }
  for (OpId in : inputs) CheckInput(in, "AddReduce");
  CheckBytes(out_bytes, "AddReduce");
  return Add(Op{OpKind::kReduce, std::move(name), std::move(inputs), out_bytes, -1, false});
}

OpId BlockGraph::AddGather(std::vector<OpId> inputs, int64_t out_bytes, std::string name) {
  if (inputs.empty()) throw ValueError("BlockGraph::AddGather: needs at least 1 input");
  for (OpId in : inputs) CheckInput(in, "AddGather");
  CheckBytes(out_bytes, "AddGather");
  return Add(Op{OpKind::kGather, std::move(name), std::move(inputs), out_bytes, -1, false});
}

OpId BlockGraph::AddSource(int64_t node, int64_t out_bytes, std::string name) {
  if (node < 0) throw ValueError("BlockGraph::AddSource: negative node " + std::to_string(node));
  CheckBytes(out_bytes, "AddSource");
  min_nodes_ = std::max(min_nodes_, node + 1);
  return Add(Op{OpKind::kSource, std::move(name), {}, out_bytes, node, false});
}

void BlockGraph::Pin(OpId id, int64_t node) {
  CheckInput(id, "Pin");
  if (node < 0) throw ValueError("BlockGraph::Pin: negative node " + std::to_string(node));
  Op& target = ops_[static_cast<size_t>(id)];
  if (target.kind == OpKind::kLeaf || target.kind == OpKind::kReduce) {
    throw ValueError("BlockGraph::Pin: op " + std::to_string(id) + " is a " +
                     std::string(OpKindName(target.kind)) + ", which cannot be pinned");
  }
  target.node = node;
  min_nodes_ = std::max(min_nodes_, node + 1);
}

void BlockGraph::SetWork(OpId id, double flops, bool gpu_kernel) {
  CheckInput(id, "SetWork");
  Op& target = ops_[static_cast<size_t>(id)];
  if (target.kind == OpKind::kLeaf) {
    throw ValueError("BlockGraph::SetWork: op " + std::to_string(id) +
                     " is a leaf, which computes nothing");
  }
  if (!(flops >= 0)) {  // negative or NaN
    throw ValueError("BlockGraph::SetWork: flops must be >= 0, got " + std::to_string(flops));
  }
  target.flops = flops;
  target.gpu_kernel = gpu_kernel;
}

void BlockGraph::MarkOutput(OpId op) {
  CheckInput(op, "MarkOutput");
  ops_[static_cast<size_t>(op)].is_output = true;
}

int64_t BlockGraph::OutputBytes() const {
  int64_t total = 0;
  for (const Op& op : ops_) {
    if (op.is_output) total += op.bytes;
  }
  return total;
}

std::vector<int64_t> BlockGraph::LeafBytesPerNode(int64_t nodes) const {
  if (nodes < min_nodes_) {
    throw ValueError("BlockGraph::LeafBytesPerNode: " + std::to_string(nodes) +
                     " nodes, but a leaf or a pinned op is on node " +
                     std::to_string(min_nodes_ - 1));
  }
  std::vector<int64_t> bytes(static_cast<size_t>(nodes), 0);
  for (const Op& op : ops_) {
    if (op.kind == OpKind::kLeaf) bytes[static_cast<size_t>(op.node)] += op.bytes;
  }
  return bytes;
}

int64_t BlockGraph::MemoryFloor(int64_t nodes) const {
  if (nodes < 1) throw ValueError("BlockGraph::MemoryFloor: needs at least one node");
  const std::vector<int64_t> leaves = LeafBytesPerNode(nodes);
  std::vector<int64_t> readers = consumers_;
  int64_t live = 0, most = 0;
  for (const Op& op : ops_) {
    live += op.bytes;  // inputs are still live while the result is written
    most = std::max(most, live);
    for (OpId in : op.inputs) {
      const Op& input = ops_[static_cast<size_t>(in)];
      if (--readers[static_cast<size_t>(in)] == 0 && input.kind != OpKind::kLeaf &&
          !input.is_output) {
        live -= input.bytes;
      }
    }
    const auto id = static_cast<size_t>(&op - ops_.data());
    if (readers[id] == 0 && op.kind != OpKind::kLeaf && !op.is_output) live -= op.bytes;
  }
  return std::max(*std::max_element(leaves.begin(), leaves.end()), (most + nodes - 1) / nodes);
}

}  // namespace nums::optimizer
