// cairn::cuda on a real device (run by the ctest cuda.device, skipped without one): round trips,
// ordering against kernels that write the state right after a store, spill and prefetch under
// load, Driver runs with bitwise-equal gradients, and allocation failure with the other slots
// intact.
#include <cuda_runtime_api.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/cuda/device_buffer.hpp"
#include "cairn/cuda/device_storage.hpp"
#include "cairn/cuda/error.hpp"
#include "cairn/cuda/pinned_host_storage.hpp"
#include "cairn/driver.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "kernels.hpp"

using cairn::cuda::DeviceBuffer;
using cairn::cuda::DeviceStorage;
using cairn::cuda::PinnedHostOptions;
using cairn::cuda::PinnedHostStorage;

namespace {

struct Stream {
  cudaStream_t stream = nullptr;
  Stream() { REQUIRE(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess); }
  ~Stream() { cudaStreamDestroy(stream); }
};

std::vector<double> to_host(const DeviceBuffer& x) {
  std::vector<double> out(x.bytes() / sizeof(double));
  x.copy_to_host(out.data());
  return out;
}

bool holds_fill(const DeviceBuffer& x, double value) {
  const std::vector<double> h = to_host(x);
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i] != value + static_cast<double>(i)) return false;
  }
  return true;
}

double* data(DeviceBuffer& x) {
  return static_cast<double*>(x.data());
}

constexpr std::int64_t long_spin = 20'000'000;  // ~10 ms at ~2 GHz

}  // namespace

