#include "cairn/heterogeneous.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace cairn {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr std::int32_t no_store = -1;

// The cheapest split of a segment (i, j) among the candidates offered, in the order offered: the
// first of equal costs wins, and a store wins a tie with no store.
struct Choice {
  double best = infinity;
  std::int64_t split = 0;

  void offer(double cost, std::int64_t k) {
    if (cost < best) {
      best = cost;
      split = k;
    }
  }
  // Weighs no store against the best split; returns the split as the tables keep it, k - i, or 0
  // for no store (then `best` is its cost).
  std::uint16_t settle(double no_store_cost, std::int64_t i) {
    if (no_store_cost < best) {
      best = no_store_cost;
      return 0;
    }
    return static_cast<std::uint16_t>(split - i);
  }
};

// Opt(i, j, m) for every segment of two or more steps and every m in [0, M], computed a memory
// plane at a time: plane m needs plane m itself (left parts, shorter segments) and planes m - u
// (right parts after storing a state of u units). Only the last few planes of values are kept;
// the splits are kept for every plane, for the stream, by length, then start ("diagonal-major").
//
// Two ways to fill a plane, each with the value layout its reads want:
//  - bounded (equal sizes): segments by length, values diagonal-major like the splits. A search
//    reads the splits of (i, j - 1) and (i + 1, j), neighbours on the shorter diagonal, and then
//    about two candidates.
//  - full: segments by end, then start from the right. A search reads every (i, k) and every
//    (k, j), so the values are kept twice: by start (a row per i) and by end (a column per j),
//    and both reads are contiguous.
class Tables {
 public:
  Tables(const std::vector<double>& prefix, const std::vector<std::int64_t>& units,
         std::int64_t memory, std::size_t max_bytes, bool bounded)
      : prefix_(prefix),
        units_(units),
        steps_(static_cast<std::int64_t>(units.size())),
        planes_(static_cast<std::size_t>(memory) + 1),
        bounded_(bounded) {
    const auto T = static_cast<std::size_t>(steps_);
    if (T > 65535) {
      throw std::length_error("HeterogeneousRevolve: " + std::to_string(T) +
                              " steps; the planner handles at most 65535 (its tables grow as T^2)");
    }
    segments_ = T >= 2 ? T * (T - 1) / 2 : 0;
    smallest_ = units.empty() ? 1 : units.front();
    for (std::int64_t u : units) {
      largest_ = std::max(largest_, u);
      smallest_ = std::min(smallest_, u);
    }
    // The planes a plane reads are m - u for the sizes u that occur, at most T of them: waiting
    // on or pointing at every u up to largest_ made planning O(M u_max) whatever T.
    sizes_ = units;
    std::sort(sizes_.begin(), sizes_.end());
    sizes_.erase(std::unique(sizes_.begin(), sizes_.end()), sizes_.end());
    // Planes are filled by up to `threads_` threads at once, each a plane behind the other: a plane
    // reads the `largest_` planes before it, so that many plus one per thread are kept.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    threads_ = static_cast<std::size_t>(std::min<std::int64_t>(
        {static_cast<std::int64_t>(std::min(cores, 4u)), memory + 1, T >= 200 ? 4 : 1}));
    ring_ = std::min(static_cast<std::size_t>(largest_) + threads_, planes_);
    // A plane of values holds the one-step segments too (always 0), so searches need no branch.
    plane_size_ = segments_ + T;
    const std::size_t layouts = bounded_ ? 1 : 2;
    const double bytes =
        static_cast<double>(segments_) * static_cast<double>(planes_) * sizeof(std::uint16_t) +
        static_cast<double>(plane_size_ * layouts) * static_cast<double>(ring_) * sizeof(double);
    if (bytes > static_cast<double>(max_bytes)) {
      throw std::length_error(
          "HeterogeneousRevolve: the planning tables for T = " + std::to_string(T) + " and " +
          std::to_string(planes_ - 1) + " memory units would take " +
          std::to_string(static_cast<unsigned long long>(bytes)) + " bytes, more than the " +
          std::to_string(max_bytes) +
          " allowed; use a coarser memory_unit, fewer steps, or a larger max_table_bytes");
    }
    bytes_ = static_cast<std::size_t>(bytes);
    // Not zeroed: fill() writes every split before anything reads it, and skipping a pass over
    // the largest table (404 MB for T = 2000, M = 100) saves about 0.1 s of its 1 s.
    split_.reset(new std::uint16_t[segments_ * planes_]);
    diagonal_.assign(T + 1, 0);
    for (std::size_t length = 3; length <= T; ++length) {
      diagonal_[length] = diagonal_[length - 1] + (T - (length - 1) + 1);
    }
    value_.assign(plane_size_ * ring_, infinity);
    if (bounded_) {
      // Diagonal-major: the T one-step segments first, then each length as the splits have it.
      by_length_.assign(T + 1, 0);
      for (std::size_t length = 2; length <= T; ++length)
        by_length_[length] = T + diagonal_[length];
      for (std::size_t r = 0; r < ring_; ++r) {
        std::fill_n(value_.begin() + static_cast<std::ptrdiff_t>(r * plane_size_), T, 0.0);
      }
    } else {
      // Row i holds (i, i + 1) .. (i, T); column j holds (0, j) .. (j - 1, j).
      by_end_value_.assign(plane_size_ * ring_, infinity);
      row_.assign(T + 1, 0);
      column_.assign(T + 1, 0);
      for (std::size_t i = 1; i <= T; ++i) {
        row_[i] = row_[i - 1] + (T - (i - 1));
        column_[i] = i * (i - 1) / 2;
      }
      for (std::size_t r = 0; r < ring_; ++r) {
        for (std::size_t i = 0; i < T; ++i) {
          value_[r * plane_size_ + row_[i]] = 0.0;
          by_end_value_[r * plane_size_ + column_[i + 1] + i] = 0.0;
        }
      }
    }
  }

  std::size_t bytes() const noexcept { return bytes_; }

  // Splits are stored as k - i in 16 bits (0: no store), which halves the largest table.
  std::int32_t split(std::int64_t i, std::int64_t j, std::int64_t m) const {
    const std::uint16_t offset = split_[static_cast<std::size_t>(m) * segments_ + segment(i, j)];
    return offset == 0 ? no_store : static_cast<std::int32_t>(i + offset);
  }
  // Opt(i, j, m); m must be one of the last planes filled (all of them for the final answer).
  double value(std::int64_t i, std::int64_t j, std::int64_t m) const {
    const auto a = static_cast<std::size_t>(i), b = static_cast<std::size_t>(j);
    return value_[plane(m) + (bounded_ ? by_length_[b - a] + a : row_[a] + (b - a - 1))];
  }

  // bounded: search the split of (i, j, m) only between those of (i, j - 1, m) and (i + 1, j, m)
  // (Knuth-Yao bounds), which turns the cubic search into an amortised quadratic one. Used only
  // with equal sizes, where the tests find the bounded and the full search identical. In both, a
  // store wins a tie with no store: the split is then defined for every m > 0, which keeps the
  // bounds tight.
  void fill() {
    if (segments_ == 0) return;  // one step: nothing to choose
    const auto M = static_cast<std::int64_t>(planes_) - 1;
    // done[m]: plane m is final up to this length (bounded) or end (full); release/acquire pairs.
    std::unique_ptr<std::atomic<std::int64_t>[]> done(new std::atomic<std::int64_t>[planes_]);
    for (std::size_t m = 0; m < planes_; ++m) done[m].store(1, std::memory_order_relaxed);
    const auto work = [&](std::size_t first) {
      std::vector<double> none(static_cast<std::size_t>(steps_));
      for (auto m = static_cast<std::int64_t>(first); m <= M;
           m += static_cast<std::int64_t>(threads_)) {
        if (bounded_) {
          fill_plane_bounded(m, none, done.get());
        } else if (largest_ == smallest_) {
          fill_plane_full<true>(m, none, done.get());
        } else {
          fill_plane_full<false>(m, none, done.get());
        }
      }
    };
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads_; ++t) helpers.emplace_back(work, t);
    work(0);
    for (std::thread& h : helpers) h.join();
  }

 private:
  // Plane m takes the ring slot of plane m - ring_: that plane and the planes that read it (the
  // next largest_) must be complete first. Without this wait a thread could start writing plane
  // m while another still reads the slot's old plane (ThreadSanitizer found it).
  void wait_for_slot(std::int64_t m, const std::atomic<std::int64_t>* done) const {
    const std::int64_t old = m - static_cast<std::int64_t>(ring_);  // the slot's previous plane
    if (old < 0) return;
    const auto wait = [&](std::int64_t q) {
      while (done[q].load(std::memory_order_acquire) < steps_) std::this_thread::yield();
    };
    wait(old);
    for (const std::int64_t u : sizes_) {
      if (old + u < m) wait(old + u);  // the planes that read it
    }
  }
  // Until the planes m - u that plane m reads are final up to `progress`.
  void wait_for_earlier(std::int64_t m, std::int64_t progress,
                        const std::atomic<std::int64_t>* done) const {
    for (const std::int64_t u : sizes_) {
      if (u > m) break;
      while (done[m - u].load(std::memory_order_acquire) < progress) std::this_thread::yield();
    }
  }
  // For each state k, the plane m - units[k] of `layout` that storing x_k leaves (null where it
  // does not fit), once per plane rather than a division per candidate.
  std::vector<const double*> right_planes(const std::vector<double>& layout, std::int64_t m) const {
    std::vector<const double*> right(static_cast<std::size_t>(steps_), nullptr);
    for (std::size_t k = 0; k < right.size(); ++k) {
      if (units_[k] <= m) right[k] = layout.data() + plane(m - units_[k]);
    }
    return right;
  }

  // Segments by length; equal sizes (smallest_ units each), so every right part lies in plane
  // m - smallest_.
  void fill_plane_bounded(std::int64_t m, std::vector<double>& none,
                          std::atomic<std::int64_t>* done) {
    // No store: advance from x_i to each x_l, l = i+1 .. j-1, once per reversed step:
    // sum_{l=i+1}^{j-1} F(i, l), grown by one term per length (the same sums in every plane).
    std::fill(none.begin(), none.end(), 0.0);
    wait_for_slot(m, done);
    double* values = value_.data() + plane(m);
    std::uint16_t* splits = split_.get() + static_cast<std::size_t>(m) * segments_;
    const bool can_store = m >= smallest_;
    const double* right_plane = can_store ? value_.data() + plane(m - smallest_) : nullptr;
    const double* const prefix = prefix_.data();
    const std::size_t* const at_length = by_length_.data();
    for (std::int64_t length = 2; length <= steps_; ++length) {
      wait_for_earlier(m, length - 1, done);  // right parts are shorter than `length`
      const std::size_t split_base = diagonal_[static_cast<std::size_t>(length)];
      const std::size_t shorter_base = diagonal_[static_cast<std::size_t>(length - 1)];
      for (std::int64_t i = 0; i + length <= steps_; ++i) {
        const std::int64_t j = i + length;
        double& no_store_cost = none[static_cast<std::size_t>(i)];
        no_store_cost += prefix[j - 1] - prefix[i];
        std::int64_t lo = i + 1, hi = can_store ? j - 1 : i;
        if (length >= 3) {
          // This plane's splits of (i, j - 1) and (i + 1, j), adjacent on the shorter diagonal,
          // stored as offsets from the segment's start (0: no store).
          const std::uint16_t left = splits[shorter_base + static_cast<std::size_t>(i)];
          const std::uint16_t right = splits[shorter_base + static_cast<std::size_t>(i) + 1];
          if (left != 0) lo = i + left;
          if (right != 0) hi = i + 1 + right;
        }
        Choice choice;
        for (std::int64_t k = lo; k <= hi; ++k) {
          // forward(i, k) + Opt(k, j, m - u) + Opt(i, k, m), in this order in every search.
          choice.offer((prefix[k] - prefix[i]) +
                           right_plane[at_length[j - k] + static_cast<std::size_t>(k)] +
                           values[at_length[k - i] + static_cast<std::size_t>(i)],
                       k);
        }
        splits[split_base + static_cast<std::size_t>(i)] = choice.settle(no_store_cost, i);
        values[at_length[length] + static_cast<std::size_t>(i)] = choice.best;
      }
      done[m].store(length, std::memory_order_release);
    }
  }

  // Segments by end j, then start i from j - 2 down to 0: (i, j) reads (i, k), k < j, of this
  // plane (earlier ends) and (k, j) of planes m - u (the same end, there final). EqualSizes: no
  // size check per candidate. The arithmetic is that of the bounded search.
  template <bool EqualSizes>
  void fill_plane_full(std::int64_t m, std::vector<double>& none, std::atomic<std::int64_t>* done) {
    std::fill(none.begin(), none.end(), 0.0);  // sum_{l=i+1}^{j-1} F(i, l), as j grows
    wait_for_slot(m, done);
    double* rows = value_.data() + plane(m);
    double* columns = by_end_value_.data() + plane(m);
    std::uint16_t* splits = split_.get() + static_cast<std::size_t>(m) * segments_;
    const std::vector<const double*> right_of = right_planes(by_end_value_, m);
    const bool can_store = m >= smallest_;
    const double* const equal_right =
        can_store ? by_end_value_.data() + plane(m - smallest_) : nullptr;
    const double* const prefix = prefix_.data();
    for (std::int64_t j = 2; j <= steps_; ++j) {
      wait_for_earlier(m, j, done);
      const std::size_t column = column_[static_cast<std::size_t>(j)];
      for (std::int64_t i = j - 2; i >= 0; --i) {
        const auto a = static_cast<std::size_t>(i);
        double& no_store_cost = none[a];
        no_store_cost += prefix[j - 1] - prefix[i];
        const double* left = rows + row_[a];  // left[k - i - 1] = Opt(i, k, m)
        Choice choice;
        const std::int64_t hi = can_store ? j - 1 : i;
        for (std::int64_t k = i + 1; k <= hi; ++k) {
          const double* right;  // right[k] = Opt(k, j, m - u)
          if constexpr (EqualSizes) {
            right = equal_right + column;
          } else {
            const double* base = right_of[static_cast<std::size_t>(k)];
            if (base == nullptr) continue;  // x_k does not fit in m units
            right = base + column;
          }
          choice.offer((prefix[k] - prefix[i]) + right[k] + left[k - i - 1], k);
        }
        splits[segment(i, j)] = choice.settle(no_store_cost, i);
        rows[row_[a] + static_cast<std::size_t>(j - i - 1)] = choice.best;
        columns[column + a] = choice.best;
      }
      done[m].store(j, std::memory_order_release);
    }
  }

  std::size_t segment(std::int64_t i, std::int64_t j) const {
    return diagonal_[static_cast<std::size_t>(j - i)] + static_cast<std::size_t>(i);
  }
  std::size_t plane(std::int64_t m) const {
    return (static_cast<std::size_t>(m) % ring_) * plane_size_;
  }

  const std::vector<double>& prefix_;
  const std::vector<std::int64_t>& units_;
  std::int64_t steps_;
  std::size_t planes_;
  bool bounded_;
  std::size_t segments_ = 0;
  std::size_t plane_size_ = 0;
  std::size_t ring_ = 1;
  std::int64_t largest_ = 1;         // the largest state, in units
  std::int64_t smallest_ = 1;        // the smallest state, in units
  std::vector<std::int64_t> sizes_;  // the distinct state sizes, in units, ascending
  std::size_t threads_ = 1;
  std::size_t bytes_ = 0;
  std::vector<double> value_;         // bounded: diagonal-major; full: by start (rows)
  std::vector<double> by_end_value_;  // full only: by end (columns)
  std::unique_ptr<std::uint16_t[]> split_;
  std::vector<std::size_t> diagonal_;   // first split of each segment length
  std::vector<std::size_t> by_length_;  // bounded: first value of each segment length
  std::vector<std::size_t> row_;        // full: first value of each start
  std::vector<std::size_t> column_;     // full: first value of each end
};

