// The host-side logic of cairn::cuda on a recording fake runtime (no device needed): slot
// bookkeeping, the exact copies, events and waits of store/restore/prefetch, the error paths,
// and Driver runs whose gradients equal MemoryStorage's bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
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
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/revolve.hpp"
#include "fake_runtime.hpp"

using cairn::cuda::DeviceBuffer;
using cairn::cuda::DeviceStorage;
using cairn::cuda::PinnedHostOptions;
using cairn::cuda::PinnedHostStorage;
using cairn_test::FakeRuntime;
using Log = std::vector<std::string>;

namespace {

// A device state of n doubles on `stream`, filled with `value` (fake device memory is host
// memory, so the test writes it directly).
DeviceBuffer filled(FakeRuntime& fake, cudaStream_t stream, std::size_t n, double value,
                    const std::string& name) {
  DeviceBuffer x(n * sizeof(double), stream, fake);
  fake.name_memory(x.data(), name);
  auto* d = static_cast<double*>(x.data());
  for (std::size_t i = 0; i < n; ++i) d[i] = value + static_cast<double>(i);
  return x;
}

double first(const DeviceBuffer& x) {
  return *static_cast<const double*>(x.data());
}

// What PinnedHostStorage(2 slots, 1 spill buffer, 1 prefetch buffer) creates, in order.
const std::vector<std::string> pinned_events = {"ready", "w0",       "r0",       "w1",
                                                "r1",    "spilled0", "fetched0", "consumed0"};

}  // namespace

TEST_CASE("DeviceBuffer copies on its stream, and equal sizes assign without allocating",
          "[cuda][device_buffer]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer a = filled(fake, c, 4, 1.0, "a");
  fake.take_log();
  DeviceBuffer b(a);
  fake.name_memory(b.data(), "b");
  CHECK(fake.take_log() == Log{"cudaMalloc dev1 32", "copy D2D dev1+0 <- a+0 32 on C"});
  CHECK(first(b) == 1.0);
  CHECK(b.stream() == c);

  DeviceBuffer d = filled(fake, c, 4, 7.0, "d");
  fake.take_log();
  b = d;  // equal sizes: one copy, no allocation
  CHECK(fake.take_log() == Log{"copy D2D b+0 <- d+0 32 on C"});
  CHECK(first(b) == 7.0);

  DeviceBuffer moved(std::move(b));  // a move makes no call
  CHECK(fake.take_log().empty());
  CHECK(b.data() == nullptr);
  CHECK(b.bytes() == 0);
  CHECK(moved.bytes() == 32);

  DeviceBuffer empty;
  empty = a;  // different sizes: a new block, then the copy
  CHECK(fake.take_log() == Log{"cudaMalloc dev3 32", "copy D2D dev3+0 <- a+0 32 on C"});
  CHECK(empty.stream() == c);
}

TEST_CASE("DeviceBuffer errors name the size and the CUDA error", "[cuda][device_buffer]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  fake.fail_malloc_at = 0;
  try {
    DeviceBuffer x(1000, c, fake);
    FAIL("no exception");
  } catch (const cairn::cuda::OutOfDeviceMemory& e) {
    const std::string what = e.what();
    CHECK(what.find("1000 bytes") != std::string::npos);
    CHECK(what.find(cudaGetErrorString(cudaErrorMemoryAllocation)) != std::string::npos);
  }
  CHECK(fake.live_allocations() == 0);
}

