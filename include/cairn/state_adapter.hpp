// How a state is copied into and out of checkpoint storage.
#pragma once

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cairn/storage.hpp"

namespace cairn {

/// Tells Cairn how to checkpoint a state of type `State`: its size in bytes and how to copy it
/// out to and in from raw memory. Provided for
///  - std::vector<T> and std::array<T, N> of trivially copyable T (e.g. std::vector<double>);
///  - any trivially copyable type (a plain struct of numbers).
/// For other types, specialise it in namespace cairn:
///
///     struct Fields { std::vector<double> u, v; };
///     template <> struct cairn::StateAdapter<Fields> {
///       static std::size_t bytes(const Fields& f) { return (f.u.size() + f.v.size()) * 8; }
///       static void copy_out(const Fields& f, void* out) {
///         std::memcpy(out, f.u.data(), f.u.size() * 8);
///         std::memcpy(static_cast<char*>(out) + f.u.size() * 8, f.v.data(), f.v.size() * 8);
///       }
///       static void copy_in(Fields& f, const void* in, std::size_t bytes) {
///         // f already has its sizes (the driver's working copy of x_0); check, then copy
///         ...
///       }
///     };
///
/// copy_in receives the byte count that copy_out wrote and must throw if it cannot hold it;
/// neither may allocate if the reverse sweep is to stay allocation-free.
///
/// An adapter may also offer the state as one block of memory, which lets a file level write
/// from it and read into it directly (no staging copy):
///
///     static const void* contiguous(const State& x);              // its bytes(x) bytes, or null
///     static void* contiguous_for(State& x, std::size_t bytes);  // throws like copy_in, or null
///
/// The adapters below for std::vector, std::array and trivially copyable types do.
///
/// A state in GPU memory (cairn::cuda::DeviceBuffer, cairn/cuda/device_buffer.hpp) offers its
/// device block and stream instead, which device levels copy on that stream (StateWriter's and
/// StateReader's device fields); copy_out and copy_in then copy to and from the host and wait:
///
///     static const void* device_contiguous(const State& x);         // its device block
///     static void* device_block(State& x, std::size_t bytes);       // throws like copy_in
///     static void* device_stream(const State& x);                   // a cudaStream_t
template <typename State, typename Enable = void>
struct StateAdapter {
  static_assert(sizeof(State) == 0,
                "cairn::StateAdapter<State> is not defined for this type: use std::vector<T> or "
                "std::array<T, N> of trivially copyable T, a trivially copyable State, or "
                "specialise cairn::StateAdapter<State> (see cairn/state_adapter.hpp)");
};

namespace detail {
[[noreturn]] inline void state_size_mismatch(std::size_t have, std::size_t got) {
  throw std::invalid_argument("cairn: a checkpoint of " + std::to_string(got) +
                              " bytes cannot be restored into a state of " + std::to_string(have) +
                              " bytes; every state of one run must have the same size");
}
}  // namespace detail

template <typename T, typename Allocator>
struct StateAdapter<std::vector<T, Allocator>, std::enable_if_t<std::is_trivially_copyable_v<T>>> {
  static std::size_t bytes(const std::vector<T, Allocator>& x) noexcept {
    return x.size() * sizeof(T);
  }
  static void copy_out(const std::vector<T, Allocator>& x, void* out) noexcept {
    if (!x.empty()) std::memcpy(out, x.data(), bytes(x));
  }
  static void copy_in(std::vector<T, Allocator>& x, const void* in, std::size_t count) {
    if (count != bytes(x)) detail::state_size_mismatch(bytes(x), count);
    if (count != 0) std::memcpy(x.data(), in, count);
  }
  static const void* contiguous(const std::vector<T, Allocator>& x) noexcept { return x.data(); }
  static void* contiguous_for(std::vector<T, Allocator>& x, std::size_t count) {
    if (count != bytes(x)) detail::state_size_mismatch(bytes(x), count);
    return x.data();
  }
};

template <typename State>
struct StateAdapter<State, std::enable_if_t<std::is_trivially_copyable_v<State>>> {
  static constexpr std::size_t bytes(const State&) noexcept { return sizeof(State); }
  static void copy_out(const State& x, void* out) noexcept { std::memcpy(out, &x, sizeof(State)); }
  static void copy_in(State& x, const void* in, std::size_t count) {
    if (count != sizeof(State)) detail::state_size_mismatch(sizeof(State), count);
    std::memcpy(&x, in, sizeof(State));
  }
  static const void* contiguous(const State& x) noexcept { return &x; }
  static void* contiguous_for(State& x, std::size_t count) {
    if (count != sizeof(State)) detail::state_size_mismatch(sizeof(State), count);
    return &x;
  }
};

namespace detail {
template <typename Adapter, typename State, typename = void>
struct has_contiguous : std::false_type {};
template <typename Adapter, typename State>
struct has_contiguous<Adapter, State,
                      std::void_t<decltype(Adapter::contiguous(std::declval<const State&>()))>>
    : std::true_type {};
template <typename Adapter, typename State, typename = void>
struct has_contiguous_for : std::false_type {};
template <typename Adapter, typename State>
struct has_contiguous_for<
    Adapter, State,
    std::void_t<decltype(Adapter::contiguous_for(std::declval<State&>(), std::size_t{}))>>
    : std::true_type {};
template <typename Adapter, typename State, typename = void>
struct has_device_block : std::false_type {};
template <typename Adapter, typename State>
struct has_device_block<
    Adapter, State,
    std::void_t<decltype(Adapter::device_contiguous(std::declval<const State&>())),
                decltype(Adapter::device_block(std::declval<State&>(), std::size_t{})),
                decltype(Adapter::device_stream(std::declval<const State&>()))>> : std::true_type {
};
}  // namespace detail

/// Whether `Adapter` offers a State as a block of GPU memory on a stream (see StateAdapter).
template <typename State, typename Adapter = StateAdapter<State>>
inline constexpr bool is_device_state = detail::has_device_block<Adapter, State>::value;

/// Whether `Adapter` offers a State as one block of memory (see StateAdapter).
template <typename State, typename Adapter = StateAdapter<State>>
inline constexpr bool is_contiguous_state = detail::has_contiguous<Adapter, State>::value;

/// A StateWriter that copies `state` out through its adapter. `state` must outlive the writer.
template <typename State, typename Adapter = StateAdapter<State>>
StateWriter writer_for(const State& state) {
  const void* block = nullptr;
  if constexpr (is_contiguous_state<State, Adapter>) block = Adapter::contiguous(state);
  StateWriter writer{[](const void* context, void* destination) {
                       Adapter::copy_out(*static_cast<const State*>(context), destination);
                     },
                     &state, Adapter::bytes(state), block};
  if constexpr (is_device_state<State, Adapter>) {
    writer.device_contiguous = Adapter::device_contiguous(state);
    writer.device_stream = Adapter::device_stream(state);
  }
  return writer;
}

/// For a StateReader whose context points at a State that is scratch until the restore returns:
/// the StateReader::scratch_block function of its adapter, or null if it has no contiguous_for.
template <typename State, typename Adapter = StateAdapter<State>>
constexpr auto scratch_block_function() noexcept -> void* (*)(void*, std::size_t) {
  if constexpr (detail::has_contiguous_for<Adapter, State>::value) {
    return [](void* context, std::size_t bytes) -> void* {
      return Adapter::contiguous_for(*static_cast<State*>(context), bytes);
    };
  } else {
    return nullptr;
  }
}

/// A StateReader that copies a checkpoint into `state` through its adapter. The state is touched
/// only with a verified checkpoint (scratch_block is null).
/// (A device state also gets its device block and stream, see StateReader::device_block.)
template <typename State, typename Adapter = StateAdapter<State>>
StateReader reader_for(State& state) {
  StateReader reader{[](void* context, const void* source, std::size_t bytes) {
                       Adapter::copy_in(*static_cast<State*>(context), source, bytes);
                     },
                     &state};
  if constexpr (is_device_state<State, Adapter>) {
    reader.device_block = [](void* context, std::size_t bytes) -> void* {
      return Adapter::device_block(*static_cast<State*>(context), bytes);
    };
    reader.device_stream = Adapter::device_stream(state);
  }
  return reader;
}

}  // namespace cairn
