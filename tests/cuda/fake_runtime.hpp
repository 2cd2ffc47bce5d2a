// A recording fake of the CUDA runtime (src/cuda/runtime.hpp) for the host-side tests: "device"
// and "pinned" memory are host memory, copies run at once, and every call is logged with
// symbolic names (allocations dev0, host0, ...; streams and events as the test labels them), so
// that a test can assert the exact sequence of operations a store, restore or prefetch makes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/runtime.hpp"

namespace cairn_test {

class FakeRuntime final : public cairn::cuda::detail::Runtime {
 public:
  ~FakeRuntime() override {
    for (auto& [base, allocation] : allocations_) std::free(base);
  }

  // ---- what the tests control and inspect ----
  std::vector<std::string> log;
  int fail_malloc_at = -1;  // the n-th malloc (device or host, from 0) fails with out of memory
  int fail_copy_at = -1;    // the n-th copy (from 0) fails
  int fail_event_create_at = -1;
  int mallocs = 0;
  int copies = 0;
  int events_created = 0;

  /// A stream of the user's, shown as `name` in the log.
  cudaStream_t user_stream(const std::string& name) {
    tokens_.push_back(std::make_unique<char>());
    auto stream = reinterpret_cast<cudaStream_t>(tokens_.back().get());
    names_[stream] = name;
    return stream;
  }
  /// Names the events in creation order (events not named show as e<k>), and streams created.
  void name_events(const std::vector<std::string>& names) { event_names_ = names; }
  void name_streams(const std::vector<std::string>& names) { stream_names_ = names; }
  /// Names an allocation (by its base) in the log.
  void name_memory(const void* base, const std::string& name) {
    allocations_.at(const_cast<void*>(base)).name = name;
  }
  std::size_t live_allocations() const { return allocations_.size(); }
  int live_streams() const { return live_streams_; }
  int live_events() const { return live_events_; }
  /// The log since the last call, then cleared.
  std::vector<std::string> take_log() {
    std::vector<std::string> out;
    out.swap(log);
    return out;
  }

  // ---- the Runtime ----
  cudaError_t malloc_device(void** pointer, std::size_t bytes) override {
    return allocate(pointer, bytes, "dev", "cudaMalloc");
  }
  cudaError_t malloc_host(void** pointer, std::size_t bytes) override {
    return allocate(pointer, bytes, "host", "cudaMallocHost");
  }
  cudaError_t free_device(void* pointer) override { return release(pointer, "cudaFree"); }
  cudaError_t free_host(void* pointer) override { return release(pointer, "cudaFreeHost"); }

  cudaError_t memcpy_async(void* destination, const void* source, std::size_t bytes,
                           cudaMemcpyKind kind, cudaStream_t stream) override {
    const char* kinds[] = {"H2H", "H2D", "D2H", "D2D", "default"};
    const bool device_source = kind == cudaMemcpyDeviceToDevice || kind == cudaMemcpyDeviceToHost;
    const bool device_destination =
        kind == cudaMemcpyDeviceToDevice || kind == cudaMemcpyHostToDevice;
    std::string line = std::string("copy ") + kinds[kind] + " " +
                       where(destination, bytes, device_destination) + " <- " +
                       where(source, bytes, device_source) + " " + std::to_string(bytes) + " on " +
                       name(stream);
    log.push_back(line);
    if (copies++ == fail_copy_at) {
      last_error_ = cudaErrorInvalidValue;
      return cudaErrorInvalidValue;
    }
    std::memcpy(destination, source, bytes);
    return cudaSuccess;
  }
  cudaError_t stream_create(cudaStream_t* stream) override {
    tokens_.push_back(std::make_unique<char>());
    *stream = reinterpret_cast<cudaStream_t>(tokens_.back().get());
    const std::size_t k = created_streams_++;
    names_[*stream] = k < stream_names_.size() ? stream_names_[k] : "s" + std::to_string(k);
    ++live_streams_;
    log.push_back("stream_create " + name(*stream));
    return cudaSuccess;
  }
  cudaError_t stream_destroy(cudaStream_t stream) override {
    --live_streams_;
    log.push_back("stream_destroy " + name(stream));
    return cudaSuccess;
  }
  cudaError_t stream_synchronize(cudaStream_t stream) override {
    log.push_back("sync " + name(stream));
    return cudaSuccess;
  }
  cudaError_t stream_wait_event(cudaStream_t stream, cudaEvent_t event) override {
    log.push_back("wait " + name(stream) + " on " + name(event));
    return cudaSuccess;
  }
  cudaError_t event_create(cudaEvent_t* event) override {
    if (events_created == fail_event_create_at) {
      ++events_created;
      return cudaErrorMemoryAllocation;
    }
    tokens_.push_back(std::make_unique<char>());
    *event = reinterpret_cast<cudaEvent_t>(tokens_.back().get());
    const auto k = static_cast<std::size_t>(events_created++);
    names_[*event] = k < event_names_.size() ? event_names_[k] : "e" + std::to_string(k);
    ++live_events_;
    log.push_back("event_create " + name(*event));
    return cudaSuccess;
  }
  cudaError_t event_destroy(cudaEvent_t event) override {
    --live_events_;
    log.push_back("event_destroy " + name(event));
    return cudaSuccess;
  }
  cudaError_t event_record(cudaEvent_t event, cudaStream_t stream) override {
    log.push_back("record " + name(event) + " on " + name(stream));
    return cudaSuccess;
  }
  void clear_error() override { last_error_ = cudaSuccess; }
  const char* error_string(cudaError_t error) override { return cudaGetErrorString(error); }