TEST_CASE("DeviceStorage: one block, one device-to-device copy per store and restore",
          "[cuda][device_storage]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer x = filled(fake, c, 8, 10.0, "x");  // 64 bytes
  fake.take_log();
  {
    DeviceStorage storage(3, 100, fake);
    CHECK(fake.take_log() == Log{"cudaMalloc dev1 768"});  // 3 slots of 256 bytes
    storage.store(1, 5, cairn::writer_for(x));
    CHECK(fake.take_log() == Log{"copy D2D dev1+256 <- x+0 64 on C"});
    CHECK(storage.held_step(1) == 5);
    CHECK(storage.occupied() == 1);
    static_cast<double*>(x.data())[0] = -1;  // the state moves on
    storage.restore(1, 5, cairn::reader_for(x));
    CHECK(fake.take_log() == Log{"copy D2D x+0 <- dev1+256 64 on C"});
    CHECK(first(x) == 10.0);

    CHECK_THROWS_AS(storage.restore(1, 4, cairn::reader_for(x)), std::logic_error);
    CHECK_THROWS_AS(storage.restore(0, 5, cairn::reader_for(x)), std::logic_error);
    CHECK_THROWS_AS(storage.restore(3, 5, cairn::reader_for(x)), std::out_of_range);
    CHECK_THROWS_AS(storage.store(0, -1, cairn::writer_for(x)), std::invalid_argument);
    DeviceBuffer big(128, c, fake);
    CHECK_THROWS_AS(storage.store(0, 1, cairn::writer_for(big)), std::invalid_argument);
    std::vector<double> host(8, 1.0);
    CHECK_THROWS_AS(storage.store(0, 1, cairn::writer_for(host)), std::invalid_argument);
    CHECK_THROWS_AS(storage.restore(1, 5, cairn::reader_for(host)), std::invalid_argument);
    CHECK(storage.occupied() == 1);
    fake.take_log();

    // A copy that fails leaves its slot empty and the others intact.
    storage.store(0, 2, cairn::writer_for(x));
    fake.fail_copy_at = fake.copies;
    CHECK_THROWS_AS(storage.store(0, 3, cairn::writer_for(x)), cairn::cuda::CudaError);
    CHECK(storage.held_step(0) == -1);
    CHECK(storage.held_step(1) == 5);
    CHECK(storage.occupied() == 1);
    storage.restore(1, 5, cairn::reader_for(x));
    CHECK(first(x) == 10.0);
    storage.free(1);
    CHECK(storage.occupied() == 0);
    fake.take_log();
  }
  CHECK(fake.take_log() == Log{"cudaFree dev2", "cudaFree dev1"});  // big, then the block
}

TEST_CASE("DeviceStorage: no hot-path host wait unless a slot changes stream",
          "[cuda][device_storage]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  const cudaStream_t other = fake.user_stream("O");
  DeviceBuffer x = filled(fake, c, 4, 1.0, "x");
  DeviceBuffer y = filled(fake, other, 4, 2.0, "y");
  DeviceStorage storage(1, 32, fake);
  fake.take_log();
  storage.store(0, 0, cairn::writer_for(x));
  storage.restore(0, 0, cairn::reader_for(x));
  CHECK(fake.take_log() == Log{"copy D2D dev2+0 <- x+0 32 on C", "copy D2D x+0 <- dev2+0 32 on C"});
  storage.restore(0, 0, cairn::reader_for(y));  // another stream: the host waits for C first
  CHECK(fake.take_log() == Log{"sync C", "copy D2D y+0 <- dev2+0 32 on O"});
}

TEST_CASE("DeviceStorage: a failed allocation leaves nothing allocated", "[cuda][device_storage]") {
  FakeRuntime fake;
  fake.fail_malloc_at = 0;
  try {
    DeviceStorage storage(4, 1 << 20, fake);
    FAIL("no exception");
  } catch (const std::bad_alloc& e) {
    const std::string what = e.what();
    CHECK(what.find(std::to_string(4 << 20) + " bytes") != std::string::npos);
    CHECK(what.find("DeviceStorage") != std::string::npos);
  }
  CHECK(fake.live_allocations() == 0);
  CHECK_THROWS_AS(DeviceStorage(-1, 8, fake), std::invalid_argument);
  CHECK_THROWS_AS(DeviceStorage(1 << 30, SIZE_MAX / 2, fake), std::invalid_argument);
  CHECK(fake.live_allocations() == 0);
}

