// Matmul and tall-skinny QR on a real cluster (a head and node processes of the `nums` tool on
// 127.0.0.1, one thread each; the driver is this process) and the single-process OpenBLAS /
// LAPACK calls they reduce to, one case per invocation so that each starts with free memory.
// bench/cluster_linalg.sh runs every case and scalapack_peer, and prints one table.
//
//   cluster_linalg_bench matmul N NODES BLOCK REPS      BLOCK 0: the default block shape
//   cluster_linalg_bench qr ROWS COLS NODES BLOCKROWS REPS [MODE]
//   cluster_linalg_bench dgemm N THREADS REPS
//   cluster_linalg_bench dgeqrf ROWS COLS THREADS REPS
//
// Each case runs once untimed (fresh memory is slow to touch on these machines), then REPS
// times; it prints `RESULT case best_seconds note`. NUMS_BENCH_TIMELINE=PATH saves the task
// timeline of the last timed matmul or qr to PATH; NUMS_BENCH_PLACEMENT=POLICY sets the
// context's placement policy ("lshs" by default, "round-robin", "locality").

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nums/nums.hpp>

#include "tests/integration/cluster_fixture.h"

extern "C" void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau,
                        double* work, const int* lwork, int* info);
extern "C" void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda,
                        const double* tau, double* work, const int* lwork, int* info);

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs `f` once untimed, then `reps` times; the best time.
double Best(int reps, const std::function<void()>& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, Seconds(t0));
  }
  return best;
}

std::vector<double> RandomValues(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  return v;
}

// Bytes the nodes received from each other so far (pulls of inputs placed elsewhere).
int64_t NetBytes(const nums::Context& ctx) {
  int64_t total = 0;
  for (const auto& n : ctx.nodes()) total += n.net_in_bytes;
  return total;
}

void SaveTimeline(const nums::Context& ctx, const std::function<void()>& f) {
  const char* path = std::getenv("NUMS_BENCH_TIMELINE");
  if (path == nullptr || *path == '\0') return;
  auto t = ctx.start_timeline();
  f();
  const auto s = t.save(path);
  std::printf("timeline %s: %lld tasks\n", path, static_cast<long long>(s.events));
}

// A cluster of `nodes` node processes of one thread each, and the driver's context on it.
struct Cluster {
  explicit Cluster(int nodes) : processes(nodes, /*cores=*/1) {
    ctx = nums::init({.address = processes.address(), .token_file = processes.token_file()});
    // Placement policy other than LSHS, to compare where partial products run.
    if (const char* p = std::getenv("NUMS_BENCH_PLACEMENT"); p != nullptr && *p != '\0') {
      ctx.set_placement(p);
    }
  }
  nums::testing::LocalCluster processes;
  nums::Context ctx{nullptr};
};

int Matmul(int64_t n, int nodes, int64_t block, int reps) {
  Cluster c(nodes);
  const nums::Shape blocks = block > 0 ? nums::Shape{block, block} : nums::Shape{};
  nums::random::Generator gen(c.ctx, 1);
  const nums::BlockArray a = gen.normal({n, n}, 0, 1, nums::float64, blocks);
  const nums::BlockArray b = gen.normal({n, n}, 0, 1, nums::float64, blocks);
  a.wait();
  b.wait();
  // wait() on the result: every output block computed where it lives, nothing gathered.
  auto run = [&] { nums::matmul(a, b).wait(); };
  const int64_t net0 = NetBytes(c.ctx);
  const double t = Best(reps, run);
  const double net_per_run = static_cast<double>(NetBytes(c.ctx) - net0) / (reps + 1);
  SaveTimeline(c.ctx, run);
  std::printf(
      "RESULT matmul_n%lld_nodes%d_block%lld%s %.4f blocks %s; %.0f MiB between nodes/run\n",
      static_cast<long long>(n), nodes, static_cast<long long>(block),
      c.ctx.placement() == "lshs" ? "" : ("_" + c.ctx.placement()).c_str(), t,
      nums::shape_str(a.block_shape()).c_str(), net_per_run / (1 << 20));
  return 0;
}

