#pragma once
// Shared test helpers.

#include <cstdint>
#include <vector>

#include "engine/block.h"

namespace nums::testing {

/// A float64 block of `shape` holding `values` (or 0, 1, 2, ... when empty).
engine::Block MakeBlock(engine::Shape shape, std::vector<double> values = {});

/// The block's float64 elements.
std::vector<double> Values(const engine::Block& block);

}  // namespace nums::testing
