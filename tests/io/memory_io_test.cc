// A file larger than the cluster's memory: its blocks are dropped under memory pressure instead
// of being written to the spill disk, and read from the file again when needed.

#include <gtest/gtest.h>

#include "nums/nums.hpp"
#include "tests/io/io_testing.h"

namespace nums::testing {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kElements = 12'000'000;  // 96 MB of float64 against 48 MiB of memory

class IoMemoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spill_ = new TempDir();
    ctx_ = new Context(init({.nodes = 1,
                             .threads_per_node = 2,
                             .memory = 48 * kMiB,
                             .spill_dir = spill_->path().string()}));
  }
  static void TearDownTestSuite() {
    delete ctx_;
    ctx_ = nullptr;
    delete spill_;
    spill_ = nullptr;
  }
  static Context* ctx_;
  static TempDir* spill_;
  TempDir dir_;
};
Context* IoMemoryTest::ctx_ = nullptr;
TempDir* IoMemoryTest::spill_ = nullptr;

TEST_F(IoMemoryTest, FileBlocksAreDroppedAndReadAgainNotSpilled) {
  const PythonResult r =
      RunPython("import numpy as np\nnp.save('big.npy', np.arange(" + std::to_string(kElements) +
                    ", dtype=np.float64))\nprint('saved')\n",
                dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const BlockArray x = io::load(*ctx_, dir_.file("big.npy"), {.block_shape = {500'000}});
  const double n = static_cast<double>(kElements);
  const double want = n * (n - 1) / 2;  // exact in float64
  // x keeps its blocks alive: twice the memory, so blocks must leave it, and the second and
  // third passes read dropped ones again.
  EXPECT_EQ(x.sum().item<double>(), want);
  EXPECT_EQ(x.max().item<double>(), n - 1);
  EXPECT_EQ(x.sum().item<double>(), want);
  const auto nodes = ctx_->nodes();
  ASSERT_EQ(nodes.size(), 1u);
  // Only small computed partials (a sum's 8-byte blocks) may have been spilled, no file block.
  EXPECT_LT(nodes[0].spill_bytes_total, 500'000 * 8) << "blocks of a file were spilled";
  // x still refers to 96 MB of blocks: at least half of them were dropped, not kept.
  EXPECT_LE(nodes[0].memory_used, 48 * kMiB);
  // Computed blocks are not recomputable: those spill, and the results stay right.
  EXPECT_EQ((x * 2.0).sum().item<double>(), 2 * want);
}

}  // namespace
}  // namespace nums::testing