 private:
  struct Allocation {
    std::size_t bytes;
    std::string name;
    bool device;
  };

  cudaError_t allocate(void** pointer, std::size_t bytes, const char* prefix, const char* call) {
    if (mallocs++ == fail_malloc_at) {
      log.push_back(std::string(call) + " " + std::to_string(bytes) + " fails");
      last_error_ = cudaErrorMemoryAllocation;
      return cudaErrorMemoryAllocation;
    }
    void* base = std::malloc(bytes == 0 ? 1 : bytes);
    if (base == nullptr) return cudaErrorMemoryAllocation;
    const std::string label = prefix + std::to_string(counter_[prefix]++);
    allocations_[base] = Allocation{bytes, label, prefix == std::string("dev")};
    log.push_back(std::string(call) + " " + label + " " + std::to_string(bytes));
    *pointer = base;
    return cudaSuccess;
  }
  cudaError_t release(void* pointer, const char* call) {
    auto it = allocations_.find(pointer);
    if (it == allocations_.end()) throw std::logic_error(std::string(call) + " of unknown memory");
    log.push_back(std::string(call) + " " + it->second.name);
    std::free(pointer);
    allocations_.erase(it);
    return cudaSuccess;
  }
  // "name+offset" of memory we allocated (checking the range), "user" for other host memory.
  std::string where(const void* p, std::size_t bytes, bool device) const {
    const auto* c = static_cast<const unsigned char*>(p);
    for (const auto& [base, allocation] : allocations_) {
      const auto* b = static_cast<const unsigned char*>(base);
      if (c >= b && c < b + (allocation.bytes == 0 ? 1 : allocation.bytes)) {
        if (c + bytes > b + allocation.bytes) {
          throw std::logic_error("fake runtime: a copy of " + std::to_string(bytes) +
                                 " bytes overruns " + allocation.name);
        }
        if (allocation.device != device) {
          throw std::logic_error("fake runtime: a copy kind does not match " + allocation.name);
        }
        return allocation.name + "+" + std::to_string(c - b);
      }
    }
    if (device) throw std::logic_error("fake runtime: device memory that was never allocated");
    return "user";
  }
  std::string name(const void* handle) const {
    if (handle == nullptr) return "default";
    auto it = names_.find(handle);
    return it == names_.end() ? "?" : it->second;
  }

  std::map<void*, Allocation> allocations_;
  std::map<std::string, int> counter_;
  std::map<const void*, std::string> names_;
  std::vector<std::unique_ptr<char>> tokens_;
  std::vector<std::string> event_names_;
  std::vector<std::string> stream_names_;
  std::size_t created_streams_ = 0;
  int live_streams_ = 0;
  int live_events_ = 0;
  cudaError_t last_error_ = cudaSuccess;
};

}  // namespace cairn_test
