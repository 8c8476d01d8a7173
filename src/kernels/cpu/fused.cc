// The fused elementwise kernels: a recorded expression (see src/expression.h for the program's
// layout) evaluated over tiles of a block small enough to stay in L1/L2, so that the block is
// read once and its result written once whatever the number of ops. "array.fused" writes the
// result; "array.fused_reduce" folds it into a reduction of the block.

#include <emmintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#include "src/kernels/cpu/fold.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

// Must match src/expression.h (the array layer cannot be included from kernels).
enum class Kind : int64_t { kLeaf, kConst, kUnary, kBinary, kAstype, kWhere };
constexpr int64_t kVersion = 1, kHeader = 2, kNodeInts = 6;

// Elements per tile: a float64 tile is 16 KiB, so a few live tiles stay in L1/L2.
constexpr int64_t kTile = 2048;

// Every dtype but complex128, whose 16-byte elements do not fit the tile slots (the array layer
// never fuses complex ops; a program naming one is malformed).
template <typename F>
decltype(auto) DispatchFused(DType t, F&& f) {
  if (t == DType::kFloat16) return f(half{});
  return dispatch(t, std::forward<F>(f), "array.fused");
}
// Outputs from this size on are written with streaming stores (not read again soon; a normal
// store first reads the line it overwrites).
constexpr int64_t kStreamBytes = int64_t{1} << 18;

// A node's values over one tile: element i at p + i * step (step 0: one value for the tile).
struct Operand {
  const void* p;
  int64_t step;
};

// Evaluates one node over n elements of a tile.
using EvalFn = void (*)(const Operand* in, void* out, int64_t n);

// The tile loops are built for AVX-512, AVX2 and baseline x86-64, chosen at load time: on two
// cores the passes over L1 tiles, not memory, bound a fused expression at SSE2 width. Each op is
// still one IEEE operation per element (no FMA contraction: CMakeLists builds this file with
// -ffp-contract=off), so results stay bit-identical to the unfused kernels.
#define NUMS_TILE_CLONES [[gnu::target_clones("avx512f", "avx2", "default")]]

template <BinaryOp Op, typename T>
NUMS_TILE_CLONES void EvalBinary(const Operand* in, void* out, int64_t n) {
  using F = Binary<Op, T>;
  using O = typename F::Out;
  const T* a = static_cast<const T*>(in[0].p);
  const T* b = static_cast<const T*>(in[1].p);
  O* z = static_cast<O*>(out);
  if (in[0].step && in[1].step) {
    for (int64_t i = 0; i < n; ++i) z[i] = F::Apply(a[i], b[i]);
  } else if (in[0].step) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) z[i] = F::Apply(a[i], bv);
  } else if (in[1].step) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) z[i] = F::Apply(av, b[i]);
  } else {
    const O v = F::Apply(*a, *b);
    for (int64_t i = 0; i < n; ++i) z[i] = v;
  }
}

template <UnaryOp Op, typename T>
NUMS_TILE_CLONES void EvalUnary(const Operand* in, void* out, int64_t n) {
  using F = Unary<Op, T>;
  const T* x = static_cast<const T*>(in[0].p);
  auto* z = static_cast<typename F::Out*>(out);
  for (int64_t i = 0; i < n; ++i) z[i] = F::Apply(x[i * in[0].step]);
}

template <typename From, typename To>
NUMS_TILE_CLONES void EvalAstype(const Operand* in, void* out, int64_t n) {
  const From* x = static_cast<const From*>(in[0].p);
  To* z = static_cast<To*>(out);
  for (int64_t i = 0; i < n; ++i) z[i] = convert_value<To>(x[i * in[0].step]);
}

template <typename C, typename T>
NUMS_TILE_CLONES void EvalWhere(const Operand* in, void* out, int64_t n) {
  const C* c = static_cast<const C*>(in[0].p);
  const T* x = static_cast<const T*>(in[1].p);
  const T* y = static_cast<const T*>(in[2].p);
  T* z = static_cast<T*>(out);
  const int64_t sc = in[0].step, sx = in[1].step, sy = in[2].step;
  for (int64_t i = 0; i < n; ++i) z[i] = c[i * sc] != C{} ? x[i * sx] : y[i * sy];
}