// Emits the stream the tables describe, keeping track of slots and bytes held.
class Emitter {
 public:
  Emitter(const Tables& tables, const std::vector<ChainStep>& chain,
          const std::vector<std::int64_t>& units, std::vector<Action>& out)
      : tables_(tables), chain_(chain), units_(units), out_(out) {}

  void run(std::int64_t memory_after_x0) {
    const std::int64_t slot = take_slot(0);
    out_.push_back(Action::make_store(slot, 0));
    working_ = 0;
    segment(0, static_cast<std::int64_t>(chain_.size()), memory_after_x0, slot);
    out_.push_back(Action::make_end());
  }

  std::int64_t peak_slots() const noexcept { return peak_slots_; }
  std::uint64_t peak_bytes() const noexcept { return peak_bytes_; }

 private:
  void be_at(std::int64_t i, std::int64_t slot) {
    if (working_ != i) {
      out_.push_back(Action::make_restore(slot, i));
      working_ = i;
    }
  }
  void advance(std::int64_t from, std::int64_t to) {
    if (to > from) {
      out_.push_back(Action::make_advance(from, to));
      working_ = to;
    }
  }
  void reverse(std::int64_t i) {
    out_.push_back(Action::make_reverse(i));
    working_ = -1;
  }
  std::int64_t take_slot(std::int64_t state) {
    std::int64_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = next_slot_++;
    }
    ++held_;
    held_bytes_ += chain_[static_cast<std::size_t>(state)].state_bytes;
    peak_slots_ = std::max(peak_slots_, held_);
    peak_bytes_ = std::max(peak_bytes_, held_bytes_);
    return slot;
  }
  void give_back(std::int64_t slot, std::int64_t state) {
    out_.push_back(Action::make_free(slot));
    free_slots_.push_back(slot);
    --held_;
    held_bytes_ -= chain_[static_cast<std::size_t>(state)].state_bytes;
  }

  // Reverse steps i..j-1 with x_i in `slot` and m units free.
  void segment(std::int64_t i, std::int64_t j, std::int64_t m, std::int64_t slot) {
    if (j == i + 1) {
      be_at(i, slot);
      reverse(i);
      return;
    }
    const std::int32_t k = tables_.split(i, j, m);
    if (k == no_store) {
      for (std::int64_t l = j - 1; l >= i; --l) {
        be_at(i, slot);
        advance(i, l);
        reverse(l);
      }
      return;
    }
    be_at(i, slot);
    advance(i, k);
    const std::int64_t k_slot = take_slot(k);
    out_.push_back(Action::make_store(k_slot, k));
    segment(k, j, m - units_[static_cast<std::size_t>(k)], k_slot);
    give_back(k_slot, k);
    segment(i, k, m, slot);
  }

  const Tables& tables_;
  const std::vector<ChainStep>& chain_;
  const std::vector<std::int64_t>& units_;  // sizes in the planner's units
  std::vector<Action>& out_;
  std::int64_t working_ = -1;
  std::vector<std::int64_t> free_slots_;
  std::int64_t next_slot_ = 0;
  std::int64_t held_ = 0;
  std::uint64_t held_bytes_ = 0;
  std::int64_t peak_slots_ = 0;
  std::uint64_t peak_bytes_ = 0;
};

}  // namespace

