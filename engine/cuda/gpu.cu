// engine/gpu.h with CUDA: discovery, the device pool, per-device services and staged copies.

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/cuda/cuda_libs.cuh"
#include "engine/cuda/gpu_services.cuh"

namespace nums::engine {
namespace {

struct Discovery {
  std::vector<GpuInfo> gpus;
  std::string reason;
};

const Discovery& Discovered() {
  static const Discovery d = [] {
    Discovery out;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      out.reason = std::string("no usable CUDA device (") + cudaGetErrorName(e) + ": " +
                   cudaGetErrorString(e) + ")";
      cudaGetLastError();  // clear the sticky error so later calls report their own
      return out;
    }
    for (int i = 0; i < n; ++i) {
      cudaDeviceProp prop{};
      if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
      out.gpus.push_back({.ordinal = i,
                          .name = prop.name,
                          .memory_bytes = static_cast<int64_t>(prop.totalGlobalMem)});
    }
    if (out.gpus.empty()) out.reason = "no CUDA device found";
    return out;
  }();
  return d;
}

void CheckOrdinal(int ordinal) {
  const auto& gpus = DiscoverGpus();
  if (ordinal < 0 || ordinal >= static_cast<int>(gpus.size())) {
    throw ClusterError("GPU " + std::to_string(ordinal) + " does not exist: this process has " +
                       std::to_string(gpus.size()) + " GPU(s)" +
                       (gpus.empty() ? " (" + NoGpuReason() + ")" : std::string()));
  }
}

// Size classes as the host pool's: small buffers to 512 bytes, larger ones to 2 MiB, so that
// blocks of one shape (and of shapes close to it) share cached buffers.
int64_t DeviceRoundedSize(int64_t nbytes) {
  const int64_t n = std::max<int64_t>(nbytes, 1);
  const int64_t align = n >= (int64_t{2} << 20) ? (int64_t{2} << 20) : 512;
  return (n + align - 1) / align * align;
}

class GpuPool final : public MemoryPool {
 public:
  GpuPool(std::string name, int ordinal, int64_t capacity)
      : name_(std::move(name)), ordinal_(ordinal), capacity_(capacity) {}
  ~GpuPool() override { Trim(); }

  void* Allocate(int64_t nbytes) override {
    if (nbytes < 0) throw ValueError("pool " + name_ + ": negative size " + std::to_string(nbytes));
    const int64_t size = DeviceRoundedSize(nbytes);
    {
      std::lock_guard lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= size;
        live_ += size;
        return p;
      }
      if (live_ + cached_ + size > capacity_) TrimLocked();
      if (live_ + size > capacity_) {
        throw OutOfMemoryError("pool " + name_ + ": " + std::to_string(nbytes) +
                               " bytes do not fit (" + std::to_string(live_) + " of " +
                               std::to_string(capacity_) + " bytes in use)");
      }
    }
    UseDevice(ordinal_);
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, static_cast<size_t>(size));
    if (e != cudaSuccess) {
      cudaGetLastError();
      Trim();
      e = cudaMalloc(&p, static_cast<size_t>(size));
      if (e != cudaSuccess) {
        cudaGetLastError();
        throw OutOfMemoryError("pool " + name_ + ": cudaMalloc of " + std::to_string(size) +
                               " bytes failed (" + cudaGetErrorName(e) + ")");
      }
    }
    std::lock_guard lock(mu_);
    live_ += size;
    return p;
  }

  void Free(void* p, int64_t nbytes) override {
    const int64_t size = DeviceRoundedSize(nbytes);
    std::lock_guard lock(mu_);
    live_ -= size;
    cached_ += size;
    free_[size].push_back(p);
  }

  int64_t bytes_allocated() const override {
    std::lock_guard lock(mu_);
    return live_ + cached_;
  }
  int64_t capacity() const override { return capacity_; }
  Device device() const override { return Device::kCuda; }
  int ordinal() const override { return ordinal_; }
  const std::string& name() const override { return name_; }

  void Trim() {
    std::lock_guard lock(mu_);
    TrimLocked();
  }

 private:
  void TrimLocked() {
    if (free_.empty()) return;
    UseDevice(ordinal_);
    for (auto& [size, ptrs] : free_) {
      for (void* p : ptrs) cudaFree(p);
    }
    free_.clear();
    cached_ = 0;
  }

  const std::string name_;
  const int ordinal_;
  const int64_t capacity_;
  mutable std::mutex mu_;  // guards free_, live_, cached_
  std::map<int64_t, std::vector<void*>> free_;
  int64_t live_ = 0;
  int64_t cached_ = 0;
};

