// The CUDA build of examples/wave2d: the same damped leapfrog scheme, misfit and exact discrete
// adjoint as wave2d.hpp, as kernels (wave2d_kernels.cuh, one thread per point), with the state
// x_i = (u^{i-1}, u^i) in one cairn::cuda::DeviceBuffer of 2 N doubles and the run through
// cairn::Driver<cairn::cuda::DeviceBuffer> over checkpoints in device memory (DeviceStorage) and,
// for multilevel, pinned host memory below it (PinnedHostStorage). The receiver residuals, the
// velocity gradient and the misfit's terms are accumulated on the device; the gradient and the
// per-receiver terms of J are copied to the host once, at the end (docs/wave2d.md, "CUDA build").
//
//   wave2d_cuda [--nx NX] [--ny NY | --grid N] [--steps T] [--dt DT] [--frequency F] [--sponge W]
//               [--schedule revolve|store-all|multilevel] [--slots C] [--host-slots K]
//               [--level1 pinned|device] [--write-cost W --read-cost R] [--gradient FILE]
//               [--quiet]
//
// Prints a short summary (not with --quiet), then one JSON line. Exit status 2 for bad options
// (the CFL condition included), 77 with "no CUDA device" where there is none, 1 for other
// failures.
#include <cuda_runtime.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/cuda/device_buffer.hpp"
#include "cairn/cuda/device_storage.hpp"
#include "cairn/cuda/pinned_host_storage.hpp"
#include "cairn/driver.hpp"
#include "cairn/multilevel.hpp"
#include "front_end.hpp"
#include "wave2d.hpp"
#include "wave2d_kernels.cuh"

namespace {

using cairn::cuda::DeviceBuffer;
using Clock = std::chrono::steady_clock;

void check(cudaError_t error, const char* what) {
  if (error != cudaSuccess) {
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(error));
  }
}