TEST_CASE("device: DeviceStorage round trips, with kernels writing the state right after a store",
          "[device]") {
  Stream s;
  for (std::size_t n : {std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20}) {
    DeviceBuffer x(n * sizeof(double), s.stream);
    DeviceStorage storage(3, n * sizeof(double) + 8);
    for (std::int64_t k = 0; k < 3; ++k) {
      cairn_test::spin(long_spin / 10, s.stream);  // the fill and store are queued behind it
      cairn_test::fill(data(x), n, 10.0 * static_cast<double>(k), s.stream);
      storage.store(k, k, cairn::writer_for(x));
      cairn_test::fill(data(x), n, -1.0, s.stream);  // at once: the store must have read first
    }
    for (std::int64_t k = 2; k >= 0; --k) {
      storage.restore(k, k, cairn::reader_for(x));
      CHECK(holds_fill(x, 10.0 * static_cast<double>(k)));
    }
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("device: PinnedHostStorage spills and prefetches under load", "[device]") {
  Stream s;
  const std::size_t n = std::size_t{2} << 20;  // 16 MiB states
  for (std::int64_t spill : {0, 2}) {
    DeviceBuffer x(n * sizeof(double), s.stream);
    PinnedHostStorage storage(6, n * sizeof(double), PinnedHostOptions{spill, 2});
    for (std::int64_t k = 0; k < 6; ++k) {
      cairn_test::spin(long_spin / 5, s.stream);
      cairn_test::fill(data(x), n, 100.0 * static_cast<double>(k), s.stream);
      storage.store(k, k, cairn::writer_for(x));
      cairn_test::fill(data(x), n, -7.0, s.stream);  // overwrites the state right away
    }
    // Restores in reverse with two prefetches in flight, compute queued in between.
    storage.prefetch(5, 5);
    storage.prefetch(4, 4);
    for (std::int64_t k = 5; k >= 0; --k) {
      cairn_test::spin(long_spin / 5, s.stream);
      storage.restore(k, k, cairn::reader_for(x));
      if (k >= 2) storage.prefetch(k - 2, k - 2);
      CHECK(holds_fill(x, 100.0 * static_cast<double>(k)));
      cairn_test::fill(data(x), n, -3.0, s.stream);
    }
    CHECK(storage.prefetches_used() == 6);
    // Overwrite a slot while its prefetch may still be in flight; the new state wins.
    storage.prefetch(0, 0);
    cairn_test::fill(data(x), n, 55.0, s.stream);
    storage.store(0, 9, cairn::writer_for(x));
    cairn_test::fill(data(x), n, -1.0, s.stream);
    storage.restore(0, 9, cairn::reader_for(x));
    CHECK(holds_fill(x, 55.0));
    storage.flush();
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

namespace {

std::vector<double> device_gradient(cairn::Schedule& schedule, std::vector<cairn::Storage*> levels,
                                    cudaStream_t stream, std::size_t n) {
  DeviceBuffer x0(n * sizeof(double), stream);
  cairn_test::fill(data(x0), n, 0.25, stream);
  cairn::Driver<DeviceBuffer> driver(
      schedule, std::move(levels),
      [n](std::int64_t i, DeviceBuffer& x) { cairn_test::model_step(i, data(x), n, x.stream()); },
      [n](std::int64_t, const DeviceBuffer& x, DeviceBuffer& lambda) {
        cairn_test::model_adjoint(static_cast<const double*>(x.data()), data(lambda), n,
                                  x.stream());
      });
  return to_host(driver.run(x0, [](const DeviceBuffer& xT) { return xT; }));
}

}  // namespace

TEST_CASE("device: Driver gradients over device and pinned levels equal store-all's bitwise",
          "[device]") {
  Stream s;
  constexpr std::int64_t T = 50;
  const std::size_t n = 1 << 18;
  DeviceStorage all(T, n * sizeof(double));
  cairn::StoreAll store_all(T);
  const std::vector<double> expected = device_gradient(store_all, {&all}, s.stream, n);

  DeviceStorage device(3, n * sizeof(double));
  cairn::Revolve revolve(T, 3);
  CHECK(device_gradient(revolve, {&device}, s.stream, n) == expected);

  DeviceStorage fast(2, n * sizeof(double));
  PinnedHostStorage pinned(4, n * sizeof(double));
  cairn::MultilevelRevolve two_level(
      T, {cairn::StorageLevel{2, 0.1, 0.1}, cairn::StorageLevel{4, 1, 1}});
  const std::vector<double> got = device_gradient(two_level, {&fast, &pinned}, s.stream, n);
  CHECK(std::memcmp(got.data(), expected.data(), n * sizeof(double)) == 0);
  CHECK(pinned.prefetches_used() > 0);
}

TEST_CASE("device: an allocation beyond the device fails cleanly, other slots intact", "[device]") {
  Stream s;
  std::size_t free_bytes = 0, total_bytes = 0;
  REQUIRE(cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess);
  const std::size_t n = 1 << 16;
  DeviceBuffer x(n * sizeof(double), s.stream);
  DeviceStorage kept(2, n * sizeof(double));
  cairn_test::fill(data(x), n, 42.0, s.stream);
  kept.store(1, 3, cairn::writer_for(x));
  try {
    DeviceStorage huge(2, total_bytes);
    FAIL("allocating twice the device's memory succeeded");
  } catch (const std::bad_alloc& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(std::to_string(2 * ((total_bytes + 255) / 256 * 256))) !=
          std::string::npos);
  }
  CHECK_THROWS_AS(DeviceBuffer(2 * total_bytes, s.stream), std::bad_alloc);
  CHECK_THROWS_AS(PinnedHostStorage(
                      1, 1024, PinnedHostOptions{1, static_cast<std::int64_t>(total_bytes / 1024)}),
                  std::bad_alloc);
  CHECK(cudaGetLastError() == cudaSuccess);  // the failure was cleared
  std::size_t after = 0;
  REQUIRE(cudaMemGetInfo(&after, &total_bytes) == cudaSuccess);
  CHECK(after + (std::size_t{256} << 20) >= free_bytes);  // nothing of the failures is held
  cairn_test::fill(data(x), n, 0.0, s.stream);
  kept.restore(1, 3, cairn::reader_for(x));
  CHECK(holds_fill(x, 42.0));
}
