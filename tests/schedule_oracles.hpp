// Test-only oracles: the minimum number of stores over time-optimal binomial splits, by brute
// force.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "cairn/binomial.hpp"

namespace cairn_test {

/// For every l <= max_steps and s <= max_slots: the fewest stores that reverse l steps from a
/// stored x_0 with s slots, over every split (advance m, store, reverse the right part with s-1
/// slots, restore, reverse the left part with s slots) whose forward steps total the optimum
/// t(l, s). x_0's own store is not counted. Each split m is tried, not only the ones the theory
/// predicts, so the oracle also proves which splits are time-optimal.
class MinimalStores {
 public:
  MinimalStores(int max_steps, int max_slots)
      : table_(static_cast<std::size_t>(max_slots) + 1,
               std::vector<std::int64_t>(static_cast<std::size_t>(max_steps) + 1, 0)) {
    for (int s = 2; s <= max_slots; ++s) {
      for (int l = 2; l <= max_steps; ++l) {
        const std::int64_t optimum = cairn::forward_cost(l, s);
        std::int64_t best = std::numeric_limits<std::int64_t>::max();
        for (int m = 1; m < l; ++m) {
          if (m + cairn::forward_cost(m, s) + cairn::forward_cost(l - m, s - 1) != optimum)
            continue;
          const std::int64_t stores = (l - m >= 2 ? 1 : 0) + at(l - m, s - 1) + at(m, s);
          if (stores < best) best = stores;
        }
        table_[static_cast<std::size_t>(s)][static_cast<std::size_t>(l)] = best;
      }
    }
  }
  /// Fewest stores for (l, s), x_0's store not counted; 0 when s == 1 or l == 1.
  std::int64_t at(int l, int s) const {
    return table_[static_cast<std::size_t>(s)][static_cast<std::size_t>(l)];
  }

 private:
  std::vector<std::vector<std::int64_t>> table_;
};

}  // namespace cairn_test
