// The tables of plan_chain's dynamic program, filled a memory plane at a time.
#include "chain_tables.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace cairn::detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

std::size_t at(std::int64_t i) {
  return static_cast<std::size_t>(i);
}

// W(s, k): the most the forward sweep s..k - 1 (no tapes, keeping in(s) and only the newest
// output) holds beside in(s) and g(t): compute(s) adds a_s, compute(j) adds a_j to a_{j-1}, each
// with its compute workspace. Returns W(s, k) for k = s + 1 .. L - 1 in sweep[k].
void sweep_peaks(const ChainUnits& chain, std::int64_t s, std::vector<std::int64_t>& sweep) {
  const std::int64_t L = chain.size();
  std::int64_t w = chain.sweep_step(s, s);
  for (std::int64_t k = s + 1; k < L; ++k) {
    if (k - 1 > s) w = std::max(w, chain.sweep_step(s, k - 1));
    sweep[at(k)] = w;
  }
}

}  // namespace

// Four splits at a time in GCC's vector types: with AVX2 where the processor has it (a
// clone chosen at load time), else in SSE2 registers. The lanes' minima are exact, so their order
// does not matter; the first block reaching the least is then searched one split at a time.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)  // clones need ifunc
__attribute__((target_clones("avx2", "default")))
#endif
LeastSplit
least_cost_split(double base, const double* prefix, const double* right, const double* left,
                 std::int64_t lo, std::int64_t hi) {
  const auto cost = [&](std::int64_t k) { return base + prefix[k] + right[k] + left[k - lo]; };
  double least = infinity;
  std::int64_t k = lo;
#if defined(__GNUC__)
  using Lanes = double __attribute__((vector_size(32)));
  const Lanes first = {base, base, base, base};
  const auto costs = [&](std::int64_t from, Lanes& c) {
    Lanes p, r, l;  // copied in: the arrays need not be aligned
    std::memcpy(&p, prefix + from, sizeof p);
    std::memcpy(&r, right + from, sizeof r);
    std::memcpy(&l, left + (from - lo), sizeof l);
    c = first + p + r + l;
  };
  Lanes low = {infinity, infinity, infinity, infinity}, c;
  for (; k + 3 <= hi; k += 4) {
    costs(k, c);
    low = c < low ? c : low;
  }
  least = std::min(std::min(low[0], low[1]), std::min(low[2], low[3]));
#endif
  for (std::int64_t tail = k; tail <= hi; ++tail) least = std::min(least, cost(tail));
  if (least == infinity) return {};
  std::int64_t best = lo;
#if defined(__GNUC__)
  // The first block of four that holds the least, found four at a time, then searched.
  const Lanes target = {least, least, least, least};
  for (; best + 3 <= hi; best += 4) {
    costs(best, c);
    const auto hit = c == target;
    if ((hit[0] | hit[1]) | (hit[2] | hit[3])) break;
  }
#endif
  while (best < hi && cost(best) != least) ++best;
  return {best, least};
}

std::int64_t ChainUnits::single_need(std::int64_t t) const noexcept {
  const std::int64_t in = input(t), a = output[at(t)], tp = tape[at(t)];
  const std::int64_t fw = record_workspace[at(t)], bw = backward_workspace[at(t)];
  // record (with g(t) held but for the last node), then backward (the last node's own gradient
  // buffer appears there).
  if (t + 1 == size()) return std::max(in + a + tp + fw, 2 * in + 2 * a + tp + bw);
  // A tape that keeps the output keeps it through the backward (freed after it).
  return std::max(in + 2 * a + tp + fw, 2 * in + a + tp + bw + holds_output[at(t)] * a);
}

std::int64_t ChainUnits::record_need(std::int64_t s) const noexcept {
  return 2 * input(s) + tape[at(s)] + output[at(s)] * (1 + holds_output[at(s)]) +
         backward_workspace[at(s)];
}

