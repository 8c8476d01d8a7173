#pragma once
/// The nums umbrella header: everything a program needs.

#include "nums/array_grid.hpp"
#include "nums/block_array.hpp"
#include "nums/context.hpp"
#include "nums/creation.hpp"
#include "nums/dtype.hpp"
#include "nums/errors.hpp"
#include "nums/indexing.hpp"
#include "nums/io.hpp"
#include "nums/linalg.hpp"
#include "nums/linalg_solvers.hpp"
#include "nums/math.hpp"
#include "nums/models.hpp"
#include "nums/ndarray.hpp"
#include "nums/random.hpp"
#include "nums/shape.hpp"
#include "nums/statistics.hpp"
