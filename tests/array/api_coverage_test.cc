// Keeps docs/api-coverage.md true: the table must list every function of the array API standard
// (2023.12, core and linalg extension) once; every function it marks done must have a probe
// here that calls nums's spelling and checks a value; every probe's function must be marked done;
// and the summary line must state the counts the table gives.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nums/nums.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace nums {
namespace {

// The standard's functions, by its own section names.
const char* const kStandard[] = {
    // creation
    "arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
    "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like",
    // data type functions
    "astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type",
    // element-wise
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal", "exp", "expm1", "floor",
    "floor_divide", "greater", "greater_equal", "hypot", "imag", "isfinite", "isinf", "isnan",
    "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply", "negative",
    "not_equal", "positive", "pow", "real", "remainder", "round", "sign", "signbit", "sin", "sinh",
    "square", "sqrt", "subtract", "tan", "tanh", "trunc",
    // indexing, inspection, linear algebra
    "take", "__array_namespace_info__", "matmul", "matrix_transpose", "tensordot", "vecdot",
    // manipulation
    "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "moveaxis", "permute_dims",
    "repeat", "reshape", "roll", "squeeze", "stack", "tile", "unstack",
    // searching, sets, sorting
    "argmax", "argmin", "nonzero", "searchsorted", "where", "unique_all", "unique_counts",
    "unique_inverse", "unique_values", "argsort", "sort",
    // statistical, utility
    "cumulative_sum", "max", "mean", "min", "prod", "std", "sum", "var", "all", "any",
    // the linalg extension
    "linalg.cholesky", "linalg.cross", "linalg.det", "linalg.diagonal", "linalg.eigh",
    "linalg.eigvalsh", "linalg.inv", "linalg.matmul", "linalg.matrix_norm", "linalg.matrix_power",
    "linalg.matrix_rank", "linalg.matrix_transpose", "linalg.outer", "linalg.pinv", "linalg.qr",
    "linalg.slogdet", "linalg.solve", "linalg.svd", "linalg.svdvals", "linalg.tensordot",
    "linalg.trace", "linalg.vecdot", "linalg.vector_norm"};

std::vector<double> V(const BlockArray& x) { return x.get().to_vector<double>(); }
double D(const BlockArray& x) { return x.item<double>(); }
using Vec = std::vector<double>;

BlockArray A(Vec v, Shape shape = {}) { return array(v, shape); }
BlockArray I(std::vector<int64_t> v, Shape shape = {}) { return array(v, shape); }

// One probe per function marked done: it calls the function and checks a value.
std::map<std::string, std::function<void()>> Probes() {
  const double pi = std::acos(-1.0);
  return {
      {"arange",
       [] {
         EXPECT_EQ(V(arange(1, 7, 2)), (Vec{1, 3, 5}));
       }},
      {"asarray",
       [] {
         EXPECT_EQ(V(asarray(NDArray::from_vector<double>({4, 5}))), (Vec{4, 5}));
       }},
      {"empty",
       [] {
         EXPECT_EQ(empty({2, 3}).shape(), (Shape{2, 3}));
       }},
      {"empty_like", [] { EXPECT_EQ(empty_like(zeros({4}, int32)).dtype(), int32); }},
      {"eye",
       [] {
         EXPECT_EQ(V(eye(2)), (Vec{1, 0, 0, 1}));
       }},
      {"from_dlpack",
       [] {
         EXPECT_EQ(V(from_dlpack(to_dlpack(A({1.5, -2})))), (Vec{1.5, -2}));
       }},
      {"full",
       [] {
         EXPECT_EQ(V(full({2}, 7.5)), (Vec{7.5, 7.5}));
       }},
      {"full_like",
       [] {
         EXPECT_EQ(V(full_like(zeros({2}), 3)), (Vec{3, 3}));
       }},
      {"linspace",
       [] {
         EXPECT_EQ(V(linspace(0, 1, 3)), (Vec{0, 0.5, 1}));
       }},
      {"meshgrid",
       [] {
         EXPECT_EQ(V(meshgrid({A({1, 2}), A({3, 4, 5})})[1]), (Vec{3, 3, 4, 4, 5, 5}));
       }},
      {"ones",
       [] {
         EXPECT_EQ(V(ones({2})), (Vec{1, 1}));
       }},
      {"ones_like", [] { EXPECT_EQ(V(ones_like(zeros({1}))), (Vec{1})); }},
      {"tril",
       [] {
         EXPECT_EQ(V(tril(ones({2, 2}))), (Vec{1, 0, 1, 1}));
       }},
      {"triu",
       [] {
         EXPECT_EQ(V(triu(ones({2, 2}))), (Vec{1, 1, 0, 1}));
       }},
      {"zeros",
       [] {
         EXPECT_EQ(V(zeros({2})), (Vec{0, 0}));
       }},
      {"zeros_like",
       [] {
         EXPECT_EQ(V(zeros_like(ones({2}))), (Vec{0, 0}));
       }},
      {"astype", [] { EXPECT_EQ(astype(A({1.7}), int32).item<int64_t>(), 1); }},
      {"can_cast", [] { EXPECT_FALSE(can_cast(int64, int32)); }},
      {"finfo", [] { EXPECT_EQ(finfo(float64).eps, std::ldexp(1.0, -52)); }},
      {"__array_namespace_info__",
       [] {
         const NamespaceInfo info = array_namespace_info();
         EXPECT_EQ(info.default_dtypes().real_floating, float64);
         EXPECT_EQ(info.dtypes("integral").size(), 8u);
       }},
      {"iinfo", [] { EXPECT_EQ(iinfo(int32).max, 2147483647); }},
      {"isdtype", [] { EXPECT_TRUE(isdtype(float32, "real floating")); }},
      {"result_type",
       [] {
         EXPECT_EQ(result_type({int32, float32}), float64);
       }},
      {"abs",
       [] {
         EXPECT_EQ(V(abs(A({-2, 3}))), (Vec{2, 3}));
       }},
      {"acos", [=] { EXPECT_DOUBLE_EQ(D(acos(A({-1}))), pi); }},
      {"conj",
       [] {
         const BlockArray z = full({1}, std::complex<double>(1, 2));
         EXPECT_EQ(conj(z).item<std::complex<double>>(), std::complex<double>(1, -2));
       }},
      {"real", [] { EXPECT_EQ(D(real(full({1}, std::complex<double>(1, 2)))), 1.0); }},
      {"imag", [] { EXPECT_EQ(D(imag(full({1}, std::complex<double>(1, 2)))), 2.0); }},
      {"acosh", [] { EXPECT_EQ(D(acosh(A({1}))), 0.0); }},
      {"add",
       [] {
         EXPECT_EQ(V(add(A({1, 2}), 3)), (Vec{4, 5}));
       }},
      {"asin", [=] { EXPECT_DOUBLE_EQ(D(asin(A({1}))), pi / 2); }},
      {"asinh", [] { EXPECT_EQ(D(asinh(A({0}))), 0.0); }},
      {"atan", [=] { EXPECT_DOUBLE_EQ(D(atan(A({1}))), pi / 4); }},
      {"atan2", [=] { EXPECT_DOUBLE_EQ(D(atan2(A({1}), A({-1}))), 3 * pi / 4); }},
      {"atanh", [] { EXPECT_EQ(D(atanh(A({0}))), 0.0); }},
      {"bitwise_and", [] { EXPECT_EQ(bitwise_and(I({6}), 3).item<int64_t>(), 2); }},
      {"bitwise_left_shift", [] { EXPECT_EQ(bitwise_left_shift(I({3}), 2).item<int64_t>(), 12); }},
      {"bitwise_invert", [] { EXPECT_EQ(bitwise_invert(I({0})).item<int64_t>(), -1); }},
      {"bitwise_or", [] { EXPECT_EQ(bitwise_or(I({4}), 1).item<int64_t>(), 5); }},
      {"bitwise_right_shift",
       [] { EXPECT_EQ(bitwise_right_shift(I({-8}), 1).item<int64_t>(), -4); }},
      {"bitwise_xor", [] { EXPECT_EQ(bitwise_xor(I({6}), 3).item<int64_t>(), 5); }},
      {"ceil",
       [] {
         EXPECT_EQ(V(ceil(A({-1.5, 1.2}))), (Vec{-1, 2}));
       }},
      {"clip",
       [] {
         EXPECT_EQ(V(clip(A({-5, 0.5, 9}), 0, 1)), (Vec{0, 0.5, 1}));
       }},
      {"copysign", [] { EXPECT_EQ(D(copysign(A({2}), -0.0)), -2.0); }},
      {"cos", [] { EXPECT_EQ(D(cos(A({0}))), 1.0); }},
      {"cosh", [] { EXPECT_EQ(D(cosh(A({0}))), 1.0); }},
      {"divide", [] { EXPECT_EQ(V(divide(I({3}), 2)), (Vec{1.5})); }},
      {"equal",
       [] {
         EXPECT_EQ(V(equal(A({1, 2}), 2)), (Vec{0, 1}));
       }},
      {"exp", [] { EXPECT_EQ(D(exp(A({0}))), 1.0); }},
      {"expm1", [] { EXPECT_EQ(D(expm1(A({1e-300}))), 1e-300); }},
      {"floor", [] { EXPECT_EQ(V(floor(A({-1.5}))), (Vec{-2})); }},
      {"floor_divide", [] { EXPECT_EQ(floor_divide(I({-7}), 2).item<int64_t>(), -4); }},
      {"greater",
       [] {
         EXPECT_EQ(V(greater(A({1, 3}), 2)), (Vec{0, 1}));
       }},
      {"greater_equal",
       [] {
         EXPECT_EQ(V(greater_equal(A({1, 2}), 2)), (Vec{0, 1}));
       }},
      {"hypot", [] { EXPECT_EQ(D(hypot(A({3}), 4)), 5.0); }},
      {"isfinite",
       [] {
         EXPECT_EQ(V(isfinite(A({1, INFINITY}))), (Vec{1, 0}));
       }},
      {"isinf",
       [] {
         EXPECT_EQ(V(isinf(A({1, -INFINITY}))), (Vec{0, 1}));
       }},
      {"isnan",
       [] {
         EXPECT_EQ(V(isnan(A({NAN, 1}))), (Vec{1, 0}));
       }},
      {"less",
       [] {
         EXPECT_EQ(V(less(A({1, 3}), 2)), (Vec{1, 0}));
       }},
      {"less_equal",
       [] {
         EXPECT_EQ(V(less_equal(A({2, 3}), 2)), (Vec{1, 0}));
       }},
      {"log", [] { EXPECT_EQ(D(log(A({1}))), 0.0); }},
      {"log1p", [] { EXPECT_EQ(D(log1p(A({1e-300}))), 1e-300); }},
      {"log2", [] { EXPECT_EQ(D(log2(A({8}))), 3.0); }},
      {"log10", [] { EXPECT_EQ(D(log10(A({1000}))), 3.0); }},
      {"logaddexp", [] { EXPECT_DOUBLE_EQ(D(logaddexp(A({0}), 0)), std::log(2.0)); }},
      {"logical_and",
       [] {
         EXPECT_EQ(V(logical_and(A({1, 0}), A({1, 1}))), (Vec{1, 0}));
       }},
      {"logical_not",
       [] {
         EXPECT_EQ(V(logical_not(A({1, 0}))), (Vec{0, 1}));
       }},
      {"logical_or",
       [] {
         EXPECT_EQ(V(logical_or(A({1, 0}), A({0, 0}))), (Vec{1, 0}));
       }},
      {"logical_xor",
       [] {
         EXPECT_EQ(V(logical_xor(A({1, 1}), A({0, 1}))), (Vec{1, 0}));
       }},
      {"maximum",
       [] {
         EXPECT_EQ(V(maximum(0.0, A({-1, 2}))), (Vec{0, 2}));
       }},
      {"minimum",
       [] {
         EXPECT_EQ(V(minimum(A({-1, 2}), 0.0)), (Vec{-1, 0}));
       }},
      {"multiply", [] { EXPECT_EQ(V(multiply(A({2}), A({3}))), (Vec{6})); }},
      {"negative", [] { EXPECT_EQ(V(negative(A({2}))), (Vec{-2})); }},
      {"not_equal",
       [] {
         EXPECT_EQ(V(not_equal(A({1, 2}), 2)), (Vec{1, 0}));
       }},
      {"positive", [] { EXPECT_EQ(V(positive(A({-2}))), (Vec{-2})); }},
      {"pow", [] { EXPECT_EQ(V(pow(2.0, A({3}))), (Vec{8})); }},
      {"remainder", [] { EXPECT_EQ(remainder(I({-7}), 3).item<int64_t>(), 2); }},
      {"round",
       [] {
         EXPECT_EQ(V(round(A({2.5, 3.5}))), (Vec{2, 4}));
       }},
      {"sign",
       [] {
         EXPECT_EQ(V(sign(A({-3, 0, 2}))), (Vec{-1, 0, 1}));
       }},
      {"signbit",
       [] {
         EXPECT_EQ(V(signbit(A({-0.0, 1}))), (Vec{1, 0}));
       }},
      {"sin", [] { EXPECT_EQ(D(sin(A({0}))), 0.0); }},
      {"sinh", [] { EXPECT_EQ(D(sinh(A({0}))), 0.0); }},
      {"square", [] { EXPECT_EQ(V(square(A({-3}))), (Vec{9})); }},
      {"sqrt", [] { EXPECT_EQ(V(sqrt(A({9}))), (Vec{3})); }},
      {"subtract", [] { EXPECT_EQ(V(subtract(A({2}), 5)), (Vec{-3})); }},
      {"tan", [] { EXPECT_EQ(D(tan(A({0}))), 0.0); }},
      {"tanh", [] { EXPECT_EQ(D(tanh(A({0}))), 0.0); }},
      {"trunc",
       [] {
         EXPECT_EQ(V(trunc(A({-1.7, 1.7}))), (Vec{-1, 1}));
       }},
      {"take",
       [] {
         EXPECT_EQ(V(take(A({5, 6, 7}), std::vector<int64_t>{2, 0})), (Vec{7, 5}));
       }},
      {"matmul",
       [] {
         EXPECT_EQ(V(matmul(A({1, 2}, {1, 2}), A({3, 4}, {2, 1}))), (Vec{11}));
       }},
      {"matrix_transpose",
       [] {
         EXPECT_EQ(V(matrix_transpose(A({1, 2}, {1, 2}))), (Vec{1, 2}));
       }},
      {"tensordot",
       [] {
         EXPECT_EQ(D(tensordot(A({1, 2}), A({3, 4}), 1)), 11.0);
       }},
      {"broadcast_arrays",
       [] {
         EXPECT_EQ(broadcast_arrays({A({1}), zeros({3})})[0].shape(), (Shape{3}));
       }},
      {"broadcast_to",
       [] {
         EXPECT_EQ(V(broadcast_to(A({4}), {2})), (Vec{4, 4}));
       }},
      {"concat",
       [] {
         EXPECT_EQ(V(concat({A({1}), A({2})})), (Vec{1, 2}));
       }},
      {"expand_dims",
       [] {
         EXPECT_EQ(expand_dims(A({1, 2}), 0).shape(), (Shape{1, 2}));
       }},
      {"flip",
       [] {
         EXPECT_EQ(V(flip(A({1, 2}))), (Vec{2, 1}));
       }},
      {"moveaxis",
       [] {
         EXPECT_EQ(moveaxis(zeros({2, 3, 4}), 0, -1).shape(), (Shape{3, 4, 2}));
       }},
      {"permute_dims",
       [] {
         EXPECT_EQ(permute_dims(zeros({2, 3}), {1, 0}).shape(), (Shape{3, 2}));
       }},
      {"repeat",
       [] {
         EXPECT_EQ(V(repeat(A({1, 2}), 2)), (Vec{1, 1, 2, 2}));
       }},
      {"reshape",
       [] {
         EXPECT_EQ(reshape(zeros({6}), {2, 3}).shape(), (Shape{2, 3}));
       }},
      {"roll",
       [] {
         EXPECT_EQ(V(roll(A({1, 2, 3}), 1)), (Vec{3, 1, 2}));
       }},
      {"squeeze",
       [] {
         EXPECT_EQ(squeeze(zeros({1, 2})).shape(), (Shape{2}));
       }},
      {"stack",
       [] {
         EXPECT_EQ(stack({A({1}), A({2})}, 1).shape(), (Shape{1, 2}));
       }},
      {"tile",
       [] {
         EXPECT_EQ(V(tile(A({1, 2}), {2})), (Vec{1, 2, 1, 2}));
       }},
      {"unstack",
       [] {
         EXPECT_EQ(V(unstack(A({1, 2, 3, 4}, {2, 2}), 1)[1]), (Vec{2, 4}));
       }},
      {"argmax",
       [] {
         EXPECT_EQ(argmax(A({1, 5, 2})).item<int64_t>(), 1);
       }},
      {"argmin",
       [] {
         EXPECT_EQ(argmin(A({1, 5, 0})).item<int64_t>(), 2);
       }},
      {"sort",
       [] {
         EXPECT_EQ(V(sort(A({3, 1, 2}), 0, false, true)), (Vec{3, 2, 1}));
       }},
      {"argsort",
       [] {
         EXPECT_EQ(V(argsort(A({3, 1, 2}))), (Vec{1, 2, 0}));
       }},
      {"searchsorted",
       [] {
         EXPECT_EQ(V(searchsorted(A({1, 2, 2, 4}), A({2, 3}), "right")), (Vec{3, 3}));
       }},
      {"nonzero",
       [] {
         EXPECT_EQ(V(nonzero(A({0, 5, 0, 7}))[0]), (Vec{1, 3}));
       }},
      {"unique_values",
       [] {
         EXPECT_EQ(V(unique_values(A({3, 1, 3}))), (Vec{1, 3}));
       }},
      {"unique_counts",
       [] {
         EXPECT_EQ(V(unique_counts(A({3, 1, 3})).counts), (Vec{1, 2}));
       }},
      {"unique_inverse",
       [] {
         EXPECT_EQ(V(unique_inverse(A({3, 1, 3})).inverse_indices), (Vec{1, 0, 1}));
       }},
      {"unique_all",
       [] {
         EXPECT_EQ(V(unique_all(A({3, 1, 3})).indices), (Vec{1, 0}));
       }},
      {"where",
       [] {
         EXPECT_EQ(V(where(A({1, 0}), 3.0, A({5, 6}))), (Vec{3, 6}));
       }},
      {"cumulative_sum",
       [] {
         EXPECT_EQ(V(cumulative_sum(A({1, 2}), 0, true)), (Vec{0, 1, 3}));
       }},
      {"max",
       [] {
         EXPECT_EQ(D(max(A({1, 5}))), 5.0);
       }},
      {"mean",
       [] {
         EXPECT_EQ(D(mean(A({1, 5}))), 3.0);
       }},
      {"min",
       [] {
         EXPECT_EQ(D(min(A({1, 5}))), 1.0);
       }},
      {"prod",
       [] {
         EXPECT_EQ(D(prod(A({2, 5}))), 10.0);
       }},
      {"std",
       [] {
         EXPECT_EQ(D(nums::std(A({1, 3}))), 1.0);
       }},
      {"sum",
       [] {
         EXPECT_EQ(D(sum(A({1, 5}))), 6.0);
       }},
      {"var",
       [] {
         EXPECT_EQ(D(var(A({1, 3}), std::nullopt, 1)), 2.0);
       }},
      {"all",
       [] {
         EXPECT_EQ(D(all(A({1, 0}))), 0.0);
       }},
      {"any",
       [] {
         EXPECT_EQ(D(any(A({1, 0}))), 1.0);
       }},
      {"linalg.cholesky",
       [] {
         EXPECT_EQ(V(linalg::cholesky(A({4, 2, 2, 2}, {2, 2}))), (Vec{2, 0, 1, 1}));
       }},
      {"linalg.cross",
       [] {
         EXPECT_EQ(V(linalg::cross(A({1, 0, 0}), A({0, 1, 0}))), (Vec{0, 0, 1}));
       }},
      {"linalg.diagonal",
       [] {
         EXPECT_EQ(V(linalg::diagonal(A({1, 2, 3, 4}, {2, 2}))), (Vec{1, 4}));
       }},
      {"linalg.inv",
       [] {
         EXPECT_EQ(V(linalg::inv(A({2, 0, 0, 4}, {2, 2}))), (Vec{0.5, 0, 0, 0.25}));
       }},
      {"linalg.matmul",
       [] {
         EXPECT_EQ(V(linalg::matmul(A({1, 2}, {1, 2}), A({3, 4}, {2, 1}))), (Vec{11}));
       }},
      {"linalg.matrix_transpose",
       [] {
         EXPECT_EQ(V(linalg::matrix_transpose(A({1, 2, 3, 4}, {2, 2}))), (Vec{1, 3, 2, 4}));
       }},
      {"linalg.outer",
       [] {
         EXPECT_EQ(V(linalg::outer(A({1, 2}), A({3}))), (Vec{3, 6}));
       }},
      {"linalg.solve",
       [] {
         EXPECT_EQ(V(linalg::solve(A({2, 0, 0, 4}, {2, 2}), A({2, 4}))), (Vec{1, 1}));
       }},
      {"linalg.tensordot",
       [] {
         EXPECT_EQ(D(linalg::tensordot(A({1, 2}), A({3, 4}), 1)), 11.0);
       }},
      {"vecdot",
       [] {
         EXPECT_EQ(V(vecdot(A({1, 2, 3, 4}, {2, 2}), A({1, 1}))), (Vec{3, 7}));
       }},
      {"linalg.vecdot",
       [] {
         EXPECT_EQ(V(linalg::vecdot(A({1, 2}), A({3, 4}))), (Vec{11}));
       }},
      {"linalg.det",
       [] {
         EXPECT_NEAR(D(linalg::det(A({2, 1, 1, 3}, {2, 2}))), 5.0, 1e-12);
       }},
      {"linalg.slogdet",
       [] {
         const auto r = linalg::slogdet(A({-2, 0, 0, 3}, {2, 2}));
         EXPECT_EQ(D(r.sign), -1.0);
         EXPECT_NEAR(D(r.logabsdet), std::log(6.0), 1e-12);
       }},
      {"linalg.eigh",
       [] {
         const auto r = linalg::eigh(A({2, 1, 1, 2}, {2, 2}));
         const Vec w = V(r.eigenvalues);
         EXPECT_NEAR(w[0], 1.0, 1e-12);
         EXPECT_NEAR(w[1], 3.0, 1e-12);
         EXPECT_EQ(r.eigenvectors.shape(), (Shape{2, 2}));
       }},
      {"linalg.eigvalsh",
       [] {
         EXPECT_NEAR(V(linalg::eigvalsh(A({2, 0, 0, 5}, {2, 2})))[1], 5.0, 1e-12);
       }},
      {"linalg.matrix_norm",
       [] {
         EXPECT_NEAR(D(linalg::matrix_norm(A({3, 0, 0, 4}, {2, 2}))), 5.0, 1e-12);
       }},
      {"linalg.matrix_power",
       [] {
         EXPECT_EQ(V(linalg::matrix_power(A({1, 1, 0, 1}, {2, 2}), 3)), (Vec{1, 3, 0, 1}));
       }},
      {"linalg.matrix_rank",
       [] {
         EXPECT_EQ(linalg::matrix_rank(A({1, 2, 2, 4}, {2, 2})).item<int64_t>(), 1);
       }},
      {"linalg.pinv",
       [] {
         const Vec p = V(linalg::pinv(A({2, 0, 0, 0}, {2, 2})));
         EXPECT_NEAR(p[0], 0.5, 1e-12);
         EXPECT_NEAR(p[3], 0.0, 1e-12);
       }},
      {"linalg.qr",
       [] {
         const auto r = linalg::qr(A({1, 2, 3, 4, 5, 6}, {2, 3}), "complete");
         EXPECT_EQ(r.q.shape(), (Shape{2, 2}));
         EXPECT_TRUE(allclose(matmul(r.q, r.r), A({1, 2, 3, 4, 5, 6}, {2, 3})));
       }},
      {"linalg.svd",
       [] {
         const auto r = linalg::svd(A({3, 0, 0, 0, 4, 0}, {2, 3}), true);
         EXPECT_EQ(r.vt.shape(), (Shape{3, 3}));
         EXPECT_NEAR(V(r.s)[0], 4.0, 1e-12);
       }},
      {"linalg.svdvals",
       [] {
         EXPECT_NEAR(V(linalg::svdvals(A({3, 0, 0, 4}, {2, 2})))[0], 4.0, 1e-12);
       }},
      {"linalg.vector_norm",
       [] {
         EXPECT_NEAR(D(linalg::vector_norm(A({3, 4}))), 5.0, 1e-12);
       }},
      {"linalg.trace",
       [] {
         EXPECT_EQ(D(linalg::trace(A({1, 2, 3, 4}, {2, 2}))), 5.0);
       }},
  };
}

struct Row {
  std::string name, status;
};

std::vector<Row> ReadTable(std::string* summary) {
  std::ifstream in(std::string(NUMS_SOURCE_DIR) + "/docs/api-coverage.md");
  EXPECT_TRUE(in) << "cannot open docs/api-coverage.md";
  const std::regex row(R"(^\| `([A-Za-z_.0-9]+)` \| (done|partial|missing) \|.*)");
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows.push_back({m[1], m[2]});
    if (line.rfind("**Summary:", 0) == 0) *summary = line;
  }
  return rows;
}