template <typename T>
EvalFn BinaryFn(BinaryOp op) {
  switch (op) {
#define NUMS_CASE(name) \
  case BinaryOp::name:  \
    return &EvalBinary<BinaryOp::name, T>;
    NUMS_BINARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  return nullptr;
}

template <typename T>
EvalFn UnaryFn(UnaryOp op) {
  switch (op) {
#define NUMS_CASE(name) \
  case UnaryOp::name:   \
    return &EvalUnary<UnaryOp::name, T>;
    NUMS_UNARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  return nullptr;
}

// A sum of a small tree of float ops over leaves read in place: root(a, b), each of a and b a leaf
// or an op of two leaves (x * x + y * y, x * y, (x - y) * (x - y)). Its values are folded as they
// are made, in registers: no tile is written and read again. Each op is still one IEEE operation
// per element in the unfused order, and the fold adds exactly as it adds a stored tile.
enum class Arm : int { kLeaf, kAdd, kSub, kMul };
constexpr int kArms = 4;

constexpr BinaryOp ArmOp(Arm a) {
  return a == Arm::kAdd ? BinaryOp::kAdd : a == Arm::kSub ? BinaryOp::kSub : BinaryOp::kMul;
}

template <Arm A, typename T>
[[gnu::always_inline]] inline T ArmValue(const T* p, const T* q, int64_t i) {
  if constexpr (A == Arm::kLeaf) {
    return p[i];
  } else {
    return Binary<ArmOp(A), T>::Apply(p[i], q[i]);
  }
}

template <typename T>
using SumFold = Fold<ReduceOp::kSum, T, T>;
// Folds n values of the tree; leaves[0..1] feed arm a, leaves[2..3] arm b (a leaf arm reads its
// first pointer only).
template <typename T>
using SumTreeFn = void (*)(const T* const* leaves, int64_t n, SumFold<T>& fold);

template <BinaryOp Root, Arm A, Arm B, typename T>
NUMS_TILE_CLONES void SumTree(const T* const* leaves, int64_t n, SumFold<T>& fold) {
  const T* a0 = leaves[0];
  const T* a1 = leaves[1];
  const T* b0 = leaves[2];
  const T* b1 = leaves[3];
  fold.FeedEach(
      n, [=](int64_t i) __attribute__((always_inline)) {
        return Binary<Root, T>::Apply(ArmValue<A>(a0, a1, i), ArmValue<B>(b0, b1, i));
      });
}

template <typename T, BinaryOp Root, Arm A>
SumTreeFn<T> SumTreeFor(Arm b) {
  switch (b) {
    case Arm::kLeaf:
      return &SumTree<Root, A, Arm::kLeaf, T>;
    case Arm::kAdd:
      return &SumTree<Root, A, Arm::kAdd, T>;
    case Arm::kSub:
      return &SumTree<Root, A, Arm::kSub, T>;
    case Arm::kMul:
      return &SumTree<Root, A, Arm::kMul, T>;
  }
  return nullptr;
}

template <typename T, BinaryOp Root>
SumTreeFn<T> SumTreeFor(Arm a, Arm b) {
  switch (a) {
    case Arm::kLeaf:
      return SumTreeFor<T, Root, Arm::kLeaf>(b);
    case Arm::kAdd:
      return SumTreeFor<T, Root, Arm::kAdd>(b);
    case Arm::kSub:
      return SumTreeFor<T, Root, Arm::kSub>(b);
    case Arm::kMul:
      return SumTreeFor<T, Root, Arm::kMul>(b);
  }
  return nullptr;
}

template <typename T>
SumTreeFn<T> SumTreeFor(Arm root, Arm a, Arm b) {
  switch (root) {
    case Arm::kAdd:
      return SumTreeFor<T, BinaryOp::kAdd>(a, b);
    case Arm::kSub:
      return SumTreeFor<T, BinaryOp::kSub>(a, b);
    case Arm::kMul:
      return SumTreeFor<T, BinaryOp::kMul>(a, b);
    case Arm::kLeaf:
      break;
  }
  return nullptr;
}

[[noreturn]] void Malformed(const std::string& why) {
  throw ValueError("array.fused: malformed program (" + why + ")");
}

// One node of the program, with what evaluating it needs.
struct Node {
  Kind kind;
  DType dtype;
  int64_t inputs[3];
  int num_inputs = 0;
  int64_t code = 0;  // kUnary, kBinary: the op
  EvalFn fn = nullptr;
  // kLeaf: the block and how it meets the output block.
  const Block* block = nullptr;
  enum class Access { kDirect, kScalar, kBroadcast } access = Access::kDirect;
  Shape strides;  // kBroadcast: the block's strides over the output's axes (0 where broadcast)
  // Uniform nodes (numbers, size-1 blocks, ops of only those) have one value for every element,
  // computed once.
  bool uniform = false;
  alignas(8) unsigned char value[8] = {};
  int slot = -1;          // tile buffer holding its values (non-uniform, not a direct leaf)
  int64_t last_use = -1;  // the last node reading it
};

// A program parsed and checked against its blocks, ready to evaluate tiles of the output block.
class Program {
 public:
  Program(const KernelContext& ctx) {
    const auto& prog = ctx.scalar<std::vector<int64_t>>(0);
    const auto& constants = ctx.scalar<std::vector<double>>(1);
    const auto& slots = ctx.scalar<std::vector<int64_t>>(2);
    if (prog.size() < kHeader || prog[0] != kVersion) Malformed("version");
    const int64_t count = prog[1];
    if (count < 1 || static_cast<int64_t>(prog.size()) != kHeader + count * kNodeInts) {
      Malformed("length");
    }
    // The output's shape: the leaves' shapes as read (a transposed leaf's last two axes
    // swapped), broadcast. Usually every leaf is read as it is and all agree: nothing to copy.
    const Block* first = nullptr;
    bool same = true;
    for (int64_t i = 0; i < count && same; ++i) {
      const int64_t* w = prog.data() + kHeader + i * kNodeInts;
      if (w[0] != static_cast<int64_t>(Kind::kLeaf)) continue;
      const Block& b = LeafBlock(w[2], slots, ctx.inputs);
      same = w[3] == 0 && (first == nullptr || b.shape() == first->shape());
      if (first == nullptr) first = &b;
    }
    if (same && first != nullptr) {
      shape_ = first->shape();
    } else {
      std::vector<Shape> leaf_shapes;
      for (int64_t i = 0; i < count; ++i) {
        const int64_t* w = prog.data() + kHeader + i * kNodeInts;
        if (w[0] != static_cast<int64_t>(Kind::kLeaf)) continue;
        leaf_shapes.push_back(LeafShape(LeafBlock(w[2], slots, ctx.inputs), w[3]));
      }
      if (!BroadcastShapes(leaf_shapes, shape_)) {
        throw ShapeError("array.fused: leaf blocks do not broadcast");
      }
    }
    size_ = engine::ShapeSize(shape_);
    nodes_.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const int64_t* w = prog.data() + kHeader + i * kNodeInts;
      Node& n = nodes_[static_cast<size_t>(i)];
      if (w[0] < 0 || w[0] > static_cast<int64_t>(Kind::kWhere)) Malformed("kind");
      n.kind = static_cast<Kind>(w[0]);
      n.dtype = dtype_from_code(w[1]);
      n.code = w[2];
      if (is_complex(n.dtype)) Malformed("complex128 node (complex expressions are not fused)");
      n.num_inputs = n.kind == Kind::kUnary || n.kind == Kind::kAstype ? 1
                     : n.kind == Kind::kBinary                         ? 2
                     : n.kind == Kind::kWhere                          ? 3
                                                                       : 0;
      for (int k = 0; k < n.num_inputs; ++k) {
        n.inputs[k] = w[3 + k];
        if (n.inputs[k] < 0 || n.inputs[k] >= i) Malformed("input order");
        node(n.inputs[k]).last_use = i;
      }
      switch (n.kind) {
        case Kind::kLeaf:
          SetLeaf(n, LeafBlock(w[2], slots, ctx.inputs), w[3] == 1);
          break;
        case Kind::kConst:
          if (w[3] < 0 || w[3] >= static_cast<int64_t>(constants.size())) Malformed("constant");
          SetConst(n, constants[static_cast<size_t>(w[3])], w[2]);
          break;
        default:
          SetOp(n, w[2]);
          n.uniform = true;
          for (int k = 0; k < n.num_inputs; ++k) n.uniform &= node(n.inputs[k]).uniform;
          if (n.uniform) {
            Operand in[3];
            for (int k = 0; k < n.num_inputs; ++k) in[k] = {node(n.inputs[k]).value, 0};
            n.fn(in, n.value, 1);
          }
      }
    }
    // Tile buffers, reused once a node's last reader has run. A node never writes into its
    // input's buffer: a wider result (int32 to float64) would overwrite inputs not yet read.
    std::vector<int> free;
    for (int64_t i = 0; i < count; ++i) {
      Node& n = nodes_[static_cast<size_t>(i)];
      const bool needs =
          !n.uniform && !(n.kind == Kind::kLeaf && n.access == Node::Access::kDirect);
      if (needs) {
        if (free.empty()) {
          n.slot = num_slots_++;
        } else {
          n.slot = free.back();
          free.pop_back();
        }
      }
      for (int k = 0; k < n.num_inputs; ++k) {
        Node& in = node(n.inputs[k]);
        if (in.slot >= 0 && in.last_use == i) {
          free.push_back(in.slot);
          in.last_use = -2;  // freed (an input read twice is freed once)
        }
      }
    }
    FindTree();
  }

  /// The result as root(a, b) of float adds, subtracts and multiplies over leaves read in place
  /// (see SumTree); root is Arm::kLeaf where the result has another form.
  struct Tree {
    Arm root = Arm::kLeaf;
    Arm arms[2] = {Arm::kLeaf, Arm::kLeaf};
    const Block* leaves[4] = {};
  };
  const Tree& tree() const { return tree_; }

  const Shape& shape() const { return shape_; }
  int64_t size() const { return size_; }
  DType dtype() const { return nodes_.back().dtype; }
  bool uniform() const { return nodes_.back().uniform; }
  const void* uniform_value() const { return nodes_.back().value; }
  int num_slots() const { return num_slots_; }
  /// Whether a leaf is read transposed (its elements come from strided columns of its block).
  bool reads_transposed() const { return reads_transposed_; }

  /// Evaluates the elements [start, start + n) (n <= kTile) of the output block. The result's
  /// values are at the returned operand; `out`, when given, receives them instead of a slot.
  Operand Eval(int64_t start, int64_t n, unsigned char* buffers, void* out) const {
    Operand result{};
    const int64_t last = static_cast<int64_t>(nodes_.size()) - 1;
    for (int64_t i = 0; i <= last; ++i) {
      const Node& nd = nodes_[static_cast<size_t>(i)];
      if (nd.uniform) {
        if (i == last) result = {nd.value, 0};
        continue;
      }
      void* dst = (i == last && out) ? out : buffers + nd.slot * kTile * 8;
      if (nd.kind == Kind::kLeaf) {
        const auto* base = static_cast<const unsigned char*>(nd.block->raw());
        const int64_t item = itemsize(nd.dtype);
        if (nd.access == Node::Access::kDirect) {
          if (i == last && out) {
            std::memcpy(out, base + start * item, static_cast<size_t>(n * item));
          } else {
            if (i == last) return {base + start * item, 1};
            continue;
          }
        } else {
          Gather(nd, base, item, start, n, static_cast<unsigned char*>(dst));
        }
      } else {
        Operand in[3];
        for (int k = 0; k < nd.num_inputs; ++k) in[k] = Value(nd.inputs[k], start, buffers);
        nd.fn(in, dst, n);
      }
      if (i == last) result = {dst, 1};
    }
    return result;
  }

 private:
  Node& node(int64_t i) { return nodes_[static_cast<size_t>(i)]; }

  // The arm of a binary node computing an add, subtract or multiply of non-uniform values.
  static bool OpArm(const Node& n, Arm& arm) {
    if (n.kind != Kind::kBinary || n.uniform) return false;
    switch (static_cast<BinaryOp>(n.code)) {
      case BinaryOp::kAdd:
        arm = Arm::kAdd;
        return true;
      case BinaryOp::kSub:
        arm = Arm::kSub;
        return true;
      case BinaryOp::kMul:
        arm = Arm::kMul;
        return true;
      default:
        return false;
    }
  }

  static bool DirectLeaf(const Node& n) {
    return n.kind == Kind::kLeaf && n.access == Node::Access::kDirect;
  }

  void FindTree() {
    const Node& r = nodes_.back();
    if (r.dtype != DType::kFloat64 && r.dtype != DType::kFloat32) return;
    Tree t;
    if (!OpArm(r, t.root)) return;
    // Every node of the tree in the result's dtype: a mixed tree computes with casts.
    for (int k = 0; k < 2; ++k) {
      const Node& c = node(r.inputs[k]);
      if (c.dtype != r.dtype) return;
      const Block** leaves = t.leaves + 2 * k;
      if (DirectLeaf(c)) {
        t.arms[k] = Arm::kLeaf;
        leaves[0] = leaves[1] = c.block;
        continue;
      }
      if (!OpArm(c, t.arms[k])) return;
      for (int j = 0; j < 2; ++j) {
        const Node& leaf = node(c.inputs[j]);
        if (!DirectLeaf(leaf) || leaf.dtype != r.dtype) return;
        leaves[j] = leaf.block;
      }
    }
    tree_ = t;
  }

  Operand Value(int64_t i, int64_t start, unsigned char* buffers) const {
    const Node& n = nodes_[static_cast<size_t>(i)];
    if (n.uniform) return {n.value, 0};
    if (n.kind == Kind::kLeaf && n.access == Node::Access::kDirect) {
      return {static_cast<const unsigned char*>(n.block->raw()) + start * itemsize(n.dtype), 1};
    }
    return {buffers + n.slot * kTile * 8, 1};
  }

  static const Block& LeafBlock(int64_t leaf, const std::vector<int64_t>& slots,
                                std::span<const Block> inputs) {
    if (leaf < 0 || leaf >= static_cast<int64_t>(slots.size())) Malformed("leaf");
    const int64_t arg = slots[static_cast<size_t>(leaf)];
    if (arg < 0 || arg >= static_cast<int64_t>(inputs.size())) Malformed("slot");
    return inputs[static_cast<size_t>(arg)];
  }

  // The shape a leaf block is read with: its own, or with the last two axes swapped.
  static Shape LeafShape(const Block& b, int64_t transposed) {
    if (transposed != 0 && transposed != 1) Malformed("leaf layout");
    Shape s = b.shape();
    if (transposed == 1) {
      if (s.size() < 2) Malformed("transposed leaf of fewer than 2 axes");
      std::swap(s[s.size() - 1], s[s.size() - 2]);
    }
    return s;
  }

  void SetLeaf(Node& n, const Block& block, bool transposed) {
    n.block = &block;
    reads_transposed_ = reads_transposed_ || (transposed && block.size() > 1);
    if (n.block->dtype() != n.dtype) {
      throw DTypeError("array.fused: block of dtype " + std::string(dtype_name(n.block->dtype())) +
                       " where the program expects " + std::string(dtype_name(n.dtype)));
    }
    const Shape& own = n.block->shape();
    if (!transposed && n.block->size() != 1 && own == shape_) {  // the usual leaf: no shapes made
      n.access = Node::Access::kDirect;
      return;
    }
    const Shape padded =
        transposed ? PadLeft(LeafShape(*n.block, 1), shape_.size()) : PadLeft(own, shape_.size());
    if (n.block->size() == 1) {
      n.access = Node::Access::kScalar;
      n.uniform = true;
      std::memcpy(n.value, n.block->raw(), static_cast<size_t>(itemsize(n.dtype)));
    } else if (padded == shape_ && !transposed) {
      n.access = Node::Access::kDirect;
    } else {
      // The block's row-major strides, its last two swapped when read transposed, over the
      // output's axes (0 where the leaf is broadcast).
      n.access = Node::Access::kBroadcast;
      Shape strides(own.size());
      int64_t s = 1;
      for (size_t d = own.size(); d-- > 0;) {
        strides[d] = s;
        s *= own[d];
      }
      if (transposed) std::swap(strides[own.size() - 1], strides[own.size() - 2]);
      const size_t pad = shape_.size() - own.size();
      n.strides.assign(shape_.size(), 0);
      for (size_t d = pad; d < shape_.size(); ++d) {
        n.strides[d] = padded[d] == 1 ? 0 : strides[d - pad];
      }
    }
  }

  void SetConst(Node& n, double f, int64_t i) {
    n.uniform = true;
    DispatchFused(n.dtype, [&](auto t) {
      using T = decltype(t);
      T v;
      if constexpr (std::is_same_v<T, bool>) {
        v = f != 0.0;
      } else if constexpr (std::is_integral_v<T>) {
        v = static_cast<T>(i);
      } else {
        v = convert_value<T>(f);
      }
      std::memcpy(n.value, &v, sizeof(T));
    });
  }

  void SetOp(Node& n, int64_t code) {
    const DType in = node(n.inputs[n.kind == Kind::kWhere ? 1 : 0]).dtype;
    DType out = in;
    switch (n.kind) {
      case Kind::kUnary: {
        if (code < 0 || code > static_cast<int64_t>(UnaryOp::kArctanh)) Malformed("unary op");
        const auto op = static_cast<UnaryOp>(code);
        n.fn = dispatch(in, [&](auto t) { return UnaryFn<decltype(t)>(op); });
        if (HasBoolResult(op)) out = DType::kBool;
        break;
      }
      case Kind::kBinary: {
        if (code < 0 || code > static_cast<int64_t>(BinaryOp::kFmax)) Malformed("binary op");
        const auto op = static_cast<BinaryOp>(code);
        if (node(n.inputs[1]).dtype != in) Malformed("binary operands of two dtypes");
        n.fn = dispatch(in, [&](auto t) { return BinaryFn<decltype(t)>(op); });
        if (HasBoolResult(op)) out = DType::kBool;
        break;
      }
      case Kind::kAstype:
        out = n.dtype;
        n.fn = DispatchFused(in, [&](auto from) {
          return DispatchFused(
              out, [&](auto to) -> EvalFn { return &EvalAstype<decltype(from), decltype(to)>; });
        });
        break;
      case Kind::kWhere:
        if (node(n.inputs[2]).dtype != in) Malformed("where operands of two dtypes");
        // The values only move: one instance per width, not per dtype.
        n.fn = DispatchFused(node(n.inputs[0]).dtype, [&](auto c) {
          return DispatchBits(
              in, [&](auto t) -> EvalFn { return &EvalWhere<decltype(c), decltype(t)>; });
        });
        break;
      default:
        Malformed("kind");
    }
    if (out != n.dtype) Malformed("node dtype");
  }

  // A broadcast leaf's values at the output elements [start, start + n), in runs along the
  // last axis.
  void Gather(const Node& nd, const unsigned char* base, int64_t item, int64_t start, int64_t n,
              unsigned char* dst) const {
    const size_t dims = shape_.size();
    Shape idx(dims);
    int64_t rem = start;
    for (size_t d = dims; d-- > 0;) {
      idx[d] = rem % shape_[d];
      rem /= shape_[d];
    }
    const int64_t inner = shape_[dims - 1];
    const int64_t step = nd.strides[dims - 1];
    int64_t done = 0;
    while (done < n) {
      int64_t off = 0;
      for (size_t d = 0; d < dims; ++d) off += idx[d] * nd.strides[d];
      const int64_t run = std::min(inner - idx[dims - 1], n - done);
      const unsigned char* src = base + off * item;
      unsigned char* out = dst + done * item;
      if (step == 1) {
        std::memcpy(out, src, static_cast<size_t>(run * item));
      } else {
        DispatchBits(nd.dtype, [&](auto u) {  // a broadcast (step 0) or a transposed leaf
          using U = decltype(u);
          const U* s = reinterpret_cast<const U*>(src);
          U* o = reinterpret_cast<U*>(out);
          for (int64_t k = 0; k < run; ++k) o[k] = s[k * step];
        });
      }
      done += run;
      idx[dims - 1] += run;
      for (size_t d = dims - 1; d > 0 && idx[d] == shape_[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
      }
    }
  }

  Shape shape_;
  int64_t size_ = 0;
  std::vector<Node> nodes_;
  int num_slots_ = 0;
  bool reads_transposed_ = false;
  Tree tree_;
};

// Copies n bytes of a tile to the output, bypassing the cache where both are 16-byte aligned.
void StreamCopy(unsigned char* dst, const unsigned char* src, int64_t n) {
  int64_t i = 0;
  if ((reinterpret_cast<uintptr_t>(dst) & 15) == 0 &&
      (reinterpret_cast<uintptr_t>(src) & 15) == 0) {
    for (; i + 16 <= n; i += 16) {
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i),
                       _mm_load_si128(reinterpret_cast<const __m128i*>(src + i)));
    }
  }
  std::memcpy(dst + i, src + i, static_cast<size_t>(n - i));
}

