// The tables of plan_chain's dynamic program, filled a memory plane at a time.
#include "chain_tables.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace cairn::detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

std::size_t at(std::int64_t i) {
  return static_cast<std::size_t>(i);
}

// W(s, k): the most the forward sweep s..k - 1 (no tapes, keeping in(s) and only the newest
// output) holds beside in(s) and g(t): compute(s) adds a_s, compute(j) adds a_j to a_{j-1}.
// Returns W(s, k) for k = s + 1 .. L - 1 in sweep[k].
void sweep_peaks(const ChainUnits& chain, std::int64_t s, std::vector<std::int64_t>& sweep) {
  const std::int64_t L = chain.size();
  std::int64_t w = chain.output[at(s)];
  for (std::int64_t k = s + 1; k < L; ++k) {
    if (k - 1 > s) w = std::max(w, chain.output[at(k - 2)] + chain.output[at(k - 1)]);
    sweep[at(k)] = w;
  }
}

}  // namespace

std::int64_t ChainUnits::single_need(std::int64_t t) const noexcept {
  const std::int64_t in = input(t), a = output[at(t)], tp = tape[at(t)];
  if (t + 1 == size()) return 2 * in + 2 * a + tp;
  return std::max(in + 2 * a + tp, 2 * in + a + tp);
}

std::int64_t ChainUnits::record_need(std::int64_t s) const noexcept {
  return 2 * input(s) + tape[at(s)] + output[at(s)];
}

std::int64_t least_memory(const ChainUnits& chain) {
  const std::int64_t L = chain.size();
  // need[s * L + t], filled by end, then start from the right (the order of the value tables).
  std::vector<std::int64_t> need(at(L * L), 0), sweep(at(L), 0);
  std::vector<std::vector<std::int64_t>> sweeps(at(L));
  for (std::int64_t s = 0; s < L; ++s) {
    sweeps[at(s)].assign(at(L), 0);
    sweep_peaks(chain, s, sweeps[at(s)]);
  }
  for (std::int64_t t = 0; t < L; ++t) {
    const std::int64_t g = chain.gradient(t);
    for (std::int64_t s = t; s >= 0; --s) {
      std::int64_t best = 0;
      if (s == t) {
        best = chain.single_need(t);
      } else {
        const std::int64_t in = chain.input(s);
        best = std::max(chain.record_need(s), in + chain.tape[at(s)] + need[at((s + 1) * L + t)]);
        for (std::int64_t k = s + 1; k <= t; ++k) {
          const std::int64_t n = std::max(
              {in + g + sweeps[at(s)][at(k)], in + need[at(k * L + t)], need[at(s * L + k - 1)]});
          best = std::min(best, n);
        }
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
    need = std::max(chain.record_need(s), chain.input(s) + chain.tape[at(s)] + need);
  }
  return need;
}

ChainTables::ChainTables(const ChainUnits& chain, std::int64_t memory, std::size_t max_bytes,
                         bool bounded)
    : chain_(chain), length_(chain.size()), memory_(memory), bounded_(bounded) {
  const std::size_t L = at(length_);
  if (L > 65535) {
    throw std::length_error("plan_chain: " + std::to_string(L) +
                            " layers; the planner handles at most 65535 (its tables grow as L^2)");
  }
  segments_ = L * (L + 1) / 2;
  std::int64_t lookback = 0;
  for (std::int64_t s = 0; s < length_; ++s) {
    lookback = std::max(lookback, chain.input(s) + chain.tape[at(s)]);
  }
  ring_ = std::min(at(lookback) + 1, at(memory_) + 1);
  const std::size_t planes = at(memory_) + 1;
  const double bytes =
      static_cast<double>(segments_) * static_cast<double>(planes) * 2.0 +
      static_cast<double>(segments_) * static_cast<double>(ring_) * (bounded_ ? 8.0 : 16.0) +
      static_cast<double>(segments_) * 4.0 +
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
  split_.assign(2 * segments_, -1);
}

void ChainTables::fill() {
  for (std::int64_t m = 0; m <= memory_; ++m) fill_plane(m);
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
  std::int32_t* const split = split_.data() + (at(m) % 2) * segments_;
  const std::int32_t* const previous_split = split_.data() + (at(m + 1) % 2) * segments_;
  const auto& f = chain_.forward;
  const auto& b = chain_.backward;
  for (std::int64_t s = L - 1; s >= 0; --s) {
    const std::int64_t in = chain_.input(s), tp = chain_.tape[at(s)];
    const std::size_t here = row_start_[at(s)];  // row[here + t - s] = Opt(s, t, m)
    const std::size_t next = row_start_[at(s + 1)];
    const double* const record_row = m - in - tp >= 0 ? by_row(m - in - tp) : nullptr;
    const double* const right_plane = m - in >= 0 ? by_row(m - in) : nullptr;
    const double* const right_columns = bounded_ || m - in < 0 ? nullptr : by_column(m - in);
    const bool record_fits = m >= chain_.record_need(s) && record_row != nullptr;
    const double record_cost = f[at(s)] + b[at(s)];
    const double base = -prefix_[at(s)];
    const std::int32_t* const farthest = farthest_.data() + at(s) * planes;
    for (std::int64_t t = s; t < L; ++t) {
      double best = infinity;
      std::uint16_t code = 0;
      std::int32_t best_split = -1;
      if (s == t) {
        if (m >= chain_.single_need(t)) best = f[at(t)] + b[at(t)];
      } else {
        const std::int64_t w = m - in - chain_.gradient(t);
        if (w >= 0) {
          const std::int64_t cap = std::min<std::int64_t>(t, farthest[w]);
          if (cap > s) {
            std::int64_t best_k = -1;
            if (bounded_) {
              std::int64_t lo = t - 1 > s ? split[here + at(t - 1 - s)] : s + 1;
              std::int64_t hi = s + 1 < t ? split[next + at(t - s - 1)] : t;
              // The split of the same segment one unit of memory lower widens the range; a
              // neighbour without a split (no sweep of it fits) bounds nothing.
              const std::int32_t below = previous_split[here + at(t - s)];
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
              const auto consider = [&](std::int64_t k) {
                const double c = base + prefix_[at(k)] +
                                 right_plane[row_start_[at(k)] + at(t - k)] +
                                 row[here + at(k - 1 - s)];
                if (c < best) {
                  best = c;
                  best_k = k;
                }
              };
              for (std::int64_t k = lo; k <= hi; ++k) consider(k);
              if (hi < cap) consider(cap);  // the longest sweep: the least memory
            } else {
              const double* const right = right_columns + column_start_[at(t)];
              const double* const left = row + here;  // left[k - s - 1] = Opt(s, k - 1, m)
              for (std::int64_t k = s + 1; k <= cap; ++k) {
                const double c = base + prefix_[at(k)] + right[k] + left[k - s - 1];
                if (c < best) {
                  best = c;
                  best_k = k;
                }
              }
            }
            if (best_k >= 0) {
              best_split = static_cast<std::int32_t>(best_k);
              code = static_cast<std::uint16_t>(best_k - s);
            }
          }
        }
        if (record_fits) {
          const double c = record_cost + record_row[next + at(t - s - 1)];
          if (c < best) {
            best = c;
            code = 0;
          }
        }
      }
      const std::size_t r = here + at(t - s);
      row[r] = best;
      if (column != nullptr) column[column_index(s, t)] = best;
      decision[r] = code;
      split[r] = best_split;
    }
  }
}

}  // namespace cairn::detail
