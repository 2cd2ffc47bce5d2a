#include "cairn/two_level.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "schedules/price_check.hpp"
#include "schedules/two_level_plan.hpp"
#include "schedules/two_level_tables.hpp"

namespace cairn {

namespace two_level_detail {

// A piece of work on the stream's stack: reverse a segment from a start in RAM (q) or on disk
// (r), or emit one action once what was pushed above it is done.
struct SegmentTask {
  enum Kind { q, r, disk, action } kind;
  std::int64_t start = 0, length = 0;
  std::int64_t free = 0;  // q: RAM slots free besides the start's; disk: disk slots
  std::int64_t slot = 0;  // the start's slot
  Action act{};
  bool keep = false;  // keep the start's slot (another sweep will restore it)
};

}  // namespace two_level_detail

using two_level_detail::choice_move_to_ram;
using two_level_detail::choice_without_store;
using two_level_detail::SegmentTables;

constexpr Level ram_level = 0;
constexpr Level disk_level = 1;

namespace {

using Task = two_level_detail::SegmentTask;

// What the recursion needs besides the task: the tables and the free slots of each level.
struct Context {
  SegmentTables& tables;
  two_level_detail::DiskTier* tier;
  std::vector<std::int64_t>& free_ram;
  std::vector<std::int64_t>& free_disk;
};

// Slots first..last - 1 as a pool that hands out the lowest first.
void fill_pool(std::vector<std::int64_t>& pool, std::int64_t first, std::int64_t last) {
  pool.clear();
  for (std::int64_t slot = last - 1; slot >= first; --slot) pool.push_back(slot);
}

std::int64_t take(std::vector<std::int64_t>& pool) {
  const std::int64_t slot = pool.back();
  pool.pop_back();
  return slot;
}

// A split after j steps: advance to x_{s+j} and store it (on `stored_on`, in right.slot), then
// reverse the right part from it, restore the start, reverse the left part. The stack runs the
// last push first.
template <typename Emit>
void split(const Task& task, std::int64_t j, Level stored_on, const Task& right,
           std::vector<Task>& tasks, Emit&& emit) {
  const Level level = task.kind == Task::q ? ram_level : disk_level;
  emit(Action::make_advance(task.start, task.start + j));
  emit(Action::make_store(right.slot, task.start + j, stored_on));
  Task left = task;
  left.length = j;
  tasks.push_back(left);
  tasks.push_back(
      Task{Task::action, 0, 0, 0, 0, Action::make_restore(task.slot, task.start, level)});
  tasks.push_back(right);
}

// One step of the recursions of two_level_tables.hpp and two_level_plan.hpp: emits the actions
// that come first and pushes what follows. Shared by the stream and by the count of its costs.
template <typename Emit>
void expand(const Task& task, Context& context, std::vector<Task>& tasks, Emit&& emit) {
  if (task.kind == Task::action) {
    emit(task.act);
    if (task.act.kind == ActionKind::free) {
      (task.act.level == ram_level ? context.free_ram : context.free_disk).push_back(task.act.slot);
    }
    return;
  }
  const std::int64_t s = task.start;
  const std::int64_t l = task.length;
  if (task.kind == Task::disk) {
    const std::int64_t j = context.tier->choice(task.free, l);
    if (j == 0) {
      tasks.push_back(Task{Task::r, s, l, 0, task.slot, {}});
      return;
    }
    const std::int64_t slot = take(context.free_disk);
    split(task, j, disk_level, Task{Task::disk, s + j, l - j, task.free - 1, slot, {}}, tasks,
          emit);
    return;
  }
  const bool on_disk = task.kind == Task::r;
  const Level level = on_disk ? disk_level : ram_level;
  const auto release_start = [&] {
    if (task.keep) return;
    emit(Action::make_free(task.slot, level));
    (on_disk ? context.free_disk : context.free_ram).push_back(task.slot);
  };
  if (l == 1) {
    emit(Action::make_reverse(s));
    release_start();
    return;
  }
  SegmentTables& tables = context.tables;
  const std::int64_t choice = on_disk ? tables.r_choice(l) : tables.q_choice(task.free, l);
  const std::int64_t inner_free = on_disk ? tables.ram_slots() - 1 : task.free - 1;
  if (choice == choice_without_store) {
    emit(Action::make_advance(s, s + l - 1));
    emit(Action::make_reverse(s + l - 1));
    emit(Action::make_restore(task.slot, s, level));
    Task rest = task;
    rest.length = l - 1;
    tasks.push_back(rest);
    return;
  }
  const std::int64_t slot = take(context.free_ram);
  if (choice == choice_move_to_ram) {
    emit(Action::make_store(slot, s, ram_level));
    release_start();
    tasks.push_back(Task{Task::q, s, l, inner_free, slot, {}});
    return;
  }
  split(task, choice, ram_level, Task{Task::q, s + choice, l - choice, inner_free, slot, {}}, tasks,
        emit);
}

void check_price(const char* what, double value, bool positive = false) {
  schedules_detail::require_price("TwoLevelRevolve", what, value, positive);
}

// Counts what a stream does, action by action, as the checker would.
struct Counter {
  ScheduleCosts costs;
  std::int64_t held[2] = {0, 0};
  Counter() { costs.levels.resize(2); }
  void operator()(const Action& a) {
    ++costs.actions;
    const auto level = static_cast<std::size_t>(a.level);
    switch (a.kind) {
      case ActionKind::advance:
        ++costs.advances;
        costs.forward_steps += a.to - a.step;
        break;
      case ActionKind::store:
        ++costs.levels[level].stores;
        costs.levels[level].peak_slots = std::max(costs.levels[level].peak_slots, ++held[level]);
        break;
      case ActionKind::restore:
        ++costs.levels[level].restores;
        break;
      case ActionKind::free:
        ++costs.levels[level].frees;
        --held[level];
        break;
      case ActionKind::reverse:
        ++costs.reverses;
        break;
      default:
        break;
    }
  }
};

// count += times * part, refusing what does not fit 64 bits: streams of about 2 * 10^18 steps
// and more have more actions than an int64_t counts.
void add_times(std::int64_t& count, std::int64_t part, std::int64_t times) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(part, times, &product) ||
      __builtin_add_overflow(count, product, &count)) {
    throw std::overflow_error(
        "TwoLevelRevolve: the stream's counts (actions, forward steps) exceed 2^63 - 1 for this "
        "many steps; give fewer steps (T up to about 10^18 fits)");
  }
}

