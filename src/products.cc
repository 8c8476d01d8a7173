// Products built from the distributed ones: vdot, kron, vecdot, linalg::matrix_power and einsum.
// Each is planned as tensordot / matmul contractions, elementwise ops, reductions and reshapes,
// whose block tasks the optimizer places; nothing is gathered onto one node.

#include <algorithm>
#include <map>
#include <set>

#include "nums/creation.hpp"
#include "nums/linalg.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/linalg_dense.h"

namespace nums {
namespace {

bool both_bool(const BlockArray& a, const BlockArray& b) {
  return a.dtype() == DType::kBool && b.dtype() == DType::kBool;
}

// a * b, or a && b for bool operands (NumPy keeps bool products bool).
BlockArray times(const BlockArray& a, const BlockArray& b) {
  return both_bool(a, b) ? (a && b) : a * b;
}

}  // namespace

BlockArray vdot(const BlockArray& a, const BlockArray& b) {
  detail::check_same_context(a, b, "vdot");
  if (a.size() != b.size()) {
    throw ShapeError("vdot: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     " have different sizes (" + std::to_string(a.size()) + " and " +
                     std::to_string(b.size()) + ")");
  }
  return dot(conj(a).flatten(), b.flatten());  // NumPy conjugates the first operand
}

BlockArray kron(const BlockArray& a, const BlockArray& b) {
  detail::check_same_context(a, b, "kron");
  if (a.ndim() == 0 || b.ndim() == 0) return times(a, b);
  // With both padded to rank nd: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); their
  // broadcast product is (a0, b0, a1, b1, ...), which read row-major is the Kronecker product.
  const int64_t nd = std::max(a.ndim(), b.ndim());
  Shape sa(static_cast<size_t>(nd - a.ndim()), 1), sb(static_cast<size_t>(nd - b.ndim()), 1);
  sa.insert(sa.end(), a.shape().begin(), a.shape().end());
  sb.insert(sb.end(), b.shape().begin(), b.shape().end());
  Shape ia, ib, out;
  for (size_t d = 0; d < static_cast<size_t>(nd); ++d) {
    ia.insert(ia.end(), {sa[d], 1});
    ib.insert(ib.end(), {1, sb[d]});
    out.push_back(sa[d] * sb[d]);
  }
  return times(a.reshape(ia), b.reshape(ib)).reshape(out);
}

BlockArray vecdot(const BlockArray& x1, const BlockArray& x2, int64_t axis) {
  detail::check_same_context(x1, x2, "vecdot");
  const int64_t nd = std::max(x1.ndim(), x2.ndim());
  const int64_t ax = detail::normalize_axis(axis, nd, "vecdot");
  // The axis counted on the broadcast shape must exist in both operands (they align right).
  const int64_t a1 = ax - (nd - x1.ndim()), a2 = ax - (nd - x2.ndim());
  if (a1 < 0 || a2 < 0) {
    throw IndexError("vecdot: axis " + std::to_string(axis) + " is out of range for shapes " +
                     shape_str(x1.shape()) + " and " + shape_str(x2.shape()));
  }
  const int64_t l1 = x1.shape()[static_cast<size_t>(a1)], l2 = x2.shape()[static_cast<size_t>(a2)];
  if (l1 != l2) {
    throw ShapeError("vecdot: shapes " + shape_str(x1.shape()) + " and " + shape_str(x2.shape()) +
                     " differ along axis " + std::to_string(axis) + " (" + std::to_string(l1) +
                     " and " + std::to_string(l2) + ")");
  }
  if (both_bool(x1, x2)) return (x1 && x2).any(ax);
  return (conj(x1) * x2).sum(ax);  // the array API conjugates x1
}

namespace linalg {

BlockArray matrix_power(const BlockArray& a, int64_t n) {
  if (a.ndim() < 2 || a.shape()[static_cast<size_t>(a.ndim() - 2)] != a.shape().back()) {
    throw ShapeError(
        "matrix_power: expected a square matrix or a stack of them (..., n, n), got "
        "shape " +
        shape_str(a.shape()));
  }
  if (n == 0) {
    if (a.size() == 0) return a.copy();
    // The sum computes bool in int64: cast back so the identity keeps a's dtype.
    return (zeros_like(a) + eye(a.shape().back(), std::nullopt, 0, a.dtype())).astype(a.dtype());
  }
  BlockArray base = n < 0 ? inv(a) : a;
  uint64_t e = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  // Binary powering: result = product of base^(2^i) over the set bits i of e.
  std::optional<BlockArray> result;
  while (true) {
    if (e & 1) result = result ? matmul(*result, base) : base;
    e >>= 1;
    if (e == 0) break;
    base = matmul(base, base);
  }
  return result->copy();
}

}  // namespace linalg

// ---- einsum ----
namespace {

// A label: a letter's character code, or kEllipsis + j for the j-th broadcast (ellipsis) axis,
// counted from the left of the broadcast ellipsis shape.
constexpr int64_t kEllipsis = 1000;
using Labels = std::vector<int64_t>;

[[noreturn]] void bad_subscripts(const std::string& subscripts, const std::string& why) {
  throw ValueError("einsum: subscripts '" + subscripts + "': " + why);
}

// The letters of one term and where "..." stands (-1: nowhere), in term order.
struct Term {
  std::vector<char> letters;
  int64_t ellipsis_at = -1;
};

Term parse_term(const std::string& t, const std::string& subscripts) {
  Term term;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '.') {
      if (term.ellipsis_at >= 0 || t.compare(i, 3, "...") != 0) {
        bad_subscripts(subscripts, "'.' must appear only as one '...' per term");
      }
      term.ellipsis_at = static_cast<int64_t>(term.letters.size());
      i += 2;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      term.letters.push_back(c);
    } else {
      bad_subscripts(subscripts, std::string("invalid character '") + c + "'");
    }
  }
  return term;
}

// The term's labels, with an ellipsis of `e` axes mapped onto the last e of `total` broadcast axes.
Labels labels_of(const Term& t, int64_t e, int64_t total) {
  Labels out;
  for (size_t i = 0; i <= t.letters.size(); ++i) {
    if (static_cast<int64_t>(i) == t.ellipsis_at) {
      for (int64_t j = 0; j < e; ++j) out.push_back(kEllipsis + total - e + j);
    }
    if (i < t.letters.size()) out.push_back(t.letters[i]);
  }
  return out;
}

int64_t position(const Labels& l, int64_t label) {
  return static_cast<int64_t>(std::find(l.begin(), l.end(), label) - l.begin());
}
bool has(const Labels& l, int64_t label) { return std::find(l.begin(), l.end(), label) != l.end(); }

struct Operand {
  BlockArray x;
  Labels labels;
};

// Sums `op` over its labels not in `keep`.
void sum_unneeded(Operand& op, const std::set<int64_t>& keep) {
  std::vector<int64_t> axes;
  Labels rest;
  for (size_t d = 0; d < op.labels.size(); ++d) {
    if (keep.count(op.labels[d])) {
      rest.push_back(op.labels[d]);
    } else {
      axes.push_back(static_cast<int64_t>(d));
    }
  }
  if (axes.empty()) return;
  op.x = op.x.sum(Axes(axes));
  op.labels = rest;
}

Shape sizes(const Operand& op, const Labels& which) {
  Shape s;
  for (int64_t l : which) s.push_back(op.x.shape()[static_cast<size_t>(position(op.labels, l))]);
  return s;
}

std::vector<int64_t> positions(const Operand& op, const Labels& which) {
  std::vector<int64_t> p;
  for (int64_t l : which) p.push_back(position(op.labels, l));
  return p;
}

// The product of two operands over their shared labels: those in `keep` stay (batch axes), the
// others are summed. No batch labels: one tensordot. Otherwise a batched matmul of
// (batch..., free_a, contracted) @ (batch..., contracted, free_b) with the free and contracted
// labels of each side merged into one axis by a reshape.
Operand combine(const Operand& a, const Operand& b, const std::set<int64_t>& keep) {
  if (a.labels.empty() || b.labels.empty()) {
    return {a.x * b.x, a.labels.empty() ? b.labels : a.labels};
  }
  Labels batch, contracted, free_a, free_b;
  for (int64_t l : a.labels) {
    if (!has(b.labels, l)) {
      free_a.push_back(l);
    } else if (keep.count(l)) {
      batch.push_back(l);
    } else {
      contracted.push_back(l);
    }
  }
  for (int64_t l : b.labels) {
    if (!has(a.labels, l)) free_b.push_back(l);
  }
  if (batch.empty()) {
    Labels out = free_a;
    out.insert(out.end(), free_b.begin(), free_b.end());
    return {tensordot(a.x, b.x, positions(a, contracted), positions(b, contracted)), out};
  }
  auto arranged = [&](const Operand& op, const Labels& first, const Labels& second) {
    std::vector<int64_t> order = positions(op, batch);
    for (int64_t p : positions(op, first)) order.push_back(p);
    for (int64_t p : positions(op, second)) order.push_back(p);
    Shape shape = sizes(op, batch);
    shape.push_back(shape_size(sizes(op, first)));
    shape.push_back(shape_size(sizes(op, second)));
    return op.x.transpose(order).reshape(shape);
  };
  const BlockArray product =
      matmul(arranged(a, free_a, contracted), arranged(b, contracted, free_b));
  Shape shape(product.shape().begin(), product.shape().end() - 2);
  for (int64_t s : sizes(a, free_a)) shape.push_back(s);
  for (int64_t s : sizes(b, free_b)) shape.push_back(s);
  Labels out = batch;
  out.insert(out.end(), free_a.begin(), free_a.end());
  out.insert(out.end(), free_b.begin(), free_b.end());
  return {product.reshape(shape), out};
}

}  // namespace