std::int64_t least_memory(const ChainUnits& chain, std::size_t max_bytes) {
  const std::int64_t L = chain.size();
  const double bytes = static_cast<double>(L) * static_cast<double>(L) * 8.0;
  if (bytes > static_cast<double>(max_bytes)) {
    throw std::length_error(
        "chain_min_budget: its table for " + std::to_string(L) + " layers would take " +
        std::to_string(static_cast<unsigned long long>(bytes)) + " bytes, more than the " +
        std::to_string(max_bytes) + " allowed (max_table_bytes)");
  }
  // need[s * L + t], filled by start from the right, then end (the order of the value tables).
  std::vector<std::int64_t> need(at(L * L), 0);
  for (std::int64_t s = L - 1; s >= 0; --s) {
    const std::int64_t in = chain.input(s);
    for (std::int64_t t = s; t < L; ++t) {
      if (s == t) {
        need[at(s * L + t)] = chain.single_need(t);
        continue;
      }
      const std::int64_t g = chain.gradient(t), kept = chain.kept_gradient(t);
      std::int64_t best = std::max({chain.record_need(s) + kept, chain.record_peak(s, t),
                                    in + chain.tape[at(s)] + need[at((s + 1) * L + t)]});
      std::int64_t sweep = chain.sweep_step(s, s);  // W(s, k), grown with k
      for (std::int64_t k = s + 1; k <= t; ++k) {
        if (k - 1 > s) sweep = std::max(sweep, chain.sweep_step(s, k - 1));
        const std::int64_t n =
            std::max({in + g + sweep, in + need[at(k * L + t)], need[at(s * L + k - 1)] + kept});
        best = std::min(best, n);
      }
      need[at(s * L + t)] = best;
    }
  }
  return need[at(L - 1)];
}

std::int64_t store_all_memory(const ChainUnits& chain) {
  const std::int64_t L = chain.size();
  std::int64_t need = chain.single_need(L - 1);
  for (std::int64_t s = L - 2; s >= 0; --s) {
    need = std::max({chain.record_need(s) + chain.held_gradient, chain.record_peak(s, L - 1),
                     chain.input(s) + chain.tape[at(s)] + need});
  }
  return need;
}

ChainTables::ChainTables(const ChainUnits& chain, std::int64_t memory, std::size_t max_bytes,
                         bool bounded, unsigned threads)
    : chain_(chain), length_(chain.size()), memory_(memory), bounded_(bounded) {
  const std::size_t L = at(length_);
  if (L > 65535) {
    throw std::length_error("plan_chain: " + std::to_string(L) +
                            " layers; the planner handles at most 65535 (its tables grow as L^2)");
  }
  segments_ = L * (L + 1) / 2;
  const std::size_t planes = at(memory_) + 1;
  if (threads == 0) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    threads = L >= 200 ? std::min(cores, 4u) : 1u;
  }
  threads_ = static_cast<unsigned>(std::min<std::size_t>(threads, planes));
  // A plane reads the planes up to `lookback` below it; each further thread fills one more.
  std::int64_t lookback = chain.held_gradient;  // the left parts of segments ending at L - 1
  for (std::int64_t s = 0; s < length_; ++s) {
    lookback = std::max(lookback, chain.input(s) + chain.tape[at(s)]);
  }
  ring_ = std::min(at(lookback) + threads_, planes);
  const double bytes =
      static_cast<double>(segments_) * static_cast<double>(planes) * 2.0 +
      static_cast<double>(segments_) * static_cast<double>(ring_) * (bounded_ ? 8.0 : 16.0) +
      static_cast<double>(segments_) * (threads_ + 1.0) * 4.0 +
      static_cast<double>(L) * static_cast<double>(planes) * 4.0;
  if (bytes > static_cast<double>(max_bytes)) {
    throw std::length_error(
        "plan_chain: the planning tables for " + std::to_string(L) + " layers and " +
        std::to_string(memory_) + " memory units would take " +
        std::to_string(static_cast<unsigned long long>(bytes)) + " bytes, more than the " +
        std::to_string(max_bytes) +
        " allowed (max_table_bytes); use a coarser memory_unit, a smaller budget or a larger "
        "max_table_bytes");
  }
  bytes_ = static_cast<std::size_t>(bytes);
  row_start_.assign(L + 1, 0);
  column_start_.assign(L + 1, 0);
  for (std::size_t i = 1; i <= L; ++i) {
    row_start_[i] = row_start_[i - 1] + (L - (i - 1));
    column_start_[i] = column_start_[i - 1] + i;
  }
  prefix_.assign(L + 1, 0.0);
  for (std::size_t i = 0; i < L; ++i) prefix_[i + 1] = prefix_[i] + chain.forward[i];
  farthest_.assign(L * planes, 0);
  std::vector<std::int64_t> sweep(L, 0);
  for (std::int64_t s = 0; s < length_; ++s) {
    sweep_peaks(chain, s, sweep);
    std::int64_t k = s;  // the farthest so far; W is nondecreasing in k
    for (std::int64_t w = 0; w <= memory_; ++w) {
      while (k + 1 < length_ && sweep[at(k + 1)] <= w) ++k;
      farthest_[at(s) * planes + at(w)] = static_cast<std::int32_t>(k);
    }
  }
  decisions_.reset(new std::uint16_t[segments_ * planes]);
  by_row_.reset(new double[segments_ * ring_]);
  if (!bounded_) by_column_.reset(new double[segments_ * ring_]);
  split_.reset(new std::int32_t[segments_ * (threads_ + 1)]);
  done_.reset(new std::atomic<std::int64_t>[planes]);
  for (std::size_t m = 0; m < planes; ++m) done_[m].store(0, std::memory_order_relaxed);
}

