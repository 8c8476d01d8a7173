// Fused elementwise expressions: bit-identical to the operations run one by one, one task per
// block, submitted at the first use that needs blocks, errors at the call.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <nums/nums.hpp>
#include <random>

#include "src/array_impl.h"
#include "src/expression.h"
#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::ExpectThrowWith;
using testing::RandomNDArray;

class FusedTest : public testing::OnNodes {
 protected:
  void SetFusion(bool on) { ctx_.impl()->fuse = on; }
  int64_t TasksRun() const {
    int64_t n = 0;
    for (const auto& node : ctx_.nodes()) n += node.tasks_run;
    return n;
  }
};

const DType kDTypes[] = {bool_, int32, int64, float32, float64};

// A random expression over `leaves`, the same one for the same state of `rng`. Steps a dtype
// rule rejects (DTypeError at the call) are replaced by their left operand.
BlockArray RandomExpression(std::mt19937& rng, const std::vector<BlockArray>& leaves, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  if (depth == 0 || pick(5) == 0)
    return leaves[static_cast<size_t>(pick(static_cast<int>(leaves.size())))];
  const BlockArray a = RandomExpression(rng, leaves, depth - 1);
  const int kind = pick(4);
  try {
    if (kind == 0) {  // binary with an array
      const BlockArray b = RandomExpression(rng, leaves, depth - 1);
      switch (pick(12)) {
        case 0:
          return a + b;
        case 1:
          return a - b;
        case 2:
          return a * b;
        case 3:
          return a / b;
        case 4:
          return a % b;
        case 5:
          return a < b;
        case 6:
          return a == b;
        case 7:
          return maximum(a, b);
        case 8:
          return minimum(a, b);
        case 9:
          return a & b;
        case 10:
          return floor_divide(a, b);
        default:
          return fmax(a, b);
      }
    }
    if (kind == 1) {  // with a number (weak)
      const Number n =
          pick(2) ? Number(static_cast<int64_t>(pick(7)) - 3) : Number(0.5 * pick(9) - 2);
      switch (pick(6)) {
        case 0:
          return a + n;
        case 1:
          return n - a;
        case 2:
          return a * n;
        case 3:
          return a > n;
        case 4:
          return power(a, Number(static_cast<int64_t>(2)));
        default:
          return n / a;
      }
    }
    if (kind == 2) {
      switch (pick(10)) {
        case 0:
          return -a;
        case 1:
          return exp(a);
        case 2:
          return sqrt(a);
        case 3:
          return abs(a);
        case 4:
          return sin(a);
        case 5:
          return floor(a);
        case 6:
          return !a;
        case 7:
          return square(a);
        case 8:
          return isnan(a);
        default:
          return log(a);
      }
    }
    if (pick(2)) return a.astype(kDTypes[pick(5)]);
    const BlockArray b = RandomExpression(rng, leaves, depth - 1);
    return pick(2) ? where(a > 0, a, b) : where(b, a, Number(0.01));
  } catch (const DTypeError&) {
    return a;
  }
}

// Leaves of one broadcast family: the full shape, a row, a column-like slice and a 0-d array,
// of random dtypes and odd block shapes.
std::vector<BlockArray> RandomLeaves(std::mt19937& rng, const Shape& shape) {
  std::vector<Shape> shapes = {shape, shape};
  if (!shape.empty()) {
    shapes.push_back(Shape(shape.begin() + 1, shape.end()));
    Shape col = shape;
    col.back() = 1;
    shapes.push_back(col);
  }
  shapes.push_back({});
  std::vector<BlockArray> leaves;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const DType t = kDTypes[rng() % 5];
    Shape block = shapes[k];
    for (auto& b : block)
      b = b <= 1 ? std::max<int64_t>(b, 1)
                 : 1 + static_cast<int64_t>(rng() % static_cast<unsigned>(b));
    // Leaves of the same shape share a block shape some of the time (no re-blocking).
    if (k == 1 && rng() % 2 == 0) block = leaves[0].block_shape();
    leaves.push_back(from_ndarray(RandomNDArray(shapes[k], t, rng()), block));
  }
  return leaves;
}

