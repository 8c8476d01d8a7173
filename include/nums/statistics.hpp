#pragma once
/// Statistics on BlockArrays with NumPy's names and semantics: order statistics (median,
/// quantile, percentile and their NaN-skipping forms), weighted averages, covariance and
/// correlation, histograms, bincount and digitize.
///
/// How the order statistics are distributed:
/// - Over every axis (axis = all, the default), by selection, never by sorting: each block counts
///   its elements in 256 equal bins of an order-preserving 64-bit key range around each wanted
///   rank; the small per-block histograms are summed by a reduction tree, the driver narrows each
///   range to the bin holding its rank, and after at most 8 rounds (fewer once a range holds at
///   most 8192 elements) only the elements inside the final ranges travel to the driver, where
///   nth_element picks the ranks.
/// - Along some axes, each output slice is selected with nth_element inside one block: the array
///   is re-blocked so that a block holds whole slices (the reduced axes moved last and
///   flattened), which gathers each slice onto one node; a slice must fit in a node's memory.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nums/block_array.hpp"

namespace nums {

/// Median over `axis` (all axes by default), as np.median: the mean of the two middle values for
/// an even count; float64 for integer and bool inputs, float32 stays float32. A slice holding a
/// NaN gives NaN. An empty array or empty slice gives NaN (NumPy also warns). IndexError for an
/// axis out of range, ValueError for a repeated axis.
BlockArray median(const BlockArray& x, Axes axis = Axes::all(), bool keepdims = false);
/// Median of the elements that are not NaN; NaN for a slice of only NaN (NumPy also warns).
BlockArray nanmedian(const BlockArray& x, Axes axis = Axes::all(), bool keepdims = false);

/// The q-th quantile over `axis`, as np.quantile. `method`: "linear" (default), "lower",
/// "higher", "nearest" (halves to the even rank, as NumPy) or "midpoint". The result has x's
/// dtype for lower/higher/nearest, else float64 (float32 stays float32). A slice holding a NaN
/// gives NaN. A vector q puts its axis first in the result (shape q.size() + the reduced shape).
/// ValueError for q outside [0, 1] or an unknown method; IndexError for an empty array or slice
/// (as NumPy), an axis out of range.
BlockArray quantile(const BlockArray& x, double q, Axes axis = Axes::all(), bool keepdims = false,
                    const std::string& method = "linear");
BlockArray quantile(const BlockArray& x, const std::vector<double>& q, Axes axis = Axes::all(),
                    bool keepdims = false, const std::string& method = "linear");
/// quantile of q / 100; ValueError for q outside [0, 100].
BlockArray percentile(const BlockArray& x, double q, Axes axis = Axes::all(), bool keepdims = false,
                      const std::string& method = "linear");
BlockArray percentile(const BlockArray& x, const std::vector<double>& q, Axes axis = Axes::all(),
                      bool keepdims = false, const std::string& method = "linear");
/// quantile and percentile of the elements that are not NaN; NaN for a slice of only NaN or an
/// empty slice when the result is a float, IndexError when it is an integer.
BlockArray nanquantile(const BlockArray& x, double q, Axes axis = Axes::all(),
                       bool keepdims = false, const std::string& method = "linear");
BlockArray nanquantile(const BlockArray& x, const std::vector<double>& q, Axes axis = Axes::all(),
                       bool keepdims = false, const std::string& method = "linear");
BlockArray nanpercentile(const BlockArray& x, double q, Axes axis = Axes::all(),
                         bool keepdims = false, const std::string& method = "linear");
BlockArray nanpercentile(const BlockArray& x, const std::vector<double>& q, Axes axis = Axes::all(),
                         bool keepdims = false, const std::string& method = "linear");

/// Weighted average over `axis` (all by default), as np.average: sum(x * w) / sum(w). `weights`
/// has x's shape, or is 1-d along a single given axis. Without weights it is mean. Integer and
/// bool inputs give float64. ShapeError for weights of another shape (or 1-d weights whose length
/// is not the axis's, or without one axis), ValueError naming it when weights sum to zero in a
/// slice (NumPy's ZeroDivisionError); this check waits for the weight sums.
BlockArray average(const BlockArray& x, Axes axis = Axes::all(),
                   const std::optional<BlockArray>& weights = std::nullopt, bool keepdims = false);
/// np.average(..., returned=True): the average and the sum of the weights (the count without
/// weights), the sum broadcast to the average's shape and dtype.
std::pair<BlockArray, BlockArray> average_returned(
    const BlockArray& x, Axes axis = Axes::all(),
    const std::optional<BlockArray>& weights = std::nullopt, bool keepdims = false);

/// Covariance matrix of the variables in m (and y), as np.cov: rows are variables (columns with
/// rowvar = false); 1-d inputs are one variable. ddof defaults to 1 (0 with bias); fweights
/// (integer, >= 0) and aweights (>= 0) are 1-d, one per observation. The data are centred on
/// their weighted mean (a reduction) and multiplied by their transpose as a distributed
/// tensordot over the observations; the result is small (variables x variables), float64, 0-d for
/// one variable. Degrees of freedom <= 0 give inf/NaN (NumPy also warns). ShapeError for inputs of
/// more than two dimensions or mismatched observation counts, DTypeError for float fweights,
/// ValueError for negative weights (this check waits for the weights' minimum).
BlockArray cov(const BlockArray& m, const std::optional<BlockArray>& y = std::nullopt,
               bool rowvar = true, bool bias = false, std::optional<int64_t> ddof = std::nullopt,
               const std::optional<BlockArray>& fweights = std::nullopt,
               const std::optional<BlockArray>& aweights = std::nullopt);
/// Pearson correlation coefficients, as np.corrcoef: cov normalised by the standard deviations,
/// clipped to [-1, 1]; NaN where a variable is constant.
BlockArray corrcoef(const BlockArray& x, const std::optional<BlockArray>& y = std::nullopt,
                    bool rowvar = true);

/// A histogram's counts and its bin edges.
struct Histogram {
  BlockArray counts;  ///< int64; float64 with weights or density
  BlockArray edges;   ///< float64, one more than counts
};

/// Histogram of the flattened x in `bins` equal bins over `range` (x's min and max by default;
/// (0, 1) for an empty x; a range of one value widened by 0.5 each way), as np.histogram: bins
/// are half-open but the last is closed, values outside the range (and NaN with a range) are
/// ignored. Each block counts where it lives; the per-block counts are summed by a reduction
/// tree. `weights` (x's shape) sums weights instead of counting; `density` divides by the total
/// and the bin widths. ValueError for bins < 1, a range with min > max or a non-finite range
/// (NaN in x without a range), ShapeError for weights of another shape.
Histogram histogram(const BlockArray& x, int64_t bins = 10,
                    std::optional<std::pair<double, double>> range = std::nullopt,
                    const std::optional<BlockArray>& weights = std::nullopt, bool density = false);
/// Histogram over explicit, non-decreasing bin edges (ValueError otherwise or for fewer than 2).
Histogram histogram(const BlockArray& x, const std::vector<double>& edges,
                    const std::optional<BlockArray>& weights = std::nullopt, bool density = false);
/// The edges histogram would use, as np.histogram_bin_edges.
BlockArray histogram_bin_edges(const BlockArray& x, int64_t bins = 10,
                               std::optional<std::pair<double, double>> range = std::nullopt);

/// Occurrences of each value 0..max(x) in a 1-d array of non-negative integers (at least
/// `minlength` counts), as np.bincount: int64, or the summed `weights` (float64). Waits for
/// max(x) to size the result. Bool counts as 0 and 1. DTypeError for a float x;
/// ValueError for a negative value or minlength, ShapeError for x not 1-d or weights of another
/// shape.
BlockArray bincount(const BlockArray& x, const std::optional<BlockArray>& weights = std::nullopt,
                    int64_t minlength = 0);

/// Index of the bin each element of x falls in, as np.digitize (int64, x's shape): bins is 1-d and
/// monotonic (increasing or decreasing); `right` makes the bins closed on the right. The bins are
/// gathered to the driver and sent to every block. ValueError for bins that are not monotonic,
/// ShapeError for bins that are not 1-d.
BlockArray digitize(const BlockArray& x, const BlockArray& bins, bool right = false);

}  // namespace nums
