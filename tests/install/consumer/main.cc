#include <iostream>

#include <nums/nums.hpp>

int main() {
  nums::Context ctx = nums::init({.nodes = 2});
  if (ctx.num_nodes() != 2) return 1;
  std::cout << "nums ok: " << ctx.num_nodes() << " nodes, " << ctx.num_cores() << " cores\n";
  return 0;
}