TEST_P(FusedTest, RandomExpressionsMatchUnfusedBitForBit) {
  const std::vector<Shape> shapes = {{}, {1}, {7}, {5, 6}, {4, 3, 5}, {0, 3}, {9, 1}};
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::mt19937 rng(1000 + static_cast<unsigned>(trial));
    const Shape shape = shapes[static_cast<size_t>(trial) % shapes.size()];
    const std::vector<BlockArray> leaves = RandomLeaves(rng, shape);
    const unsigned seed = static_cast<unsigned>(rng());
    auto build = [&](bool fused) {
      SetFusion(fused);
      std::mt19937 r(seed);
      return RandomExpression(r, leaves, 4);
    };
    const BlockArray fused = build(true);
    const BlockArray plain = build(false);
    SCOPED_TRACE("trial " + std::to_string(trial) + " shape " + shape_str(shape));
    ASSERT_EQ(fused.dtype(), plain.dtype());
    ASSERT_EQ(fused.shape(), plain.shape());
    EXPECT_TRUE(testing::SameBytes(fused.get(), plain.get()));
    ++checked;
  }
  EXPECT_EQ(checked, 60);
}

TEST_P(FusedTest, ReductionsOfExpressionsMatchUnfusedBitForBit) {
  // Float sums are compared bit for bit: the fused partial adds in the order of array.reduce,
  // and the tree that combines partials depends on the blocks' homes, not on where the
  // intermediates of the unfused run were placed.
  struct Case {
    Shape shape, block;
  };
  const std::vector<Case> cases = {
      {{}, {}},         {{100003}, {40000}}, {{37, 29}, {10, 7}}, {{6, 5, 300}, {4, 2, 128}},
      {{0, 4}, {1, 2}}, {{3, 1}, {2, 1}}};
  for (const auto& c : cases) {
    for (DType t : {float64, float32, int32, bool_}) {
      NDArray xv = RandomNDArray(c.shape, t, 7), yv = RandomNDArray(c.shape, t, 8);
      BlockArray x = from_ndarray(xv, c.block), y = from_ndarray(yv, c.block);
      const int64_t nd = static_cast<int64_t>(c.shape.size());
      std::vector<Axes> axes_list = {Axes::all()};
      for (int64_t d = 0; d < nd; ++d) axes_list.push_back(Axes(d));
      if (nd == 3) axes_list.push_back(Axes({0, 2}));
      for (const Axes& axes : axes_list) {
        for (int op = 0; op < 5; ++op) {
          for (bool keepdims : {false, true}) {
            auto run = [&](bool fused) {
              SetFusion(fused);
              const BlockArray e = t == bool_ ? (x.astype(int64) * 3 - y) : (x * x + y * 0.5);
              switch (op) {
                case 0:
                  return e.sum(axes, keepdims);
                case 1:
                  return e.max(axes, keepdims);
                case 2:
                  return (e > 0).any(axes, keepdims);
                case 3:
                  return e.mean(axes, keepdims);
                default:
                  return (e / 4).prod(axes, keepdims).astype(float64);
              }
            };
            if ((op == 1) && xv.size() == 0) continue;  // no identity
            SCOPED_TRACE(shape_str(c.shape) + " " + std::string(dtype_name(t)) + " op " +
                         std::to_string(op));
            const NDArray fused = run(true).get();
            EXPECT_TRUE(testing::SameBytes(fused, run(false).get()));
          }
        }
      }
    }
  }
}

TEST_P(FusedTest, SumsOfSmallTreesMatchUnfusedBitForBit) {
  // Sums of adds, subtracts and multiplies of arrays (x * x + y * y, x * y, ...) are folded
  // without tiles; blocks of more than one range of the parallel reduction, ranges that do not
  // start at a multiple of 8, and both float widths.
  const bool exact_values = GetParam() > 1;
  struct Case {
    Shape shape, block;
  };
  const std::vector<Case> cases = {{{200003}, {150001}}, {{300, 701}, {200, 701}}, {{13}, {5}}};
  for (const auto& c : cases) {
    for (DType t : {float64, float32}) {
      BlockArray x = from_ndarray(RandomNDArray(c.shape, t, 3), c.block);
      BlockArray y = from_ndarray(RandomNDArray(c.shape, t, 4), c.block);
      if (exact_values) {
        x = from_ndarray(floor(x * 8).get(), c.block);
        y = from_ndarray(floor(y * 8).get(), c.block);
      }
      const std::vector<std::function<BlockArray()>> exprs = {
          [&] { return x * x + y * y; },     [&] { return x * y; },
          [&] { return (x - y) * (x + y); }, [&] { return x - y * y; },
          [&] { return x * y - y; },         [&] { return (x + y).sum(Axes(0)); }};
      for (size_t k = 0; k < exprs.size(); ++k) {
        SCOPED_TRACE(shape_str(c.shape) + " " + std::string(dtype_name(t)) + " expression " +
                     std::to_string(k));
        auto run = [&](bool fused) {
          SetFusion(fused);
          const BlockArray e = exprs[k]();
          return k + 1 == exprs.size() ? e : e.sum();
        };
        const NDArray fused = run(true).get();
        EXPECT_TRUE(testing::SameBytes(fused, run(false).get()));
      }
    }
  }
  SetFusion(true);
}

