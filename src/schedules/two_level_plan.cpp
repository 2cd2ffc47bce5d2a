#include "schedules/two_level_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "cairn/binomial.hpp"

namespace cairn::two_level_detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

std::size_t index(std::int64_t i) {
  return static_cast<std::size_t>(i);
}

// min over j in [1, last] of cost[j] + rest[n - j]: the inner loop of the cut into segments.
CAIRN_WIDE_SIMD double min_plus(const double* cost, const double* rest, std::int64_t n,
                                std::int64_t last) {
  double best = infinity;
#pragma omp simd reduction(min : best)
  for (std::int64_t j = 1; j <= last; ++j) {
    const double candidate = cost[j] + rest[n - j];
    best = candidate < best ? candidate : best;
  }
  return best;
}

// Revolve's t(m, slots): no schedule with that many slots advances fewer steps (infinity when it
// exceeds 2^63).
double lower_bound_advances(std::int64_t m, std::int64_t slots) {
  try {
    return static_cast<double>(forward_cost(m, slots));
  } catch (const std::overflow_error&) {
    return infinity;
  }
}

// Reversing m steps from a disk-held start with c0 RAM slots holds at most c0 + 1 states at once,
// so it is a Revolve schedule with c0 + 1 slots: R(m) >= uf t(m, c0 + 1) + ub m.
double lower_bound_r(std::int64_t m, std::int64_t ram_slots, const Prices& prices) {
  return prices.forward * lower_bound_advances(m, ram_slots + 1) +
         prices.backward * static_cast<double>(m);
}

void check_bytes(double bytes, std::int64_t length, const PlanOptions& options, const char* why) {
  if (bytes <= static_cast<double>(options.max_table_bytes)) return;
  char needed[32];
  std::snprintf(needed, sizeof needed, "%.0f", bytes);
  throw std::length_error(std::string("TwoLevelRevolve: ") + why + " needs tables over " +
                          std::to_string(length) + " steps, " + needed + " bytes, more than the " +
                          std::to_string(options.max_table_bytes) +
                          " allowed; give a larger max_table_bytes, or more disk slots, or "
                          "cheaper disk prices");
}

double segment_table_bytes(std::int64_t length, std::int64_t ram_slots) {
  return static_cast<double>(2 * ram_slots + 3) * static_cast<double>(length + 1) * 8.0;
}

void extend_tables(SegmentTables& tables, std::int64_t length, const PlanOptions& options,
                   const char* why) {
  check_bytes(segment_table_bytes(length, tables.ram_slots()), length, options, why);
  tables.extend(length);
}

// a(m) for m in [0, length]: a segment followed by another one costs its advance to the next
// disk checkpoint, that checkpoint's write, the restore of its own start, and its reversal.
// With N sweeps every segment is reversed N times and its start restored before each time.
std::vector<double> segment_costs(const SegmentTables& tables, std::int64_t length,
                                  std::int64_t sweeps) {
  const Prices& p = tables.prices();
  const auto n = static_cast<double>(sweeps);
  std::vector<double> cost(index(length) + 1, infinity);
  for (std::int64_t m = 1; m <= length; ++m) {
    cost[index(m)] =
        (p.forward * static_cast<double>(m) + n * tables.r(m)) + (p.disk_write + n * p.disk_read);
  }
  return cost;
}

// The last segment: the first sweep finds its start as the working state.
double last_segment_cost(const SegmentTables& tables, std::int64_t m, std::int64_t sweeps) {
  const auto n = static_cast<double>(sweeps);
  return n * tables.r(m) + (n - 1) * tables.prices().disk_read;
}

struct Period {
  std::int64_t length = 1;  // m*: the segment with the least cost per step
  double ratio = infinity;  // a(m*) / m*
};

Period best_period(const std::vector<double>& cost, std::int64_t longest) {
  Period best;
  for (std::int64_t m = 1; m <= longest; ++m) {
    const double ratio = cost[index(m)] / static_cast<double>(m);
    if (ratio <= best.ratio) best = Period{m, ratio};  // ties: the longer, fewer disk writes
  }
  return best;
}