int Qr(int64_t rows, int64_t cols, int nodes, int64_t block_rows, int reps,
       const std::string& mode) {
  Cluster c(nodes);
  const nums::Shape blocks = block_rows > 0 ? nums::Shape{block_rows, cols} : nums::Shape{};
  const nums::BlockArray a =
      nums::random::Generator(c.ctx, 1).normal({rows, cols}, 0, 1, nums::float64, blocks);
  a.wait();
  auto run = [&] {
    const nums::linalg::QrResult f = nums::linalg::qr(a, mode);
    if (mode != "r") f.q.wait();
    f.r.wait();
  };
  const int64_t net0 = NetBytes(c.ctx);
  const double t = Best(reps, run);
  const double net_per_run = static_cast<double>(NetBytes(c.ctx) - net0) / (reps + 1);
  SaveTimeline(c.ctx, run);
  std::printf(
      "RESULT qr_%s_%lldx%lld_nodes%d_rows%lld %.4f blocks %s; %.1f MiB between "
      "nodes/run\n",
      mode.c_str(), static_cast<long long>(rows), static_cast<long long>(cols), nodes,
      static_cast<long long>(block_rows), t, nums::shape_str(a.block_shape()).c_str(),
      net_per_run / (1 << 20));
  return 0;
}

int Dgemm(int64_t n, int threads, int reps) {
  const std::vector<double> a = RandomValues(n * n, 1), b = RandomValues(n * n, 2);
  std::vector<double> c(static_cast<size_t>(n * n));
  openblas_set_num_threads(threads);
  const double t = Best(reps, [&] {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a.data(), n, b.data(), n,
                0.0, c.data(), n);
  });
  std::printf("RESULT dgemm_n%lld_threads%d %.4f OpenBLAS %d threads\n", static_cast<long long>(n),
              threads, t, threads);
  return 0;
}

// dgeqrf (R and the reflectors), then dorgqr (Q explicit, as nums' reduced QR returns it), on a
// column-major copy refreshed before each factorization (the copy is not timed).
int Dgeqrf(int64_t rows, int64_t cols, int threads, int reps) {
  openblas_set_num_threads(threads);
  const std::vector<double> src = RandomValues(rows * cols, 1);
  std::vector<double> a(src.size()), tau(static_cast<size_t>(cols));
  const int m = static_cast<int>(rows), n = static_cast<int>(cols);
  int info = 0, lwork = -1;
  double query = 0;
  dgeqrf_(&m, &n, a.data(), &m, tau.data(), &query, &lwork, &info);
  double query2 = 0;
  dorgqr_(&m, &n, &n, a.data(), &m, tau.data(), &query2, &lwork, &info);
  lwork = static_cast<int>(std::max(query, query2));
  std::vector<double> work(static_cast<size_t>(lwork));
  double best_r = 1e300, best_qr = 1e300;
  for (int i = 0; i <= reps; ++i) {
    std::copy(src.begin(), src.end(), a.begin());
    const auto t0 = Clock::now();
    dgeqrf_(&m, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
    const double tr = Seconds(t0);
    dorgqr_(&m, &n, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
    const double tq = Seconds(t0);
    if (info != 0) {
      std::fprintf(stderr, "dgeqrf/dorgqr info %d\n", info);
      return 1;
    }
    if (i == 0) continue;  // warm-up
    best_r = std::min(best_r, tr);
    best_qr = std::min(best_qr, tq);
  }
  std::printf("RESULT dgeqrf_%lldx%lld_threads%d %.4f R and reflectors\n",
              static_cast<long long>(rows), static_cast<long long>(cols), threads, best_r);
  std::printf("RESULT dgeqrf+dorgqr_%lldx%lld_threads%d %.4f Q and R\n",
              static_cast<long long>(rows), static_cast<long long>(cols), threads, best_qr);
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: cluster_linalg_bench matmul N NODES BLOCK REPS\n"
               "       cluster_linalg_bench qr ROWS COLS NODES BLOCKROWS REPS [MODE]\n"
               "       cluster_linalg_bench dgemm N THREADS REPS\n"
               "       cluster_linalg_bench dgeqrf ROWS COLS THREADS REPS\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto num = [&](size_t i) { return std::atoll(args.at(i).c_str()); };
  if (args.empty()) return Usage();
  const std::string& what = args[0];
  if (what == "matmul" && args.size() == 5) {
    return Matmul(num(1), static_cast<int>(num(2)), num(3), static_cast<int>(num(4)));
  }
  if (what == "qr" && (args.size() == 6 || args.size() == 7)) {
    return Qr(num(1), num(2), static_cast<int>(num(3)), num(4), static_cast<int>(num(5)),
              args.size() == 7 ? args[6] : "reduced");
  }
  if (what == "dgemm" && args.size() == 4) {
    return Dgemm(num(1), static_cast<int>(num(2)), static_cast<int>(num(3)));
  }
  if (what == "dgeqrf" && args.size() == 5) {
    return Dgeqrf(num(1), num(2), static_cast<int>(num(3)), static_cast<int>(num(4)));
  }
  return Usage();
}
