// A driver for tests of what happens when it dies: connects to a cluster, makes arrays, prints
// "ready" and then either holds them (`hold`) or fits a model until killed (`fit`).
//
//   owner_driver ADDRESS TOKEN_FILE hold|fit

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "nums/nums.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: owner_driver ADDRESS TOKEN_FILE hold|fit\n");
    return 2;
  }
  const std::string mode = argv[3];
  nums::Context ctx = nums::init({.address = argv[1], .token_file = argv[2]});
  nums::random::Generator rng(ctx, 7);
  nums::BlockArray X = rng.normal({200'000, 8}, 0.0, 1.0, nums::float64, {25'000, 8});
  nums::BlockArray y = (X.sum(1) > 0.0).astype(nums::float64);
  std::printf("%.6f\n", X.sum().item<double>());  // every block exists on its node by now
  std::printf("ready\n");
  std::fflush(stdout);
  if (mode == "hold") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  for (;;) {
    nums::models::LogisticRegression lr({.solver = "newton", .max_iter = 20});
    lr.fit(X, y);
  }
}
