// The cheapest reversal of a few steps over every legal stream of the mixed vocabulary, found by
// Dijkstra's algorithm over all situations a stream can be in: the judge of MixedRevolve.
//
// A situation is (restart states held, steps whose adjoint data is held, working state, steps
// still to reverse). Moves: advance one step (uf), store_adjoint (ut, w units), store (1 unit),
// restore, free either kind, reverse (ut) and reverse_stored. Nothing at or past the next step
// to reverse can matter again, so it is dropped: the search stays finite and small.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <queue>
#include <tuple>
#include <vector>

namespace cairn_test {

inline double exhaustive_mixed_cost(int steps, int units, int adjoint_units, double uf, double ut) {
  struct Situation {
    std::uint32_t restarts, records;
    int working, unreversed;  // working -1: undefined
    bool operator<(const Situation& o) const {
      return std::tie(restarts, records, working, unreversed) <
             std::tie(o.restarts, o.records, o.working, o.unreversed);
    }
  };
  using Entry = std::pair<double, Situation>;
  const auto later = [](const Entry& a, const Entry& b) { return a.first > b.first; };
  std::priority_queue<Entry, std::vector<Entry>, decltype(later)> queue(later);
  std::map<Situation, double> best;
  const auto reach = [&](Situation s, double cost) {
    const std::uint32_t keep = (1u << s.unreversed) - 1;  // states/steps below the next reverse
    s.restarts &= keep;
    s.records &= keep;
    const auto it = best.find(s);
    if (it != best.end() && it->second <= cost) return;
    best[s] = cost;
    queue.push({cost, s});
  };
  reach(Situation{0, 0, 0, steps}, 0);
  while (!queue.empty()) {
    const auto [cost, s] = queue.top();
    queue.pop();
    if (best[s] < cost) continue;
    if (s.unreversed == 0) return cost;
    const int used = __builtin_popcount(s.restarts) + adjoint_units * __builtin_popcount(s.records);
    const int k = s.unreversed;
    if (s.working >= 0 && s.working < k - 1) {
      reach({s.restarts, s.records, s.working + 1, k}, cost + uf);
      if (used + adjoint_units <= units) {
        reach({s.restarts, s.records | (1u << s.working), s.working + 1, k}, cost + ut);
      }
    }
    if (s.working >= 0 && s.working < k && !(s.restarts >> s.working & 1u) && used < units) {
      reach({s.restarts | (1u << s.working), s.records, s.working, k}, cost);
    }
    for (int j = 0; j < k; ++j) {
      if (s.restarts >> j & 1u) {
        reach({s.restarts, s.records, j, k}, cost);
        reach({s.restarts & ~(1u << j), s.records, s.working, k}, cost);
      }
      if ((s.records >> j & 1u) && j != k - 1) {
        reach({s.restarts, s.records & ~(1u << j), s.working, k}, cost);
      }
    }
    if (s.working == k - 1) reach({s.restarts, s.records, -1, k - 1}, cost + ut);
    if (s.records >> (k - 1) & 1u) {
      reach({s.restarts, s.records & ~(1u << (k - 1)), -1, k - 1}, cost);
    }
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace cairn_test