// counts += times * part, for everything but the peaks.
void add(ScheduleCosts& counts, const ScheduleCosts& part, std::int64_t times) {
  add_times(counts.actions, part.actions, times);
  add_times(counts.advances, part.advances, times);
  add_times(counts.forward_steps, part.forward_steps, times);
  add_times(counts.reverses, part.reverses, times);
  for (std::size_t k = 0; k < 2; ++k) {
    add_times(counts.levels[k].stores, part.levels[k].stores, times);
    add_times(counts.levels[k].restores, part.levels[k].restores, times);
    add_times(counts.levels[k].frees, part.levels[k].frees, times);
  }
}

}  // namespace

TwoLevelRevolve::TwoLevelRevolve(std::int64_t steps, StorageLevel ram, StorageLevel disk,
                                 StepCosts step_costs, std::int64_t sweeps,
                                 std::size_t max_table_bytes)
    : steps_(steps), ram_(ram), disk_(disk), step_costs_(step_costs), sweeps_(sweeps) {
  if (steps < 1) {
    throw std::invalid_argument("TwoLevelRevolve: steps = " + std::to_string(steps) +
                                " is not allowed; steps must be >= 1");
  }
  if (ram.slots < 0 || ram.slots == unlimited_slots) {
    throw std::invalid_argument("TwoLevelRevolve: " + std::to_string(ram.slots) +
                                " RAM slots is not allowed; give a count >= 0 (only the disk "
                                "may be unlimited)");
  }
  if (disk.slots < 0) {
    throw std::invalid_argument("TwoLevelRevolve: " + std::to_string(disk.slots) +
                                " disk slots is not allowed; give a count >= 0 or "
                                "unlimited_slots");
  }
  if (sweeps < 1) {
    throw std::invalid_argument("TwoLevelRevolve: sweeps = " + std::to_string(sweeps) +
                                " is not allowed; give the number of reverse sweeps, >= 1");
  }
  if ((steps >= 2 || sweeps >= 2) && ram.slots == 0 && disk.slots == 0) {
    throw std::invalid_argument("TwoLevelRevolve: " + std::to_string(steps) +
                                " steps need at least one slot to hold x_0; RAM and disk have 0");
  }
  check_price("forward step cost", step_costs.forward, true);
  check_price("backward step cost", step_costs.backward);
  check_price("RAM write cost", ram.write_cost);
  check_price("RAM read cost", ram.read_cost);
  check_price("disk write cost", disk.write_cost);
  check_price("disk read cost", disk.read_cost);

  const two_level_detail::Prices prices{step_costs.forward, step_costs.backward, ram.write_cost,
                                        ram.read_cost,      disk.write_cost,     disk.read_cost};
  // More RAM slots than steps are never used.
  tables_ = std::make_unique<SegmentTables>(prices, std::min(ram.slots, steps));
  unplanned_ = steps == 1 && sweeps == 1;
  if (!unplanned_) {
    two_level_detail::PlanOptions options;
    options.max_table_bytes = max_table_bytes;
    options.sweeps = sweeps;
    two_level_detail::Plan plan =
        two_level_detail::plan_two_level(steps, std::min(disk.slots, steps), *tables_, options);
    ram_only_ = plan.ram_only;
    proven_ = plan.proven;
    tier_ = std::move(plan.tier);
    period_ = plan.period;
    longest_segment_ = plan.longest_segment;
    disk_checkpoints_ = plan.disk_checkpoints;
    for (const two_level_detail::SegmentRun& run : plan.segments) {
      run_lengths_.push_back(run.length);
      run_counts_.push_back(run.count);
    }
  }
  expected_ = count_stream();
  if (tier_) disk_checkpoints_ = expected_.levels[1].stores;
  optimal_cost_ = cost(expected_, cost_model());
  if (!std::isfinite(optimal_cost_)) {
    throw std::invalid_argument(
        "TwoLevelRevolve: the cheapest plan's cost exceeds the largest double (the step and "
        "storage costs are too large for T = " +
        std::to_string(steps) + "); scale the costs down");
  }
  reset();
}