/// A stream of our own (it does not synchronise with the legacy default stream).
class Stream {
 public:
  Stream() {
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const noexcept { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// `n` values of T in device memory, uploaded from `host` or zeroed. The constructors wait for
/// the device (setup only): cudaMemset and a cudaMemcpy from pageable memory may return before
/// the device is done, and they run on the legacy stream, which the program's non-blocking
/// stream is not ordered with.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n) : n_(n) {
    void* p = nullptr;
    check(cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(T)), "cudaMalloc");
    data_ = static_cast<T*>(p);
    check(cudaMemset(data_, 0, n * sizeof(T)), "cudaMemset");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    check(cudaMemcpy(data_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(DeviceArray&& other) noexcept : data_(other.data_), n_(other.n_) {
    other.data_ = nullptr;
    other.n_ = 0;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray& operator=(DeviceArray&&) = delete;
  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return n_; }
  std::vector<T> to_host() const {
    std::vector<T> host(n_);
    check(cudaMemcpy(host.data(), data_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
    return host;
  }

 private:
  T* data_ = nullptr;
  std::size_t n_ = 0;
};

/// One velocity model on the device: its coefficients (computed on the host by wave2d::Wave2d,
/// so both builds use the same numbers), the source values and the receivers; launches the
/// kernels on `stream`.
class GpuWave2d {
 public:
  GpuWave2d(const wave2d::Wave2d& problem, cudaStream_t stream)
      : problem_(problem),
        stream_(stream),
        nx_(static_cast<int>(problem.grid().nx)),
        ny_(static_cast<int>(problem.grid().ny)),
        r_(problem.r()),
        inv_(problem.inv()),
        keep_(problem.keep()),
        dgc_(problem.dgc()),
        receivers_(problem.receivers()),
        block_(32, 8),
        grid_(static_cast<unsigned>((nx_ + 31) / 32), static_cast<unsigned>((ny_ + 7) / 8)) {}

  std::size_t points() const noexcept { return problem_.points(); }
  std::size_t state_bytes() const noexcept { return 2 * points() * sizeof(double); }
  int receiver_count() const noexcept { return static_cast<int>(receivers_.size()); }

  /// u^n in a state (or an adjoint) of step n or n + 1: half n % 2.
  double* field(DeviceBuffer& x, std::int64_t n) const {
    return static_cast<double*>(x.data()) + ((n % 2 + 2) % 2) * static_cast<std::int64_t>(points());
  }
  const double* field(const DeviceBuffer& x, std::int64_t n) const {
    return static_cast<const double*>(x.data()) +
           ((n % 2 + 2) % 2) * static_cast<std::int64_t>(points());
  }

  DeviceBuffer initial_state() const {
    DeviceBuffer x(state_bytes(), stream_);
    check(cudaMemsetAsync(x.data(), 0, x.bytes(), stream_), "cudaMemsetAsync");
    return x;
  }

  /// x_i -> x_{i+1} in place, the source s^i included.
  void step(std::int64_t i, DeviceBuffer& x) const {
    double* next = field(x, i + 1);  // = u^{i-1}'s half
    wave2d::cuda::step_kernel<<<grid_, block_, 0, stream_>>>(
        nx_, ny_, coefficients(), next, field(x, i), next, problem_.source_index(),
        problem_.source()[static_cast<std::size_t>(i)]);
    check(cudaGetLastError(), "step kernel launch");
  }

  /// lambda_{i+1} -> lambda_i in place given x_i, and grad += (d x_{i+1} / d c)^T lambda_{i+1};
  /// z is N doubles of scratch.
  void adjoint_step(std::int64_t i, const DeviceBuffer& x, DeviceBuffer& lambda, double* grad,
                    double* z) const {
    double* la = field(lambda, i);
    double* lb = field(lambda, i + 1);
    wave2d::cuda::adjoint_gradient_kernel<<<grid_, block_, 0, stream_>>>(nx_, ny_, coefficients(),
                                                                         field(x, i), lb, z, grad);
    check(cudaGetLastError(), "adjoint gradient kernel launch");
    wave2d::cuda::adjoint_transpose_kernel<<<grid_, block_, 0, stream_>>>(nx_, ny_, coefficients(),
                                                                          z, la, lb);
    check(cudaGetLastError(), "adjoint transpose kernel launch");
  }

  /// u^n at the receivers into out (receiver_count() doubles of device memory).
  void record(std::int64_t n, const DeviceBuffer& x, double* out) const {
    wave2d::cuda::record_kernel<<<receiver_blocks(), 256, 0, stream_>>>(
        field(x, n), receivers_.data(), receiver_count(), out);
    check(cudaGetLastError(), "record kernel launch");
  }

  /// lambda_n += dphi_n/dx_n, J_r += phi_n's term of receiver r (d: row n - 1 of the traces).
  void add_residual(std::int64_t n, const DeviceBuffer& x, DeviceBuffer& lambda, const double* d,
                    double* J) const {
    wave2d::cuda::residual_kernel<<<receiver_blocks(), 256, 0, stream_>>>(
        field(x, n), receivers_.data(), d, receiver_count(), field(lambda, n), J);
    check(cudaGetLastError(), "residual kernel launch");
  }

  /// The observed data of this model: u^n at the receivers for n = 1..T, by a forward run.
  DeviceArray<double> traces() const {
    const std::size_t nr = receivers_.size();
    DeviceArray<double> d(static_cast<std::size_t>(problem_.steps()) * nr);
    DeviceBuffer x = initial_state();
    for (std::int64_t i = 0; i < problem_.steps(); ++i) {
      step(i, x);
      record(i + 1, x, d.data() + static_cast<std::size_t>(i) * nr);
    }
    check(cudaStreamSynchronize(stream_), "forward run of the true model");
    return d;
  }

 private:
  wave2d::cuda::Coefficients coefficients() const noexcept {
    return {r_.data(), inv_.data(), keep_.data(), dgc_.data()};
  }
  unsigned receiver_blocks() const noexcept {
    return static_cast<unsigned>((receivers_.size() + 255) / 256);
  }

  const wave2d::Wave2d& problem_;
  cudaStream_t stream_;
  int nx_, ny_;
  DeviceArray<double> r_, inv_, keep_, dgc_;
  DeviceArray<std::int64_t> receivers_;
  dim3 block_, grid_;
};

/// Device time of `count` calls of f on `stream`, in seconds per call (cudaEvents).
template <typename F>
double seconds_per_call(cudaStream_t stream, std::int64_t count, F&& f) {
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  check(cudaEventRecord(start, stream), "cudaEventRecord");
  for (std::int64_t k = 0; k < count; ++k) f(k);
  check(cudaEventRecord(stop, stream), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) * 1e-3 / static_cast<double>(count);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Velocity gradient of a 2-D acoustic wave misfit on a CUDA device, by the exact discrete "
      "adjoint through a Cairn checkpointing schedule over device (and pinned host) memory"};
  wave2d::CommonOptions o;
  std::int64_t host_slots = 0;
  std::string level1 = "pinned";
  const wave2d::LevelHelp help{
      "checkpoint slots c in device memory (revolve; multilevel's first level); default 20",
      "multilevel: price of one store in pinned host memory, in forward steps (default 1)",
      "multilevel: price of one restore from pinned host memory, in forward steps (default 1)"};
  wave2d::add_problem_options(app, o, help);
  auto* host_option =
      app.add_option("--host-slots", host_slots,
                     "multilevel: slots in pinned host memory (default: as many as the plan "
                     "uses with an unlimited second level)")
          ->check(CLI::PositiveNumber);
  auto* level1_option =
      app.add_option("--level1", level1,
                     "multilevel: where the second level lives: pinned (default; host memory) or "
                     "device (the same plan with both levels in device memory, for comparison)")
          ->check(CLI::IsMember({"pinned", "device"}));
  wave2d::add_output_options(app, o, help);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.schedule != "multilevel" && (o.write_option->count() > 0 || o.read_option->count() > 0 ||
                                     host_option->count() > 0 || level1_option->count() > 0)) {
    std::fprintf(stderr,
                 "wave2d_cuda: --host-slots, --level1, --write-cost and --read-cost need "
                 "--schedule multilevel\n");
    return 2;
  }
  if (o.grid > 0) o.cfg.nx = o.cfg.ny = o.grid;
  wave2d::Config& cfg = o.cfg;

  // The options are checked on the host, as by the CPU build, before the device is looked for.
  wave2d::Models models;
  try {
    models = wave2d::make_models(cfg, std::numeric_limits<int>::max() / 8, "2^28");
  } catch (const std::invalid_argument& e) {
    return wave2d::refuse("wave2d_cuda", e);
  }

  int devices = 0;
  const cudaError_t device_error = cudaGetDeviceCount(&devices);
  if (device_error != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no CUDA device (cudaGetDeviceCount: %s)\n",
                device_error != cudaSuccess ? cudaGetErrorString(device_error) : "0 devices");
    return 77;
  }

  try {
    cudaDeviceProp properties{};
    check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
    const std::int64_t T = cfg.steps;
    const Stream stream;
    const GpuWave2d gpu(*models.problem, stream.get());
    const std::size_t n = gpu.points();
    const std::size_t state_bytes = gpu.state_bytes();
    const std::size_t nr = static_cast<std::size_t>(gpu.receiver_count());
    const DeviceArray<double> observed = GpuWave2d(*models.truth, stream.get()).traces();

    const wave2d::Plan plan =
        wave2d::make_plan(o, host_slots > 0 ? host_slots : cairn::unlimited_slots);
    cairn::Schedule* const schedule = plan.schedule.get();
    const std::int64_t device_slots = plan.level0_slots;
    const std::int64_t level1_slots = plan.level1_slots;
    cairn::cuda::DeviceStorage device(device_slots, state_bytes);
    std::unique_ptr<cairn::cuda::PinnedHostStorage> pinned;
    std::unique_ptr<cairn::cuda::DeviceStorage> device1;
    std::vector<cairn::Storage*> levels{&device};
    if (o.schedule == "multilevel" && level1 == "pinned") {
      pinned = std::make_unique<cairn::cuda::PinnedHostStorage>(level1_slots, state_bytes);
      levels.push_back(pinned.get());
    } else if (o.schedule == "multilevel") {
      device1 = std::make_unique<cairn::cuda::DeviceStorage>(level1_slots, state_bytes);
      levels.push_back(device1.get());
    }
    const cairn::Storage* lower = levels.size() > 1 ? levels[1] : nullptr;

    const DeviceArray<double> gradient(n);
    const DeviceArray<double> z(n);
    const DeviceArray<double> J_terms(nr);
    cairn::Driver<DeviceBuffer> driver(
        *schedule, levels, [&](std::int64_t i, DeviceBuffer& x) { gpu.step(i, x); },
        [&](std::int64_t i, const DeviceBuffer& x, DeviceBuffer& lambda) {
          gpu.adjoint_step(i, x, lambda, gradient.data(), z.data());
          if (i >= 1) {
            gpu.add_residual(i, x, lambda, observed.data() + static_cast<std::size_t>(i - 1) * nr,
                             J_terms.data());
          }
        });
    const DeviceBuffer x0 = gpu.initial_state();
    check(cudaStreamSynchronize(stream.get()), "cudaStreamSynchronize");
    const auto start = Clock::now();
    const DeviceBuffer lambda0 = driver.run(x0, [&](const DeviceBuffer& xT) {
      DeviceBuffer lambda(xT.bytes(), stream.get());
      check(cudaMemsetAsync(lambda.data(), 0, lambda.bytes(), stream.get()), "cudaMemsetAsync");
      gpu.add_residual(T, xT, lambda, observed.data() + static_cast<std::size_t>(T - 1) * nr,
                       J_terms.data());
      return lambda;
    });
    check(cudaStreamSynchronize(stream.get()), "the run");
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const cairn::DriverStatistics& s = driver.statistics();

    // The run's results, copied once: the gradient and the per-receiver terms of J.
    const std::vector<double> g = gradient.to_host();
    double J = 0;
    for (const double term : J_terms.to_host()) J += term;
    double norm = 0;
    for (const double v : g) norm += v * v;
    norm = std::sqrt(norm);

    // Per-call device times of a step and of an adjoint step (cudaEvents, on scratch buffers),
    // and the schedule's time against store-all predicted from them: ((t + 1) f + T a) /
    // (T (f + a)), t + 1 the step calls.
    const std::int64_t samples = std::min<std::int64_t>(T, 50);
    DeviceBuffer xs = gpu.initial_state();
    DeviceBuffer ls = gpu.initial_state();
    const DeviceArray<double> gs(n);
    const double f =
        seconds_per_call(stream.get(), samples, [&](std::int64_t k) { gpu.step(k, xs); });
    const double a = seconds_per_call(stream.get(), samples, [&](std::int64_t k) {
      gpu.adjoint_step(samples - 1 - k, xs, ls, gs.data(), z.data());
    });
    const double predicted = wave2d::predicted_ratio(s, T, f, a);

    if (!o.gradient_file.empty() && !wave2d::write_gradient("wave2d_cuda", o.gradient_file, g)) {
      return 1;
    }

    const std::int64_t checkpoint_slots = device_slots + (lower ? lower->slots() : 0);
    if (!o.quiet) {
      std::printf(
          "wave2d_cuda on %s: %lld x %lld points, h = %g m, T = %lld steps, dt = %.4g s, %zu "
          "receivers, schedule %s with %lld device slots%s\n",
          properties.name, static_cast<long long>(cfg.nx), static_cast<long long>(cfg.ny), cfg.h,
          static_cast<long long>(T), cfg.dt, nr, schedule->name(),
          static_cast<long long>(device_slots),
          lower ? (" + " + std::to_string(lower->slots()) + " on level 1 (" + level1 + ")").c_str()
                : "");
      std::printf("J = %.17g, |dJ/dc| = %.17g\n", J, norm);
      wave2d::print_counts(s, T, checkpoint_slots, state_bytes);
      std::printf(
          "%.3f s: step %.3g ms, adjoint %.3g ms each (device time); predicted time against "
          "store-all %.3f\n",
          seconds, f * 1e3, a * 1e3, predicted);
    }

    nlohmann::ordered_json j;
    j["schedule"] = schedule->name();
    j["device"] = properties.name;
    j["nx"] = cfg.nx;
    j["ny"] = cfg.ny;
    j["steps"] = T;
    j["dt"] = cfg.dt;
    j["receivers"] = nr;
    j["slots"] = device_slots;
    if (lower) {
      j["level1"] = level1;
      j["level1_slots"] = lower->slots();
      j["write_cost"] = o.write_cost;
      j["read_cost"] = o.read_cost;
      j["prefetches"] = s.prefetches;
      if (pinned) j["prefetches_used"] = pinned->prefetches_used();
    }
    j["J"] = J;
    wave2d::add_counts(j, s, checkpoint_slots, state_bytes);
    j["seconds"] = seconds;
    j["seconds_step"] = f;
    j["seconds_adjoint"] = a;
    j["predicted_ratio_to_store_all"] = predicted;
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wave2d_cuda: %s\n", e.what());
    return 1;
  }
}