// Tile buffers of the calling thread, kept for its next task: fresh pages cost a fault each on
// first touch, which is as slow as the memory traffic the tiles save. Not zeroed: every element
// is written before it is read.
unsigned char* TileBuffers(const Program& p, int extra = 0) {
  struct Free {
    void operator()(unsigned char* q) const { std::free(q); }
  };
  thread_local std::unique_ptr<unsigned char, Free> buffers;
  thread_local size_t capacity = 0;
  const size_t bytes = static_cast<size_t>(std::max(p.num_slots() + extra, 1) * kTile * 8);
  if (bytes > capacity) {
    buffers.reset(static_cast<unsigned char*>(std::aligned_alloc(64, bytes)));
    if (!buffers) throw std::bad_alloc();
    capacity = bytes;
  }
  return buffers.get();
}

// The order tiles of the output are evaluated in. Flat, unless a leaf is read transposed and the
// output's rows are longer than a tile: then the tiles at one column range of 8 rows run one
// after the other, so that each cache line of a transposed leaf (8 of its columns: 8 output rows)
// is read once while it is cached, not once per output row.
class TileOrder {
 public:
  explicit TileOrder(const Program& p) : n_(p.size()) {
    const Shape& shape = p.shape();
    if (p.reads_transposed() && shape.size() >= 2 && shape.back() >= kTile) {
      row_ = shape.back();
      chunks_ = (row_ + kTile - 1) / kTile;
      rows_ = n_ / row_;
    }
  }
  int64_t tiles() const { return row_ ? rows_ * chunks_ : (n_ + kTile - 1) / kTile; }
  /// Tile t's first element and length.
  std::pair<int64_t, int64_t> range(int64_t t) const {
    if (!row_) return {t * kTile, std::min(kTile, n_ - t * kTile)};
    const int64_t group = t / (kGroup * chunks_);
    const int64_t in_group = t - group * kGroup * chunks_;
    const int64_t size = std::min(kGroup, rows_ - group * kGroup);
    const int64_t chunk = in_group / size;
    const int64_t r = group * kGroup + in_group % size;
    return {r * row_ + chunk * kTile, std::min(kTile, row_ - chunk * kTile)};
  }

