// The C API (cairn/cairn.h) against the C++ one: identical action streams over grids of (T, c)
// for every schedule kind, the driver's gradient and counts against cairn::Driver's, and the error
// paths with their codes and messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "cairn/binomial.hpp"
#include "cairn/cairn.h"
#include "cairn/driver.hpp"
#include "cairn/heterogeneous.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/mixed.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/online.hpp"
#include "cairn/online_multilevel.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "cairn/two_level.hpp"
#include "cairn/uniform.hpp"
#include "cairn/version.hpp"
#include "capi/handle.hpp"
#include "scripted_schedule.hpp"

namespace {

struct Destroy {
  void operator()(cairn_schedule* s) const noexcept { cairn_schedule_destroy(s); }
};
using Handle = std::unique_ptr<cairn_schedule, Destroy>;

// Fails the test with the C API's message unless `status` is CAIRN_OK.
void ok(int status) {
  INFO(cairn_status_name(status) << ": " << cairn_last_error());
  REQUIRE(status == CAIRN_OK);
}

// The result of an int64_t query of a schedule, which must succeed.
std::int64_t query(int (*function)(const cairn_schedule*, std::int64_t*), const cairn_schedule* s) {
  std::int64_t value = -1;
  ok(function(s, &value));
  return value;
}

cairn::Action from_c(const cairn_action& a) {
  return cairn::Action{static_cast<cairn::ActionKind>(a.kind), a.level, a.slot, a.step, a.to};
}

// Both streams to their end (and one `end` beyond), action by action, then again after a reset;
// the C handle is read half through cairn_schedule_next, half through next_actions in odd batches.
bool same_stream(cairn::Schedule& expected, cairn_schedule* actual) {
  for (int pass = 0; pass < 2; ++pass) {
    expected.reset();
    ok(cairn_schedule_reset(actual));
    std::vector<cairn_action> batch(7);
    std::size_t filled = 0, used = 0;
    for (std::int64_t n = 0;; ++n) {
      const cairn::Action want = expected.next();
      cairn_action got{};
      if (pass == 0) {
        ok(cairn_schedule_next(actual, &got));
      } else {
        if (used == filled) {
          ok(cairn_schedule_next_actions(actual, batch.data(), batch.size(), &filled));
          used = 0;
          if (filled == 0) return false;
        }
        got = batch[used++];
      }
      if (from_c(got) != want) {
        UNSCOPED_INFO("action " << n << " differs (pass " << pass << ")");
        return false;
      }
      if (want.kind == cairn::ActionKind::end) break;
    }
    if (pass == 0) {
      cairn_action after{};
      ok(cairn_schedule_next(actual, &after));
      if (after.kind != CAIRN_ACTION_END) return false;
    }
  }
  return true;
}

// A whole online run of T steps through the C handle, against `expected` told the same: start,
// after every step what it decides (never more than its max_advanced_actions, the bound cairn.h
// promises), finish, then the reverse sweep (same_stream).
void same_online_run(cairn::OnlineSchedule& expected, cairn_schedule* actual, std::int64_t T) {
  cairn_action first{};
  ok(cairn_online_start(actual, &first));
  REQUIRE(from_c(first) == expected.start());
  for (std::int64_t i = 1; i <= T; ++i) {
    const cairn_action* list = nullptr;
    std::size_t count = 99;
    ok(cairn_online_advanced(actual, &list, &count));
    const std::vector<cairn::Action>& want = expected.advanced();
    REQUIRE(count == want.size());
    CHECK(count <= expected.max_advanced_actions());
    for (std::size_t k = 0; k < count; ++k) REQUIRE(from_c(list[k]) == want[k]);
  }
  std::int64_t steps = 0;
  ok(cairn_schedule_steps(actual, &steps));
  REQUIRE(steps == T);
  ok(cairn_online_finish(actual));
  expected.finish();
  REQUIRE(same_stream(expected, actual));
}

}  // namespace

TEST_CASE("c api: Revolve streams equal the C++ ones for T <= 60 and c <= 8", "[c_api]") {
  for (std::int64_t T = 1; T <= 60; ++T) {
    for (std::int64_t c = 1; c <= 8; ++c) {
      INFO("T = " << T << ", c = " << c);
      cairn_schedule* raw = nullptr;
      ok(cairn_revolve_create(T, c, &raw));
      Handle h(raw);
      cairn::Revolve expected(T, c);
      REQUIRE(same_stream(expected, h.get()));
      CHECK(query(cairn_schedule_forward_steps, h.get()) == cairn::forward_cost(T, c));
      CHECK(query(cairn_schedule_repetitions, h.get()) == cairn::repetitions(T, c));
      CHECK(query(cairn_schedule_steps, h.get()) == T);
      std::int64_t value = 0;
      ok(cairn_schedule_slots(h.get(), 0, &value));
      CHECK(value == std::min(T, c));
      ok(cairn_forward_cost(T, c, &value));
      CHECK(value == cairn::forward_cost(T, c));
      ok(cairn_repetitions(T, c, &value));
      CHECK(value == cairn::repetitions(T, c));
      int kind = -1;
      ok(cairn_schedule_kind(h.get(), &kind));
      CHECK(kind == CAIRN_SCHEDULE_REVOLVE);
    }
  }
}

