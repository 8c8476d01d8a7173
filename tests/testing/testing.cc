#include "tests/testing/testing.h"

#include <algorithm>
#include <stdexcept>

namespace nums::testing {

engine::Block MakeBlock(engine::Shape shape, std::vector<double> values) {
  auto b = engine::Block::Allocate(float64, std::move(shape));
  double* d = b.data<double>();
  for (int64_t i = 0; i < b.size(); ++i) {
    d[i] = values.empty() ? static_cast<double>(i) : values.at(static_cast<size_t>(i));
  }
  return b;
}

std::vector<double> Values(const engine::Block& block) {
  if (block.dtype() != float64) throw std::invalid_argument("Values: block is not float64");
  return std::vector<double>(block.data<double>(), block.data<double>() + block.size());
}

}  // namespace nums::testing