 private:
  static constexpr int64_t kGroup = 8;
  int64_t n_, row_ = 0, chunks_ = 0, rows_ = 0;
};

Block FusedBlock(const KernelContext& ctx) {
  const Program p(ctx);
  Block out = Block::Allocate(p.dtype(), p.shape());
  const int64_t n = p.size();
  const int64_t item = itemsize(p.dtype());
  auto* po = static_cast<unsigned char*>(out.raw());
  if (n == 0) return out;
  if (p.uniform()) {
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(po + i * item, p.uniform_value(), static_cast<size_t>(item));
    return out;
  }
  const bool stream = n * item >= kStreamBytes;
  const TileOrder order(p);
  ParallelRanges(order.tiles(), std::max<int64_t>(1, kElementGrain / kTile),
                 [&](int64_t b, int64_t e) {
                   // One extra slot: the result's tile when it is streamed out.
                   auto buffers = TileBuffers(p, 1);
                   unsigned char* staging = buffers + p.num_slots() * kTile * 8;
                   for (int64_t t = b; t < e; ++t) {
                     const auto [start, len] = order.range(t);
                     if (stream) {
                       p.Eval(start, len, buffers, staging);
                       StreamCopy(po + start * item, staging, len * item);
                     } else {
                       p.Eval(start, len, buffers, po + start * item);
                     }
                   }
                   if (stream) _mm_sfence();
                 });
  return out;
}

