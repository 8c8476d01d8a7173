// vdot, kron, vecdot, matrix_power and einsum against dense references computed in the test
// (einsum: a direct loop over every label assignment).

#include <gtest/gtest.h>

#include <map>
#include <nums/nums.hpp>

#include "tests/testing/testing.h"

namespace nums {
namespace {

using testing::ExpectThrowWith;
using testing::Layout;
using testing::RandomNDArray;

class LinalgProductsTest : public testing::OnNodes {};

// Dense einsum for explicit subscripts of letters only ("ij,jk->ik"): for every assignment of the
// labels, the product of the operands' elements summed into the output element.
NDArray RefEinsum(const std::string& spec, const std::vector<NDArray>& xs) {
  const size_t arrow = spec.find("->");
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = spec.find(',', start);
    terms.push_back(spec.substr(start, std::min(comma, arrow) - start));
    if (comma == std::string::npos || comma > arrow) break;
    start = comma + 1;
  }
  const std::string out = spec.substr(arrow + 2);
  std::map<char, int64_t> len;
  for (size_t i = 0; i < terms.size(); ++i) {
    for (size_t d = 0; d < terms[i].size(); ++d) {
      len[terms[i][d]] = std::max(len[terms[i][d]], xs[i].shape()[d]);
    }
  }
  std::vector<char> labels;
  Shape all;
  for (const auto& [c, n] : len) {
    labels.push_back(c);
    all.push_back(n);
  }
  Shape out_shape;
  for (char c : out) out_shape.push_back(len[c]);
  NDArray r(float64, out_shape);
  std::fill(r.data<double>(), r.data<double>() + r.size(), 0.0);
  for (int64_t k = 0; k < shape_size(all); ++k) {
    const Shape idx = testing::Unravel(k, all);
    auto at = [&](char c) {
      return idx[static_cast<size_t>(std::find(labels.begin(), labels.end(), c) - labels.begin())];
    };
    double p = 1;
    for (size_t i = 0; i < terms.size(); ++i) {
      int64_t flat = 0;
      for (size_t d = 0; d < terms[i].size(); ++d) {
        const int64_t n = xs[i].shape()[d];
        flat = flat * n + (n == 1 ? 0 : at(terms[i][d]));  // length 1 broadcasts
      }
      p *= xs[i].value_at<double>(flat);
    }
    int64_t o = 0;
    for (size_t d = 0; d < out.size(); ++d) o = o * out_shape[d] + at(out[d]);
    r.data<double>()[o] += p;
  }
  return r;
}

struct EinsumCase {
  std::string spec;           // what einsum gets
  std::string explicit_spec;  // the same with letters only and an explicit output
  std::vector<Layout> operands;
};

const std::vector<EinsumCase> kEinsum = {
    {"ij,jk->ik", "ij,jk->ik", {{{7, 5}, {3, 2}}, {{5, 6}, {4, 4}}}},
    {"ij,jk", "ij,jk->ik", {{{7, 5}, {7, 5}}, {{5, 6}, {2, 6}}}},
    {"ij->ji", "ij->ji", {{{4, 6}, {3, 4}}}},
    {"ii->i", "ii->i", {{{5, 5}, {2, 3}}}},
    {"ii", "ii->", {{{6, 6}, {4, 4}}}},
    {"ij->", "ij->", {{{3, 7}, {2, 2}}}},
    {"i,i", "i,i->", {{{9}, {4}}, {{9}, {2}}}},
    {"i,j->ij", "i,j->ij", {{{4}, {3}}, {{5}, {2}}}},
    {"bij,bjk->bik", "bij,bjk->bik", {{{3, 4, 5}, {2, 2, 3}}, {{3, 5, 2}, {1, 5, 2}}}},
    {"bij,jk->bik", "bij,jk->bik", {{{2, 3, 4}, {1, 2, 4}}, {{4, 5}, {3, 3}}}},
    {"ijk,jil->kl", "ijk,jil->kl", {{{3, 4, 5}, {2, 2, 2}}, {{4, 3, 2}, {3, 3, 2}}}},
    {"ij,jk,kl->il", "ij,jk,kl->il", {{{3, 4}, {2, 2}}, {{4, 5}, {4, 2}}, {{5, 2}, {3, 2}}}},
    {"i,i,i->i", "i,i,i->i", {{{6}, {4}}, {{6}, {6}}, {{6}, {5}}}},
    {"iij->j", "iij->j", {{{3, 3, 4}, {2, 2, 3}}}},
    {"ij,ij->i", "ij,ij->i", {{{5, 4}, {2, 3}}, {{5, 4}, {5, 2}}}},
    {"Ba,aB", "Ba,aB->", {{{2, 3}, {1, 3}}, {{3, 2}, {2, 2}}}},
    {"bA", "bA->Ab", {{{2, 3}, {2, 2}}}},
    {"i,i", "i,i->", {{{1}, {1}}, {{4}, {3}}}},  // length 1 broadcasts
    {"...ij,...jk->...ik", "xij,xjk->xik", {{{3, 2, 4}, {2, 2, 2}}, {{3, 4, 5}, {3, 2, 5}}}},
    {"i...->...", "ix->x", {{{4, 3}, {3, 2}}}},
    {",ij->ij", ",ij->ij", {{{}, {}}, {{2, 3}, {2, 2}}}},
};

TEST_P(LinalgProductsTest, EinsumMatchesADirectLoop) {
  uint64_t seed = 1;
  for (const EinsumCase& c : kEinsum) {
    SCOPED_TRACE(c.spec);
    std::vector<NDArray> xs;
    std::vector<BlockArray> ops;
    for (const Layout& l : c.operands) {
      xs.push_back(RandomNDArray(l.shape, float64, ++seed));
      ops.push_back(from_ndarray(xs.back(), l.block));
    }
    EXPECT_ARRAY_NEAR(einsum(c.spec, ops).get(), RefEinsum(c.explicit_spec, xs), 1e-10);
  }
}

TEST_P(LinalgProductsTest, EinsumDtypesAndBroadcastEllipsis) {
  // Ellipsis axes broadcast between operands: (2, 1) against (1, 3).
  const NDArray a = RandomNDArray({2, 1, 3, 4}, float64, 5),
                b = RandomNDArray({1, 3, 4, 2}, float64, 6);
  const NDArray got =
      einsum("...ij,...jk->...ik", {from_ndarray(a, {1, 1, 2, 4}), from_ndarray(b)}).get();
  ASSERT_EQ(got.shape(), (Shape{2, 3, 3, 2}));
  const NDArray want = matmul(from_ndarray(a), from_ndarray(b)).get();
  EXPECT_ARRAY_NEAR(got, want, 1e-10);
  // Integers stay integers, bool stays bool (a logical or of ands), float32 stays float32.
  const NDArray ia = RandomNDArray({3, 4}, int64, 7), ib = RandomNDArray({4, 2}, int64, 8);
  const BlockArray ri = einsum("ij,jk->ik", {from_ndarray(ia, {2, 2}), from_ndarray(ib, {2, 2})});
  EXPECT_EQ(ri.dtype(), int64);
  EXPECT_ARRAY_EQ(ri.get(), matmul(from_ndarray(ia), from_ndarray(ib)).get());
  const BlockArray bl =
      from_ndarray(NDArray::from_vector<bool>({true, false, false, false}, {2, 2}));
  const BlockArray rb = einsum("ij,jk->ik", {bl, bl});
  EXPECT_EQ(rb.dtype(), bool_);
  EXPECT_ARRAY_EQ(rb.get(), matmul(bl, bl).get());
  EXPECT_EQ(einsum("i,i", {ones({3}, float32), ones({3}, float32)}).dtype(), float32);
}

TEST_P(LinalgProductsTest, EinsumErrors) {
  const BlockArray m = ones({2, 3});
  ExpectThrowWith<ValueError>([&] { einsum("ij,jk->ik", {m}); }, {"'ij,jk->ik'", "2 operands"});
  ExpectThrowWith<ValueError>([&] { einsum("ijk->i", {m}); }, {"operand 0", "(2, 3)"});
  ExpectThrowWith<ValueError>([&] { einsum("ij->iz", {m}); }, {"'z'", "no input"});
  ExpectThrowWith<ValueError>([&] { einsum("ij->ii", {m}); }, {"'i'", "more than once"});
  ExpectThrowWith<ValueError>([&] { einsum("i1->i", {ones({2, 2})}); }, {"invalid character '1'"});
  ExpectThrowWith<ValueError>([&] { einsum("i..->i", {ones({2, 2})}); }, {"'...'"});
  ExpectThrowWith<ValueError>([&] { einsum("...i->i", {m}); }, {"no '...'"});
  ExpectThrowWith<ShapeError>([&] { einsum("ij,jk->ik", {m, ones({2, 2})}); }, {"'j'", "3", "2"});
  ExpectThrowWith<ValueError>([&] { einsum("ij", {}); }, {"no operands"});
  // A diagonal needs equal lengths: length 1 does not broadcast inside one operand.
  ExpectThrowWith<ShapeError>([&] { einsum("ii", {ones({1, 3})}); }, {"'i'", "1", "3"});
}

TEST_P(LinalgProductsTest, VdotKronVecdot) {
  const NDArray a = RandomNDArray({3, 4}, float64, 11), b = RandomNDArray({2, 6}, float64, 12);
  double want = 0;
  for (int64_t k = 0; k < 12; ++k) want += a.value_at<double>(k) * b.value_at<double>(k);
  const BlockArray v = vdot(from_ndarray(a, {2, 3}), from_ndarray(b, {1, 4}));
  EXPECT_EQ(v.ndim(), 0);
  EXPECT_NEAR(v.item<double>(), want, 1e-12);
  EXPECT_EQ(vdot(zeros({0}), zeros({0, 3})).item<double>(), 0.0);
  ExpectThrowWith<ShapeError>([] { vdot(ones({3}), ones({4})); }, {"(3,)", "(4,)"});

  // kron: (2, 3) x (3, 2) -> (6, 6); a 1-d by a 2-d pads the 1-d with a leading axis.
  const NDArray ka = RandomNDArray({2, 3}, float64, 13), kb = RandomNDArray({3, 2}, float64, 14);
  const NDArray k = kron(from_ndarray(ka, {1, 2}), from_ndarray(kb, {2, 2})).get();
  ASSERT_EQ(k.shape(), (Shape{6, 6}));
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      EXPECT_DOUBLE_EQ(k.value_at<double>(i * 6 + j), ka.value_at<double>((i / 3) * 3 + j / 2) *
                                                          kb.value_at<double>((i % 3) * 2 + j % 2));
    }
  }
  const NDArray k1 =
      kron(from_ndarray(NDArray::from_vector<double>({1, 2})), from_ndarray(kb)).get();
  ASSERT_EQ(k1.shape(), (Shape{3, 4}));
  EXPECT_EQ(k1.value_at<double>(3), 2 * kb.value_at<double>(1));
  EXPECT_ARRAY_EQ(kron(full({}, 3.0), from_ndarray(kb)).get(), (from_ndarray(kb) * 3.0).get());
  EXPECT_EQ(kron(ones({2, 3}, int32), ones({2, 0}, int32)).shape(), (Shape{4, 0}));

  // vecdot over the last axis with broadcasting, and over axis 0.
  const NDArray x = RandomNDArray({4, 3}, float64, 15), y = RandomNDArray({3}, float64, 16);
  const NDArray d = vecdot(from_ndarray(x, {3, 2}), from_ndarray(y, {2})).get();
  ASSERT_EQ(d.shape(), (Shape{4}));
  for (int64_t i = 0; i < 4; ++i) {
    double s = 0;
    for (int64_t j = 0; j < 3; ++j) s += x.value_at<double>(i * 3 + j) * y.value_at<double>(j);
    EXPECT_NEAR(d.value_at<double>(i), s, 1e-12);
  }
  const NDArray d0 = vecdot(from_ndarray(x), from_ndarray(x), 0).get();
  ASSERT_EQ(d0.shape(), (Shape{3}));
  double s0 = 0;
  for (int64_t i = 0; i < 4; ++i) s0 += x.value_at<double>(i * 3) * x.value_at<double>(i * 3);
  EXPECT_NEAR(d0.value_at<double>(0), s0, 1e-12);
  ExpectThrowWith<ShapeError>([&] { vecdot(from_ndarray(x), ones({4})); }, {"(4, 3)", "(4,)"});
  ExpectThrowWith<IndexError>([&] { vecdot(from_ndarray(x), from_ndarray(y), -2); }, {"axis -2"});
}

