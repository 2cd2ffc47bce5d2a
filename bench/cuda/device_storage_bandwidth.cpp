// DeviceStorage store + restore bandwidth as a fraction of plain cudaMemcpyAsync device-to-device
// copies of the same bytes on the same stream (target >= 0.9), for states of 1 MiB .. 1 GiB; and
// PinnedHostStorage spill (store ... flush) and prefetch + restore bandwidth as a fraction of
// plain device-to-host and host-to-device copies between the same kinds of memory.
// Usage: cairn_bench_device_storage [CSV|-] [MAX_MIB]   (exits 77 without a CUDA device)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cairn/cuda/device_buffer.hpp"
#include "cairn/cuda/device_storage.hpp"
#include "cairn/cuda/pinned_host_storage.hpp"

namespace {

void check(cudaError_t error, const char* what) {
  if (error != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(error));
    std::exit(1);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Seconds that `body` (enqueueing work on `stream`) takes on the device, `repeats` times.
template <typename Body>
double timed(cudaStream_t stream, int repeats, Body body) {
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  body();  // warm-up
  check(cudaEventRecord(start, stream), "cudaEventRecord");
  for (int r = 0; r < repeats; ++r) body();
  check(cudaEventRecord(stop, stream), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace

int main(int argc, char* argv[]) {
  int devices = 0;
  const cudaError_t error = cudaGetDeviceCount(&devices);
  if (error != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount: %s)\n",
                error != cudaSuccess ? cudaGetErrorString(error) : "0 devices");
    return 77;
  }
  const std::string csv_path = argc > 1 && std::string(argv[1]) != "-" ? argv[1] : "";
  const std::size_t max_mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  cudaDeviceProp properties{};
  check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  std::printf("device: %s (compute capability %d.%d)\n", properties.name, properties.major,
              properties.minor);
  cudaStream_t stream = nullptr;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  std::vector<std::string> rows{"what,mib,baseline_gbps,cairn_gbps,ratio"};
  double worst_device_ratio = 1e300;

  std::printf("\nDeviceStorage store + restore against 2 plain cudaMemcpyAsync D2D copies\n");
  std::printf("%10s %14s %14s %8s\n", "state MiB", "plain GB/s", "storage GB/s", "ratio");
  for (std::size_t mib = 1; mib <= max_mib; mib *= 4) {
    const std::size_t bytes = mib << 20;
    const int repeats =
        static_cast<int>(std::max<std::size_t>(5, (std::size_t{16} << 30) / bytes / 2));
    cairn::cuda::DeviceBuffer x(bytes, stream), y(bytes, stream);
    check(cudaMemsetAsync(x.data(), 1, bytes, stream), "cudaMemset");
    cairn::cuda::DeviceStorage storage(1, bytes);
    const double plain = timed(stream, repeats, [&] {
      check(cudaMemcpyAsync(y.data(), x.data(), bytes, cudaMemcpyDeviceToDevice, stream), "copy");
      check(cudaMemcpyAsync(x.data(), y.data(), bytes, cudaMemcpyDeviceToDevice, stream), "copy");
    });
    const cairn::StateWriter writer = cairn::writer_for(x);
    const cairn::StateReader reader = cairn::reader_for(x);
    const double cairn_time = timed(stream, repeats, [&] {
      storage.store(0, 1, writer);
      storage.restore(0, 1, reader);
    });
    const double moved = 2.0 * static_cast<double>(bytes) * repeats;
    const double ratio = plain / cairn_time;
    worst_device_ratio = std::min(worst_device_ratio, ratio);
    std::printf("%10zu %14.1f %14.1f %8.3f\n", mib, moved / plain / 1e9, moved / cairn_time / 1e9,
                ratio);
    rows.push_back("device_store_restore," + std::to_string(mib) + "," +
                   std::to_string(moved / plain / 1e9) + "," +
                   std::to_string(moved / cairn_time / 1e9) + "," + std::to_string(ratio));
  }

  std::printf(
      "\nPinnedHostStorage: spill (store x4 ... flush) against plain D2H copies, and\n"
      "prefetch + restore (x4) against plain H2D copies, into pinned memory\n");
  std::printf("%10s %10s %14s %14s %8s\n", "state MiB", "what", "plain GB/s", "cairn GB/s",
              "ratio");
  const std::size_t pinned_max = std::min<std::size_t>(max_mib, 256);
  for (std::size_t mib = 1; mib <= pinned_max; mib *= 4) {
    const std::size_t bytes = mib << 20;
    constexpr int slots = 4;
    cairn::cuda::DeviceBuffer x(bytes, stream);
    check(cudaMemsetAsync(x.data(), 2, bytes, stream), "cudaMemset");
    void* host = nullptr;
    check(cudaMallocHost(&host, bytes * slots), "cudaMallocHost");
    cairn::cuda::PinnedHostStorage storage(slots, bytes, cairn::cuda::PinnedHostOptions{2, 2});
    const auto total = static_cast<double>(bytes) * slots;
    for (int pass = 0; pass < 2; ++pass) {  // the first warms up
      check(cudaStreamSynchronize(stream), "sync");
      auto start = std::chrono::steady_clock::now();
      for (int k = 0; k < slots; ++k) {
        check(cudaMemcpyAsync(static_cast<char*>(host) + k * bytes, x.data(), bytes,
                              cudaMemcpyDeviceToHost, stream),
              "copy");
      }
      check(cudaStreamSynchronize(stream), "sync");
      const double plain_spill = seconds_since(start);
      start = std::chrono::steady_clock::now();
      for (int k = 0; k < slots; ++k) storage.store(k, k, cairn::writer_for(x));
      storage.flush();
      check(cudaStreamSynchronize(stream), "sync");
      const double cairn_spill = seconds_since(start);
      start = std::chrono::steady_clock::now();
      for (int k = 0; k < slots; ++k) {
        check(cudaMemcpyAsync(x.data(), static_cast<char*>(host) + k * bytes, bytes,
                              cudaMemcpyHostToDevice, stream),
              "copy");
      }
      check(cudaStreamSynchronize(stream), "sync");
      const double plain_fetch = seconds_since(start);
      start = std::chrono::steady_clock::now();
      storage.prefetch(0, 0);
      storage.prefetch(1, 1);
      for (int k = 0; k < slots; ++k) {
        storage.restore(k, k, cairn::reader_for(x));
        if (k + 2 < slots) storage.prefetch(k + 2, k + 2);
      }
      check(cudaStreamSynchronize(stream), "sync");
      const double cairn_fetch = seconds_since(start);
      if (pass == 0) continue;
      std::printf("%10zu %10s %14.1f %14.1f %8.3f\n", mib, "spill", total / plain_spill / 1e9,
                  total / cairn_spill / 1e9, plain_spill / cairn_spill);
      std::printf("%10zu %10s %14.1f %14.1f %8.3f\n", mib, "prefetch", total / plain_fetch / 1e9,
                  total / cairn_fetch / 1e9, plain_fetch / cairn_fetch);
      rows.push_back("pinned_spill," + std::to_string(mib) + "," +
                     std::to_string(total / plain_spill / 1e9) + "," +
                     std::to_string(total / cairn_spill / 1e9) + "," +
                     std::to_string(plain_spill / cairn_spill));
      rows.push_back("pinned_prefetch," + std::to_string(mib) + "," +
                     std::to_string(total / plain_fetch / 1e9) + "," +
                     std::to_string(total / cairn_fetch / 1e9) + "," +
                     std::to_string(plain_fetch / cairn_fetch));
    }
    cudaFreeHost(host);
  }
  std::printf("\nworst DeviceStorage ratio: %.3f (target >= 0.9): %s\n", worst_device_ratio,
              worst_device_ratio >= 0.9 ? "met" : "NOT met");
  if (!csv_path.empty()) {
    std::ofstream out(csv_path);
    for (const std::string& row : rows) out << row << "\n";
  }
  cudaStreamDestroy(stream);
  return 0;
}