// Shape of `shape` reduced over `axes`, keeping size-1 axes when `keepdims` (as array.reduce).
Shape ReducedShape(const Shape& shape, const std::vector<bool>& mask, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d]) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

// The expression's values reduced over `mask`, in the order array.reduce adds them.
template <ReduceOp Op, typename T>
Block FusedReduceBlock(const Program& p, const std::vector<bool>& mask, bool keepdims) {
  using R = Reduce<Op, T>;
  using O = typename R::Out;
  const Shape& shape = p.shape();
  Block out = Block::Allocate(dtype_of<O>(), ReducedShape(shape, mask, keepdims));
  O* po = out.data<O>();
  const int64_t m = out.size();
  for (int64_t i = 0; i < m; ++i) po[i] = R::Identity();
  const int64_t n = p.size();
  if (n == 0) return out;
  // Values of a tile as a pointer with step 1 (a uniform result is spread over a tile once).
  std::unique_ptr<T[]> spread;
  if (p.uniform()) {
    spread.reset(new T[kTile]);
    std::fill(spread.get(), spread.get() + kTile, *static_cast<const T*>(p.uniform_value()));
  }
  auto tile = [&](int64_t start, int64_t len, unsigned char* buffers) -> const T* {
    if (p.uniform()) return spread.get();
    return static_cast<const T*>(p.Eval(start, len, buffers, nullptr).p);
  };
  if (m == 1) {
    if constexpr (Op == ReduceOp::kSum && (std::is_same_v<T, double> || std::is_same_v<T, float>)) {
      const auto& tree = p.tree();
      if (const SumTreeFn<T> fn = tree.root == Arm::kLeaf
                                      ? nullptr
                                      : SumTreeFor<T>(tree.root, tree.arms[0], tree.arms[1])) {
        const T* leaves[4];
        for (int k = 0; k < 4; ++k) leaves[k] = tree.leaves[k]->data<T>();
        // The same ranges as below and as array.reduce: the fold is fed the same values in the
        // same order, only without the tiles.
        po[0] = tbb::parallel_deterministic_reduce(
            tbb::blocked_range<int64_t>(0, n, kElementGrain), R::Identity(),
            [&](const tbb::blocked_range<int64_t>& r, O acc) {
              const T* at[4];
              for (int k = 0; k < 4; ++k) at[k] = leaves[k] + r.begin();
              SumFold<T> fold(acc);
              fn(at, r.end() - r.begin(), fold);
              return fold.Finish();
            },
            [](O a, O b) { return R::Combine(a, b); });
        return out;
      }
    }
    po[0] = tbb::parallel_deterministic_reduce(
        tbb::blocked_range<int64_t>(0, n, kElementGrain), R::Identity(),
        [&](const tbb::blocked_range<int64_t>& r, O acc) {
          auto buffers = TileBuffers(p);
          Fold<Op, T, O> fold(acc);
          for (int64_t s = r.begin(); s < r.end(); s += kTile) {
            const int64_t len = std::min(kTile, r.end() - s);
            fold.Feed(tile(s, len, buffers), len);
          }
          return fold.Finish();
        },
        [](O a, O b) { return R::Combine(a, b); });
    return out;
  }
  const size_t nd = shape.size();
  Shape ostride(nd, 0);
  int64_t s = 1;
  for (size_t d = nd; d-- > 0;) {
    if (!mask[d]) {
      ostride[d] = s;
      s *= shape[d];
    }
  }
  const int64_t inner = shape[nd - 1];
  const bool last_reduced = mask[nd - 1];
  auto base_of = [&](int64_t row) {
    int64_t base = 0, rem = row;
    for (size_t d = nd - 1; d-- > 0;) {
      base += (rem % shape[d]) * ostride[d];
      rem /= shape[d];
    }
    return base;
  };
  auto buffers = TileBuffers(p);
  // The row being folded (last axis reduced): its output element and its fold so far.
  int64_t row = 0;
  int64_t base = base_of(0);
  Fold<Op, T, O> fold(po[base]);
  for (int64_t start = 0; start < n; start += kTile) {
    const int64_t len = std::min(kTile, n - start);
    const T* v = tile(start, len, buffers);
    for (int64_t k = 0; k < len;) {
      const int64_t flat = start + k;
      const int64_t r = flat / inner, pos = flat - r * inner;
      const int64_t run = std::min(inner - pos, len - k);
      if (r != row) {
        row = r;
        base = base_of(r);
        if (last_reduced) fold = Fold<Op, T, O>(po[base]);
      }
      if (last_reduced) {
        fold.Feed(v + k, run);
        if (pos + run == inner) po[base] = fold.Finish();
      } else {
        O* dst = po + base + pos;
        for (int64_t i = 0; i < run; ++i) dst[i] = R::Step(dst[i], v[k + i]);
      }
      k += run;
    }
  }
  return out;
}

