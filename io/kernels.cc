#include "io/kernels.h"

namespace nums::io {

void RegisterIoKernels(engine::KernelRegistry& registry) {
  RegisterNpyKernels(registry);
  RegisterHdf5Kernels(registry);
  RegisterCsvKernels(registry);
  RegisterZarrKernels(registry);
}

}  // namespace nums::io