TwoLevelRevolve::~TwoLevelRevolve() = default;

ScheduleCosts TwoLevelRevolve::count_stream() {
  Counter counter;
  if (ram_only_ && sweeps_ > 1) {
    // One sweep replayed (store x_0, reverse, free it, end), then the later sweeps multiplied:
    // each restores x_0 once more, and only the last frees it.
    const std::int64_t all = sweeps_;
    sweeps_ = 1;
    ScheduleCosts sweep = count_stream();
    sweeps_ = all;
    sweep.actions -= 2;  // the store of x_0 and the end
    sweep.levels[0].stores -= 1;
    ScheduleCosts& total = counter.costs;
    counter(Action::make_store(0, 0, ram_level));
    add(total, sweep, all);
    add_times(total.levels[0].restores, 1, all - 1);
    add_times(total.levels[0].frees, -1, all - 1);
    counter(Action::make_end());
    total.levels[0].peak_slots = sweep.levels[0].peak_slots;
    total.max_advances_per_step = -1;
    return total;
  }
  if (run_lengths_.empty()) {  // one step, RAM only or a disk tier: replay the stream itself
    reset();
    Action a;
    do {
      a = next();
      counter(a);
    } while (a.kind != ActionKind::end);
    counter.costs.max_advances_per_step = -1;
    return counter.costs;
  }
  // A cut into segments: the disk sweep's own actions, plus each segment's reversal counted
  // once per distinct length and multiplied (a long chain repeats one length millions of times).
  ScheduleCosts& total = counter.costs;
  const std::int64_t segments = disk_checkpoints_;
  counter(Action::make_store(0, 0, disk_level));
  std::int64_t length = 0;
  for (std::size_t i = 0; i < run_lengths_.size(); ++i) length += run_lengths_[i] * run_counts_[i];
  // Each segment but the last: an advance and a disk store going forward, a disk restore
  // coming back.
  add_times(total.actions, segments - 1, 3);
  total.advances += segments - 1;
  total.forward_steps += length - run_lengths_.back();
  total.levels[1].stores += segments - 1;
  total.levels[1].restores += segments - 1;
  total.levels[1].peak_slots = segments;
  // Each later sweep: a disk restore before every segment, and its start kept, not freed (one
  // action more and one fewer: the action count stays).
  const std::int64_t later = sweeps_ - 1;
  add_times(total.levels[1].restores, later, segments);
  add_times(total.levels[1].frees, -later, segments);
  std::map<std::int64_t, ScheduleCosts> by_length;
  for (std::size_t i = 0; i < run_lengths_.size(); ++i) {
    auto found = by_length.find(run_lengths_[i]);
    if (found == by_length.end()) {
      Counter part;
      std::vector<Task> tasks{Task{Task::r, 0, run_lengths_[i], 0, 0, {}}};
      std::vector<std::int64_t> free_ram, free_disk;
      fill_pool(free_ram, 0, tables_->ram_slots());
      Context context{*tables_, nullptr, free_ram, free_disk};
      while (!tasks.empty()) {
        const Task task = tasks.back();
        tasks.pop_back();
        expand(task, context, tasks, part);
      }
      found = by_length.emplace(run_lengths_[i], part.costs).first;
    }
    std::int64_t times = 0;
    add_times(times, sweeps_, run_counts_[i]);
    add(total, found->second, times);
    total.levels[0].peak_slots =
        std::max(total.levels[0].peak_slots, found->second.levels[0].peak_slots);
  }
  counter(Action::make_end());
  total.max_advances_per_step = -1;
  return total;
}