Block FusedReduce(const KernelContext& ctx) {
  const Program p(ctx);
  const auto op = static_cast<ReduceOp>(ctx.scalar<int64_t>(3));
  const auto& axes = ctx.scalar<std::vector<int64_t>>(4);
  const bool keepdims = ctx.scalar<bool>(5);
  std::vector<bool> mask(p.shape().size(), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= static_cast<int64_t>(mask.size())) {
      throw IndexError("array.fused_reduce: axis " + std::to_string(a) +
                       " out of range for shape " + engine::ShapeToString(p.shape()));
    }
    mask[static_cast<size_t>(a)] = true;
  }
  return dispatch(p.dtype(), [&](auto t) {
    using T = decltype(t);
    switch (op) {
      case ReduceOp::kSum:
        return FusedReduceBlock<ReduceOp::kSum, T>(p, mask, keepdims);
      case ReduceOp::kProd:
        return FusedReduceBlock<ReduceOp::kProd, T>(p, mask, keepdims);
      case ReduceOp::kMin:
        return FusedReduceBlock<ReduceOp::kMin, T>(p, mask, keepdims);
      case ReduceOp::kMax:
        return FusedReduceBlock<ReduceOp::kMax, T>(p, mask, keepdims);
      case ReduceOp::kAll:
        return FusedReduceBlock<ReduceOp::kAll, T>(p, mask, keepdims);
      case ReduceOp::kAny:
        return FusedReduceBlock<ReduceOp::kAny, T>(p, mask, keepdims);
      case ReduceOp::kNanSum:
        return FusedReduceBlock<ReduceOp::kNanSum, T>(p, mask, keepdims);
      case ReduceOp::kNanMin:
        return FusedReduceBlock<ReduceOp::kNanMin, T>(p, mask, keepdims);
      case ReduceOp::kNanMax:
        return FusedReduceBlock<ReduceOp::kNanMax, T>(p, mask, keepdims);
    }
    throw ValueError("array.fused_reduce: unknown reduce op " +
                     std::to_string(static_cast<int64_t>(op)));
  });
}

}  // namespace

void RegisterFusedKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [the leaf blocks]; scalars [program, constants, slots] (see src/expression.h): the
  // expression's block.
  registry.Register("array.fused", Device::kCpu,
                    [](const KernelContext& ctx) { return std::vector<Block>{FusedBlock(ctx)}; });
  // inputs [the leaf blocks]; scalars [program, constants, slots, op, axes, keepdims]: the
  // expression's block reduced as array.reduce reduces a block.
  registry.Register("array.fused_reduce", Device::kCpu,
                    [](const KernelContext& ctx) { return std::vector<Block>{FusedReduce(ctx)}; });
}

}  // namespace nums::kernels