// With m* the segment of least cost per step, every other segment j costs an excess
// e(j) = a(j) - ratio * j >= 0, and a cut of n steps costs ratio * n plus the excesses of its
// other segments, whose lengths sum to n (mod m*). A shortest-path search over the residues mod
// m* (Dijkstra, ties to the shorter path) finds the least excess for each residue; adding m*
// segments reaches that bound exactly for every n at least as long as the path.
// O(m*^2 + m* M) time, O(m*) memory.
struct Residue {
  double excess = infinity;  // least excess of a set of segments summing to this residue
  double cost = infinity;    // their cost, summed along the path
  std::int64_t length = 0;   // their total length
  std::int64_t parent = -1;  // the residue before the last segment
  std::int64_t segment = 0;  // the last segment
  bool done = false;
};

struct Residues {
  Period period;
  std::vector<Residue> node;
  double most_excess = 0;  // over all residues
  std::int64_t longest_path = 0;
};

Residues residue_paths(const std::vector<double>& cost, std::int64_t longest) {
  Residues result;
  result.period = best_period(cost, longest);
  const std::int64_t p = result.period.length;
  std::vector<Residue>& node = result.node;
  node.assign(index(p), Residue{});
  node[0].excess = 0;
  node[0].cost = 0;
  for (std::int64_t round = 0; round < p; ++round) {
    std::int64_t x = -1;
    for (std::int64_t y = 0; y < p; ++y) {
      const Residue& n = node[index(y)];
      if (n.done || n.excess == infinity) continue;
      if (x < 0 || n.excess < node[index(x)].excess ||
          (n.excess == node[index(x)].excess && n.length < node[index(x)].length)) {
        x = y;
      }
    }
    if (x < 0) break;
    node[index(x)].done = true;
    const Residue from = node[index(x)];
    for (std::int64_t j = 1; j <= longest; ++j) {
      if (j % p == 0) continue;
      const double e = std::max(0.0, cost[index(j)] - result.period.ratio * static_cast<double>(j));
      Residue& to = node[index((x + j) % p)];
      const double excess = from.excess + e;
      const std::int64_t length = from.length + j;
      if (!to.done && (excess < to.excess || (excess == to.excess && length < to.length))) {
        to = Residue{excess, from.cost + cost[index(j)], length, x, j, false};
      }
    }
  }
  for (const Residue& n : node) {
    result.longest_path = std::max(result.longest_path, n.length);
    result.most_excess = std::max(result.most_excess, n.excess);
  }
  return result;
}

// The largest m > from for which `fails(m)` may hold, when fails(m) is "f(m) <= slack" for a
// convex f (so the failing m form an interval): none (returns from) if it holds nowhere past it.
template <typename Excess>
std::int64_t last_failure(std::int64_t from, std::int64_t steps, Excess&& excess) {
  // passes(m): the test passes at m and f does not decrease after it, so it passes for all > m.
  const auto passes = [&](std::int64_t m) { return excess(m) > 0 && excess(m + 1) >= excess(m); };
  std::int64_t low = from;
  std::int64_t high = std::min(steps, from + 1);
  while (high < steps && !passes(high)) {
    low = high;
    high = std::min(steps, 2 * high);
  }
  if (!passes(high)) return steps;
  while (high - low > 1) {  // the smallest m with passes(m) lies in (low, high]
    const std::int64_t mid = low + (high - low) / 2;
    (passes(mid) ? high : low) = mid;
  }
  return high - 1;
}

