#pragma once
// BlockGraph: the block operations of one array operation (or of a few chained ones), as the
// array layer or the simulator describes them to the optimizer before anything runs.

#include <cstdint>
#include <string>
#include <vector>

#include "optimizer/device_model.h"

namespace nums::optimizer {

/// Index of an operation in its BlockGraph; operations are numbered in the order they are added.
using OpId = int64_t;

enum class OpKind : uint8_t {
  kLeaf,     ///< an existing block: known node and size, placed already
  kUnary,    ///< one input (exp, astype, a per-block reduction or QR, ...)
  kBinary,   ///< two inputs (elementwise with broadcasting, where one input may serve many ops)
  kProduct,  ///< a tensordot partial product A[i,k] . B[k,j]; a binary op that feeds a reduction
  kReduce,   ///< n inputs combined by an associative op, executed as pairwise steps
  kGather,   ///< pieces of n inputs copied into one new block by one step (reshape, concatenate)
  kSource,   ///< a new block made from no input (a constant, random numbers) on a given node
};

std::string_view OpKindName(OpKind kind);

struct Op {
  OpKind kind = OpKind::kLeaf;
  std::string name;          ///< what the block op computes ("add", "sum", "qr"), for Explain
  std::vector<OpId> inputs;  ///< earlier ops; a reduction's inputs in the caller's order
  int64_t bytes = 0;         ///< size of the op's result (of each pairwise step for reductions)
  /// Leaves: the node that holds the block; a source or a pinned op: the node it runs on; -1:
  /// the placement chooses.
  int64_t node = -1;
  bool is_output = false;        ///< a root: its block outlives the graph
  Device device = Device::kCpu;  ///< leaves only: where on its node the block lives
  /// Floating-point work of the op (of each pairwise step for reductions); 0 for the
  /// bandwidth-bound ops, whose cost is the bytes of their inputs and result.
  double flops = 0;
  bool gpu_kernel = false;  ///< whether the op may run on a GPU (a kernel exists for it)
};

/// The flops of a partial product C[m,n] = A[m,k] . B[k,n] from the byte sizes of A, B and C:
/// m*n*k = sqrt(|A| |B| |C|) in elements, flops = 2 m n k. Throws ValueError for a negative size
/// or an itemsize < 1.
double ProductFlops(int64_t a_bytes, int64_t b_bytes, int64_t out_bytes, int64_t itemsize = 8);

/// A DAG of block operations. Inputs always precede their consumers, so the order of addition is
/// an execution order. Every builder call checks its arguments and throws ValueError.
class BlockGraph {
 public:
  /// An existing block of `bytes` on `node` (>= 0), in the memory of `device` there.
  OpId AddLeaf(int64_t node, int64_t bytes, std::string name = "block",
               Device device = Device::kCpu);
  OpId AddUnary(OpId in, int64_t out_bytes, std::string name = "unary");
  /// `a` and `b` may be the same op (x * x).
  OpId AddBinary(OpId a, OpId b, int64_t out_bytes, std::string name = "binary");
  /// A partial product of a tensordot / matmul; feed it to AddReduce. Its flops are
  /// ProductFlops of the three sizes with `itemsize` (SetWork overrides them).
  OpId AddProduct(OpId a, OpId b, int64_t out_bytes, std::string name = "matmul",
                  int64_t itemsize = 8);
  /// Combines >= 2 inputs into one block of `out_bytes`; the optimizer
  /// chooses the pairwise tree.
  OpId AddReduce(std::vector<OpId> inputs, int64_t out_bytes, std::string name = "sum");
  /// A new block assembled from pieces of >= 1 inputs in one step on one node; `out_bytes` is
  /// its size and each input moves whole when it is elsewhere (the cost model's unit).
  OpId AddGather(std::vector<OpId> inputs, int64_t out_bytes, std::string name = "gather");
  /// A new block of `out_bytes` made from no input by one step on `node` (>= 0).
  OpId AddSource(int64_t node, int64_t out_bytes, std::string name = "source");
  /// Runs `op` on `node` (>= 0) whatever the policy and the loads: for algorithms whose trees
  /// are shaped by node (TSQR, the tiled Cholesky). Throws ValueError for a leaf, a reduction
  /// (its pairwise steps are the optimizer's), a negative node or an op not in the graph.
  void Pin(OpId op, int64_t node);
  /// Sets the floating-point work of `op` (of each pairwise step for a reduction) and whether a
  /// GPU kernel exists for it; the device dimension of Place uses them. Throws ValueError for a
  /// leaf, an op not in the graph, or negative or NaN flops.
  void SetWork(OpId op, double flops, bool gpu_kernel);
  /// Room for `ops` operations without growing.
  void Reserve(int64_t ops);
  /// Marks `op` as a result the caller keeps (a root); it is never released.
  void MarkOutput(OpId op);

  int64_t size() const { return static_cast<int64_t>(ops_.size()); }
  const Op& op(OpId id) const { return ops_[static_cast<size_t>(id)]; }
  const std::vector<Op>& ops() const { return ops_; }
  /// How many inputs of later ops read `id` (an op used twice by one consumer counts twice).
  int64_t consumers(OpId id) const { return consumers_[static_cast<size_t>(id)]; }
  /// The largest node of a leaf, a source or a pinned op + 1 (0 without them): the fewest nodes a
  /// cluster state needs.
  int64_t min_nodes() const { return min_nodes_; }
  /// Sum of the output ops' bytes.
  int64_t OutputBytes() const;
  /// Per node, the bytes of the leaves it holds (for a state seeded with the inputs only).
  std::vector<int64_t> LeafBytesPerNode(int64_t nodes) const;
  /// A floor under the max peak memory of any placement on `nodes` nodes that runs the ops in
  /// the graph's order (as Place does): the most leaf bytes on one node, or the most bytes
  /// that must be live at once (every result from its op to its last reader), spread evenly,
  /// whichever is larger. Fetched copies and a reduction's partials come on top. It holds for a
  /// state that counts the leaves (LeafBytesPerNode), as the array layer's and the simulator's do.
  int64_t MemoryFloor(int64_t nodes) const;

 private:
  OpId Add(Op op);
  void CheckInput(OpId in, const char* what) const;

  std::vector<Op> ops_;
  std::vector<int64_t> consumers_;
  int64_t min_nodes_ = 0;
};

}  // namespace nums::optimizer
