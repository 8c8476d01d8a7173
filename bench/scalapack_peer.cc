// ScaLAPACK on the same problems as cluster_linalg_bench, for bench/cluster_linalg.sh: pdgemm
// of two N x N float64 matrices on a PROWS x PCOLS process grid with NB x NB blocks, and pdgeqrf
// (then pdorgqr, Q explicit) of ROWS x COLS on a P x 1 grid with MB-row blocks. Run under
// `mpirun -np P`; each case runs once untimed, then REPS times (MPI_Wtime, a barrier before and
// after); rank 0 prints `RESULT case best_seconds note`.
//
//   scalapack_peer gemm N NB PROWS PCOLS REPS
//   scalapack_peer qr ROWS COLS MB REPS

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" {
void Cblacs_get(int context, int what, int* value);
void Cblacs_gridinit(int* context, const char* order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int* nprow, int* npcol, int* myrow, int* mycol);
void Cblacs_gridexit(int context);
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb,
               const int* irsrc, const int* icsrc, const int* ictxt, const int* lld, int* info);
void pdgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
             const double* alpha, const double* a, const int* ia, const int* ja, const int* desca,
             const double* b, const int* ib, const int* jb, const int* descb, const double* beta,
             double* c, const int* ic, const int* jc, const int* descc);
void pdgeqrf_(const int* m, const int* n, double* a, const int* ia, const int* ja, const int* desca,
              double* tau, double* work, const int* lwork, int* info);
void pdorgqr_(const int* m, const int* n, const int* k, double* a, const int* ia, const int* ja,
              const int* desca, const double* tau, double* work, const int* lwork, int* info);
}

namespace {

constexpr int kZero = 0, kOne = 1;

struct Grid {
  int ctxt = 0, nprow = 0, npcol = 0, myrow = 0, mycol = 0;
  Grid(int prows, int pcols) {
    Cblacs_get(-1, 0, &ctxt);
    Cblacs_gridinit(&ctxt, "Row", prows, pcols);
    Cblacs_gridinfo(ctxt, &nprow, &npcol, &myrow, &mycol);
  }
  ~Grid() { Cblacs_gridexit(ctxt); }
};

// This rank's piece of an m x n matrix in mb x nb blocks (column-major, leading dimension lld),
// filled with standard normal values, and its descriptor.
struct Local {
  std::vector<double> values;
  int desc[9] = {};
  int rows = 0, cols = 0;
  Local(const Grid& g, int m, int n, int mb, int nb, uint64_t seed) {
    rows = numroc_(&m, &mb, &g.myrow, &kZero, &g.nprow);
    cols = numroc_(&n, &nb, &g.mycol, &kZero, &g.npcol);
    const int lld = std::max(1, rows);
    int info = 0;
    descinit_(desc, &m, &n, &mb, &nb, &kZero, &kZero, &g.ctxt, &lld, &info);
    values.resize(static_cast<size_t>(lld) * std::max(1, cols));
    std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(g.myrow * g.npcol + g.mycol));
    std::normal_distribution<double> normal;
    for (auto& x : values) x = normal(rng);
  }
};

template <typename F>
double Best(int reps, F&& f) {
  double best = 1e300;
  for (int i = 0; i <= reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    f();
    MPI_Barrier(MPI_COMM_WORLD);
    if (i > 0) best = std::min(best, MPI_Wtime() - t0);  // i == 0: warm-up
  }
  return best;
}

int Gemm(int n, int nb, int prows, int pcols, int reps, int rank) {
  Grid g(prows, pcols);
  Local a(g, n, n, nb, nb, 1), b(g, n, n, nb, nb, 2), c(g, n, n, nb, nb, 3);
  const double one = 1.0, zero = 0.0;
  const double t = Best(reps, [&] {
    pdgemm_("N", "N", &n, &n, &n, &one, a.values.data(), &kOne, &kOne, a.desc, b.values.data(),
            &kOne, &kOne, b.desc, &zero, c.values.data(), &kOne, &kOne, c.desc);
  });
  if (rank == 0) {
    std::printf("RESULT pdgemm_n%d_grid%dx%d_nb%d %.4f\n", n, prows, pcols, nb, t);
  }
  return 0;
}

int Qr(int m, int n, int mb, int reps, int rank, int size) {
  Grid g(size, 1);
  const Local src(g, m, n, mb, n, 1);
  Local a = src;
  std::vector<double> tau(static_cast<size_t>(std::max(1, a.cols)));
  int info = 0, lwork = -1;
  double q1 = 0, q2 = 0;
  pdgeqrf_(&m, &n, a.values.data(), &kOne, &kOne, a.desc, tau.data(), &q1, &lwork, &info);
  pdorgqr_(&m, &n, &n, a.values.data(), &kOne, &kOne, a.desc, tau.data(), &q2, &lwork, &info);
  lwork = static_cast<int>(std::max(q1, q2)) + 1;
  std::vector<double> work(static_cast<size_t>(lwork));
  double best_r = 1e300, best_qr = 1e300;
  for (int i = 0; i <= reps; ++i) {
    a.values = src.values;  // not timed
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    pdgeqrf_(&m, &n, a.values.data(), &kOne, &kOne, a.desc, tau.data(), work.data(), &lwork, &info);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t1 = MPI_Wtime();
    pdorgqr_(&m, &n, &n, a.values.data(), &kOne, &kOne, a.desc, tau.data(), work.data(), &lwork,
             &info);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t2 = MPI_Wtime();
    if (info != 0) {
      std::fprintf(stderr, "pdgeqrf/pdorgqr info %d\n", info);
      return 1;
    }
    if (i == 0) continue;
    best_r = std::min(best_r, t1 - t0);
    best_qr = std::min(best_qr, t2 - t0);
  }
  if (rank == 0) {
    std::printf("RESULT pdgeqrf_%dx%d_grid%dx1_mb%d %.4f R and reflectors\n", m, n, size, mb,
                best_r);
    std::printf("RESULT pdgeqrf+pdorgqr_%dx%d_grid%dx1_mb%d %.4f Q and R\n", m, n, size, mb,
                best_qr);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto num = [&](size_t i) { return std::atoi(args.at(i).c_str()); };
  int rc = 2;
  if (!args.empty() && args[0] == "gemm" && args.size() == 6) {
    rc = Gemm(num(1), num(2), num(3), num(4), num(5), rank);
  } else if (!args.empty() && args[0] == "qr" && args.size() == 5) {
    rc = Qr(num(1), num(2), num(3), num(4), rank, size);
  } else if (rank == 0) {
    std::fprintf(stderr,
                 "usage: scalapack_peer gemm N NB PROWS PCOLS REPS\n"
                 "       scalapack_peer qr ROWS COLS MB REPS\n");
  }
  MPI_Finalize();
  return rc;
}