TEST_P(FusedTest, SumsOfSmallTreesOfMixedDTypesMatchUnfused) {
  // Trees whose arms or leaves are of another dtype than the result compute with casts: they
  // must not be read as the result's dtype.
  const Shape shape{3001};
  BlockArray x32 = from_ndarray(RandomNDArray(shape, float32, 5), {1000});
  BlockArray y64 = from_ndarray(RandomNDArray(shape, float64, 6), {1000});
  BlockArray i64 = from_ndarray(RandomNDArray(shape, int64, 7), {1000});
  BlockArray i32 = from_ndarray(RandomNDArray(shape, int32, 8), {1000});
  const std::vector<std::function<BlockArray()>> exprs = {[&] { return x32 * x32 + y64 * y64; },
                                                          [&] { return x32 * y64; },
                                                          [&] { return y64 - x32; },
                                                          [&] { return (i64 * i64 + y64).sum(); },
                                                          [&] { return i32 * y64 + y64; },
                                                          [&] { return x32 * i32; }};
  for (size_t k = 0; k < exprs.size(); ++k) {
    SCOPED_TRACE("expression " + std::to_string(k));
    auto run = [&](bool fused) {
      SetFusion(fused);
      return exprs[k]().sum();
    };
    const NDArray fused = run(true).get();
    EXPECT_TRUE(testing::SameBytes(fused, run(false).get()));
  }
  SetFusion(true);
}

TEST_P(FusedTest, ChainRunsAsOneTaskPerBlock) {
  BlockArray x = from_ndarray(RandomNDArray({1000, 30}, float64, 1), {128, 16});
  BlockArray y = from_ndarray(RandomNDArray({1000, 30}, float64, 2), {128, 16});
  const int64_t blocks = x.grid().num_blocks();
  ASSERT_EQ(blocks, 16);
  int64_t before = TasksRun();
  BlockArray z = x * y + 1;
  EXPECT_EQ(TasksRun(), before) << "recorded, not run";
  NDArray fused = z.get();
  EXPECT_EQ(TasksRun() - before, blocks);
  // where(x > 0, x, 0.01 * x): still one task per block.
  before = TasksRun();
  NDArray leaky = where(x > 0, x, 0.01 * x).get();
  EXPECT_EQ(TasksRun() - before, blocks);
  // A reduction of a chain: one fused partial per block, the partials' tree, the sqrt.
  before = TasksRun();
  const double norm = sqrt((x * x + y * y).sum()).item<double>();
  EXPECT_EQ(TasksRun() - before, blocks + (blocks - 1) + 1);
  // Unfused: two ops; the number travels inline with the second one's tasks.
  SetFusion(false);
  before = TasksRun();
  NDArray plain = (x * y + 1).get();
  EXPECT_EQ(TasksRun() - before, 2 * blocks);
  EXPECT_TRUE(testing::SameBytes(fused, plain));
  EXPECT_TRUE(testing::SameBytes(leaky, where(x > 0, x, 0.01 * x).get()));
  EXPECT_EQ(norm, sqrt((x * x + y * y).sum()).item<double>());
}