TEST_CASE("c api: uniform and store-all streams equal the C++ ones for T <= 60", "[c_api]") {
  for (std::int64_t T = 1; T <= 60; ++T) {
    for (std::int64_t k = 1; k <= 12; ++k) {
      INFO("T = " << T << ", k = " << k);
      cairn_schedule* raw = nullptr;
      ok(cairn_uniform_create(T, k, &raw));
      Handle h(raw);
      cairn::Uniform expected(T, k);
      REQUIRE(same_stream(expected, h.get()));
      std::int64_t value = 0;
      ok(cairn_schedule_slots(h.get(), 0, &value));
      CHECK(value == cairn::Uniform::slots_needed(T, k));
      CHECK(query(cairn_schedule_forward_steps, h.get()) == cairn::Uniform::forward_steps(T, k));
    }
    INFO("T = " << T);
    cairn_schedule* raw = nullptr;
    ok(cairn_store_all_create(T, &raw));
    Handle h(raw);
    cairn::StoreAll expected(T);
    REQUIRE(same_stream(expected, h.get()));
    std::int64_t value = 0;
    ok(cairn_schedule_slots(h.get(), 0, &value));
    CHECK(value == expected.slots());
    CHECK(query(cairn_schedule_forward_steps, h.get()) == T - 1);
    const char* name = nullptr;
    ok(cairn_schedule_name(h.get(), &name));
    CHECK(std::string(name) == "store-all");
  }
}

TEST_CASE("c api: multilevel streams equal the C++ ones for T <= 30 over one and two levels",
          "[c_api]") {
  for (std::int64_t T = 1; T <= 30; ++T) {
    for (std::int64_t c0 = 0; c0 <= 3; ++c0) {
      for (std::int64_t c1 : {std::int64_t{0}, std::int64_t{2}, CAIRN_UNLIMITED_SLOTS}) {
        if (T >= 2 && c0 == 0 && c1 == 0) continue;  // no slot at all
        INFO("T = " << T << ", c0 = " << c0 << ", c1 = " << c1);
        const cairn_storage_level levels[2] = {{c0, 0.0, 0.0}, {c1, 2.0, 1.5}};
        cairn_schedule* raw = nullptr;
        ok(cairn_multilevel_create(T, levels, 2, 1.0, 0.5, &raw));
        Handle h(raw);
        cairn::MultilevelRevolve expected(
            T, {cairn::StorageLevel{c0, 0, 0}, cairn::StorageLevel{c1, 2, 1.5}},
            cairn::StepCosts{1, 0.5});
        REQUIRE(same_stream(expected, h.get()));
        double cost = 0;
        ok(cairn_multilevel_optimal_cost(h.get(), &cost));
        CHECK(cost == expected.optimal_cost());
        int count = 0;
        ok(cairn_schedule_levels(h.get(), &count));
        CHECK(count == 2);
        for (int level = 0; level < 2; ++level) {
          std::int64_t slots = 0;
          ok(cairn_schedule_slots(h.get(), level, &slots));
          CHECK(slots == expected.slots_per_level()[static_cast<std::size_t>(level)]);
        }
      }
      if (c0 == 0) continue;
      const cairn_storage_level one = {c0, 0.0, 0.0};
      cairn_schedule* raw = nullptr;
      ok(cairn_multilevel_create(T, &one, 1, 1.0, 0.0, &raw));
      Handle h(raw);
      cairn::MultilevelRevolve expected(T, {cairn::StorageLevel{c0, 0, 0}});
      REQUIRE(same_stream(expected, h.get()));
    }
  }
}

TEST_CASE("c api: multilevel streams over three levels equal the C++ ones for T <= 30", "[c_api]") {
  for (std::int64_t T = 1; T <= 30; ++T) {
    for (std::int64_t c2 : {std::int64_t{0}, std::int64_t{3}, CAIRN_UNLIMITED_SLOTS}) {
      INFO("T = " << T << ", c2 = " << c2);
      const cairn_storage_level levels[3] = {{1, 0.0, 0.0}, {2, 1.0, 0.5}, {c2, 4.0, 2.0}};
      cairn_schedule* raw = nullptr;
      ok(cairn_multilevel_create(T, levels, 3, 1.0, 0.5, &raw));
      Handle h(raw);
      cairn::MultilevelRevolve expected(
          T,
          {cairn::StorageLevel{1, 0, 0}, cairn::StorageLevel{2, 1, 0.5},
           cairn::StorageLevel{c2, 4, 2}},
          cairn::StepCosts{1, 0.5});
      REQUIRE(same_stream(expected, h.get()));
      int count = 0;
      ok(cairn_schedule_levels(h.get(), &count));
      CHECK(count == 3);
      std::int64_t slots = 0;
      ok(cairn_schedule_slots(h.get(), 2, &slots));
      CHECK(slots == expected.slots_per_level()[2]);
    }
  }
}