// The longest segment any optimal cut may use. A segment of m steps can be replaced by a cut into
// segments of at most M steps costing ratio * m + its residue's least excess (when m is at least
// as long as that residue's path) or else ratio * m + max_r (a(r) - ratio * r), r < m* (m* segments
// and one remainder); a segment whose cost is sure to exceed that (by the Revolve lower bound) is
// never optimal. The lower bound minus ratio * m is convex in m, so each test fails on an
// interval only. Grows M (and the tables) until no longer segment can pay.
std::int64_t longest_useful_segment(std::int64_t steps, SegmentTables& tables,
                                    const PlanOptions& options, bool& proven) {
  const auto sweeps = static_cast<double>(options.sweeps);
  const Prices& prices = tables.prices();
  const double affordable =
      std::sqrt(2 * options.max_segment_work / static_cast<double>(tables.ram_slots() + 1));
  const std::int64_t cap =
      std::max<std::int64_t>(64, affordable < 9e18 ? static_cast<std::int64_t>(affordable) : steps);
  std::int64_t longest = std::min<std::int64_t>(steps, 64);
  proven = true;
  for (;;) {
    extend_tables(tables, longest, options, "reversing segments from disk");
    if (longest == steps) return longest;
    const std::vector<double> cost = segment_costs(tables, longest, options.sweeps);
    const Residues residues = residue_paths(cost, longest);
    const Period& period = residues.period;
    double remainder_slack = 0;
    for (std::int64_t r = 1; r < period.length; ++r) {
      remainder_slack =
          std::max(remainder_slack, cost[index(r)] - period.ratio * static_cast<double>(r));
    }
    const auto excess_over = [&](double slack) {
      return [&, slack](std::int64_t m) {
        const double scale = period.ratio * static_cast<double>(m) + slack;
        return sweeps * lower_bound_r(m, tables.ram_slots(), prices) -
               period.ratio * static_cast<double>(m) - slack - 1e-9 * scale;
      };
    };
    // Below the longest residue path only the remainder bound is sure; from it on, the paths'.
    const auto remainder_excess = excess_over(remainder_slack);
    std::int64_t short_failure = last_failure(longest, steps, remainder_excess);
    if (short_failure >= residues.longest_path) {  // it fails on an interval reaching the paths
      const std::int64_t below = residues.longest_path - 1;
      short_failure = below > longest && remainder_excess(below) <= 0 ? below : longest;
    }
    const std::int64_t long_failure =
        last_failure(longest, steps, excess_over(residues.most_excess));
    const std::int64_t needed =
        std::max(short_failure, long_failure >= residues.longest_path ? long_failure : longest);
    if (needed <= longest) return longest;
    if (longest >= cap) {
      proven = false;
      return longest;
    }
    longest = std::min({steps, cap, std::max(needed, 2 * longest)});
  }
}

void append(std::vector<SegmentRun>& runs, std::int64_t length, std::int64_t count = 1) {
  if (count <= 0) return;
  if (!runs.empty() && runs.back().length == length) {
    runs.back().count += count;
  } else {
    runs.push_back(SegmentRun{length, count});
  }
}

// Cheapest cut of `steps` into segments of at most `longest` steps, each followed by another
// (a(.) each) except the last (R), by the direct dynamic program over every length: O(T M) time,
// O(T) memory.
Plan plan_direct(std::int64_t steps, std::int64_t longest, const SegmentTables& tables,
                 const std::vector<double>& cost, std::int64_t sweeps) {
  std::vector<double> k(index(steps) + 1, infinity);  // k[n]: n steps, all followed by more
  k[0] = 0;
  for (std::int64_t n = 1; n <= steps; ++n) {
    k[index(n)] = min_plus(cost.data(), k.data(), n, std::min(n, longest));
  }
  double best = infinity;
  std::int64_t last = 0;
  for (std::int64_t m = 1; m <= std::min(steps, longest); ++m) {
    const double value = last_segment_cost(tables, m, sweeps) + k[index(steps - m)];
    if (value < best) best = value, last = m;
  }
  Plan plan;
  plan.value = best;
  for (std::int64_t n = steps - last; n > 0;) {
    std::int64_t j = 1;
    while (cost[index(j)] + k[index(n - j)] != k[index(n)]) ++j;
    append(plan.segments, j);
    n -= j;
  }
  append(plan.segments, last);
  return plan;
}