TEST_P(FusedTest, TransposesAreReadInPlaceBitForBit) {
  // x.T() feeding elementwise ops is read by the fused kernel with its last two axes swapped:
  // one task per output block, no transpose task, the same bytes as the physical transpose.
  for (const auto& [shape, block] : std::vector<std::pair<Shape, Shape>>{
           {{13, 7}, {5, 3}},
           {{6, 6}, {6, 6}},
           {{1, 9}, {1, 4}},
           {{2, 5, 4}, {1, 3, 3}},
           // Output rows longer than the kernel's tiles (their order changes): 11 rows of 4500.
           {{4500, 11}, {4500, 11}}}) {
    SCOPED_TRACE(shape_str(shape) + " in " + shape_str(block));
    const NDArray xv = RandomNDArray(shape, float64, 11), iv = RandomNDArray(shape, int32, 12);
    const BlockArray x = from_ndarray(xv, block), i = from_ndarray(iv, block);
    Shape ts = shape;
    std::swap(ts[ts.size() - 1], ts[ts.size() - 2]);
    const BlockArray y = from_ndarray(RandomNDArray(ts, float64, 13));
    const BlockArray row = from_ndarray(RandomNDArray({ts.back()}, float64, 14));
    // The last two axes swapped (x.T() for a matrix).
    auto t = [](const BlockArray& a) { return swapaxes(a, -1, -2); };
    const std::vector<std::function<BlockArray()>> exprs = {
        [&] { return t(x) + 1; },
        [&] { return t(x) * y; },
        [&] { return t(x) * row - t(i); },
        [&] { return where(t(x) > 0, t(x), 0.01 * t(x)); },
        [&] { return t(i).astype(float32); },
        [&] { return (t(x) * 2).sum(-1); },
        [&] { return (t(x) - y).max(0); }};
    for (size_t k = 0; k < exprs.size(); ++k) {
      SCOPED_TRACE("expression " + std::to_string(k));
      SetFusion(true);
      auto recording = ctx_.start_timeline();
      const NDArray fused = exprs[k]().get();
      const std::string path = ::testing::TempDir() + "/fused_transpose_trace.json";
      recording.save(path);
      std::ifstream in(path);
      const std::string trace((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      EXPECT_EQ(trace.find("array.transpose"), std::string::npos);
      std::remove(path.c_str());
      SetFusion(false);  // each op on its own, the transpose made
      EXPECT_TRUE(testing::SameBytes(fused, exprs[k]().get()));
    }
  }
  // A square array read both ways in one expression.
  const NDArray sv = RandomNDArray({9, 9}, float64, 15);
  const BlockArray sq = from_ndarray(sv, {4, 4});
  SetFusion(true);
  const NDArray sym = (sq + sq.T()).get();
  for (int64_t r = 0; r < 9; ++r) {
    for (int64_t c = 0; c < 9; ++c) {
      EXPECT_EQ(sym.data<double>()[r * 9 + c],
                sv.data<double>()[r * 9 + c] + sv.data<double>()[c * 9 + r]);
    }
  }
}

TEST_P(FusedTest, MaterialisedAtFirstUseThatNeedsBlocks) {
  BlockArray x = from_ndarray(RandomNDArray({40, 6}, float64, 3), {16, 4});
  const NDArray xv = x.get();
  auto pending = [](const BlockArray& a) { return detail::is_pending(a); };
  BlockArray e = x * 2 + 1;
  EXPECT_TRUE(pending(e));
  // Layout questions do not submit it.
  EXPECT_EQ(e.shape(), (Shape{40, 6}));
  EXPECT_EQ(e.block_shape(), (Shape{16, 4}));
  EXPECT_TRUE(pending(e));
  // wait() does.
  e.wait();
  EXPECT_FALSE(pending(e));
  // nums::wait, indexing, reshape, matmul, transpose, block_nodes all see blocks.
  BlockArray f = x - 3;
  nums::wait({f});
  EXPECT_FALSE(pending(f));
  BlockArray g = x * x;
  EXPECT_EQ(g.block_nodes().size(), 6u);
  EXPECT_FALSE(pending(g));
  BlockArray h = x + 0.5;
  const NDArray row = BlockArray(h(3)).get();
  EXPECT_FALSE(pending(h));
  EXPECT_DOUBLE_EQ(row.at<double>({2}), xv.at<double>({3, 2}) + 0.5);
  BlockArray k = x / 2;
  EXPECT_EQ(k.reshape({240}).get().at<double>({7}), xv.at<double>({1, 1}) / 2);
  BlockArray m = x * 3;
  const BlockArray mm = matmul(m.T(), x);
  mm.wait();  // its tasks are not counted below
  EXPECT_EQ(mm.shape(), (Shape{6, 6}));
  // The product read m's expression through the transpose's snapshot of it: m's own handle
  // finds it computed (its wait runs no task).
  const int64_t before_m = TasksRun();
  m.wait();
  EXPECT_EQ(TasksRun() - before_m, 0);
  EXPECT_FALSE(pending(m));
  // A copy shares the expression; submitting either fills both.
  BlockArray p = x - 1;
  BlockArray q = p.copy();
  EXPECT_TRUE(pending(q));
  const int64_t before = [&] {
    int64_t n = 0;
    for (const auto& node : ctx_.nodes()) n += node.tasks_run;
    return n;
  }();
  p.wait();
  q.wait();  // no second computation, and a wait runs no task of its own
  int64_t after = 0;
  for (const auto& node : ctx_.nodes()) after += node.tasks_run;
  EXPECT_EQ(after - before, 6);
}

TEST_P(FusedTest, WritesAfterRecordingDoNotChangeTheExpression) {
  BlockArray x = from_ndarray(RandomNDArray({10}, float64, 5), {4});
  const NDArray xv = x.get();
  BlockArray e = x * 2;
  x += 1;  // replaces x's blocks; e keeps the values it was recorded with
  x(slice(0, 3)) = 100.0;
  const NDArray got = e.get();
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(got.at<double>({i}), xv.at<double>({i}) * 2);
  // An expression built on a pending one after that one was submitted reads its blocks.
  BlockArray a = x + 1;
  BlockArray b = a * 3;
  a.wait();
  EXPECT_DOUBLE_EQ(b.get().at<double>({0}), 303.0);
}

TEST_P(FusedTest, LongChainsAreSplitAtTheSizeLimit) {
  BlockArray x = from_ndarray(RandomNDArray({50}, float64, 9), {16});
  BlockArray y = x;
  SetFusion(true);
  for (int i = 0; i < 200; ++i) y = y * 0.999 + 0.001;
  const detail::ExprSize size = detail::expr_size(*detail::expr_of(y));
  EXPECT_LE(size.ops, detail::kMaxExprOps);
  EXPECT_LE(size.leaves, detail::kMaxExprLeaves);
  const NDArray fused = y.get();
  SetFusion(false);
  BlockArray z = x;
  for (int i = 0; i < 200; ++i) z = z * 0.999 + 0.001;
  EXPECT_TRUE(testing::SameBytes(fused, z.get()));
  // Many distinct leaves.
  SetFusion(true);
  BlockArray s = zeros({50}, float64, {16});
  std::vector<BlockArray> parts;
  for (int i = 0; i < 30; ++i)
    parts.push_back(from_ndarray(RandomNDArray({50}, float64, 100 + i), {16}));
  for (const auto& p : parts) s = s + p;
  EXPECT_LE(detail::expr_size(*detail::expr_of(s)).leaves, detail::kMaxExprLeaves);
  const NDArray fs = s.get();
  SetFusion(false);
  BlockArray t = zeros({50}, float64, {16});
  for (const auto& p : parts) t = t + p;
  EXPECT_TRUE(testing::SameBytes(fs, t.get()));
}

TEST_P(FusedTest, ErrorsAreRaisedAtTheCallNamingTheOp) {
  BlockArray a = ones({3, 4}), b = ones({5});
  BlockArray e = a * 2;  // pending
  ExpectThrowWith<ShapeError>([&] { (void)(e * b); }, {"multiply", "(3, 4)", "(5,)"});
  ExpectThrowWith<ShapeError>([&] { (void)(e + b); }, {"add", "(3, 4)", "(5,)"});
  ExpectThrowWith<ShapeError>([&] { (void)where(e > 1, e, b); }, {"where"});
  EXPECT_THROW((void)(e.astype(float64) & e), DTypeError);
  EXPECT_THROW((void)(-(e > 1)), DTypeError);
  EXPECT_TRUE(detail::is_pending(e)) << "a failed call does not submit its operands";
  // A failure inside the fused task comes back from get(), as from the op's own task.
  BlockArray i = arange(4).astype(int64);
  EXPECT_THROW((power(i + 1, i - 2)).get(), ValueError);
  SetFusion(false);
  ExpectThrowWith<ShapeError>([&] { (void)(a * b); }, {"multiply", "(3, 4)", "(5,)"});
}

TEST_P(FusedTest, EnvironmentSwitchTurnsFusionOff) {
  // Read when a context starts.
  ::setenv("NUMS_FUSE", "0", 1);
  Context off = init({.nodes = 1, .threads_per_node = 1});
  ::unsetenv("NUMS_FUSE");
  EXPECT_FALSE(off.impl()->fuse);
  BlockArray x = ones({4}) + 1;
  EXPECT_FALSE(detail::is_pending(x));
  Context on = init({.nodes = 1, .threads_per_node = 1});
  EXPECT_TRUE(on.impl()->fuse);
  EXPECT_TRUE(detail::is_pending(ones({4}) + 1));
}

INSTANTIATE_TEST_SUITE_P(Nodes, FusedTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