TEST_CASE("PinnedHostStorage: the ordering of a spill, a restore and a prefetch",
          "[cuda][pinned]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer x = filled(fake, c, 8, 100.0, "x");  // 64 bytes
  fake.name_events(pinned_events);
  fake.name_streams({"S", "F"});
  fake.take_log();
  PinnedHostStorage storage(2, 64, PinnedHostOptions{1, 1}, fake);
  CHECK(storage.prefetch_depth() == 1);
  const Log made = fake.take_log();
  REQUIRE(made.size() == 2 + 2 + 8);
  CHECK(made[0] == "cudaMallocHost host0 512");
  CHECK(made[1] == "cudaMalloc dev1 512");  // one spill and one prefetch buffer
  fake.name_memory(storage.slot_data(0), "pin");

  SECTION("a store copies into the spill buffer on C, then to the host on S after C's event") {
    storage.store(1, 7, cairn::writer_for(x));
    CHECK(fake.take_log() == Log{"copy D2D dev1+0 <- x+0 64 on C", "record ready on C",
                                 "wait S on ready", "copy D2H pin+256 <- dev1+0 64 on S",
                                 "record spilled0 on S", "record w1 on S"});
    // The next store reuses the spill buffer: C waits until S has copied out of it.
    storage.store(0, 8, cairn::writer_for(x));
    CHECK(fake.take_log() == Log{"wait C on spilled0", "copy D2D dev1+0 <- x+0 64 on C",
                                 "record ready on C", "wait S on ready",
                                 "copy D2H pin+0 <- dev1+0 64 on S", "record spilled0 on S",
                                 "record w0 on S"});
    static_cast<double*>(x.data())[0] = 0;
    // Not prefetched: C waits for the slot's host copy, copies it back, records the read.
    storage.restore(1, 7, cairn::reader_for(x));
    CHECK(fake.take_log() ==
          Log{"wait C on w1", "copy H2D x+0 <- pin+256 64 on C", "record r1 on C"});
    CHECK(first(x) == 100.0);
    // Overwriting a slot that was read: S waits for the read first.
    storage.store(1, 9, cairn::writer_for(x));
    CHECK(fake.take_log() == Log{"wait C on spilled0", "copy D2D dev1+0 <- x+0 64 on C",
                                 "record ready on C", "wait S on ready", "wait S on r1",
                                 "copy D2H pin+256 <- dev1+0 64 on S", "record spilled0 on S",
                                 "record w1 on S"});
  }

  SECTION("a prefetch copies on F after the spill; the restore waits on its event") {
    storage.store(0, 3, cairn::writer_for(x));
    fake.take_log();
    storage.prefetch(0, 3);
    CHECK(fake.take_log() == Log{"wait F on w0", "copy H2D dev1+256 <- pin+0 64 on F",
                                 "record fetched0 on F", "record r0 on F"});
    storage.prefetch(0, 3);  // already prefetched
    storage.prefetch(1, 3);  // the slot does not hold x_3
    CHECK(fake.take_log().empty());
    static_cast<double*>(x.data())[0] = 0;
    storage.restore(0, 3, cairn::reader_for(x));
    CHECK(fake.take_log() ==
          Log{"wait C on fetched0", "copy D2D x+0 <- dev1+256 64 on C", "record consumed0 on C"});
    CHECK(first(x) == 100.0);
    CHECK(storage.prefetches_started() == 1);
    CHECK(storage.prefetches_used() == 1);
    // The buffer is reused only after the restore read it.
    storage.prefetch(0, 3);
    CHECK(fake.take_log() == Log{"wait F on consumed0", "wait F on w0",
                                 "copy H2D dev1+256 <- pin+0 64 on F", "record fetched0 on F",
                                 "record r0 on F"});
    // A store over a prefetched slot drops the prefetch and waits for the prefetch's read.
    storage.store(0, 4, cairn::writer_for(x));
    const Log store = fake.take_log();
    CHECK(std::find(store.begin(), store.end(), "wait S on r0") != store.end());
    storage.restore(0, 4, cairn::reader_for(x));
    CHECK(fake.take_log() ==
          Log{"wait C on w0", "copy H2D x+0 <- pin+0 64 on C", "record r0 on C"});
    CHECK(storage.prefetches_used() == 1);
  }

  SECTION("flush waits for both streams; nothing else on the hot path does") {
    storage.store(0, 1, cairn::writer_for(x));
    storage.prefetch(0, 1);
    storage.restore(0, 1, cairn::reader_for(x));
    storage.free(0);
    for (const std::string& line : fake.take_log()) CHECK(line.rfind("sync", 0) != 0);
    storage.flush();
    CHECK(fake.take_log() == Log{"sync S", "sync F"});
  }
}