HeterogeneousRevolve::HeterogeneousRevolve(std::vector<ChainStep> chain, std::uint64_t budget_bytes,
                                           std::uint64_t memory_unit, std::size_t max_table_bytes,
                                           bool exhaustive_splits)
    : chain_(std::move(chain)) {
  if (chain_.empty()) throw std::invalid_argument("HeterogeneousRevolve: the chain has no step");
  std::uint64_t gcd = 0;
  for (std::size_t i = 0; i < chain_.size(); ++i) {
    const ChainStep& s = chain_[i];
    if (!(std::isfinite(s.forward_cost) && s.forward_cost >= 0 && std::isfinite(s.backward_cost) &&
          s.backward_cost >= 0)) {
      throw std::invalid_argument("HeterogeneousRevolve: step " + std::to_string(i) +
                                  " has a negative or non-finite cost; costs must be finite and "
                                  ">= 0");
    }
    if (s.state_bytes == 0) {
      throw std::invalid_argument("HeterogeneousRevolve: state x_" + std::to_string(i) +
                                  " has size 0; sizes must be >= 1 byte");
    }
    gcd = std::gcd(gcd, s.state_bytes);
  }
  unit_ = memory_unit == 0 ? gcd : memory_unit;
  // Sizes and budgets are 64-bit unsigned, unit counts signed: a size of more than 2^63 - 1 units
  // is refused, and the budget saturates there (no table for that many units can be allocated,
  // and the table limit says so).
  constexpr auto kMostUnits = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto units_of = [&](std::uint64_t bytes) {
    const std::uint64_t units = bytes / unit_ + (bytes % unit_ != 0 ? 1 : 0);
    if (units > kMostUnits) {
      throw std::invalid_argument("HeterogeneousRevolve: a state of " + std::to_string(bytes) +
                                  " bytes is more than 2^63 - 1 memory units of " +
                                  std::to_string(unit_) + " bytes; give a larger memory_unit");
    }
    return static_cast<std::int64_t>(units);
  };
  const auto budget_units = static_cast<std::int64_t>(std::min(budget_bytes / unit_, kMostUnits));
  const std::int64_t x0 = units_of(chain_.front().state_bytes);
  if (budget_units < x0) {
    throw std::invalid_argument("HeterogeneousRevolve: the budget of " +
                                std::to_string(budget_bytes) + " bytes cannot hold x_0 (" +
                                std::to_string(chain_.front().state_bytes) +
                                " bytes); every schedule keeps x_0");
  }
  std::vector<double> prefix(chain_.size() + 1, 0.0);
  std::vector<std::int64_t> units(chain_.size());
  double backward = 0;
  for (std::size_t i = 0; i < chain_.size(); ++i) {
    prefix[i + 1] = prefix[i] + chain_[i].forward_cost;
    units[i] = units_of(chain_[i].state_bytes);
    backward += chain_[i].backward_cost;
  }
  // Every value of the dynamic program is a sum of a few plan costs, each at most (T - 1) times
  // the sum F of the forward costs plus the sum of the backward costs: when 4 (T - 1) F + B is
  // finite, no sum overflows to infinity (which broke the comparisons: a segfault at T = 3, an
  // infinite optimum at T = 2).
  const double bound =
      4 * static_cast<double>(chain_.size() - 1) * prefix[chain_.size()] + backward;
  if (!std::isfinite(bound)) {
    char detail[160];
    std::snprintf(detail, sizeof detail,
                  "forward costs sum to %g and backward costs to %g over %zu",
                  prefix[chain_.size()], backward, chain_.size());
    throw std::invalid_argument(std::string("HeterogeneousRevolve: the costs are too large: ") +
                                detail +
                                " steps, and a plan's cost could exceed the largest double; "
                                "scale them down (4 (T - 1) F + B must stay finite)");
  }
  // No stream holds more than the T states x_0..x_{T-1}: a larger budget changes nothing.
  std::int64_t all = 0;
  for (std::int64_t u : units)
    all = u > std::numeric_limits<std::int64_t>::max() - all
              ? std::numeric_limits<std::int64_t>::max()
              : all + u;
  const std::int64_t memory = std::min(budget_units, all) - x0;

  const bool equal_sizes =
      std::all_of(units.begin(), units.end(), [&](std::int64_t u) { return u == units.front(); });
  bounded_search_ = equal_sizes && !exhaustive_splits;
  Tables tables(prefix, units, memory, max_table_bytes, bounded_search_);
  tables.fill();
  table_bytes_ = tables.bytes();
  const std::int64_t T = steps();
  optimal_cost_ = tables.value(0, T, memory) + backward;
  Emitter emitter(tables, chain_, units, actions_);
  emitter.run(memory);
  peak_slots_ = emitter.peak_slots();
  peak_bytes_ = emitter.peak_bytes();
}

Action HeterogeneousRevolve::next() {
  if (position_ >= actions_.size()) return Action::make_end();
  return actions_[position_++];
}

}  // namespace cairn
