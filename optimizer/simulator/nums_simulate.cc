// nums_simulate: places the block graphs of common workloads on a virtual cluster with each
// placement policy and prints the loads (nothing is executed).

#include <CLI/CLI.hpp>
#include <iostream>

#include "optimizer/simulator/simulate.h"

int main(int argc, char** argv) {
  namespace sim = nums::optimizer::sim;
  CLI::App app{"Simulate block placement (LSHS and baselines) on a virtual cluster"};
  sim::CommandOptions options;
  sim::AddCommandOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  return sim::RunCommand(options, std::cout, std::cerr);
}
