// Arrays larger than a node's memory, on real node processes: results equal to an in-memory
// run, peak resident memory within 1.5x of the node's --memory, spill files that go with their
// objects and with a killed node, OutOfMemoryError, and a spill disk that fills up.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "nums/nums.hpp"
#include "tests/integration/cluster_fixture.h"

namespace nums::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kMiB = int64_t{1} << 20;
// 1 GiB of float64 in blocks of 32 MiB.
const Shape kShape{4'194'304, 32};
const Shape kBlock{131'072, 32};

// Peak resident memory of process `pid` in bytes (VmHWM).
int64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

int64_t FilesUnder(const fs::path& dir) {
  int64_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename() != ".lock") ++n;
  }
  return n;
}

struct Results {
  double sum = 0;
  NDArray chain;
  Eigen::VectorXd coef;
};

// The same work on any context: a sum, an elementwise chain reduced over rows, and 5 Newton
// iterations of logistic regression on X (1 GiB unless told).
Results Work(Context ctx, const Shape& shape = kShape, const Shape& block = kBlock) {
  random::Generator rng(ctx, 5);
  BlockArray X = rng.normal(shape, 0.0, 1.0, float64, block);
  Results r;
  r.sum = X.sum().item<double>();
  r.chain = ((X * 2.0 + 1.0) / 3.0 - X).sum(0).get();
  BlockArray y = (X.sum(1) > 0.0).astype(float64);
  models::LogisticRegression lr({.solver = "newton", .max_iter = 5, .penalty_l2 = 1.0});
  lr.fit(X, y);
  r.coef = lr.coef();
  return r;
}

TEST(MemoryTest, AOneGiBArrayOnA256MiBNodeGivesTheInMemoryResults) {
  const Results expected = Work(init({.nodes = 1}));
  LocalClusterOptions o;
  o.nodes = 1;
  o.cores = 2;
  o.node_args = {"--memory", "256MiB"};
  LocalCluster cluster(o);
  Results got;
  {
    Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
    got = Work(ctx);
    const NodeStatus n = ctx.nodes().at(0);
    EXPECT_EQ(n.memory_bytes, 256 * kMiB);
    EXPECT_GT(n.spill_bytes_total, 512 * kMiB) << "most of X went to disk";
    EXPECT_GT(n.restore_bytes_total, 512 * kMiB) << "and came back for each pass";
    EXPECT_LE(n.memory_used, 256 * kMiB);
  }
  EXPECT_NEAR(got.sum, expected.sum, 1e-9 * std::abs(expected.sum) + 1e-6);
  ASSERT_EQ(got.chain.shape(), expected.chain.shape());
  for (int64_t j = 0; j < got.chain.size(); ++j) {
    EXPECT_NEAR(got.chain.data<double>()[j], expected.chain.data<double>()[j], 1e-6) << j;
  }
  ASSERT_EQ(got.coef.size(), expected.coef.size());
  for (Eigen::Index j = 0; j < got.coef.size(); ++j)
    EXPECT_NEAR(got.coef[j], expected.coef[j], 1e-9);
  const int64_t peak = PeakRss(cluster.node_pid(0));
  EXPECT_GT(peak, 0);
  EXPECT_LE(peak, 256 * kMiB * 3 / 2) << "peak RSS " << peak / kMiB << " MiB";
  // The driver's arrays are gone: so are their spill files.
  const fs::path spill = cluster.state_dir() / "spill";
  EXPECT_TRUE(PollUntil([&] { return FilesUnder(spill) == 0; }, 20s))
      << FilesUnder(spill) << " spill files left under " << spill;
}