void TwoLevelRevolve::reset() {
  phase_ = Phase::start;
  sweep_ = 1;
  segment_ = 0;
  run_ = 0;
  in_run_ = 0;
  position_ = 0;
  tasks_.clear();
  fill_pool(free_ram_, 0, tables_->ram_slots());
  // A disk tier keeps x_0 in disk slot 0; a cut numbers its disk slots by segment instead.
  fill_pool(free_disk_, 1, tier_ ? std::min(disk_.slots, steps_) : 1);
  pending_.clear();
  pending_next_ = 0;
}

void TwoLevelRevolve::refill() {
  pending_.clear();
  pending_next_ = 0;
  const auto emit = [this](const Action& a) { pending_.push_back(a); };
  Context context{*tables_, tier_.get(), free_ram_, free_disk_};
  while (pending_.empty()) {
    if (!tasks_.empty()) {
      const Task task = tasks_.back();
      tasks_.pop_back();
      expand(task, context, tasks_, emit);
      continue;
    }
    switch (phase_) {
      case Phase::start:
        if (unplanned_) {  // one step, one sweep: nothing to store
          emit(Action::make_reverse(0));
          phase_ = Phase::finish;
        } else if (ram_only_) {
          ram_root_ = take(free_ram_);
          emit(Action::make_store(ram_root_, 0, ram_level));
          tasks_.push_back(
              Task{Task::q, 0, steps_, tables_->ram_slots() - 1, ram_root_, {}, sweeps_ > 1});
          phase_ = Phase::ram_sweeps;
        } else if (tier_) {
          emit(Action::make_store(0, 0, disk_level));
          tasks_.push_back(Task{Task::disk, 0, steps_, std::min(disk_.slots, steps_) - 1, 0, {}});
          phase_ = Phase::finish;
        } else {
          emit(Action::make_store(0, 0, disk_level));
          phase_ = Phase::forward;
        }
        break;
      case Phase::forward:
        if (segment_ + 1 < disk_checkpoints_) {
          const std::int64_t length = run_lengths_[run_];
          emit(Action::make_advance(position_, position_ + length));
          position_ += length;
          ++segment_;
          if (++in_run_ == run_counts_[run_]) ++run_, in_run_ = 0;
          emit(Action::make_store(segment_, position_, disk_level));
        } else {
          last_position_ = position_;
          last_run_ = run_;
          last_in_run_ = in_run_;
          reverse_segment(steps_ - position_);
          phase_ = Phase::backward;
        }
        break;
      case Phase::ram_sweeps:
        if (sweep_ < sweeps_) {
          ++sweep_;
          emit(Action::make_restore(ram_root_, 0, ram_level));
          tasks_.push_back(
              Task{Task::q, 0, steps_, tables_->ram_slots() - 1, ram_root_, {}, sweep_ < sweeps_});
        } else {
          phase_ = Phase::finish;
        }
        break;
      case Phase::backward:
        if (segment_ == 0 && sweep_ < sweeps_) {  // the next sweep, from the last segment
          ++sweep_;
          segment_ = disk_checkpoints_ - 1;
          position_ = last_position_;
          run_ = last_run_;
          in_run_ = last_in_run_;
          emit(Action::make_restore(segment_, position_, disk_level));
          reverse_segment(steps_ - position_);
        } else if (segment_ == 0) {
          phase_ = Phase::finish;
        } else {
          --segment_;
          if (in_run_ == 0) {
            --run_;
            in_run_ = run_counts_[run_] - 1;
          } else {
            --in_run_;
          }
          const std::int64_t length = run_lengths_[run_];
          position_ -= length;
          emit(Action::make_restore(segment_, position_, disk_level));
          reverse_segment(length);
        }
        break;
      case Phase::finish:
        emit(Action::make_end());
        phase_ = Phase::done;
        break;
      case Phase::done:
        emit(Action::make_end());
        break;
    }
  }
}