BlockArray einsum(const std::string& subscripts_in, const std::vector<BlockArray>& operands) {
  std::string s;
  for (char c : subscripts_in) {
    if (c != ' ') s.push_back(c);
  }
  if (operands.empty()) bad_subscripts(subscripts_in, "no operands given");
  for (const BlockArray& x : operands) detail::check_same_context(operands[0], x, "einsum");
  const size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  if (lhs.find_first_of("->") != std::string::npos ||
      (arrow != std::string::npos && s.find_first_of("->", arrow + 2) != std::string::npos)) {
    bad_subscripts(subscripts_in, "'-' and '>' may appear only together as one '->'");
  }
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(lhs.substr(start, comma - start), subscripts_in));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != operands.size()) {
    bad_subscripts(subscripts_in, "names " + std::to_string(terms.size()) + " operands but " +
                                      std::to_string(operands.size()) + " were given");
  }
  // Ellipsis axes: operand i's take the last e_i of `total` broadcast axes.
  std::vector<int64_t> e(terms.size(), 0);
  int64_t total = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    const auto named = static_cast<int64_t>(terms[i].letters.size());
    const int64_t nd = operands[i].ndim();
    if (terms[i].ellipsis_at < 0 ? nd != named : nd < named) {
      bad_subscripts(subscripts_in, "operand " + std::to_string(i) + " of shape " +
                                        shape_str(operands[i].shape()) + " has " +
                                        std::to_string(nd) + " dimensions but its term names " +
                                        std::to_string(named));
    }
    e[i] = nd - named;
    total = std::max(total, e[i]);
  }
  std::vector<Operand> ops;
  std::map<int64_t, int64_t> length;  // label -> its length (> 1 wins over 1: broadcasting)
  std::map<int64_t, int> count;       // label -> number of operand axes carrying it
  for (size_t i = 0; i < terms.size(); ++i) {
    Operand op{
        operands[i].dtype() == DType::kBool ? operands[i].astype(DType::kInt64) : operands[i],
        labels_of(terms[i], e[i], total)};
    for (size_t d = 0; d < op.labels.size(); ++d) {
      const int64_t l = op.labels[d], n = op.x.shape()[d];
      // A label repeated inside one operand (a diagonal) needs equal lengths there: no broadcast.
      const int64_t first = position(op.labels, l);
      const bool diagonal_mismatch =
          first < static_cast<int64_t>(d) && op.x.shape()[static_cast<size_t>(first)] != n;
      auto [it, fresh] = length.emplace(l, n);
      if (diagonal_mismatch || (!fresh && it->second != n && n != 1 && it->second != 1)) {
        throw ShapeError(
            "einsum: label '" +
            (l >= kEllipsis ? std::string("...") : std::string(1, static_cast<char>(l))) +
            "' has lengths " + std::to_string(it->second) + " and " + std::to_string(n) +
            " (operand " + std::to_string(i) + " of shape " + shape_str(operands[i].shape()) + ")");
      }
      if (it->second == 1) it->second = n;
      ++count[l];
    }
    ops.push_back(std::move(op));
  }
  Labels out;
  if (arrow == std::string::npos) {
    for (int64_t j = 0; j < total; ++j) out.push_back(kEllipsis + j);
    for (const auto& [l, c] : count) {
      if (l < kEllipsis && c == 1) out.push_back(l);  // std::map: alphabetical (ASCII) order
    }
  } else {
    const Term t = parse_term(s.substr(arrow + 2), subscripts_in);
    if (total > 0 && t.ellipsis_at < 0) {
      bad_subscripts(
          subscripts_in,
          "the operands have broadcast ('...') axes but the output has no '...' for them");
    }
    out = labels_of(t, t.ellipsis_at < 0 ? 0 : total, total);
    for (size_t i = 0; i < t.letters.size(); ++i) {
      if (!count.count(t.letters[i])) {
        bad_subscripts(subscripts_in,
                       std::string("output label '") + t.letters[i] + "' appears in no input");
      }
      if (std::count(t.letters.begin(), t.letters.end(), t.letters[i]) > 1) {
        bad_subscripts(subscripts_in,
                       std::string("output label '") + t.letters[i] + "' appears more than once");
      }
    }
  }
  bool all_bool = true;
  for (const BlockArray& x : operands) all_bool &= x.dtype() == DType::kBool;

  for (Operand& op : ops) {
    // A label of length 1 where others have more only broadcasts: drop it from this operand.
    std::vector<int64_t> drop;
    for (size_t d = 0; d < op.labels.size(); ++d) {
      if (op.x.shape()[d] == 1 && length[op.labels[d]] > 1) drop.push_back(static_cast<int64_t>(d));
    }
    for (auto it = drop.rbegin(); it != drop.rend(); ++it) {
      op.x = op.x.squeeze(*it);
      op.labels.erase(op.labels.begin() + *it);
    }
    // A label repeated inside one operand takes the diagonal (moved to the last axis).
    for (bool again = true; again;) {
      again = false;
      for (size_t p = 0; p < op.labels.size() && !again; ++p) {
        for (size_t q = p + 1; q < op.labels.size() && !again; ++q) {
          if (op.labels[p] != op.labels[q]) continue;
          const int64_t l = op.labels[p];
          op.x = diagonal(op.x, 0, static_cast<int64_t>(p), static_cast<int64_t>(q));
          op.labels.erase(op.labels.begin() + static_cast<int64_t>(q));
          op.labels.erase(op.labels.begin() + static_cast<int64_t>(p));
          op.labels.push_back(l);
          again = true;
        }
      }
    }
  }
  // Labels needed after operand i: the output's and those of operands i+1, ...
  auto keep_after = [&](size_t i) {
    std::set<int64_t> keep(out.begin(), out.end());
    for (size_t j = i + 1; j < ops.size(); ++j)
      keep.insert(ops[j].labels.begin(), ops[j].labels.end());
    return keep;
  };
  Operand cur = ops[0];
  {
    std::set<int64_t> keep = keep_after(0);
    sum_unneeded(cur, keep);
  }
  for (size_t i = 1; i < ops.size(); ++i) {
    const std::set<int64_t> keep = keep_after(i);
    std::set<int64_t> keep_b = keep, keep_a = keep;
    keep_b.insert(cur.labels.begin(), cur.labels.end());
    keep_a.insert(ops[i].labels.begin(), ops[i].labels.end());
    Operand next = ops[i];
    sum_unneeded(next, keep_b);
    sum_unneeded(cur, keep_a);
    cur = combine(cur, next, keep);
  }
  sum_unneeded(cur, std::set<int64_t>(out.begin(), out.end()));
  std::vector<int64_t> order = positions(cur, out);
  bool identity = true;
  for (size_t d = 0; d < order.size(); ++d) identity &= order[d] == static_cast<int64_t>(d);
  BlockArray result = identity ? cur.x : cur.x.transpose(order);
  if (all_bool) return result != 0;  // computed in int64: nonzero is NumPy's logical or
  return result;
}

}  // namespace nums