// Copies `n` bytes between host and device through the device's pinned staging buffer (pageable
// memory would make the driver stage through a small buffer of its own, at a fraction of the
// bus's rate), in slices so the buffer stays bounded.
void StagedCopy(GpuServices& s, void* dst, const void* src, int64_t n, cudaMemcpyKind kind) {
  constexpr int64_t kSlice = int64_t{64} << 20;
  std::lock_guard lock(s.staging_mu);
  const int64_t want = std::min(n, kSlice);
  if (s.staging_bytes < want) {
    if (s.staging) CheckCuda(cudaFreeHost(s.staging), "cudaFreeHost");
    s.staging = nullptr;
    s.staging_bytes = 0;
    CheckCuda(cudaMallocHost(&s.staging, static_cast<size_t>(want)), "cudaMallocHost");
    s.staging_bytes = want;
  }
  auto* d = static_cast<uint8_t*>(dst);
  const auto* h = static_cast<const uint8_t*>(src);
  for (int64_t off = 0; off < n; off += kSlice) {
    const auto len = static_cast<size_t>(std::min(kSlice, n - off));
    if (kind == cudaMemcpyHostToDevice) {
      std::memcpy(s.staging, h + off, len);
      CheckCuda(cudaMemcpyAsync(d + off, s.staging, len, kind, s.copy), "cudaMemcpyAsync");
    } else {
      CheckCuda(cudaMemcpyAsync(s.staging, h + off, len, kind, s.copy), "cudaMemcpyAsync");
    }
    CheckCuda(cudaStreamSynchronize(s.copy), "cudaStreamSynchronize");
    if (kind == cudaMemcpyDeviceToHost) std::memcpy(d + off, s.staging, len);
  }
}

}  // namespace

void CheckCuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();
  throw ClusterError(std::string(what) + " failed: " + cudaGetErrorName(e) + " (" +
                     cudaGetErrorString(e) + ")");
}

void CheckCublas(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw ClusterError(std::string(what) + " failed: " + Cublas().GetStatusName(s));
}

void CheckCusolver(cusolverStatus_t s, const char* what) {
  if (s == CUSOLVER_STATUS_SUCCESS) return;
  throw ClusterError(std::string(what) + " failed: cusolver status " + std::to_string(int(s)));
}

void UseDevice(int ordinal) {
  thread_local int current = -1;
  if (current == ordinal) return;
  CheckCuda(cudaSetDevice(ordinal), "cudaSetDevice");
  current = ordinal;
}

const std::vector<GpuInfo>& DiscoverGpus() { return Discovered().gpus; }
const std::string& NoGpuReason() { return Discovered().reason; }

std::shared_ptr<MemoryPool> MakeGpuPool(std::string name, int ordinal, int64_t capacity) {
  CheckOrdinal(ordinal);
  return std::make_shared<GpuPool>(std::move(name), ordinal, capacity);
}

GpuServices* ServicesOf(int ordinal) {
  CheckOrdinal(ordinal);
  static std::mutex mu;
  static std::map<int, std::unique_ptr<GpuServices>> all;  // never destroyed: tasks may outlive
  std::lock_guard lock(mu);
  auto& s = all[ordinal];
  if (!s) {
    auto made = std::make_unique<GpuServices>();
    made->ordinal = ordinal;
    UseDevice(ordinal);
    CheckCuda(cudaStreamCreateWithFlags(&made->compute, cudaStreamNonBlocking), "cudaStreamCreate");
    CheckCuda(cudaStreamCreateWithFlags(&made->copy, cudaStreamNonBlocking), "cudaStreamCreate");
    CheckCublas(Cublas().Create(&made->blas), "cublasCreate");
    CheckCublas(Cublas().SetStream(made->blas, made->compute), "cublasSetStream");
    CheckCusolver(Cusolver().Create(&made->solver), "cusolverDnCreate");
    CheckCusolver(Cusolver().SetStream(made->solver, made->compute), "cusolverDnSetStream");
    s = std::move(made);
  }
  return s.get();
}

void CopyToHost(const Block& block, int64_t offset, int64_t length, void* dst) {
  if (length <= 0) return;
  if (block.device() != Device::kCuda || offset < 0 || offset + length > block.nbytes()) {
    throw ValueError("CopyToHost: bytes [" + std::to_string(offset) + ", " +
                     std::to_string(offset + length) + ") of a " +
                     std::string(DeviceName(block.device())) + " block of " +
                     std::to_string(block.nbytes()) + " bytes");
  }
  GpuServices& s = *ServicesOf(block.buffer()->pool()->ordinal());
  UseDevice(s.ordinal);
  StagedCopy(s, dst, static_cast<const uint8_t*>(block.raw()) + offset, length,
             cudaMemcpyDeviceToHost);
}

Block ToHost(const Block& block, const std::shared_ptr<MemoryPool>& pool) {
  if (block.device() != Device::kCuda) return block;
  Block out = Block::Allocate(block.dtype(), block.shape(), pool);
  CopyToHost(block, 0, block.nbytes(), out.raw());
  return out;
}

Block ToDevice(const Block& block, const std::shared_ptr<MemoryPool>& pool) {
  if (pool->device() != Device::kCuda) {
    throw ValueError("ToDevice: pool " + pool->name() + " is not device memory");
  }
  if (block.device() == Device::kCuda) {
    if (block.buffer()->pool()->ordinal() == pool->ordinal()) return block;
    return ToDevice(ToHost(block), pool);
  }
  Block out = Block::Allocate(block.dtype(), block.shape(), pool);
  if (block.nbytes() > 0) {
    GpuServices& s = *ServicesOf(pool->ordinal());
    UseDevice(s.ordinal);
    StagedCopy(s, out.raw(), block.raw(), block.nbytes(), cudaMemcpyHostToDevice);
  }
  return out;
}

}  // namespace nums::engine