TEST_CASE("PinnedHostStorage without spill buffers: C waits for the host copy", "[cuda][pinned]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer x = filled(fake, c, 8, 1.0, "x");
  fake.name_events({"ready", "w0", "r0"});
  fake.name_streams({"S", "F"});
  PinnedHostStorage storage(1, 64, PinnedHostOptions{0, 0}, fake);
  fake.name_memory(storage.slot_data(0), "pin");
  CHECK(storage.prefetch_depth() == 0);
  fake.take_log();
  storage.store(0, 0, cairn::writer_for(x));
  CHECK(fake.take_log() == Log{"record ready on C", "wait S on ready",
                               "copy D2H pin+0 <- x+0 64 on S", "record w0 on S", "wait C on w0"});
}

TEST_CASE("PinnedHostStorage: contract and error paths", "[cuda][pinned]") {
  FakeRuntime fake;
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer x = filled(fake, c, 8, 5.0, "x");

  SECTION("every allocation or creation that fails leaves nothing behind") {
    for (int k = 0; k < 2; ++k) {
      fake.fail_malloc_at = fake.mallocs + k;
      CHECK_THROWS_AS(PinnedHostStorage(3, 64, PinnedHostOptions{}, fake), std::bad_alloc);
      CHECK(fake.live_allocations() == 1);  // x alone
      CHECK(fake.live_streams() == 0);
    }
    fake.fail_malloc_at = -1;
    for (int k = 0; k < 13; ++k) {  // ready, 3 x 2 per slot, 2 spill, 2 x 2 prefetch
      fake.fail_event_create_at = fake.events_created + k;
      CHECK_THROWS_AS(PinnedHostStorage(3, 64, PinnedHostOptions{}, fake), cairn::cuda::CudaError);
      CHECK(fake.live_allocations() == 1);
      CHECK(fake.live_streams() == 0);
      CHECK(fake.live_events() == 0);
    }
  }

  SECTION("store, restore and free keep the Storage contract") {
    PinnedHostStorage storage(3, 64, PinnedHostOptions{}, fake);
    storage.store(0, 0, cairn::writer_for(x));
    storage.store(2, 4, cairn::writer_for(x));
    fake.fail_copy_at = fake.copies + 1;  // the copy to the host fails
    CHECK_THROWS_AS(storage.store(1, 2, cairn::writer_for(x)), cairn::cuda::CudaError);
    CHECK(storage.held_step(1) == -1);
    CHECK(storage.held_step(0) == 0);
    CHECK(storage.held_step(2) == 4);
    CHECK(storage.occupied() == 2);
    CHECK_THROWS_AS(storage.restore(1, 2, cairn::reader_for(x)), std::logic_error);
    CHECK_THROWS_AS(storage.restore(2, 3, cairn::reader_for(x)), std::logic_error);
    DeviceBuffer big(72, c, fake);
    CHECK_THROWS_AS(storage.store(1, 1, cairn::writer_for(big)), std::invalid_argument);
    std::vector<double> host(8);
    CHECK_THROWS_AS(storage.store(1, 1, cairn::writer_for(host)), std::invalid_argument);
    static_cast<double*>(x.data())[0] = 0;
    storage.restore(2, 4, cairn::reader_for(x));
    CHECK(first(x) == 5.0);
    storage.free(2);
    CHECK(storage.occupied() == 1);
    storage.prefetch(2, 4);  // a hint for an empty slot is dropped
    CHECK(storage.prefetches_started() == 0);
  }
  CHECK(fake.live_allocations() == 1);
  CHECK(fake.live_streams() == 0);
  CHECK(fake.live_events() == 0);
}