// Threads take the next plane in turn. Row s of plane m reads rows s + 1 on of planes below it
// (of itself only for s = 0 when in(0), or in(0) + tape(0), is 0: rows already written), its own
// row s, and row s of plane m - 1's splits: it waits for row s of plane m - 1, which waited for
// row s of m - 2, and so on down. Plane m starts once plane m - threads is complete: then every
// plane that reads the ring slots plane m takes (the values of m - ring_, the splits of
// m - threads - 1) is complete too.
void ChainTables::fill() {
  std::atomic<std::int64_t> next{0};
  const auto work = [this, &next] {
    for (std::int64_t m = next++; m <= memory_; m = next++) {
      if (m >= static_cast<std::int64_t>(threads_)) {
        while (done_[at(m - threads_)].load(std::memory_order_acquire) < length_) {
          std::this_thread::yield();
        }
      }
      fill_plane(m);
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (unsigned i = 1; i < threads_; ++i) helpers.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads to be had: those started and this one fill every plane all the same.
  }
  work();
  for (std::thread& helper : helpers) helper.join();
}

double ChainTables::optimum() const {
  return by_row_[ring(memory_) * segments_ + row_index(0, length_ - 1)];
}

// Plane m: segments by start s from the right, then end t, so that every value read is final:
// the left part (s, k - 1) ends earlier on the same start, the right part (k, t) and option (a)'s
// (s + 1, t) start later (on plane m itself only when in(s), or in(s) + tape(s), is 0). Values,
// decisions and splits are kept by row (start): the bounded search then reads the left part, the
// right part (row k, where k moves slowly with t), option (a)'s part and both bounds almost
// contiguously. The full search reads the right parts (k, t) over k, a column: it keeps the
// values by column too.
void ChainTables::fill_plane(std::int64_t m) {
  const std::int64_t L = length_;
  const std::size_t planes = at(memory_) + 1;
  double* const row = by_row(m);
  double* const column = bounded_ ? nullptr : by_column(m);
  std::uint16_t* const decision = decisions_.get() + at(m) * segments_;
  std::int32_t* const split = splits(m);
  const std::int32_t* const previous_split = m > 0 ? splits(m - 1) : nullptr;
  const auto& f = chain_.forward;
  const auto& b = chain_.backward;
  for (std::int64_t s = L - 1; s >= 0; --s) {
    if (m > 0 && threads_ > 1) {
      while (done_[at(m - 1)].load(std::memory_order_acquire) < L - s) std::this_thread::yield();
    }
    const std::int64_t in = chain_.input(s), tp = chain_.tape[at(s)];
    const std::size_t here = row_start_[at(s)];  // row[here + t - s] = Opt(s, t, m)
    const std::size_t next = row_start_[at(s + 1)];
    const double* const record_row = m - in - tp >= 0 ? by_row(m - in - tp) : nullptr;
    const double* const right_plane = m - in >= 0 ? by_row(m - in) : nullptr;
    const double* const right_columns = bounded_ || m - in < 0 ? nullptr : by_column(m - in);
    // Segments ending at the last node: their left parts and option (a)'s backward(s) come
    // after that node's backward, beside the output gradient the caller may keep.
    const std::int64_t kept = chain_.held_gradient;
    const double* const top_left = m >= kept ? by_row(m - kept) : nullptr;
    const bool record_fits = m >= chain_.record_need(s) && record_row != nullptr;
    const bool top_record_fits = record_fits && m >= chain_.record_need(s) + kept;
    const double record_cost = f[at(s)] + b[at(s)];
    const double base = -prefix_[at(s)];
    const std::int32_t* const farthest = farthest_.data() + at(s) * planes;
    for (std::int64_t t = s; t < L; ++t) {
      double best = infinity;
      std::uint16_t code = 0;
      std::int32_t best_split = -1;
      const bool top = t + 1 == L;
      // left_row[here + k - 1 - s] = the left part Opt(s, k - 1, m - kept_gradient(t)).
      const double* const left_row = top ? top_left : row;
      // The full search's split arrays, for the observer (null: no split was searched).
      const double* searched_right = nullptr;
      const double* searched_left = nullptr;
      std::int64_t searched_hi = s;
      if (s == t) {
        if (m >= chain_.single_need(t)) best = f[at(t)] + b[at(t)];
      } else {
        const std::int64_t w = m - in - chain_.gradient(t);
        if (w >= 0 && left_row != nullptr) {
          const std::int64_t cap = std::min<std::int64_t>(t, farthest[w]);
          if (cap > s) {
            std::int64_t best_k = -1;
            if (bounded_) {
              std::int64_t lo = t - 1 > s ? split[here + at(t - 1 - s)] : s + 1;
              std::int64_t hi = s + 1 < t ? split[next + at(t - s - 1)] : t;
              // The split of the same segment one unit of memory lower widens the range; a
              // neighbour without a split (no sweep of it fits) bounds nothing.
              const std::int32_t below =
                  previous_split != nullptr ? previous_split[here + at(t - s)] : -1;
              if (lo < 0) lo = hi;
              if (hi < 0) hi = lo;
              if (lo > hi) std::swap(lo, hi);
              if (below >= 0) {
                if (lo < 0) lo = hi = below;
                lo = std::min<std::int64_t>(lo, below);
                hi = std::max<std::int64_t>(hi, below);
              }
              if (lo < 0) lo = hi = cap;
              lo = std::max(lo, s + 1);
              hi = std::min(hi, cap);
              // right: Opt(k, t, m - in(s)).
              const auto consider = [&](std::int64_t k, double right) {
                const double c = base + prefix_[at(k)] + right + left_row[here + at(k - 1 - s)];
                if (c < best) {
                  best = c;
                  best_k = k;
                }
              };
              const auto right_part = [&](std::int64_t k) {
                return right_plane[row_start_[at(k)] + at(t - k)];
              };
              for (std::int64_t k = lo; k <= hi; ++k) consider(k, right_part(k));
              if (hi < cap) {  // the longest sweep: the least memory
                // cap = t where the sweep fits to the end (most segments, budgets not tight):
                // Opt(t, t, m - in) is f_t + b_t where node t fits, computed rather than read
                // from row t of another plane, a new cache line for every t.
                consider(cap, cap < t                           ? right_part(cap)
                              : m - in >= chain_.single_need(t) ? f[at(t)] + b[at(t)]
                                                                : infinity);
              }
            } else {
              // Split k: the right part right[k], the left part left[k - s - 1].
              const double* const right = right_columns + column_start_[at(t)];
              const double* const left = left_row + here;
              const LeastSplit least =
                  least_cost_split(base, prefix_.data(), right, left, s + 1, cap);
              searched_right = right;
              searched_left = left;
              searched_hi = cap;
              best_k = least.split;
              best = least.cost;
            }
            if (best_k >= 0) {
              best_split = static_cast<std::int32_t>(best_k);
              code = static_cast<std::uint16_t>(best_k - s);
            }
          }
        }
        if ((top ? top_record_fits : record_fits) && m >= chain_.record_peak(s, t)) {
          const double c = record_cost + record_row[next + at(t - s - 1)];
          if (c < best) {
            best = c;
            code = 0;
          }
        }
      }
      if (observer_ && searched_right != nullptr) {
        observer_(SplitCosts{s, t, m, best, base, prefix_.data(), searched_right, searched_left,
                             s + 1, searched_hi});
      }
      const std::size_t r = here + at(t - s);
      row[r] = best;
      if (column != nullptr) column[column_index(s, t)] = best;
      decision[r] = code;
      split[r] = best_split;
    }
    done_[at(m)].store(L - s, std::memory_order_release);
  }
}

}  // namespace cairn::detail