TEST_P(LinalgProductsTest, MatrixPower) {
  const NDArray a = RandomNDArray({5, 5}, float64, 21);
  const BlockArray ba = from_ndarray(a, {2, 3});
  NDArray want = eye(5).get();
  for (int64_t n = 0; n <= 6; ++n) {
    SCOPED_TRACE(n);
    const NDArray got = linalg::matrix_power(ba, n).get();
    EXPECT_ARRAY_NEAR(got, want, 1e-9);
    want = matmul(from_ndarray(want), from_ndarray(a)).get();
  }
  // Negative powers via inv: A^-3 A^3 = I.
  const NDArray spd = (from_ndarray(a) + eye(5) * 30.0).get();
  const BlockArray p = linalg::matrix_power(from_ndarray(spd, {2, 2}), -3);
  EXPECT_ARRAY_NEAR(matmul(p, linalg::matrix_power(from_ndarray(spd), 3)).get(), eye(5).get(),
                    1e-9);
  // Stacks and integers.
  const NDArray s = RandomNDArray({2, 3, 3}, int64, 22);
  const BlockArray s3 = linalg::matrix_power(from_ndarray(s, {1, 2, 2}), 3);
  EXPECT_EQ(s3.dtype(), int64);
  const BlockArray bs = from_ndarray(s);
  EXPECT_ARRAY_EQ(s3.get(), matmul(matmul(bs, bs), bs).get());
  EXPECT_ARRAY_EQ(linalg::matrix_power(bs, 0).get(),
                  (zeros({2, 3, 3}, int64) + eye(3, std::nullopt, 0, int64)).get());
  const BlockArray bool_id = linalg::matrix_power(ones({2, 2}, bool_), 0);
  EXPECT_EQ(bool_id.dtype(), bool_);
  EXPECT_ARRAY_EQ(bool_id.get(), eye(2, std::nullopt, 0, bool_).get());
  ExpectThrowWith<ShapeError>([] { linalg::matrix_power(ones({2, 3}), 2); }, {"(2, 3)"});
  ExpectThrowWith<ValueError>([] { linalg::matrix_power(ones({3, 3}), -1).get(); }, {"singular"});
}

INSTANTIATE_TEST_SUITE_P(Nodes, LinalgProductsTest, ::testing::Values(1, 3, 4));

}  // namespace
}  // namespace nums
