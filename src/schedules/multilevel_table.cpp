#include "schedules/multilevel_table.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace cairn::multilevel_detail {

MultilevelTable::MultilevelTable(std::int64_t steps, const std::vector<StorageLevel>& levels,
                                 const StepCosts& step, std::size_t max_table_bytes)
    : steps_(steps), level_count_(static_cast<int>(levels.size())), step_(step) {
  std::size_t cells_per_length = 1;
  double cells_value = 1;  // the same product, for the message when it does not fit a size_t
  for (int k = 0; k < max_levels; ++k) {
    const bool present = k < level_count_;
    const StorageLevel level = present ? levels[static_cast<std::size_t>(k)] : StorageLevel{};
    unlimited_[k] = present && level.slots >= steps;
    slots_[k] = present ? std::min(level.slots, steps) : 0;
    write_[k] = level.write_cost;
    read_[k] = level.read_cost;
    extent_[k] = unlimited_[k] ? 1 : static_cast<std::size_t>(slots_[k]) + 1;
    cells_value *= static_cast<double>(extent_[k]);
    // Saturates instead of overflowing: past the limit the product is not needed exactly.
    const std::size_t most = std::numeric_limits<std::size_t>::max() / extent_[k];
    cells_per_length = cells_per_length > most ? std::numeric_limits<std::size_t>::max()
                                               : cells_per_length * extent_[k];
  }
  // P and V for each level, H, and the forward-cost row, each (T + 1) long.
  const std::size_t length = static_cast<std::size_t>(steps) + 1;
  const std::size_t limit_cells = max_table_bytes / sizeof(double);
  const std::size_t tables = 2 * static_cast<std::size_t>(level_count_) + 1;
  const bool fits = cells_per_length <= limit_cells / tables &&
                    tables * cells_per_length + 1 <= limit_cells / length;
  if (!fits) {
    // rows * length may not fit in size_t; as a double it only has to be printed.
    const double rows_value = static_cast<double>(tables) * cells_value + 1;
    const double bytes =
        rows_value * static_cast<double>(length) * static_cast<double>(sizeof(double));
    char needed[32];
    std::snprintf(needed, sizeof needed, "%.0f", bytes);
    char rows[32];
    std::snprintf(rows, sizeof rows, "%.0f", rows_value);
    throw std::length_error(
        "MultilevelRevolve: the planning tables for T = " + std::to_string(steps) + " would take " +
        needed + " bytes (" + rows + " x " + std::to_string(length) + " doubles), more than the " +
        std::to_string(max_table_bytes) +
        " bytes allowed; give fewer steps or slots, or a max_table_bytes "
        "of at least " +
        needed);
  }
  const std::size_t rows = tables * cells_per_length + 1;
  length_ = length;
  cells_ = cells_per_length;
  table_bytes_ = rows * length * sizeof(double);
  forward_.resize(length);
  for (std::size_t j = 0; j < length; ++j) forward_[j] = step_.forward * static_cast<double>(j);
  p_.assign(static_cast<std::size_t>(level_count_) * cells_ * length, infinity);
  v_.assign(p_.size(), infinity);
  h_.assign(cells_ * length, infinity);
  fill();
}

void MultilevelTable::fill() {
  const double* forward = forward_.data();
  for (std::int64_t l = 1; l <= steps_; ++l) {
    // V at length l needs only shorter lengths; P needs V at length l on other coordinates, and
    // H needs P at length l on the coordinates before it: hence two passes.
    for_each_cell([&](const Free& f) {
      const double* h = row(h_, 0, f);
      bool can_store = false;
      for (int k = 0; k < level_count_; ++k) can_store = can_store || can_take(k, f);
      for (int level = 0; level < level_count_; ++level) {
        double best = step_.backward;
        if (l >= 2) {
          best = without_store(l, level, f);
          if (can_store) {
            const double* p = row(p_, level, f);
            double split = infinity;
#pragma omp simd reduction(min : split)
            for (std::int64_t j = 1; j < l; ++j) {
              const double candidate = split_sum(forward, h, p, l, j);
              split = candidate < split ? candidate : split;
            }
            best = std::min(best, read_[level] + split);
          }
        }
        row(v_, level, f)[l] = best;
      }
    });
    for_each_cell([&](const Free& f) {
      for (int level = 0; level < level_count_; ++level) {
        double best = row(v_, level, f)[l];
        for (int k = 0; k < level_count_; ++k) {
          double moved = 0;
          Free after{};
          if (k != level && move_option(level, k, l, f, moved, after)) {
            best = std::min(best, moved);
          }
        }
        row(p_, level, f)[l] = best;
      }
      double store = infinity;
      for (int k = 0; k < level_count_; ++k) {
        if (can_take(k, f)) store = std::min(store, store_on(k, l, f));
      }
      row(h_, 0, f)[l] = store;
    });
  }
}

}  // namespace cairn::multilevel_detail
