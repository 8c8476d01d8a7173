#pragma once
// The LAPACK and BLAS routines the CPU kernels call (OpenBLAS's, through its Fortran symbols),
// by precision, and the narrowing of sizes to LAPACK's int.

#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <vector>

#include "engine/block.h"
#include "engine/kernel_registry.h"
#include "nums/dtype.hpp"
#include "src/checked.h"

extern "C" {
// LAPACK, Fortran calling convention; character arguments carry a hidden length at the end.
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
             double* work, const int* lwork, int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau,
             float* work, const int* lwork, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork,
             int* iwork, int* info, size_t jobz_len);
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s,
             float* u, const int* ldu, float* vt, const int* ldvt, float* work, const int* lwork,
             int* iwork, int* info, size_t jobz_len);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void dgetri_(const int* n, double* a, const int* lda, const int* ipiv, double* work,
             const int* lwork, int* info);
void sgetri_(const int* n, float* a, const int* lda, const int* ipiv, float* work, const int* lwork,
             int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda,
             const int* ipiv, double* b, const int* ldb, int* info, size_t trans_len);
void sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda,
             const int* ipiv, float* b, const int* ldb, int* info, size_t trans_len);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t uplo_len);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t,
             size_t);
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w,
             float* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t,
             size_t);
}

namespace nums::kernels {

// The LAPACK/BLAS routines of one precision.
template <typename T>
struct Lapack;

template <>
struct Lapack<double> {
  static constexpr auto geqrf = dgeqrf_;
  static constexpr auto orgqr = dorgqr_;
  static constexpr auto gesdd = dgesdd_;
  static constexpr auto getrf = dgetrf_;
  static constexpr auto getri = dgetri_;
  static constexpr auto getrs = dgetrs_;
  static constexpr auto potrf = dpotrf_;
  static constexpr auto syevd = dsyevd_;
  static constexpr auto gemm = cblas_dgemm;
  static constexpr auto trsm = cblas_dtrsm;
};

template <>
struct Lapack<float> {
  static constexpr auto geqrf = sgeqrf_;
  static constexpr auto orgqr = sorgqr_;
  static constexpr auto gesdd = sgesdd_;
  static constexpr auto getrf = sgetrf_;
  static constexpr auto getri = sgetri_;
  static constexpr auto getrs = sgetrs_;
  static constexpr auto potrf = spotrf_;
  static constexpr auto syevd = ssyevd_;
  static constexpr auto gemm = cblas_sgemm;
  static constexpr auto trsm = cblas_strsm;
};

// A column-major matrix in pooled block memory (fresh pages are expensive here, pooled ones are
// not): LAPACK's operands, copied from and to row-major blocks.
template <typename T>
struct ColMajor {
  ColMajor(int64_t r, int64_t c)
      : rows(r),
        cols(c),
        ld(std::max<int64_t>(r, 1)),
        storage(engine::Block::Allocate(dtype_of<T>(), {ld * std::max<int64_t>(c, 1)})) {}
  T* data() { return storage.data<T>(); }
  T& operator()(int64_t i, int64_t j) { return data()[j * ld + i]; }

  int64_t rows, cols, ld;
  engine::Block storage;
};

using FloatKernel = std::vector<engine::Block> (*)(const engine::KernelContext&);
/// Registers `name` for float32 and float64 inputs: every input must have the first one's dtype
/// (DTypeError naming the kernel and both dtypes otherwise); f64 or f32 runs by that dtype.
void RegisterFloat(engine::KernelRegistry& registry, const char* name, FloatKernel f64,
                   FloatKernel f32);

// Sizes narrowed to LAPACK's int: ValueError naming the size rather than a truncated one.
inline int AsInt(int64_t v) { return detail::narrow_size<int>(v, "LAPACK"); }
// A workspace size LAPACK reports as a float (a query with lwork = -1).
inline int WorkSize(double query) { return std::max(1, AsInt(convert_value<int64_t>(query))); }

}  // namespace nums::kernels