// The online protocol through C: start, then after every step what it decides, then the reverse
// sweep, action for action as OnlineRevolve told the same.
// The same for the online schedule over RAM and disk, with its kind, levels and slots.
TEST_CASE("c api: the online multilevel protocol equals OnlineMultilevelRevolve's", "[c_api]") {
  struct Case {
    std::int64_t c, d;
    double write, read;
  };
  for (const Case k : {Case{2, 3, 1, 1}, Case{0, 4, 0, 0}, Case{3, 0, 5, 5}, Case{1, 2, 2, 0},
                       Case{4, CAIRN_UNLIMITED_SLOTS, 0.5, 2}}) {
    cairn_schedule* raw = nullptr;
    ok(cairn_online_multilevel_create(k.c, k.d, k.write, k.read, &raw));
    Handle h(raw);
    int kind = -1, levels = 0;
    ok(cairn_schedule_kind(h.get(), &kind));
    CHECK(kind == CAIRN_SCHEDULE_ONLINE_MULTILEVEL);
    ok(cairn_schedule_levels(h.get(), &levels));
    CHECK(levels == 2);
    std::int64_t slots = -1;
    ok(cairn_schedule_slots(h.get(), 1, &slots));
    CHECK(slots == k.d);
    const char* name = nullptr;
    ok(cairn_schedule_name(h.get(), &name));
    CHECK(std::string(name) == "online-multilevel");
    for (std::int64_t T = 1; T <= 60; ++T) {
      INFO("T = " << T << ", c = " << k.c << ", d = " << k.d);
      cairn::OnlineMultilevelRevolve expected(cairn::StorageLevel{k.c, 0, 0},
                                              cairn::StorageLevel{k.d, k.write, k.read});
      same_online_run(expected, h.get(), T);
    }
  }
  const auto expect = [](int status, int code, const std::string& message) {
    INFO(cairn_last_error());
    CHECK(status == code);
    CHECK(std::string(cairn_last_error()) == message);
  };
  cairn_schedule* h = nullptr;
  expect(cairn_online_multilevel_create(0, 0, 1, 1, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_online_multilevel_create: OnlineMultilevelRevolve: RAM slots = 0, disk slots = 0 "
         "is not allowed; give RAM slots >= 1 (x_0's included), or 0 when disk slots >= 1, and "
         "disk slots >= 0 or cairn::unlimited_slots");
  expect(cairn_online_multilevel_create(2, 2, -1, 1, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_online_multilevel_create: OnlineMultilevelRevolve: disk write cost = -1 is not "
         "allowed; prices must be finite and >= 0");
  CHECK(h == nullptr);
}

TEST_CASE("c api: the online protocol equals OnlineRevolve's for T <= 60 and c <= 6", "[c_api]") {
  for (std::int64_t c = 1; c <= 6; ++c) {
    cairn_schedule* raw = nullptr;
    ok(cairn_online_create(c, &raw));
    Handle h(raw);
    for (std::int64_t T = 1; T <= 60; ++T) {
      INFO("T = " << T << ", c = " << c);
      cairn::OnlineRevolve expected(c);
      REQUIRE(expected.max_advanced_actions() == static_cast<std::size_t>(c) + 1);  // cairn.h
      same_online_run(expected, h.get(), T);
    }
  }
}

namespace {

// Burgers through the C driver: the caller's states, as a C program holds them.
struct CProblem {
  const burgers::Problem* model;
  std::vector<double> x, lambda, scratch;
  std::vector<std::vector<double>> slots;
  double J = 0;
  int fail_at = -1;  // the call of a callback (counted over all) that fails, -1 for none
  int calls = 0;
  std::vector<cairn::Action> log;  // what the driver asked, in C++ form
};

CProblem& problem_of(void* context) {
  return *static_cast<CProblem*>(context);
}

int counted(CProblem& p) {
  return p.calls++ == p.fail_at ? 7 : 0;
}

cairn_callbacks burgers_callbacks() {
  cairn_callbacks cb{};
  cb.step = [](void* c, std::int64_t i) {
    CProblem& p = problem_of(c);
    p.log.push_back(cairn::Action::make_advance(i, i + 1));
    p.model->step(p.x);
    return counted(p);
  };
  cb.adjoint_step = [](void* c, std::int64_t i) {
    CProblem& p = problem_of(c);
    p.log.push_back(cairn::Action::make_reverse(i));
    p.model->adjoint_step(p.x, p.lambda);
    return counted(p);
  };
  cb.store = [](void* c, int level, std::int64_t slot, std::int64_t i) {
    CProblem& p = problem_of(c);
    p.log.push_back(cairn::Action::make_store(slot, i, level));
    p.slots.at(static_cast<std::size_t>(slot)) = p.x;
    return counted(p);
  };
  cb.restore = [](void* c, int level, std::int64_t slot, std::int64_t i) {
    CProblem& p = problem_of(c);
    p.log.push_back(cairn::Action::make_restore(slot, i, level));
    p.x = p.slots.at(static_cast<std::size_t>(slot));
    return counted(p);
  };
  cb.free_slot = [](void* c, int level, std::int64_t slot) {
    CProblem& p = problem_of(c);
    p.log.push_back(cairn::Action::make_free(slot, level));
    return counted(p);
  };
  cb.terminal = [](void* c, std::int64_t steps, std::int64_t working) {
    CProblem& p = problem_of(c);
    p.scratch = p.x;
    if (working == steps - 1) p.model->step(p.scratch);  // offline: x_T from x_{T-1}
    p.J = p.model->objective(p.scratch);
    p.lambda = p.model->objective_gradient(p.scratch);
    return counted(p);
  };
  return cb;
}

CProblem make_problem(const burgers::Problem& model, std::int64_t slots) {
  CProblem p;
  p.model = &model;
  p.x = model.initial_state();
  p.slots.assign(static_cast<std::size_t>(slots), {});
  return p;
}

std::vector<double> cpp_gradient(const burgers::Problem& model, cairn::Schedule& schedule,
                                 std::int64_t slots, cairn::DriverStatistics* statistics) {
  const std::vector<double> x0 = model.initial_state();
  cairn::MemoryStorage storage(slots, x0.size() * sizeof(double));
  cairn::Driver<std::vector<double>> driver(
      schedule, storage, [&](std::int64_t, std::vector<double>& x) { model.step(x); },
      [&](std::int64_t, const std::vector<double>& x, std::vector<double>& lambda) {
        model.adjoint_step(x, lambda);
      });
  std::vector<double> g =
      driver.run(x0, [&](const std::vector<double>& xT) { return model.objective_gradient(xT); });
  *statistics = driver.statistics();
  return g;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("c api: the driver gives cairn::Driver's gradient and counts", "[c_api]") {
  const burgers::Problem model(24);
  for (std::int64_t T : {1, 2, 17, 120}) {
    for (std::int64_t c : {1, 3, 8}) {
      INFO("T = " << T << ", c = " << c);
      cairn_schedule* raw = nullptr;
      ok(cairn_revolve_create(T, c, &raw));
      Handle h(raw);
      std::int64_t slots = 0;
      ok(cairn_schedule_slots(h.get(), 0, &slots));
      CProblem p = make_problem(model, slots);
      const cairn_callbacks cb = burgers_callbacks();
      cairn_driver_statistics s{};
      ok(cairn_driver_run(h.get(), &cb, &p, &s));
      cairn::Revolve schedule(T, c);
      cairn::DriverStatistics expected;
      CHECK(bitwise_equal(p.lambda, cpp_gradient(model, schedule, slots, &expected)));
      CHECK(s.step_calls + 1 == expected.step_calls);  // the C++ Driver's step to x_T
      CHECK(s.step_calls == cairn::forward_cost(T, c));
      CHECK(s.adjoint_calls == T);
      CHECK(s.stores == expected.stores);
      CHECK(s.restores == expected.restores);
      CHECK(s.actions == expected.actions);
      CHECK(s.steps == T);
      // Again, on the same handle: the schedule restarts.
      CProblem again = make_problem(model, slots);
      ok(cairn_driver_run(h.get(), &cb, &again, &s));
      CHECK(bitwise_equal(again.lambda, p.lambda));
    }
  }
}

TEST_CASE("c api: an online run through the driver gives the store-all gradient", "[c_api]") {
  const burgers::Problem model(16);
  for (std::int64_t c : {1, 2, 5}) {
    for (std::int64_t T : {1, 9, 70}) {
      INFO("T = " << T << ", c = " << c);
      cairn_schedule* raw = nullptr;
      ok(cairn_online_create(c, &raw));
      Handle h(raw);
      CProblem p = make_problem(model, c);
      const cairn_callbacks cb = burgers_callbacks();
      ok(cairn_driver_start(h.get(), &cb, &p));
      for (std::int64_t i = 0; i < T; ++i) ok(cairn_driver_step(h.get(), &cb, &p));
      cairn_driver_statistics s{};
      ok(cairn_driver_finish(h.get(), &cb, &p, &s));
      cairn::StoreAll all(T);
      cairn::DriverStatistics expected;
      CHECK(bitwise_equal(p.lambda, cpp_gradient(model, all, all.slots(), &expected)));
      CHECK(s.adjoint_calls == T);
      CHECK(s.steps == T);
      CHECK(s.step_calls >= T);
    }
  }
}

TEST_CASE("c api: a callback that fails stops the run with CAIRN_ERROR_CALLBACK and says where",
          "[c_api]") {
  const burgers::Problem model(8);
  cairn_schedule* raw = nullptr;
  ok(cairn_revolve_create(10, 3, &raw));
  Handle h(raw);
  const cairn_callbacks cb = burgers_callbacks();
  // Find every callback's position in a good run, then fail each in turn.
  CProblem good = make_problem(model, 3);
  ok(cairn_driver_run(h.get(), &cb, &good, nullptr));
  const int total = good.calls;
  for (int k = 0; k < total; ++k) {
    CProblem p = make_problem(model, 3);
    p.fail_at = k;
    cairn_driver_statistics s{};
    REQUIRE(cairn_driver_run(h.get(), &cb, &p, &s) == CAIRN_ERROR_CALLBACK);
    const std::string message = cairn_last_error();
    INFO(message);
    CHECK(message.rfind("cairn_driver_run: the ", 0) == 0);
    CHECK(message.find(" callback returned 7 at ") != std::string::npos);
    CHECK(message.find("; the run stopped") != std::string::npos);
    CHECK(p.calls == k + 1);  // nothing was called after the failure
  }
  // Spot checks of the wording.
  CProblem p = make_problem(model, 3);
  p.fail_at = 0;
  REQUIRE(cairn_driver_run(h.get(), &cb, &p, nullptr) == CAIRN_ERROR_CALLBACK);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_driver_run: the store callback returned 7 at store x_0 into slot 0 of level 0; "
        "the run stopped");
  p = make_problem(model, 3);
  p.fail_at = 1;
  REQUIRE(cairn_driver_run(h.get(), &cb, &p, nullptr) == CAIRN_ERROR_CALLBACK);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_driver_run: the step callback returned 7 at step 0 (x_0 -> x_1); the run stopped");
  // The schedule and the handle are fine afterwards.
  CProblem after = make_problem(model, 3);
  ok(cairn_driver_run(h.get(), &cb, &after, nullptr));
  CHECK(bitwise_equal(after.lambda, good.lambda));
}

TEST_CASE("c api: heterogeneous streams equal the C++ ones on random chains", "[c_api]") {
  std::mt19937_64 random(3);
  std::uniform_int_distribution<int> quarter(1, 16), size(1, 4);
  for (std::int64_t T = 1; T <= 40; ++T) {
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<cairn_chain_step> chain(static_cast<std::size_t>(T));
      std::vector<cairn::ChainStep> expected_chain;
      std::int64_t total = 0;
      for (cairn_chain_step& step : chain) {
        step = cairn_chain_step{quarter(random) / 4.0, quarter(random) / 4.0, 8 * size(random)};
        total += step.state_bytes;
        expected_chain.push_back(cairn::ChainStep{step.forward_cost, step.backward_cost,
                                                  static_cast<std::uint64_t>(step.state_bytes)});
      }
      for (const std::int64_t budget : {chain.front().state_bytes, total / 3 + 32, total}) {
        INFO("T = " << T << ", trial " << trial << ", budget " << budget);
        cairn_schedule* raw = nullptr;
        ok(cairn_heterogeneous_create(chain.data(), T, budget, 0, &raw));
        Handle h(raw);
        cairn::HeterogeneousRevolve expected(expected_chain, static_cast<std::uint64_t>(budget));
        REQUIRE(same_stream(expected, h.get()));
        double cost = -1;
        ok(cairn_heterogeneous_optimal_cost(h.get(), &cost));
        CHECK(cost == expected.optimal_cost());
        CHECK(query(cairn_heterogeneous_peak_bytes, h.get()) ==
              static_cast<std::int64_t>(expected.peak_bytes()));
        CHECK(query(cairn_schedule_steps, h.get()) == T);
        std::int64_t slots = 0;
        ok(cairn_schedule_slots(h.get(), 0, &slots));
        CHECK(slots == expected.slots());
        int kind = -1;
        ok(cairn_schedule_kind(h.get(), &kind));
        CHECK(kind == CAIRN_SCHEDULE_HETEROGENEOUS);
        const char* name = nullptr;
        ok(cairn_schedule_name(h.get(), &name));
        CHECK(std::string(name) == "heterogeneous");
      }
    }
  }
}

TEST_CASE("c api: heterogeneous schedules refuse bad chains with a message", "[c_api]") {
  const auto expect = [](int status, int code, const std::string& message) {
    INFO(cairn_last_error());
    CHECK(status == code);
    CHECK(std::string(cairn_last_error()) == message);
  };
  cairn_schedule* h = nullptr;
  const cairn_chain_step good[2] = {{1, 1, 8}, {1, 1, 8}};
  const cairn_chain_step empty_state[2] = {{1, 1, 8}, {1, 1, 0}};
  const cairn_chain_step negative[2] = {{1, 1, 8}, {-1, 1, 8}};
  expect(cairn_heterogeneous_create(good, 0, 16, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: steps = 0; need steps >= 1");
  expect(cairn_heterogeneous_create(nullptr, 2, 16, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: chain is NULL; pass a valid pointer");
  expect(cairn_heterogeneous_create(good, 2, -1, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: budget_bytes = -1, memory_unit = 0; both must be >= 0 "
         "(memory_unit 0: the sizes' gcd)");
  expect(cairn_heterogeneous_create(empty_state, 2, 16, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: chain[1].state_bytes = 0; sizes must be >= 1");
  expect(cairn_heterogeneous_create(negative, 2, 16, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: HeterogeneousRevolve: step 1 has a negative or non-finite "
         "cost; costs must be finite and >= 0");
  expect(cairn_heterogeneous_create(good, 2, 4, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_create: HeterogeneousRevolve: the budget of 4 bytes cannot hold x_0 "
         "(8 bytes); every schedule keeps x_0");
  CHECK(h == nullptr);
  ok(cairn_revolve_create(10, 2, &h));
  Handle revolve(h);
  double cost = 0;
  expect(cairn_heterogeneous_optimal_cost(revolve.get(), &cost), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_heterogeneous_optimal_cost: the schedule is 'revolve'; this call needs a "
         "heterogeneous schedule");
}

TEST_CASE("c api: bad arguments give CAIRN_ERROR_INVALID_ARGUMENT and say what is allowed",
          "[c_api]") {
  cairn_schedule* h = nullptr;
  const auto expect = [](int status, int code, const std::string& message) {
    INFO(cairn_last_error());
    CHECK(status == code);
    CHECK(std::string(cairn_last_error()) == message);
  };
  expect(cairn_revolve_create(10, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_revolve_create: Revolve: steps = 10, slots = 0 is not allowed; both must be "
         "integers >= 1");
  CHECK(h == nullptr);
  expect(cairn_revolve_create(10, 2, nullptr), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_revolve_create: the result pointer (cairn_schedule**) is NULL; pass a valid "
         "pointer");
  expect(cairn_online_create(0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_online_create: OnlineRevolve: slots = 0 is not allowed; give at least 1 (the slot "
         "of x_0)");
  expect(cairn_uniform_create(5, -1, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_uniform_create: Uniform: interval = -1 is not allowed; the checkpoint interval k "
         "must be >= 1");
  expect(cairn_store_all_create(0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_store_all_create: StoreAll: steps = 0 is not allowed; steps must be an integer "
         ">= 1");
  const cairn_storage_level three[4] = {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}};
  expect(cairn_multilevel_create(5, three, 4, 1, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_multilevel_create: level_count = 4; need 1, 2 or 3 storage levels");
  expect(cairn_multilevel_create(5, nullptr, 1, 1, 0, &h), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_multilevel_create: levels is NULL; pass a valid pointer");
  CHECK(cairn_multilevel_create(5, three, 1, 0.0, 0, &h) == CAIRN_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(cairn_last_error()).rfind("cairn_multilevel_create: MultilevelRevolve: ", 0) ==
        0);
  CHECK(h == nullptr);

  cairn_action a{};
  expect(cairn_schedule_next(nullptr, &a), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_schedule_next: schedule is NULL; pass a valid pointer");
  ok(cairn_revolve_create(10, 2, &h));
  Handle revolve(h);
  expect(cairn_schedule_next(revolve.get(), nullptr), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_schedule_next: action is NULL; pass a valid pointer");
  std::int64_t value = 0;
  expect(cairn_schedule_slots(revolve.get(), 1, &value), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_schedule_slots: level = 1; this schedule has 1 level(s), numbered from 0");
  expect(cairn_online_start(revolve.get(), &a), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_online_start: the schedule is 'revolve'; this call needs an online schedule "
         "(cairn_online_create)");
  double cost = 0;
  expect(cairn_multilevel_optimal_cost(revolve.get(), &cost), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_multilevel_optimal_cost: the schedule is 'revolve'; this call needs a multilevel "
         "or two-level schedule");
  cairn_callbacks cb = burgers_callbacks();
  cb.terminal = nullptr;
  expect(cairn_driver_run(revolve.get(), &cb, nullptr, nullptr), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_driver_run: callbacks->terminal is NULL; step, adjoint_step, store, restore and "
         "terminal are required (free_slot may be NULL)");
  expect(cairn_driver_start(revolve.get(), &cb, nullptr), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_driver_start: the schedule is 'revolve'; this call needs an online schedule "
         "(cairn_online_create)");
  expect(
      cairn_forward_cost(INT64_MAX, 1, &value), CAIRN_ERROR_OVERFLOW,
      std::string("cairn_forward_cost: ") + [] {
        try {
          cairn::forward_cost(INT64_MAX, 1);
        } catch (const std::overflow_error& e) {
          return std::string(e.what());
        }
        return std::string("no overflow");
      }());
  int major = 0, minor = 0, patch = 0;
  expect(cairn_version(&major, nullptr, &patch), CAIRN_ERROR_INVALID_ARGUMENT,
         "cairn_version: major, minor and patch must all be valid pointers");
  ok(cairn_version(&major, &minor, &patch));
  CHECK((major == CAIRN_VERSION_MAJOR && minor == CAIRN_VERSION_MINOR &&
         patch == CAIRN_VERSION_PATCH));
  CHECK(cairn_schedule_destroy(nullptr) == CAIRN_OK);
  CHECK(std::string(cairn_status_name(CAIRN_ERROR_STATE)) == "CAIRN_ERROR_STATE");
  CHECK(std::string(cairn_status_name(42)) == "unknown status");
}

TEST_CASE("c api: calls out of order give CAIRN_ERROR_STATE", "[c_api]") {
  cairn_schedule* raw = nullptr;
  ok(cairn_online_create(3, &raw));
  Handle h(raw);
  cairn_action a{};
  CHECK(cairn_schedule_next(h.get(), &a) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_schedule_next: OnlineRevolve::next: the reverse sweep starts after finish(); "
        "during the forward sweep use advanced()");
  const cairn_callbacks cb = burgers_callbacks();
  CHECK(cairn_driver_run(h.get(), &cb, nullptr, nullptr) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_driver_run: an online schedule learns T only at the end: use cairn_driver_start, "
        "cairn_driver_step and cairn_driver_finish");
  CHECK(cairn_driver_step(h.get(), &cb, nullptr) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_driver_step: no online run in progress; call cairn_driver_start first (again "
        "after cairn_driver_finish or a failure)");
  const burgers::Problem model(8);
  CProblem p = make_problem(model, 3);
  ok(cairn_driver_start(h.get(), &cb, &p));
  CHECK(cairn_driver_finish(h.get(), &cb, &p, nullptr) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_driver_finish: the run made no step; call cairn_driver_step at least once");
  // The driver run is still in progress (a step and a finish would complete it): the protocol by
  // hand is refused on its handle.
  CHECK(cairn_online_finish(h.get()) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_online_finish: a driver run (cairn_driver_start) is in progress on this schedule; "
        "end it with cairn_driver_finish, or use a second schedule for the protocol by hand");
  cairn_schedule* other = nullptr;
  ok(cairn_online_create(3, &other));
  Handle second(other);
  ok(cairn_online_start(second.get(), &a));
  CHECK(cairn_online_finish(second.get()) == CAIRN_ERROR_STATE);
  CHECK(std::string(cairn_last_error()) ==
        "cairn_online_finish: OnlineRevolve::finish: the run made no step; there is nothing to "
        "reverse");
}

TEST_CASE("c api: the online protocol by hand is refused in the middle of a driver run",
          "[c_api]") {
  // It used to be accepted: the schedule then ran ahead of the driver's working state, and the
  // run returned CAIRN_OK with a wrong gradient.
  const burgers::Problem model(16);
  const std::int64_t T = 40, c = 3;
  cairn_schedule* raw = nullptr;
  ok(cairn_online_create(c, &raw));
  Handle h(raw);
  CProblem p = make_problem(model, c);
  const cairn_callbacks cb = burgers_callbacks();
  ok(cairn_driver_start(h.get(), &cb, &p));
  for (std::int64_t i = 0; i < T; ++i) {
    ok(cairn_driver_step(h.get(), &cb, &p));
    if (i % 10 == 3) {
      const cairn_action* list = nullptr;
      std::size_t count = 0;
      cairn_action store_x0{};
      CHECK(cairn_online_advanced(h.get(), &list, &count) == CAIRN_ERROR_STATE);
      CHECK(std::string(cairn_last_error())
                .find("a driver run (cairn_driver_start) is in "
                      "progress on this schedule") != std::string::npos);
      CHECK(cairn_online_start(h.get(), &store_x0) == CAIRN_ERROR_STATE);
      CHECK(cairn_online_finish(h.get()) == CAIRN_ERROR_STATE);
    }
  }
  std::int64_t steps = 0;
  ok(cairn_schedule_steps(h.get(), &steps));
  CHECK(steps == T);
  ok(cairn_driver_finish(h.get(), &cb, &p, nullptr));
  cairn::StoreAll all(T);
  cairn::DriverStatistics expected;
  CHECK(bitwise_equal(p.lambda, cpp_gradient(model, all, all.slots(), &expected)));
  // After the run the protocol by hand works again.
  cairn_action store_x0{};
  ok(cairn_online_start(h.get(), &store_x0));
  CHECK(store_x0.kind == CAIRN_ACTION_STORE);
}

TEST_CASE("c api: the C driver refuses streams that name no state or break the order", "[c_api]") {
  // No C constructor makes such a stream; the handle is built here around a scripted schedule.
  using A = cairn::Action;
  struct Case {
    std::vector<A> stream;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{A::make_advance(0, 1), A::make_reverse(1), A::make_advance(-1, 0), A::make_reverse(0),
        A::make_end()},
       "the schedule asks to advance x_-1 -> x_0 but the working state is undefined"},
      {{A::make_store(0, 0), A::make_reverse(-1), A::make_end()},
       "the schedule asks to reverse step -1 but the working state is x_0"},
      {{A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, -1), A::make_reverse(0),
        A::make_end()},
       "restore x_-1 from slot 0 of level 0, which is no state"},
      {{A::make_store(0, 3), A::make_end()},
       "the schedule asks to store x_3 into slot 0 of level 0 but the working state is x_0"},
      {{A::make_store(0, 0), A::make_advance(0, 2), A::make_reverse(2), A::make_restore(0, 0),
        A::make_reverse(0), A::make_end()},
       "the next step to reverse is 1"},
      {{A::make_store(0, 0), A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, 0),
        A::make_advance(0, 5), A::make_end()},
       "an advance needs from < to <= T"},
      {{A::make_store(0, 0), A::make_advance(0, 2), A::make_reverse(2), A::make_end()},
       "the schedule ended with steps 0..1 not reversed"},
      {{A::make_store(0, 0), A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, 0),
        A::make_reverse(0), A::make_reverse(-1), A::make_end()},
       "the schedule asks to reverse step -1 but the working state is undefined"},
  };
  const burgers::Problem model(8);
  const cairn_callbacks cb = burgers_callbacks();
  for (const Case& k : cases) {
    INFO(k.message);
    Handle h(new cairn_schedule);
    h->schedule = std::make_unique<cairn_test::ScriptedSchedule>(k.stream);
    CProblem p = make_problem(model, 2);
    REQUIRE(cairn_driver_run(h.get(), &cb, &p, nullptr) == CAIRN_ERROR_INTERNAL);
    CHECK(std::string(cairn_last_error()).find(k.message) != std::string::npos);
    for (const A& asked : p.log) {
      if (asked.kind == cairn::ActionKind::advance) REQUIRE(asked.from() >= 0);
    }
  }
}

TEST_CASE("c api: the last error is kept per thread", "[c_api]") {
  cairn_schedule* h = nullptr;
  REQUIRE(cairn_revolve_create(0, 1, &h) == CAIRN_ERROR_INVALID_ARGUMENT);
  const std::string mine = cairn_last_error();
  std::string theirs_before, theirs_after;
  std::thread other([&] {
    theirs_before = cairn_last_error();
    cairn_store_all_create(-3, &h);
    theirs_after = cairn_last_error();
  });
  other.join();
  CHECK(theirs_before.empty());
  CHECK(theirs_after.rfind("cairn_store_all_create: ", 0) == 0);
  CHECK(std::string(cairn_last_error()) == mine);
  // A successful call leaves the message as it is.
  ok(cairn_revolve_create(3, 1, &h));
  cairn_schedule_destroy(h);
  CHECK(std::string(cairn_last_error()) == mine);
}

TEST_CASE("c api: an exception from a C++ callback stops at the boundary as CAIRN_ERROR_INTERNAL",
          "[c_api]") {
  cairn_schedule* raw = nullptr;
  ok(cairn_revolve_create(5, 2, &raw));
  Handle h(raw);
  cairn_callbacks cb = burgers_callbacks();
  cb.step = [](void*, std::int64_t) -> int { throw std::runtime_error("the solver diverged"); };
  const burgers::Problem model(8);
  CProblem p = make_problem(model, 2);
  CHECK(cairn_driver_run(h.get(), &cb, &p, nullptr) == CAIRN_ERROR_INTERNAL);
  CHECK(std::string(cairn_last_error()) == "cairn_driver_run: the solver diverged");
}

TEST_CASE("c api: counts that do not fit in 64 bits give CAIRN_ERROR_OVERFLOW, not a wrong number",
          "[c_api]") {
  cairn_schedule* raw = nullptr;
  ok(cairn_uniform_create(INT64_MAX, 1000000, &raw));
  Handle h(raw);
  std::int64_t steps = -1;
  CHECK(cairn_schedule_forward_steps(h.get(), &steps) == CAIRN_ERROR_OVERFLOW);
  CHECK(steps == -1);
  CHECK(std::string(cairn_last_error()).find("overflows 64-bit integers") != std::string::npos);
  std::int64_t slots = 0;
  ok(cairn_schedule_slots(h.get(), 0, &slots));
  CHECK(slots == (INT64_MAX / 1000000 + 1) + 1000000 - 2);
}

TEST_CASE("c api: heterogeneous costs whose sums overflow are refused, not planned", "[c_api]") {
  // The report's case: costs 1e308, T = 3, 16 bytes; it crashed in the planner.
  const std::vector<cairn_chain_step> chain(3, cairn_chain_step{1e308, 0, 8});
  cairn_schedule* raw = nullptr;
  CHECK(cairn_heterogeneous_create(chain.data(), 3, 16, 0, &raw) == CAIRN_ERROR_INVALID_ARGUMENT);
  CHECK(raw == nullptr);
  CHECK(std::string(cairn_last_error()).find("the costs are too large") != std::string::npos);
  CHECK(cairn_heterogeneous_create(chain.data(), 2, 16, 0, &raw) == CAIRN_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("c api: planning tables above their limit give CAIRN_ERROR_OUT_OF_MEMORY with the size",
          "[c_api]") {
  // 3000 steps of 1 byte under a 200-byte budget: about 1.8 GB of split tables, over the 1 GiB
  // limit. Refused before anything is allocated.
  const std::vector<cairn_chain_step> chain(3000, cairn_chain_step{1, 0, 1});
  cairn_schedule* raw = nullptr;
  CHECK(cairn_heterogeneous_create(chain.data(), 3000, 200, 1, &raw) == CAIRN_ERROR_OUT_OF_MEMORY);
  CHECK(raw == nullptr);
  CHECK(std::string(cairn_last_error()).find("bytes") != std::string::npos);
}

TEST_CASE("c api: mixed schedules give the MixedRevolve stream, and the C driver refuses them",
          "[c_api][mixed]") {
  for (std::int64_t T = 1; T <= 40; T += 3) {
    for (const std::int64_t w : {1, 3}) {
      INFO("T = " << T << ", w = " << w);
      cairn_schedule* raw = nullptr;
      ok(cairn_mixed_create(T, 6, w, 1.0, 1.5, 0.25, &raw));
      Handle h(raw);
      cairn::MixedRevolve expected(T, 6, w, cairn::MixedPrices{1.0, 1.5, 0.25});
      REQUIRE(same_stream(expected, h.get()));
      int kind = -1;
      ok(cairn_schedule_kind(h.get(), &kind));
      CHECK(kind == CAIRN_SCHEDULE_MIXED);
      std::int64_t value = 0;
      ok(cairn_schedule_slots(h.get(), 0, &value));
      CHECK(value == 6);
      ok(cairn_schedule_steps(h.get(), &value));
      CHECK(value == T);
      ok(cairn_schedule_forward_steps(h.get(), &value));
      CHECK(value == expected.expected_costs().forward_steps);
    }
  }
  cairn_schedule* raw = nullptr;
  CHECK(cairn_mixed_create(10, 0, 1, 1, 1, 0, &raw) == CAIRN_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(std::string(cairn_last_error()), Catch::Contains("cairn_mixed_create: MixedRevolve"));
}

TEST_CASE("c api: two-level schedules give the TwoLevelRevolve stream and its cost", "[c_api]") {
  for (std::int64_t T = 1; T <= 40; T += 3) {
    for (const std::int64_t c1 : {std::int64_t{3}, CAIRN_UNLIMITED_SLOTS}) {
      INFO("T = " << T << ", c1 = " << c1);
      cairn_schedule* raw = nullptr;
      ok(cairn_two_level_create(T, cairn_storage_level{2, 0.0, 0.0},
                                cairn_storage_level{c1, 2.0, 1.5}, 1.0, 0.5, &raw));
      Handle h(raw);
      cairn::TwoLevelRevolve expected(T, cairn::StorageLevel{2, 0, 0},
                                      cairn::StorageLevel{c1, 2, 1.5}, cairn::StepCosts{1, 0.5});
      REQUIRE(same_stream(expected, h.get()));
      double cost = 0;
      ok(cairn_multilevel_optimal_cost(h.get(), &cost));
      CHECK(cost == expected.optimal_cost());
      int kind = -1;
      ok(cairn_schedule_kind(h.get(), &kind));
      CHECK(kind == CAIRN_SCHEDULE_TWO_LEVEL);
      int levels = 0;
      ok(cairn_schedule_levels(h.get(), &levels));
      CHECK(levels == 2);
      std::int64_t slots = 0;
      ok(cairn_schedule_slots(h.get(), 1, &slots));
      CHECK(slots == expected.slots_per_level()[1]);
      std::int64_t steps = 0;
      ok(cairn_schedule_steps(h.get(), &steps));
      CHECK(steps == T);
      ok(cairn_schedule_forward_steps(h.get(), &steps));
      CHECK(steps == expected.expected_costs().forward_steps);
    }
  }
  cairn_schedule* raw = nullptr;
  CHECK(cairn_two_level_create(10, cairn_storage_level{0, 0, 0}, cairn_storage_level{0, 0, 0}, 1, 0,
                               &raw) == CAIRN_ERROR_INVALID_ARGUMENT);
  CHECK_THAT(std::string(cairn_last_error()),
             Catch::Contains("cairn_two_level_create: TwoLevelRevolve: 10 steps need at least one "
                             "slot"));
}
