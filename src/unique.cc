// unique and the array API's unique_* functions, from distributed pieces: the flattened x sorted
// (with its stable permutation when indices or the inverse are asked for), a flag on the first
// element of each run of equal elements (the sorted array against itself shifted by one), and
// mask selections of the flags. The inverse scatters each run's number back to the original
// positions by sorting the run numbers by the permutation: a second sample sort.

#include <string>

#include "nums/creation.hpp"
#include "nums/indexing.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "nums/sorting.hpp"
#include "src/sort_impl.h"

namespace nums {

UniqueResult unique(const BlockArray& x, bool return_index, bool return_inverse, bool return_counts,
                    bool equal_nan) {
  detail::reject_complex(x, "unique");
  if (x.dtype() == DType::kFloat16) {
    // Found in float32 (exact for every float16), the values rounded back (exactly).
    UniqueResult r =
        unique(x.astype(DType::kFloat32), return_index, return_inverse, return_counts, equal_nan);
    r.values = r.values.astype(DType::kFloat16);
    return r;
  }
  const BlockArray flat = x.ndim() == 1 ? x : x.reshape({x.size()});
  const int64_t n = flat.size();
  UniqueResult r;
  if (n == 0) {
    r.values = flat.copy();
    if (return_index) r.indices = zeros({0}, DType::kInt64);
    if (return_inverse) r.inverse = zeros(x.shape(), DType::kInt64);
    if (return_counts) r.counts = zeros({0}, DType::kInt64);
    return r;
  }
  BlockArray sorted, perm;
  if (return_index || return_inverse) {
    // Stable, with -0.0 merged into 0.0: each run starts at its first occurrence in x.
    detail::SortSpec spec;
    spec.merge_zeros = true;
    spec.payload = detail::SortSpec::Payload::kIndices;
    spec.want_values = true;
    spec.want_payload = true;
    detail::SortOutput s = detail::sort_1d(flat, nullptr, spec);
    sorted = s.values;
    perm = s.payload;
  } else {
    sorted = sort(flat, 0);
  }
  BlockArray flags = full({1}, true, DType::kBool);
  if (n > 1) {
    const BlockArray lo = sorted(slice(0, n - 1)), hi = sorted(slice(1, n));
    BlockArray differs = hi != lo;
    if (equal_nan && is_floating(sorted.dtype())) {
      differs = differs && !(isnan(hi) && isnan(lo));
    }
    flags = concatenate({flags, differs});
  }
  flags = flags.rechunk(sorted.block_shape());
  r.values = sorted(flags);
  if (return_index) r.indices = perm(flags);
  if (return_counts) {
    const BlockArray starts = arange(0, n, 1, DType::kInt64, flags.block_shape())(flags);
    r.counts = diff(concatenate({starts, full({1}, n, DType::kInt64)}));
  }
  if (return_inverse) {
    const BlockArray run = cumsum(flags) - 1;  // each sorted element's index into values
    detail::SortSpec spec;
    spec.payload = detail::SortSpec::Payload::kArray;
    spec.want_values = false;
    spec.want_payload = true;
    r.inverse = detail::sort_1d(perm, &run, spec).payload.reshape(x.shape());
  }
  return r;
}

BlockArray unique_values(const BlockArray& x) { return unique(x).values; }

UniqueCountsResult unique_counts(const BlockArray& x) {
  UniqueResult r = unique(x, false, false, true);
  return {r.values, r.counts};
}

UniqueInverseResult unique_inverse(const BlockArray& x) {
  UniqueResult r = unique(x, false, true, false);
  return {r.values, r.inverse};
}

UniqueAllResult unique_all(const BlockArray& x) {
  UniqueResult r = unique(x, true, true, true);
  return {r.values, r.indices, r.inverse, r.counts};
}

}  // namespace nums
