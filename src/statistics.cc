// Weighted averages, covariance and correlation, built from distributed array operations: the
// weighted sums are reductions, the centred product is a tensordot over the observations (each
// node multiplies the blocks it holds; partial products are summed by a tree), and only the
// small variables x variables result and a few scalars used for argument checks reach the
// driver.

#include <cmath>
#include <string>

#include "nums/creation.hpp"
#include "nums/linalg.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "nums/statistics.hpp"
#include "src/array_impl.h"
#include "src/statistics_impl.h"

namespace nums {

namespace {

// Computed in float64 (complex128 keeps its dtype).
bool is_integral(DType t) {
  return t != DType::kFloat32 && t != DType::kFloat64 && t != DType::kComplex128;
}

// NumPy's average: (x * w).sum / w.sum, with w broadcast to x's shape first, so that the weight
// sum has the average's shape.
std::pair<BlockArray, BlockArray> average_impl(const BlockArray& x, const Axes& axis,
                                               const std::optional<BlockArray>& weights,
                                               bool keepdims) {
  const std::vector<int64_t> axes = detail::normalize_axes(axis, x.ndim(), "average");
  if (!weights) {
    const BlockArray avg = x.mean(axis, keepdims);
    int64_t count = 1;
    for (int64_t a : axes) count *= x.shape()[static_cast<size_t>(a)];
    return {avg, full_like(avg, Number(static_cast<double>(count)))};
  }
  BlockArray w = *weights;
  detail::check_same_context(x, w, "average");
  if (w.shape() != x.shape()) {
    if (!axis.axes) {
      throw ShapeError("average: axis must be specified when shapes of a " + shape_str(x.shape()) +
                       " and weights " + shape_str(w.shape()) + " differ");
    }
    if (w.ndim() != 1 || axes.size() != 1) {
      throw ShapeError("average: 1-d weights along one axis expected when shapes of a " +
                       shape_str(x.shape()) + " and weights " + shape_str(w.shape()) + " differ");
    }
    const auto ax = static_cast<size_t>(axes[0]);
    if (w.shape()[0] != x.shape()[ax]) {
      throw ShapeError("average: length of weights " + shape_str(w.shape()) +
                       " not compatible with axis " + std::to_string(axes[0]) + " of shape " +
                       shape_str(x.shape()));
    }
    Shape along(x.shape().size(), 1);
    along[ax] = w.shape()[0];
    w = broadcast_to(w.reshape(along), x.shape());
  }
  DType rt = result_type(x.dtype(), w.dtype());
  if (is_integral(x.dtype())) rt = result_type(rt, DType::kFloat64);
  if (is_integral(rt)) rt = DType::kFloat64;
  w = w.astype(rt);
  const BlockArray wsum = w.sum(axis, keepdims);
  if (wsum.size() > 0 && detail::fetch((wsum == 0).any()).item<bool>()) {
    throw ValueError("average: weights sum to zero, can't be normalized");
  }
  const BlockArray avg = (x.astype(rt) * w).sum(axis, keepdims) / wsum;
  return {avg, wsum};
}

// NumPy's array(m, ndmin=2) for an input of at most two dimensions, as variables x observations.
BlockArray as_variables(const BlockArray& m, bool rowvar, const char* name) {
  if (m.ndim() > 2) {
    throw ShapeError(std::string("cov: ") + name + " has more than 2 dimensions, shape " +
                     shape_str(m.shape()));
  }
  BlockArray x = m;
  if (x.ndim() == 0) x = x.reshape({1, 1});
  if (x.ndim() == 1) x = x.reshape({1, x.shape()[0]});
  // NumPy leaves a single row as one variable even with rowvar = false.
  if (!rowvar && x.shape()[0] != 1) x = x.T();
  detail::reject_complex(x, "cov");
  return x.astype(DType::kFloat64);
}

BlockArray observation_weights(const BlockArray& w, int64_t n, const char* name) {
  if (w.ndim() != 1) {
    throw ShapeError(std::string("cov: cannot handle multidimensional ") + name + ", shape " +
                     shape_str(w.shape()));
  }
  if (w.shape()[0] != n) {
    throw ShapeError(std::string("cov: incompatible numbers of samples (") + std::to_string(n) +
                     ") and " + name + " " + shape_str(w.shape()));
  }
  if (n > 0 && detail::fetch(w.min()).item<double>() < 0) {
    throw ValueError(std::string("cov: ") + name + " cannot be negative");
  }
  return w.astype(DType::kFloat64);
}

}  // namespace

BlockArray average(const BlockArray& x, Axes axis, const std::optional<BlockArray>& weights,
                   bool keepdims) {
  return average_impl(x, axis, weights, keepdims).first;
}

std::pair<BlockArray, BlockArray> average_returned(const BlockArray& x, Axes axis,
                                                   const std::optional<BlockArray>& weights,
                                                   bool keepdims) {
  auto [avg, wsum] = average_impl(x, axis, weights, keepdims);
  if (wsum.dtype() != avg.dtype()) wsum = wsum.astype(avg.dtype());
  return {avg, wsum};
}

BlockArray cov(const BlockArray& m, const std::optional<BlockArray>& y, bool rowvar, bool bias,
               std::optional<int64_t> ddof_in, const std::optional<BlockArray>& fweights,
               const std::optional<BlockArray>& aweights) {
  BlockArray x = as_variables(m, rowvar, "m");
  if (y) {
    detail::check_same_context(m, *y, "cov");
    const BlockArray yy = as_variables(*y, rowvar, "y");
    if (yy.shape()[1] != x.shape()[1]) {
      throw ShapeError("cov: m " + shape_str(x.shape()) + " and y " + shape_str(yy.shape()) +
                       " (as variables x observations) have different numbers of observations");
    }
    x = concatenate({x, yy}, 0);
  }
  const int64_t p = x.shape()[0], n = x.shape()[1];
  const int64_t ddof = ddof_in.value_or(bias ? 0 : 1);
  std::optional<BlockArray> w, a;
  if (fweights) {
    if (!is_integral(fweights->dtype()) || fweights->dtype() == DType::kBool) {
      throw DTypeError("cov: fweights must be integer, got " +
                       std::string(dtype_name(fweights->dtype())));
    }
    w = observation_weights(*fweights, n, "fweights");
  }
  if (aweights) {
    a = observation_weights(*aweights, n, "aweights");
    w = w ? *w * *a : *a;
  }
  double fact = 0;
  BlockArray avg;
  if (w) {
    avg = average(x, 1, w);
    const double w_sum = detail::fetch(w->sum()).item<double>();
    if (ddof == 0) {
      fact = w_sum;
    } else if (!a) {
      fact = w_sum - static_cast<double>(ddof);
    } else {
      fact =
          w_sum - static_cast<double>(ddof) * detail::fetch((*w * *a).sum()).item<double>() / w_sum;
    }
  } else {
    avg = x.mean(1);
    fact = static_cast<double>(n - ddof);
  }
  // NumPy warns and divides by zero: inf or NaN.
  if (fact <= 0) fact = 0;
  const BlockArray xc = x - avg.reshape({p, 1});
  const BlockArray xw = w ? xc * w->reshape({1, n}) : xc;
  // Contracting the observation axis of both: c[i, j] = sum_k xc[i, k] * xw[j, k].
  const BlockArray c = tensordot(xc, xw, std::vector<int64_t>{1}, std::vector<int64_t>{1}) /
                       full({}, fact, DType::kFloat64);
  return c.squeeze();
}

BlockArray corrcoef(const BlockArray& x, const std::optional<BlockArray>& y, bool rowvar) {
  const BlockArray c = cov(x, y, rowvar);
  if (c.ndim() == 0) return c / c;
  const int64_t p = c.shape()[0];
  const BlockArray s = sqrt(diagonal(c));
  const BlockArray r = c / s.reshape({p, 1}) / s.reshape({1, p});
  // Rounding can step just past +-1; NaN (a constant variable) stays NaN.
  return where(isnan(r), r, clip(r, -1, 1));
}

}  // namespace nums