// The same cut for chains too long for the direct program, from the residue paths: O(M) after
// them, whatever T. Returns false when T is too short for the closed form.
bool plan_periodic(std::int64_t steps, std::int64_t longest, const SegmentTables& tables,
                   const std::vector<double>& cost, std::int64_t sweeps, Plan& plan) {
  const Residues residues = residue_paths(cost, longest);
  const std::int64_t p = residues.period.length;
  const std::vector<Residue>& node = residues.node;
  if (steps - longest < residues.longest_path) return false;  // some path does not fit
  double best = infinity;
  std::int64_t last = 0;
  for (std::int64_t m = 1; m <= longest; ++m) {
    const std::int64_t rest = steps - m;
    const Residue& n = node[index(rest % p)];
    const double value = last_segment_cost(tables, m, sweeps) +
                         (n.cost + cost[index(p)] * static_cast<double>((rest - n.length) / p));
    if (value < best) best = value, last = m;
  }
  plan.value = best;
  plan.period = p;
  plan.segments.clear();
  const std::int64_t rest = steps - last;
  std::vector<std::int64_t> path;
  for (std::int64_t x = rest % p; node[index(x)].parent >= 0; x = node[index(x)].parent) {
    path.push_back(node[index(x)].segment);
  }
  std::sort(path.begin(), path.end());
  std::int64_t path_length = 0;
  for (const std::int64_t j : path) append(plan.segments, j), path_length += j;
  append(plan.segments, p, (rest - path_length) / p);
  append(plan.segments, last);
  return true;
}

// Finitely many disk slots (fewer than the unlimited plan wants): the disk tier's recursion
// over every length up to T. O(T^2 (c0 + c1)) time with the segment tables, O(T (c0 + c1)) memory.
Plan plan_finite(std::int64_t steps, std::int64_t disk_slots, SegmentTables& tables,
                 const PlanOptions& options) {
  const double bytes =
      segment_table_bytes(steps, tables.ram_slots()) +
      static_cast<double>(2 * disk_slots + 1) * static_cast<double>(steps + 1) * 8.0;
  check_bytes(bytes, steps, options, "a finite disk with fewer slots than the plan wants");
  tables.extend(steps);
  Plan plan;
  plan.longest_segment = steps;
  if (options.sweeps == 1) {
    plan.tier = std::make_shared<DiskTier>(steps, disk_slots, tables);
    plan.value = plan.tier->d(disk_slots - 1, steps);
    return plan;
  }
  // Several sweeps keep every disk checkpoint to the end, so no slot is reused: the cut into at
  // most c1 segments, C(k, l) = min(last(l), min_j a(j) + C(k - 1, l - j)).
  const std::vector<double> cost = segment_costs(tables, steps, options.sweeps);
  std::vector<std::vector<double>> cut(index(disk_slots),
                                       std::vector<double>(index(steps) + 1, infinity));
  for (std::int64_t k = 0; k < disk_slots; ++k) {
    for (std::int64_t l = 1; l <= steps; ++l) {
      const double last = last_segment_cost(tables, l, options.sweeps);
      cut[index(k)][index(l)] =
          k == 0 ? last : std::min(last, min_plus(cost.data(), cut[index(k - 1)].data(), l, l - 1));
    }
  }
  plan.value = cut[index(disk_slots - 1)][index(steps)];
  std::int64_t l = steps;
  for (std::int64_t k = disk_slots - 1; k > 0; --k) {
    const double target = cut[index(k)][index(l)];
    if (last_segment_cost(tables, l, options.sweeps) == target) break;
    std::int64_t j = 1;
    while (cost[index(j)] + cut[index(k - 1)][index(l - j)] != target) ++j;
    append(plan.segments, j);
    l -= j;
  }
  append(plan.segments, l);
  return plan;
}

std::int64_t segment_count(const std::vector<SegmentRun>& runs) {
  std::int64_t count = 0;
  for (const SegmentRun& run : runs) count += run.count;
  return count;
}

}  // namespace

