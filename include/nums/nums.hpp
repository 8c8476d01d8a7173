#pragma once
/// The nums umbrella header: everything a program needs.

#include "nums/context.hpp"
#include "nums/dtype.hpp"
#include "nums/errors.hpp"