TEST(ApiCoverage, TableListsTheStandardAndEveryDoneFunctionWorks) {
  Context ctx = init({.nodes = 3, .threads_per_node = 1});
  std::string summary;
  const std::vector<Row> rows = ReadTable(&summary);
  const std::set<std::string> standard(std::begin(kStandard), std::end(kStandard));
  ASSERT_EQ(standard.size(), std::size(kStandard)) << "a name is listed twice in kStandard";
  std::set<std::string> seen;
  int done = 0;
  auto probes = Probes();
  for (const Row& r : rows) {
    EXPECT_TRUE(standard.count(r.name)) << r.name << " is not in the standard";
    EXPECT_TRUE(seen.insert(r.name).second) << r.name << " is in the table twice";
    const bool has_probe = probes.count(r.name) > 0;
    if (r.status == "done") {
      ++done;
      EXPECT_TRUE(has_probe) << r.name << " is marked done but has no probe";
      if (has_probe) {
        SCOPED_TRACE(r.name);
        probes[r.name]();
      }
    } else {
      EXPECT_FALSE(has_probe) << r.name << " has a probe but is marked " << r.status;
    }
  }
  for (const std::string& name : standard) {
    EXPECT_TRUE(seen.count(name)) << name << " is missing from the table";
  }
  for (const auto& [name, probe] : probes) {
    EXPECT_TRUE(seen.count(name)) << "probe " << name << " has no row";
  }
  const int total = static_cast<int>(standard.size());
  std::ostringstream want;
  want << "**Summary: " << done << " of " << total << " functions done (" << (done * 100 / total)
       << "%).**";
  EXPECT_EQ(summary, want.str());
}

}  // namespace
}  // namespace nums