void TwoLevelRevolve::reverse_segment(std::int64_t length) {
  // The start stays on disk while another sweep will restore it.
  tasks_.push_back(Task{Task::r, position_, length, 0, segment_, {}, sweep_ < sweeps_});
}

Action TwoLevelRevolve::next() {
  if (pending_next_ == pending_.size()) refill();
  return pending_[pending_next_++];
}

std::size_t TwoLevelRevolve::next_actions(Action* out, std::size_t capacity) {
  for (std::size_t i = 0; i < capacity; ++i) {
    out[i] = next();
    if (out[i].kind == ActionKind::end) return i + 1;
  }
  return capacity;
}

CostModel TwoLevelRevolve::cost_model() const {
  CostModel model;
  model.forward_step = step_costs_.forward;
  model.backward_step = step_costs_.backward;
  model.write = {ram_.write_cost, disk_.write_cost};
  model.read = {ram_.read_cost, disk_.read_cost};
  return model;
}

std::vector<std::int64_t> TwoLevelRevolve::slots_per_level() const {
  return {ram_.slots, disk_.slots == unlimited_slots ? steps_ : disk_.slots};
}

std::size_t TwoLevelRevolve::table_bytes() const noexcept {
  return tables_->bytes() + (tier_ ? tier_->bytes() : 0);
}

}  // namespace cairn
