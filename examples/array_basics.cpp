// A tour of the array API on an embedded 4-node cluster: creation, random numbers, broadcasting,
// reductions, a matmul, indexing for read and write, and a solve.
//
//   array_basics

#include <cstdio>
#include <nums/nums.hpp>

int main() {
  nums::Context ctx = nums::init({.nodes = 4});
  std::printf("%lld nodes, %lld cores\n", static_cast<long long>(ctx.num_nodes()),
              static_cast<long long>(ctx.num_cores()));

  // Creation and random numbers: the same values for a seed whatever the blocking.
  nums::random::Generator rng(ctx, 1337);
  nums::BlockArray X = rng.normal({100'000, 16}, 0, 1, nums::float64, {25'000, 16});
  nums::BlockArray w = nums::arange(16).astype(nums::float64) / 16.0;
  std::printf("X %s in blocks %s on nodes", nums::shape_str(X.shape()).c_str(),
              nums::shape_str(X.block_shape()).c_str());
  for (int64_t n : X.block_nodes()) std::printf(" %lld", static_cast<long long>(n));
  std::printf("\n");

  // Broadcasting: centre the columns (a (16,) mean against a (100000, 16) array).
  nums::BlockArray Xc = X - X.mean(0);
  std::printf("max |column mean| after centring: %.2e\n",
              nums::abs(Xc.mean(0)).max().item<double>());

  // A matmul and a reduction: y = X w + noise, then the residual of the normal equations.
  nums::BlockArray y =
      nums::matmul(X, w) + 0.01 * rng.normal({100'000}, 0, 1, nums::float64, {25'000});
  nums::BlockArray XtX = nums::matmul(X.T(), X);
  nums::BlockArray Xty = nums::matmul(X.T(), y);
  nums::BlockArray w_hat = nums::linalg::solve(XtX, Xty);
  std::printf("||w_hat - w|| = %.2e\n", nums::linalg::norm(w_hat - w).item<double>());

  // Indexing: a slice with a step, a column, and masked assignment (y[y < 0] = 0).
  nums::BlockArray head = X(nums::slice(0, 10, 2), nums::all);
  nums::BlockArray col = X(nums::all, 3);
  std::printf("X[0:10:2, :] is %s, X[:, 3] is %s\n", nums::shape_str(head.shape()).c_str(),
              nums::shape_str(col.shape()).c_str());
  y(y < 0.0) = 0.0;
  std::printf("min of y after y[y < 0] = 0: %.3f; positives: %lld of %lld\n",
              y.min().item<double>(), static_cast<long long>((y > 0.0).sum().item<int64_t>()),
              static_cast<long long>(y.size()));
  const nums::NDArray first = y(nums::slice(0, 3)).get();
  std::printf("y[:3] = [%.4f, %.4f, %.4f]\n", first.at<double>({0}), first.at<double>({1}),
              first.at<double>({2}));
  return 0;
}