namespace {

// A linear model x_{i+1} = A_i x_i with A_i depending on i, and its exact adjoint, on states of
// n doubles: on the fake, "device" memory is host memory, so the same arithmetic runs on
// DeviceBuffers and on std::vectors and the gradients must agree bit for bit.
constexpr std::size_t n = 6;

void step_model(std::int64_t i, double* x) {
  double y[n];
  for (std::size_t r = 0; r < n; ++r) {
    y[r] = 0;
    for (std::size_t k = 0; k < n; ++k) {
      y[r] +=
          (0.1 * static_cast<double>((r + 2 * k + static_cast<std::size_t>(i)) % 7) - 0.25) * x[k];
    }
    y[r] += 0.01 * x[r] * x[r];  // a nonlinearity, so that the adjoint needs x_i
  }
  std::memcpy(x, y, sizeof y);
}

void adjoint_model(std::int64_t i, const double* x, double* lambda) {
  double out[n];
  for (std::size_t k = 0; k < n; ++k) {
    out[k] = 0;
    for (std::size_t r = 0; r < n; ++r) {
      out[k] += (0.1 * static_cast<double>((r + 2 * k + static_cast<std::size_t>(i)) % 7) - 0.25) *
                lambda[r];
    }
    out[k] += 0.02 * x[k] * lambda[k];
  }
  std::memcpy(lambda, out, sizeof out);
}

std::vector<double> initial() {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 0.3 + 0.1 * static_cast<double>(i);
  return x;
}

std::vector<double> reference_gradient(cairn::Schedule& schedule, std::int64_t slots) {
  cairn::MemoryStorage storage(slots, n * sizeof(double));
  cairn::Driver<std::vector<double>> driver(
      schedule, storage, [](std::int64_t i, std::vector<double>& x) { step_model(i, x.data()); },
      [](std::int64_t i, const std::vector<double>& x, std::vector<double>& l) {
        adjoint_model(i, x.data(), l.data());
      });
  return driver.run(initial(), [](const std::vector<double>& xT) { return xT; });
}

std::vector<double> device_gradient(FakeRuntime& fake, cairn::Schedule& schedule,
                                    std::vector<cairn::Storage*> levels) {
  const cudaStream_t c = fake.user_stream("C");
  DeviceBuffer x0(n * sizeof(double), c, fake);
  x0.copy_from_host(initial().data(), false);  // the fake copies at once
  cairn::Driver<DeviceBuffer> driver(
      schedule, std::move(levels),
      [](std::int64_t i, DeviceBuffer& x) { step_model(i, static_cast<double*>(x.data())); },
      [](std::int64_t i, const DeviceBuffer& x, DeviceBuffer& l) {
        adjoint_model(i, static_cast<const double*>(x.data()), static_cast<double*>(l.data()));
      });
  const DeviceBuffer lambda0 = driver.run(x0, [](const DeviceBuffer& xT) { return xT; });
  std::vector<double> out(n);
  lambda0.copy_to_host(out.data(), false);
  return out;
}

}  // namespace

TEST_CASE("Driver<DeviceBuffer>: Revolve over DeviceStorage equals MemoryStorage bit for bit",
          "[cuda][driver]") {
  constexpr std::int64_t T = 40;
  for (std::int64_t c : {1, 2, 3, 5}) {
    cairn::Revolve reference_schedule(T, c);
    const std::vector<double> expected = reference_gradient(reference_schedule, c);
    FakeRuntime fake;
    DeviceStorage device(c, n * sizeof(double), fake);
    cairn::Revolve schedule(T, c);
    const std::vector<double> got = device_gradient(fake, schedule, {&device});
    CHECK(std::memcmp(got.data(), expected.data(), n * sizeof(double)) == 0);
    // The hot path never waited on the host.
    for (const std::string& line : fake.log) CHECK(line.rfind("sync", 0) != 0);
  }
}

TEST_CASE("Driver<DeviceBuffer>: two levels, DeviceStorage over PinnedHostStorage with prefetch",
          "[cuda][driver]") {
  constexpr std::int64_t T = 60;
  cairn::Revolve reference_schedule(T, 6);
  const std::vector<double> expected = reference_gradient(reference_schedule, 6);
  for (std::int64_t prefetch : {0, 1, 2}) {
    FakeRuntime fake;
    DeviceStorage device(2, n * sizeof(double), fake);
    PinnedHostStorage pinned(4, n * sizeof(double), PinnedHostOptions{2, prefetch}, fake);
    cairn::MultilevelRevolve schedule(
        T, {cairn::StorageLevel{2, 0.1, 0.1}, cairn::StorageLevel{4, 2, 2}});
    const std::vector<double> got = device_gradient(fake, schedule, {&device, &pinned});
    CHECK(std::memcmp(got.data(), expected.data(), n * sizeof(double)) == 0);
    if (prefetch > 0) {
      CHECK(pinned.prefetches_started() > 0);
      CHECK(pinned.prefetches_used() == pinned.prefetches_started());
    }
    // Host waits: only the Driver's final flush (S then F).
    Log syncs;
    for (const std::string& line : fake.log) {
      if (line.rfind("sync", 0) == 0) syncs.push_back(line);
    }
    CHECK(syncs.size() == 2);
  }
}
