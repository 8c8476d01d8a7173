// The array layer declares each task's outputs, and declares them right: a node admits a task by
// its declared bytes, and a declared block the kernel does not make was reserved for nothing.
#include <gtest/gtest.h>

#include <nums/nums.hpp>

#include "engine/embedded_runtime.h"
#include "src/array_impl.h"

namespace nums {
namespace {

struct Counts {
  int64_t unclaimed = 0;   // declared outputs no kernel made
  int64_t undeclared = 0;  // tasks that declared nothing
};

Counts Count() {
  auto ctx = detail::current_context();
  auto* rt = dynamic_cast<engine::EmbeddedRuntime*>(ctx->runtime.get());
  EXPECT_NE(rt, nullptr);
  rt->WaitIdle();
  Counts c;
  for (int64_t i = 0; i < rt->num_nodes(); ++i) {
    c.unclaimed += rt->node(i).unclaimed_outputs();
    c.undeclared += rt->node(i).undeclared_tasks();
  }
  return c;
}

TEST(DeclaredOutputsTest, ArrayOpsDeclareExactlyTheBlocksTheirKernelsMake) {
  Context ctx = init({.nodes = 3, .threads_per_node = 1});
  random::Generator rng(ctx, 7);
  const BlockArray x = rng.normal({101, 37}, 0.0, 1.0, float64, {20, 8});
  const BlockArray xf = x.astype(float32);
  const BlockArray y = (x.sum(1) > 0.0).astype(float64);
  std::vector<BlockArray> keep;
  // Elementwise, reductions along every axis set, arg-reductions, matmul and its transpose,
  // reshape, slicing, integer lists, masks (read and write) and basic writes.
  keep.push_back(exp(x) * 2.0 + 1.0);
  keep.push_back(where(x > 0.0, x, zeros_like(x)));
  keep.push_back(round(xf, 2));
  keep.push_back(nan_to_num(log(x)));
  keep.push_back(isclose(x, xf.sum(0)));
  keep.push_back(arctan2(x, xf) + fmod(x, 2.0));
  keep.push_back(x.astype(int32) << 2);
  keep.push_back(nanmin(x, 0));
  keep.push_back(nansum(xf, 1));
  keep.push_back(x.sum(0));
  keep.push_back(xf.sum(1, true));
  keep.push_back(x.sum());
  keep.push_back(x.max(0));
  keep.push_back(x.prod({0, 1}));
  keep.push_back(x.argmax(0));
  keep.push_back(xf.argmin());
  keep.push_back(matmul(x.T(), x));
  keep.push_back(matmul(xf, xf.T()));
  keep.push_back(x.reshape({37, 101}));
  keep.push_back(x(slice(3, 77, 2), slice(5, 30)));
  keep.push_back(x(std::vector<int64_t>{100, 0, 50, 50}));
  keep.push_back(x(x > 0.5));
  keep.push_back(x(y > 0.5));
  BlockArray w = x.copy();
  w(slice(0, 30), all) = 1.0;
  w(w > 1.5) = -1.0;
  keep.push_back(w);
  for (const BlockArray& k : keep) (void)k.get();
  const Counts ops = Count();
  EXPECT_EQ(ops.unclaimed, 0) << "a declared output did not match its kernel's block";
  EXPECT_EQ(ops.undeclared, 0) << "an op's tasks declared no outputs";

  // TSQR and the GLM fits: what they declare is right too.
  const auto qr = linalg::qr(x);
  (void)qr.r.get();
  models::LogisticRegression lr({.solver = "newton", .max_iter = 3});
  lr.fit(x, y);
  (void)lr.predict(x).get();
  EXPECT_EQ(Count().unclaimed, 0);
}

}  // namespace
}  // namespace nums