DiskTier::DiskTier(std::int64_t steps, std::int64_t disk_slots, const SegmentTables& tables)
    : tables_(tables) {
  const std::size_t size = index(steps) + 1;
  forward_.resize(size);
  for (std::size_t j = 0; j < size; ++j) {
    forward_[j] = tables.prices().forward * static_cast<double>(j);
  }
  const double store = tables.prices().disk_write + tables.prices().disk_read;
  d_.assign(index(disk_slots), std::vector<double>(size, infinity));
  choice_.assign(index(disk_slots), std::vector<std::int64_t>(size, -1));
  for (std::int64_t l = 1; l <= steps; ++l) d_[0][index(l)] = tables.r(l);
  for (std::int64_t k = 1; k < disk_slots; ++k) {
    double* row = d_[index(k)].data();
    const double* fewer = d_[index(k - 1)].data();
    for (std::int64_t l = 1; l <= steps; ++l) {
      const double split = l >= 2 ? store + best_split(forward_.data(), fewer, row, l) : infinity;
      row[index(l)] = std::min(tables.r(l), split);
    }
  }
}

double DiskTier::split(std::int64_t free, std::int64_t l, std::int64_t j) const {
  const double store = tables_.prices().disk_write + tables_.prices().disk_read;
  return store +
         (forward_[index(j)] + d_[index(free - 1)][index(l - j)] + d_[index(free)][index(j)]);
}

std::int64_t DiskTier::choice(std::int64_t free, std::int64_t l) {
  std::int64_t& memo = choice_[index(free)][index(l)];
  if (memo >= 0) return memo;
  const double target = d(free, l);
  if (free == 0 || tables_.r(l) == target) return memo = 0;
  for (std::int64_t j = 1; j < l; ++j) {
    if (split(free, l, j) == target) return memo = j;
  }
  throw std::logic_error("TwoLevelRevolve: internal error (D)");
}

std::size_t DiskTier::bytes() const noexcept {
  return 2 * d_.size() * forward_.size() * sizeof(double) + forward_.size() * sizeof(double);
}

Plan plan_two_level(std::int64_t steps, std::int64_t disk_slots, SegmentTables& tables,
                    const PlanOptions& options) {
  const Prices& prices = tables.prices();
  const std::int64_t ram_slots = tables.ram_slots();
  Plan best;
  best.value = infinity;
  if (disk_slots >= 1) {
    bool proven = true;
    const std::int64_t longest = longest_useful_segment(steps, tables, options, proven);
    const std::vector<double> cost = segment_costs(tables, longest, options.sweeps);
    Plan plan;
    const double work = static_cast<double>(steps) * static_cast<double>(longest);
    if (work <= options.max_direct_work ||
        !plan_periodic(steps, longest, tables, cost, options.sweeps, plan)) {
      plan = plan_direct(steps, longest, tables, cost, options.sweeps);
    }
    plan.longest_segment = longest;
    plan.proven = proven;
    if (segment_count(plan.segments) > std::min(disk_slots, steps)) {
      plan = plan_finite(steps, std::min(disk_slots, steps), tables, options);
    }
    plan.value = prices.disk_write + plan.value;
    plan.disk_checkpoints = plan.tier ? 0 : segment_count(plan.segments);
    best = plan;
  }
  if (ram_slots >= 1) {
    // All in RAM: x_0 and c0 - 1 more slots make a Revolve schedule with c0 slots, so the lower
    // bound rules it out for long chains without tables over the whole chain.
    // Several sweeps keep x_0 in its slot and restore it before each sweep after the first.
    const auto sweeps = static_cast<double>(options.sweeps);
    const double bound =
        prices.ram_write + sweeps * (prices.forward * lower_bound_advances(steps, ram_slots) +
                                     prices.backward * static_cast<double>(steps));
    if (bound < best.value) extend_tables(tables, steps, options, "reversing with RAM alone");
    if (tables.length() >= steps) {
      const double value = prices.ram_write + (sweeps * tables.q(ram_slots - 1, steps) +
                                               (sweeps - 1) * prices.ram_read);
      if (value <= best.value) {
        best = Plan{};
        best.ram_only = true;
        best.value = value;
        best.longest_segment = steps;
      }
    }
  }
  return best;
}

}  // namespace cairn::two_level_detail
