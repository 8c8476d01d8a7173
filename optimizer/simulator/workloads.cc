#include "optimizer/simulator/workloads.h"

#include <cmath>
#include <map>

#include "nums/array_grid.hpp"
#include "nums/errors.hpp"

namespace nums::optimizer::sim {
namespace {

// The leaves of one block-cyclic array, in the row-major order of its grid.
struct Blocks {
  ArrayGrid grid;
  std::vector<OpId> ids;

  OpId at(int64_t i) const { return ids[static_cast<size_t>(i)]; }
  OpId at(int64_t i, int64_t j) const { return ids[static_cast<size_t>(grid.flat({i, j}))]; }
  int64_t rows(int64_t i) const { return grid.block_shape_at(grid.entry(i))[0]; }
  int64_t rows(int64_t i, int64_t j) const { return grid.block_shape_at({i, j})[0]; }
  int64_t cols(int64_t i, int64_t j) const { return grid.block_shape_at({i, j})[1]; }
};

Blocks AddArray(BlockGraph& g, const ArrayGrid& grid, const NodeGrid& nodes, const char* name) {
  Blocks b{grid, {}};
  for (int64_t f = 0; f < grid.num_blocks(); ++f) {
    const Shape e = grid.entry(f);
    const int64_t bytes = shape_size(grid.block_shape_at(e)) * itemsize(grid.dtype());
    b.ids.push_back(g.AddLeaf(nodes.node_of(e, grid.grid_shape()), bytes, name));
  }
  return b;
}

// A sum of the inputs, or the single input itself.
OpId Sum(BlockGraph& g, std::vector<OpId> parts, int64_t bytes, const char* name) {
  return parts.size() == 1 ? parts[0] : g.AddReduce(std::move(parts), bytes, name);
}

int64_t Ceil(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Context {
  const WorkloadSpec& spec;
  NodeGrid nodes;
  int64_t rows, cols, item;
  BlockGraph graph;
  std::string description;
};

std::string Dims(int64_t r, int64_t c) { return std::to_string(r) + " x " + std::to_string(c); }

int64_t RowBlocks(const Context& c) { return c.spec.nodes * c.spec.blocks_per_node; }
int64_t GridSide(const Context& c) {
  return std::max<int64_t>(
      1, std::llround(std::sqrt(static_cast<double>(c.spec.nodes * c.spec.blocks_per_node))));
}

ArrayGrid SquareGrid(const Context& c) {
  const int64_t s = GridSide(c);
  return ArrayGrid({c.rows, c.cols}, {Ceil(c.rows, s), Ceil(c.cols, s)}, c.spec.dtype);
}
ArrayGrid TallGrid(const Context& c) {
  return ArrayGrid({c.rows, c.cols}, {Ceil(c.rows, RowBlocks(c)), c.cols}, c.spec.dtype);
}
std::string Describe(const char* what, const ArrayGrid& grid) {
  const int64_t bytes = grid.size() * itemsize(grid.dtype());
  return std::string(what) + " " + Dims(grid.shape()[0], grid.shape()[1]) + " " +
         std::string(dtype_name(grid.dtype())) + " (" + FormatBytes(bytes) + "), grid " +
         shape_str(grid.grid_shape());
}

// C = A + B, both block-cyclic on the same grid: every pair of blocks shares a node.
void BuildAdd(Context& c) {
  const ArrayGrid grid = SquareGrid(c);
  const Blocks a = AddArray(c.graph, grid, c.nodes, "A");
  const Blocks b = AddArray(c.graph, grid, c.nodes, "B");
  for (int64_t f = 0; f < grid.num_blocks(); ++f) {
    c.graph.MarkOutput(c.graph.AddBinary(a.at(f), b.at(f), c.graph.op(a.at(f)).bytes, "add"));
  }
  c.description = "A + B, " + Describe("A, B", grid);
}

// x.sum(axis=0): each block reduced where it lives to one row, then the rows of a block column
// summed by a reduction.
void BuildSum0(Context& c) {
  const ArrayGrid grid = SquareGrid(c);
  const Blocks x = AddArray(c.graph, grid, c.nodes, "X");
  const int64_t gr = grid.grid_shape()[0], gc = grid.grid_shape()[1];
  for (int64_t j = 0; j < gc; ++j) {
    const int64_t bytes = x.cols(0, j) * c.item;
    std::vector<OpId> parts;
    for (int64_t i = 0; i < gr; ++i) parts.push_back(c.graph.AddUnary(x.at(i, j), bytes, "sum"));
    c.graph.MarkOutput(Sum(c.graph, std::move(parts), bytes, "add"));
  }
  c.description = "X.sum(axis=0), " + Describe("X", grid);
}

// X^T X = sum_i X_i^T X_i over the row blocks X_i (tall-skinny X, d x d result).
void BuildXtx(Context& c) {
  const ArrayGrid grid = TallGrid(c);
  const Blocks x = AddArray(c.graph, grid, c.nodes, "X");
  const int64_t out = c.cols * c.cols * c.item;
  std::vector<OpId> parts;
  for (int64_t i = 0; i < grid.num_blocks(); ++i) {
    parts.push_back(c.graph.AddProduct(x.at(i), x.at(i), out, "X_i^T X_i", c.item));
  }
  c.graph.MarkOutput(Sum(c.graph, std::move(parts), out, "add"));
  c.description = "X^T X, " + Describe("X", grid);
}

// C = A B: C_ij = sum_k A_ik B_kj, one reduction of partial products per output block.
void BuildMatmul(Context& c) {
  const ArrayGrid grid = SquareGrid(c);
  const Blocks a = AddArray(c.graph, grid, c.nodes, "A");
  const Blocks b = AddArray(c.graph, grid, c.nodes, "B");
  const int64_t s = grid.grid_shape()[0];
  for (int64_t i = 0; i < s; ++i) {
    for (int64_t j = 0; j < s; ++j) {
      const int64_t bytes = a.rows(i, 0) * b.cols(0, j) * c.item;
      std::vector<OpId> parts;
      for (int64_t k = 0; k < s; ++k) {
        parts.push_back(c.graph.AddProduct(a.at(i, k), b.at(k, j), bytes, "A_ik B_kj", c.item));
      }
      c.graph.MarkOutput(Sum(c.graph, std::move(parts), bytes, "add"));
    }
  }
  c.description = "A @ B, " + Describe("A, B", grid);
}

// X (n x d, tall-skinny) and y (n) in the same row blocks, block-cyclic.
struct Rows {
  ArrayGrid grid;
  Blocks x, y;
};
Rows AddRows(Context& c) {
  const ArrayGrid xg = TallGrid(c);
  Blocks x = AddArray(c.graph, xg, c.nodes, "X");
  Blocks y =
      AddArray(c.graph, ArrayGrid({c.rows}, {xg.block_shape()[0]}, c.spec.dtype), c.nodes, "y");
  return {xg, std::move(x), std::move(y)};
}

// One Newton step of logistic regression, one array operation after the other as the array
// layer issues them: X (n x d) and y (n) share a row blocking, w (d) is one block on node 0.
//   mu = sigmoid(X w); g = X^T (mu - y); s = mu (1 - mu); H = (X^T * s) X; w' = w - H^-1 g
// X^T * s is a full-size intermediate, as in NumS.
void BuildLogisticRegression(Context& c) {
  const auto [xg, x, y] = AddRows(c);
  const int64_t d = c.cols;
  const Blocks w = AddArray(c.graph, ArrayGrid({d}, {d}, c.spec.dtype), c.nodes, "w");
  const int64_t b = xg.num_blocks();
  std::vector<OpId> z, mu, r, gp, s, xs, hp;
  auto col = [&](int64_t i) { return x.rows(i) * c.item; };
  for (int64_t i = 0; i < b; ++i)
    z.push_back(c.graph.AddProduct(x.at(i), w.at(0), col(i), "X_i w", c.item));
  for (int64_t i = 0; i < b; ++i) mu.push_back(c.graph.AddUnary(z[i], col(i), "sigmoid"));
  for (int64_t i = 0; i < b; ++i) r.push_back(c.graph.AddBinary(mu[i], y.at(i), col(i), "sub"));
  for (int64_t i = 0; i < b; ++i)
    gp.push_back(c.graph.AddProduct(x.at(i), r[i], d * c.item, "X_i^T r_i", c.item));
  const OpId g = Sum(c.graph, gp, d * c.item, "add");
  for (int64_t i = 0; i < b; ++i) s.push_back(c.graph.AddUnary(mu[i], col(i), "mu(1-mu)"));
  for (int64_t i = 0; i < b; ++i)
    xs.push_back(c.graph.AddBinary(x.at(i), s[i], col(i) * d, "X_i^T * s_i"));
  for (int64_t i = 0; i < b; ++i)
    hp.push_back(c.graph.AddProduct(xs[i], x.at(i), d * d * c.item, "(X^T s)_i X_i", c.item));
  const OpId h = Sum(c.graph, hp, d * d * c.item, "add");
  const OpId step = c.graph.AddBinary(h, g, d * c.item, "solve");
  c.graph.MarkOutput(g);
  c.graph.MarkOutput(c.graph.AddBinary(w.at(0), step, d * c.item, "sub"));
  c.description = "logistic regression, one Newton step, " + Describe("X", xg);
}

// One Newton step as nums' LogisticRegression runs it: a fused kernel per row block reads X_i
// and y_i (the coefficients travel as a scalar) and returns the packed loss, gradient and
// Hessian terms, (1 + d + d^2) doubles, summed by a reduction; no full-size intermediate.
void BuildFusedLogisticRegression(Context& c) {
  const auto [xg, x, y] = AddRows(c);
  const int64_t d = c.cols;
  const int64_t packed = (1 + d + d * d) * 8;  // float64 whatever X's dtype
  std::vector<OpId> parts;
  for (int64_t i = 0; i < xg.num_blocks(); ++i) {
    parts.push_back(c.graph.AddBinary(x.at(i), y.at(i), packed, "glm.newton_terms"));
  }
  c.graph.MarkOutput(Sum(c.graph, std::move(parts), packed, "add"));
  c.description =
      "logistic regression, one Newton step with nums' fused kernel, " + Describe("X", xg);
}

// Indirect TSQR: R_i = qr(X_i).R on each row block, then R = qr([R_a; R_b]).R pairwise up a
// tree (associative, so a reduction whose shape the placement decides).
void BuildTsqr(Context& c) {
  const ArrayGrid grid = TallGrid(c);
  const Blocks x = AddArray(c.graph, grid, c.nodes, "X");
  const int64_t out = c.cols * c.cols * c.item;
  std::vector<OpId> rs;
  for (int64_t i = 0; i < grid.num_blocks(); ++i)
    rs.push_back(c.graph.AddUnary(x.at(i), out, "qr"));
  c.graph.MarkOutput(Sum(c.graph, std::move(rs), out, "qr of stacked R"));
  c.description = "TSQR (R factor), " + Describe("X", grid);
}

struct Entry {
  int64_t rows, cols;
  void (*build)(Context&);
};

const std::map<std::string, Entry>& Registry() {
  static const std::map<std::string, Entry> kRegistry = {
      {"add", {65'536, 65'536, BuildAdd}},
      {"sum0", {65'536, 65'536, BuildSum0}},
      {"xtx", {268'435'456, 64, BuildXtx}},
      {"matmul", {32'768, 32'768, BuildMatmul}},
      {"lr", {268'435'456, 64, BuildLogisticRegression}},
      {"lr-fused", {268'435'456, 64, BuildFusedLogisticRegression}},
      {"tsqr", {268'435'456, 64, BuildTsqr}},
  };
  return kRegistry;
}

}  // namespace

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> kNames = {"add", "sum0",     "xtx", "matmul",
                                                  "lr",  "lr-fused", "tsqr"};
  return kNames;
}

Workload BuildWorkload(const WorkloadSpec& spec) {
  const auto it = Registry().find(spec.name);
  if (it == Registry().end()) throw ValueError("unknown workload '" + spec.name + "'");
  if (spec.nodes < 1 || spec.blocks_per_node < 1 || spec.rows < 0 || spec.cols < 0) {
    throw ValueError("workload " + spec.name +
                     ": nodes, blocks per node and sizes must be positive");
  }
  Context c{spec,
            NodeGrid::for_nodes(spec.nodes),
            spec.rows ? spec.rows : it->second.rows,
            spec.cols ? spec.cols : it->second.cols,
            itemsize(spec.dtype),
            BlockGraph(),
            ""};
  it->second.build(c);
  ClusterState initial(c.graph.LeafBytesPerNode(spec.nodes));
  return Workload{
      c.description + ", " + std::to_string(spec.nodes) + " nodes (" + c.nodes.to_string() + ")",
      std::move(c.graph), std::move(initial)};
}

}  // namespace nums::optimizer::sim
