#include "schedules/two_level_tables.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace cairn::two_level_detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr std::int64_t unknown_choice = std::numeric_limits<std::int64_t>::min();

}  // namespace

CAIRN_WIDE_SIMD double best_split(const double* forward, const double* left, const double* right,
                                  std::int64_t l) {
  double best = infinity;
#pragma omp simd reduction(min : best)
  for (std::int64_t j = 1; j < l; ++j) {
    const double candidate = forward[j] + left[l - j] + right[j];
    best = candidate < best ? candidate : best;
  }
  return best;
}

SegmentTables::SegmentTables(const Prices& prices, std::int64_t ram_slots)
    : prices_(prices), ram_slots_(ram_slots) {
  if (ram_slots < 0) throw std::invalid_argument("SegmentTables: ram_slots < 0");
  forward_.push_back(0);
  q_.resize(index(ram_slots));
  q_choice_.resize(index(ram_slots));
  for (auto& row : q_) row.push_back(infinity);
  for (auto& row : q_choice_) row.push_back(unknown_choice);
  r_.push_back(infinity);
  r_choice_.push_back(unknown_choice);
}

double SegmentTables::q_without_store(std::int64_t free, std::int64_t l) const {
  return forward_[index(l - 1)] + prices_.backward + prices_.ram_read + q(free, l - 1);
}
double SegmentTables::q_split(std::int64_t free, std::int64_t l, std::int64_t j) const {
  return (prices_.ram_write + prices_.ram_read) +
         (forward_[index(j)] + q_[index(free - 1)][index(l - j)] + q_[index(free)][index(j)]);
}
double SegmentTables::r_without_store(std::int64_t l) const {
  return forward_[index(l - 1)] + prices_.backward + prices_.disk_read + r(l - 1);
}
double SegmentTables::r_split(std::int64_t l, std::int64_t j) const {
  return (prices_.ram_write + prices_.disk_read) +
         (forward_[index(j)] + q_[index(ram_slots_ - 1)][index(l - j)] + r_[index(j)]);
}
double SegmentTables::r_move(std::int64_t l) const {
  return prices_.ram_write + q(ram_slots_ - 1, l);
}

void SegmentTables::extend(std::int64_t length) {
  if (length <= length_) return;
  const std::size_t size = index(length) + 1;
  forward_.resize(size);
  for (std::size_t j = 0; j < size; ++j) forward_[j] = prices_.forward * static_cast<double>(j);
  for (auto& row : q_) row.resize(size, infinity);
  for (auto& row : q_choice_) row.resize(size, unknown_choice);
  r_.resize(size, infinity);
  r_choice_.resize(size, unknown_choice);
  const double* forward = forward_.data();
  for (std::int64_t l = length_ + 1; l <= length; ++l) {
    for (std::int64_t free = 0; free < ram_slots_; ++free) {
      double best = prices_.backward;
      if (l >= 2) {
        best = q_without_store(free, l);
        if (free >= 1) {
          const double split =
              best_split(forward, q_[index(free - 1)].data(), q_[index(free)].data(), l);
          best = std::min(best, (prices_.ram_write + prices_.ram_read) + split);
        }
      }
      q_[index(free)][index(l)] = best;
    }
    double best = prices_.backward;
    if (l >= 2) {
      best = r_without_store(l);
      if (ram_slots_ >= 1) {
        const double split = best_split(forward, q_[index(ram_slots_ - 1)].data(), r_.data(), l);
        best = std::min(best, (prices_.ram_write + prices_.disk_read) + split);
        best = std::min(best, r_move(l));
      }
    }
    r_[index(l)] = best;
  }
  length_ = length;
}

std::int64_t SegmentTables::q_choice(std::int64_t free, std::int64_t l) {
  std::int64_t& memo = q_choice_[index(free)][index(l)];
  if (memo != unknown_choice) return memo;
  const double target = q(free, l);
  std::int64_t choice = unknown_choice;
  if (l == 1 || q_without_store(free, l) == target) {
    choice = choice_without_store;
  } else {
    for (std::int64_t j = 1; j < l && free >= 1; ++j) {
      if (q_split(free, l, j) == target) {
        choice = j;
        break;
      }
    }
  }
  if (choice == unknown_choice) throw std::logic_error("TwoLevelRevolve: internal error (Q)");
  return memo = choice;
}

std::int64_t SegmentTables::r_choice(std::int64_t l) {
  std::int64_t& memo = r_choice_[index(l)];
  if (memo != unknown_choice) return memo;
  const double target = r(l);
  std::int64_t choice = unknown_choice;
  if (l == 1 || r_without_store(l) == target) {
    choice = choice_without_store;
  } else if (ram_slots_ >= 1) {
    for (std::int64_t j = 1; j < l; ++j) {
      if (r_split(l, j) == target) {
        choice = j;
        break;
      }
    }
    if (choice == unknown_choice && r_move(l) == target) choice = choice_move_to_ram;
  }
  if (choice == unknown_choice) throw std::logic_error("TwoLevelRevolve: internal error (R)");
  return memo = choice;
}

std::size_t SegmentTables::bytes() const noexcept {
  const std::size_t rows = 2 * q_.size() + 3;
  return rows * (index(length_) + 1) * sizeof(double);
}

}  // namespace cairn::two_level_detail
