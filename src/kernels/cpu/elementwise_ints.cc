// The elementwise loops of int8, int16, uint8, uint16, uint32 and uint64, built apart from
// elementwise.cc so that the two compile in parallel (see elementwise_loops.h).

#include "src/kernels/cpu/elementwise_loops.h"

namespace nums::kernels {

#define NUMS_ELEMENTWISE_INSTANCE(T)                                                    \
  template Block BinaryDispatch<T>(BinaryOp, const Block&, const Block&, const Shape&); \
  template Block UnaryDispatch<T>(UnaryOp, const Block&);
NUMS_ELEMENTWISE_INSTANCE(int8_t)
NUMS_ELEMENTWISE_INSTANCE(int16_t)
NUMS_ELEMENTWISE_INSTANCE(uint8_t)
NUMS_ELEMENTWISE_INSTANCE(uint16_t)
NUMS_ELEMENTWISE_INSTANCE(uint32_t)
NUMS_ELEMENTWISE_INSTANCE(uint64_t)
#undef NUMS_ELEMENTWISE_INSTANCE

}  // namespace nums::kernels