TEST(MemoryTest, TwoSpillingNodesMoveBlocksBetweenThemAndGiveTheInMemoryResults) {
  const Shape shape{2'097'152, 32}, block{65'536, 32};  // 512 MiB in 16 MiB blocks
  const Results expected = Work(init({.nodes = 2}), shape, block);
  LocalClusterOptions o;
  o.nodes = 2;
  o.node_args = {"--memory", "128MiB"};
  LocalCluster cluster(o);
  Results got;
  {
    Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
    got = Work(ctx, shape, block);
    for (const NodeStatus& n : ctx.nodes()) {
      EXPECT_GT(n.spill_bytes_total, 64 * kMiB) << "node " << n.id;
      EXPECT_GT(n.net_in_bytes + n.net_out_bytes, 0) << "node " << n.id;
    }
  }
  EXPECT_NEAR(got.sum, expected.sum, 1e-9 * std::abs(expected.sum) + 1e-6);
  for (int64_t j = 0; j < got.chain.size(); ++j) {
    EXPECT_NEAR(got.chain.data<double>()[j], expected.chain.data<double>()[j], 1e-6) << j;
  }
  for (Eigen::Index j = 0; j < got.coef.size(); ++j)
    EXPECT_NEAR(got.coef[j], expected.coef[j], 1e-9);
  for (int i = 0; i < 2; ++i) {
    const int64_t peak = PeakRss(cluster.node_pid(i));
    EXPECT_LE(peak, 128 * kMiB * 3 / 2) << "node " << i << " peak RSS " << peak / kMiB << " MiB";
  }
}

TEST(MemoryTest, ATaskThatCannotFitRaisesOutOfMemoryErrorAndTheNodeServesOn) {
  LocalClusterOptions o;
  o.nodes = 1;
  o.node_args = {"--memory", "64MiB"};
  LocalCluster cluster(o);
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  BlockArray big = zeros({4096, 4096}, float64, {4096, 4096});  // one 128 MiB block
  try {
    big.sum().item<double>();
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("node 0"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(128 * kMiB) + " bytes"), std::string::npos) << what;
  }
  EXPECT_DOUBLE_EQ(ones({1000}).sum().item<double>(), 1000.0);
}

TEST(MemoryTest, AKilledNodeComesBackWithoutItsStaleSpillFiles) {
  LocalClusterOptions o;
  o.nodes = 1;
  o.node_args = {"--memory", "64MiB"};
  LocalCluster cluster(o);
  const int port = cluster.NodeAddress(0).second;
  const fs::path dir = cluster.state_dir() / "spill" / ("node-" + std::to_string(port));
  {
    Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
    random::Generator rng(ctx, 1);
    BlockArray x = rng.normal({2'097'152, 16}, 0.0, 1.0, float64, {131'072, 16});  // 256 MiB
    EXPECT_TRUE(std::isfinite(x.sum().item<double>()));
    ASSERT_GT(FilesUnder(dir), 0) << "x was spilled under " << dir;
    cluster.Kill(cluster.node_pid(0));
  }
  ASSERT_GT(FilesUnder(dir), 0) << "a killed node leaves its files";
  cluster.RestartNode(0, port);
  EXPECT_EQ(FilesUnder(dir), 0) << "the restarted node removed them";
  Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
  EXPECT_DOUBLE_EQ(ones({1000}).sum().item<double>(), 1000.0);
}

TEST(MemoryTest, AFullSpillDiskGivesAClearErrorAndTheClusterServesOn) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  const fs::path disk = MakeTempDir();
  if (mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=32m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  {
    LocalClusterOptions o;
    o.nodes = 1;
    o.node_args = {"--memory", "64MiB", "--spill-dir", disk.string()};
    LocalCluster cluster(o);
    Context ctx = init({.address = cluster.address(), .token_file = cluster.token_file()});
    random::Generator rng(ctx, 2);
    {
      BlockArray x = rng.normal({1'048'576, 32}, 0.0, 1.0, float64, {65'536, 32});  // 256 MiB
      try {
        x.sum().item<double>();
        FAIL() << "64 MiB of memory and 32 MiB of disk cannot hold 256 MiB";
      } catch (const OutOfMemoryError& e) {
        EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
      }
    }
    BlockArray small = rng.normal({65'536, 32}, 0.0, 1.0, float64, {16'384, 32});  // 16 MiB
    EXPECT_TRUE(std::isfinite(small.sum().item<double>())) << "the cluster keeps serving";
  }
  umount2(disk.c_str(), MNT_DETACH);
  fs::remove_all(disk);
}

}  // namespace
}  // namespace nums::testing
