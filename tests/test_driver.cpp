#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "burgers_runs.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/online.hpp"
#include "cairn/online_schedule.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"
#include "scripted_schedule.hpp"

using burgers_runs::bitwise_equal;
using burgers_runs::burgers_gradient;
using burgers_runs::Outcome;
using burgers_runs::State;

namespace {

// An online schedule that is not OnlineRevolve, to show that the drivers need only the
// OnlineSchedule interface: x_i is kept whenever k divides i (no knowledge of T needed), and each
// step i is reversed from the checkpoint at or below it.
class EveryKthOnline final : public cairn::OnlineSchedule {
 public:
  explicit EveryKthOnline(std::int64_t k) : k_(k) { decision_.reserve(1); }

  cairn::Action start() override {
    started_ = true;
    finished_ = false;
    steps_ = 0;
    return cairn::Action::make_store(0, 0);
  }
  const std::vector<cairn::Action>& advanced() override {
    if (!started_ || finished_) throw std::logic_error("EveryKthOnline::advanced: no run");
    decision_.clear();
    if (++steps_ % k_ == 0) decision_.push_back(cairn::Action::make_store(steps_ / k_, steps_));
    return decision_;
  }
  void finish() override {
    if (!started_ || finished_ || steps_ < 1) throw std::logic_error("EveryKthOnline::finish");
    finished_ = true;
    reset();
  }
  cairn::Action next() override {
    if (!finished_) throw std::logic_error("EveryKthOnline::next: call finish() first");
    if (step_ < 0) return cairn::Action::make_end();
    const std::int64_t below = step_ / k_ * k_;  // the checkpoint step i is reversed from
    switch (phase_) {
      case Phase::restore:
        phase_ = step_ > below ? Phase::advance : Phase::reverse;
        return cairn::Action::make_restore(step_ / k_, below);
      case Phase::advance:
        phase_ = Phase::reverse;
        return cairn::Action::make_advance(below, step_);
      default:
        phase_ = Phase::restore;
        return cairn::Action::make_reverse(step_--);
    }
  }
  void reset() override {
    step_ = steps_ - 1;
    phase_ = Phase::restore;
  }
  const char* name() const noexcept override { return "every-kth-online"; }
  std::int64_t steps() const noexcept override { return steps_; }
  bool finished() const noexcept override { return finished_; }
  std::size_t max_advanced_actions() const noexcept override { return 1; }

 private:
  enum class Phase { restore, advance, reverse };
  std::int64_t k_;
  std::int64_t steps_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<cairn::Action> decision_;
  std::int64_t step_ = -1;  // the next step to reverse, -1 when all are
  Phase phase_ = Phase::restore;
};

}  // namespace

TEST_CASE("driver: the Revolve gradient is bitwise identical to the store-all gradient",
          "[driver]") {
  struct Case {
    std::int64_t T, N, c;
  };
  for (const Case k :
       {Case{1, 8, 1}, Case{2, 8, 1}, Case{50, 16, 1}, Case{100, 32, 3}, Case{257, 64, 5},
        Case{1000, 100, 10}, Case{3000, 50, 2}, Case{500, 500, 600}}) {
    INFO("T = " << k.T << ", N = " << k.N << ", c = " << k.c);
    const burgers::Problem problem(k.N);
    cairn::StoreAll all(k.T);
    const Outcome reference = burgers_gradient(problem, all, all.slots());
    cairn::Revolve revolve(k.T, k.c);
    const Outcome checkpointed = burgers_gradient(problem, revolve, std::min(k.c, k.T));
    REQUIRE(bitwise_equal(checkpointed.gradient, reference.gradient));
    REQUIRE(std::memcmp(&checkpointed.J, &reference.J, sizeof(double)) == 0);
  }
}

TEST_CASE("driver: step() is called t(T, c) + 1 times and adjoint_step() T times", "[driver]") {
  const burgers::Problem problem(8);
  for (std::int64_t T = 1; T <= 120; ++T) {
    for (std::int64_t c = 1; c <= 6; ++c) {
      cairn::Revolve revolve(T, c);
      const auto s = burgers_gradient(problem, revolve, std::min(c, T)).statistics;
      INFO("T = " << T << ", c = " << c);
      REQUIRE(s.step_calls == cairn::forward_cost(T, c) + 1);
      REQUIRE(s.adjoint_calls == T);
      REQUIRE(s.steps == T);
      REQUIRE(s.stores == cairn::Revolve::store_count(T, c));
      REQUIRE(s.restores == T - 1);
      REQUIRE(s.peak_slots <= std::min(c, T));
      REQUIRE(s.bytes_moved() == (s.stores + s.restores) * 8 * 8);
    }
    cairn::StoreAll all(T);
    const auto s = burgers_gradient(problem, all, all.slots()).statistics;
    REQUIRE(s.step_calls == T);  // a plain forward run, nothing recomputed
    REQUIRE(s.adjoint_calls == T);
  }
}

TEST_CASE("driver: Taylor test of the Burgers gradient converges at rate 2", "[driver]") {
  const std::int64_t T = 400;
  const burgers::Problem problem(64);
  cairn::Revolve revolve(T, 4);
  const Outcome out = burgers_gradient(problem, revolve, 4);
  const State x0 = problem.initial_state();
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  State v(x0.size());
  for (double& e : v) e = normal(rng);
  double directional = 0;
  for (std::size_t i = 0; i < v.size(); ++i) directional += out.gradient[i] * v[i];

  double h = 0.05;
  std::vector<double> remainders;
  for (int k = 0; k <= 4; ++k, h /= 2) {
    State x = x0;
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += h * v[i];
    remainders.push_back(std::abs(problem.objective_after(x, T) - out.J - h * directional));
  }
  for (std::size_t k = 1; k < remainders.size(); ++k) {
    const double rate = std::log2(remainders[k - 1] / remainders[k]);
    INFO("halving " << k << ": remainder " << remainders[k] << ", rate " << rate);
    REQUIRE(rate == Approx(2.0).margin(0.1));
  }
}

TEST_CASE("driver: layer style gives the same x_T and gradient as one call", "[driver]") {
  const burgers::Problem problem(32);
  const std::int64_t T = 300;
  cairn::Revolve one_call(T, 4);
  const Outcome reference = burgers_gradient(problem, one_call, 4);

  cairn::Revolve revolve(T, 4);
  cairn::MemoryStorage storage(4, 32 * sizeof(double));
  cairn::Driver<State> layer(
      revolve, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
  for (int repeat = 0; repeat < 2; ++repeat) {
    const State xT = layer.forward(problem.initial_state());
    REQUIRE(problem.objective(xT) == reference.J);
    const State gradient = layer.backward(problem.objective_gradient(xT));
    REQUIRE(bitwise_equal(gradient, reference.gradient));
    REQUIRE(layer.statistics().step_calls == cairn::forward_cost(T, 4) + 1);
  }
  REQUIRE_THROWS_WITH(layer.backward(State(32, 0.0)), Catch::Contains("call forward() first"));
}

TEST_CASE("driver: a callback that throws mid-reverse leaves a driver that runs again",
          "[driver]") {
  const burgers::Problem problem(24);
  const std::int64_t T = 500;
  const std::int64_t c = 5;
  cairn::Revolve reference_schedule(T, c);
  const Outcome reference = burgers_gradient(problem, reference_schedule, c);

  cairn::Revolve revolve(T, c);
  cairn::MemoryStorage storage(c, 24 * sizeof(double));
  std::int64_t adjoint_calls = 0;
  std::int64_t fail_at = 250;  // in the middle of the reverse sweep
  cairn::Driver<State> driver(
      revolve, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) {
        if (++adjoint_calls == fail_at) throw std::runtime_error("solver diverged");
        problem.adjoint_step(x, lambda);
      });
  const auto terminal = [&](const State& xT) { return problem.objective_gradient(xT); };
  REQUIRE_THROWS_WITH(driver.run(problem.initial_state(), terminal), "solver diverged");
  // The checkpoints held when it failed are still there and readable.
  REQUIRE(storage.occupied() > 0);
  REQUIRE(storage.held_step(0) == 0);
  State x0_back(24, 0.0);
  storage.restore(0, 0, cairn::reader_for(x0_back));
  REQUIRE(bitwise_equal(x0_back, problem.initial_state()));
  REQUIRE_THROWS_AS(driver.backward(State(24, 0.0)), std::logic_error);

  fail_at = -1;
  adjoint_calls = 0;
  const State gradient = driver.run(problem.initial_state(), terminal);
  REQUIRE(bitwise_equal(gradient, reference.gradient));
  REQUIRE(driver.statistics().adjoint_calls == T);

  // A step() that throws during the forward sweep propagates the same way.
  bool fail_forward = true;
  cairn::Revolve again(T, c);
  cairn::Driver<State> fragile(
      again, storage,
      [&](std::int64_t i, State& x) {
        if (fail_forward && i == 123) throw std::runtime_error("step failed");
        problem.step(x);
      },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
  REQUIRE_THROWS_WITH(fragile.forward(problem.initial_state()), "step failed");
  fail_forward = false;
  REQUIRE(bitwise_equal(fragile.run(problem.initial_state(), terminal), reference.gradient));
}

// A user type that is not contiguous, checkpointed through its own adapter.
struct TwoFields {
  std::vector<double> u;
  std::vector<double> v;
};

template <>
struct cairn::StateAdapter<TwoFields> {
  static std::size_t bytes(const TwoFields& f) {
    return (f.u.size() + f.v.size()) * sizeof(double);
  }
  static void copy_out(const TwoFields& f, void* out) {
    std::memcpy(out, f.u.data(), f.u.size() * sizeof(double));
    std::memcpy(static_cast<char*>(out) + f.u.size() * sizeof(double), f.v.data(),
                f.v.size() * sizeof(double));
  }
  static void copy_in(TwoFields& f, const void* in, std::size_t count) {
    if (count != bytes(f)) throw std::invalid_argument("TwoFields: wrong checkpoint size");
    std::memcpy(f.u.data(), in, f.u.size() * sizeof(double));
    std::memcpy(f.v.data(), static_cast<const char*>(in) + f.u.size() * sizeof(double),
                f.v.size() * sizeof(double));
  }
};

TEST_CASE("driver: a user type through a StateAdapter specialisation", "[driver]") {
  // Two Burgers fields stepped side by side; the adjoint acts on both.
  const burgers::Problem problem(16);
  auto gradient_with = [&](cairn::Schedule& schedule, std::int64_t slots) {
    cairn::MemoryStorage storage(slots, 32 * sizeof(double));
    cairn::Driver<TwoFields> driver(
        schedule, storage,
        [&](std::int64_t, TwoFields& x) {
          problem.step(x.u);
          problem.step(x.v);
        },
        [&](std::int64_t, const TwoFields& x, TwoFields& lambda) {
          problem.adjoint_step(x.u, lambda.u);
          problem.adjoint_step(x.v, lambda.v);
        });
    TwoFields x0{problem.initial_state(), problem.initial_state()};
    for (double& e : x0.v) e *= -0.5;
    return driver.run(x0, [&](const TwoFields& xT) {
      return TwoFields{problem.objective_gradient(xT.u), problem.objective_gradient(xT.v)};
    });
  };
  cairn::StoreAll all(200);
  cairn::Revolve revolve(200, 3);
  const TwoFields a = gradient_with(all, all.slots());
  const TwoFields b = gradient_with(revolve, 3);
  REQUIRE(bitwise_equal(a.u, b.u));
  REQUIRE(bitwise_equal(a.v, b.v));
}

TEST_CASE("driver: options, progress reports and argument errors", "[driver]") {
  const burgers::Problem problem(8);
  cairn::Revolve revolve(1000, 6);
  cairn::MemoryStorage storage(6, 64);
  std::vector<std::int64_t> reported;
  bool forward_reported = false;
  bool done_reported = false;
  cairn::DriverOptions options;  // measure_time is off by default
  options.progress = [&](const cairn::DriverProgress& p) {
    if (p.phase == cairn::DriverProgress::Phase::forward_done) forward_reported = true;
    if (p.phase == cairn::DriverProgress::Phase::reversing) reported.push_back(p.steps_reversed);
    if (p.phase == cairn::DriverProgress::Phase::done) done_reported = p.steps_reversed == 1000;
  };
  cairn::Driver<State> driver(
      revolve, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); },
      options);
  driver.run(problem.initial_state(),
             [&](const State& xT) { return problem.objective_gradient(xT); });
  REQUIRE(forward_reported);
  REQUIRE(done_reported);
  REQUIRE(reported.size() == 100);                 // every 1% of T = 1000
  REQUIRE(driver.statistics().seconds_user == 0);  // not split when measure_time is off
  REQUIRE(driver.statistics().seconds_storage == 0);
  REQUIRE(driver.statistics().seconds_total > 0);

  cairn::DriverOptions timed;
  timed.measure_time = true;
  cairn::Driver<State> timed_driver(
      revolve, storage, [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); }, timed);
  timed_driver.run(problem.initial_state(),
                   [&](const State& xT) { return problem.objective_gradient(xT); });
  const auto& split = timed_driver.statistics();
  REQUIRE(split.seconds_user > 0);
  REQUIRE(split.seconds_storage > 0);
  REQUIRE(split.seconds_user + split.seconds_storage <= split.seconds_total);

  auto step = [](std::int64_t, State&) {};
  auto adjoint = [](std::int64_t, const State&, State&) {};
  REQUIRE_THROWS_AS(cairn::Driver<State>(revolve, std::vector<cairn::Storage*>{}, step, adjoint),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(cairn::Driver<State>(revolve, storage, nullptr, adjoint),
                    std::invalid_argument);
  // A schedule that asks for a level the driver was not given.
  struct DiskAsking final : cairn::Schedule {
    int n = 0;
    cairn::Action next() override {
      return n++ == 0 ? cairn::Action::make_store(0, 0, 1) : cairn::Action::make_end();
    }
    void reset() override { n = 0; }
    const char* name() const noexcept override { return "disk-asking"; }
  } disk_asking;
  cairn::Driver<State> lost(disk_asking, storage, step, adjoint);
  REQUIRE_THROWS_WITH(lost.run(State(8), [](const State& x) { return x; }),
                      Catch::Contains("storage level 1 but only 1 level(s) were given"));
}

TEST_CASE("driver: streams that name no state or break the order are refused, not run",
          "[driver]") {
  using A = cairn::Action;
  using cairn_test::ScriptedSchedule;
  struct Case {
    const char* what;
    std::vector<A> stream;
    const char* message;
  };
  const std::vector<Case> cases = {
      // The stream: after a reverse the working state is undefined (-1), and an advance
      // "from -1" used to match it and call step(-1, x).
      {"advance from the undefined state",
       {A::make_advance(0, 1), A::make_reverse(1), A::make_advance(-1, 0), A::make_reverse(0),
        A::make_end()},
       "advances from x_-1 but the working state is undefined"},
      {"first reverse of the undefined state",
       {A::make_store(0, 0), A::make_reverse(-1), A::make_end()},
       "first reverses step -1 but the working state is x_0"},
      {"restore of x_-1 from an empty slot",
       {A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, -1), A::make_reverse(0),
        A::make_end()},
       "restores x_-1, which is no state"},
      {"store of another state than the working one",
       {A::make_store(0, 3), A::make_advance(0, 1), A::make_reverse(1), A::make_end()},
       "stores x_3 but the working state is x_0"},
      {"store of the undefined state",
       {A::make_store(0, 0), A::make_advance(0, 1), A::make_reverse(1), A::make_store(1, -1),
        A::make_restore(0, 0), A::make_reverse(0), A::make_end()},
       "stores x_-1 but the working state is undefined"},
      {"reverse out of order",
       {A::make_store(0, 0), A::make_advance(0, 2), A::make_reverse(2), A::make_restore(0, 0),
        A::make_reverse(0), A::make_end()},
       "reverses step 0 but the next step to reverse is 1"},
      {"advance past T in the reverse sweep",
       {A::make_store(0, 0), A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, 0),
        A::make_advance(0, 5), A::make_end()},
       "an advance needs from < to <= T"},
      // After the last reverse the next step "to reverse" and the working state are both -1: a
      // reverse of step -1 must match neither.
      {"reverse of step -1 after every step",
       {A::make_store(0, 0), A::make_advance(0, 1), A::make_reverse(1), A::make_restore(0, 0),
        A::make_reverse(0), A::make_reverse(-1), A::make_end()},
       "reverses step -1 but the working state is undefined"},
      {"end before every step is reversed",
       {A::make_store(0, 0), A::make_advance(0, 2), A::make_reverse(2), A::make_end()},
       "ended with steps 0..1 not reversed"},
  };
  for (const Case& k : cases) {
    INFO(k.what);
    ScriptedSchedule schedule(k.stream);
    cairn::MemoryStorage storage(2, sizeof(double));
    std::vector<std::int64_t> stepped;
    cairn::Driver<State> driver(
        schedule, storage,
        [&](std::int64_t i, State& x) {
          stepped.push_back(i);
          x[0] += 1;
        },
        [&](std::int64_t i, const State&, State&) { stepped.push_back(i); });
    REQUIRE_THROWS_WITH(driver.run(State{0.0}, [](const State& x) { return x; }),
                        Catch::Contains(k.message));
    for (const std::int64_t i : stepped) REQUIRE(i >= 0);  // no call for a state that is not
  }
}

TEST_CASE("driver: an online run ending on the user's condition gives the store-all gradient",
          "[driver][online]") {
  // The loop stops when the energy of the wave around the conserved mean 0.5 (a quantity the
  // program does not know in steps) falls below a fraction of its start; the gradient must equal
  // store-all's over the same T bit for bit, with as many step calls as the checked online stream
  // has forward steps.
  struct Case {
    std::int64_t N, c;
    double threshold;
  };
  for (const Case k : {Case{16, 1, 0.99}, Case{16, 2, 0.9}, Case{32, 3, 0.5}, Case{64, 5, 0.2},
                       Case{50, 10, 0.1}, Case{8, 30, 0.05}}) {
    const burgers::Problem problem(k.N);
    const State x0 = problem.initial_state();
    cairn::OnlineRevolve online(k.c);
    cairn::MemoryStorage storage(k.c, x0.size() * sizeof(double));
    cairn::Driver<State> driver(
        online, storage, [&](std::int64_t, State& x) { problem.step(x); },
        [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
    driver.start(x0);
    const std::int64_t T = burgers_runs::step_until_energy_below(driver, x0, k.threshold);
    REQUIRE(T >= 1);
    REQUIRE(T < 100000);  // the condition was met
    double J = 0;
    const State gradient = driver.finish([&](const State& xT) {
      J = problem.objective(xT);
      return problem.objective_gradient(xT);
    });
    INFO("N = " << k.N << ", c = " << k.c << ", T = " << T);
    cairn::StoreAll all(T);
    const Outcome reference = burgers_gradient(problem, all, all.slots());
    REQUIRE(bitwise_equal(gradient, reference.gradient));
    REQUIRE(std::memcmp(&J, &reference.J, sizeof(double)) == 0);
    const cairn::DriverStatistics& s = driver.statistics();
    cairn::SimulatedOnlineRun simulated(T, k.c);
    const cairn::CheckResult checked = cairn::check(simulated, T, {k.c});
    REQUIRE(checked.legal);
    CHECK(s.step_calls == checked.costs.forward_steps);
    CHECK(s.adjoint_calls == T);
    CHECK(s.steps == T);
    CHECK(s.peak_slots <= k.c);
    CHECK(checked.costs.max_advances_per_step == cairn::repetitions(T + 1, k.c));
  }
}

TEST_CASE("driver: any OnlineSchedule runs through start/step/finish, not only OnlineRevolve",
          "[driver][online]") {
  for (const std::int64_t T : {1, 2, 7, 40, 121}) {
    for (const std::int64_t k : {1, 2, 5, 13}) {
      INFO("T = " << T << ", k = " << k);
      const burgers::Problem problem(16);
      const State x0 = problem.initial_state();
      EveryKthOnline online(k);
      cairn::MemoryStorage storage(T / k + 1, x0.size() * sizeof(double));
      cairn::Driver<State> driver(
          online, storage, [&](std::int64_t, State& x) { problem.step(x); },
          [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
      driver.start(x0);
      while (driver.steps() < T) driver.step();
      double J = 0;
      const State gradient = driver.finish([&](const State& xT) {
        J = problem.objective(xT);
        return problem.objective_gradient(xT);
      });
      cairn::StoreAll all(T);
      const Outcome reference = burgers_gradient(problem, all, all.slots());
      REQUIRE(bitwise_equal(gradient, reference.gradient));
      REQUIRE(std::memcmp(&J, &reference.J, sizeof(double)) == 0);

      // The same run as one stream, through the same interface, proved legal by the checker.
      cairn::SimulatedOnlineRun simulated(T, std::make_unique<EveryKthOnline>(k));
      CHECK(std::string(simulated.name()) == "every-kth-online");
      const cairn::CheckResult checked = cairn::check(simulated, T, {T / k + 1});
      REQUIRE(checked.legal);
      // T steps forward, then step i is recomputed from the checkpoint below it: i mod k steps.
      std::int64_t recomputed = 0;
      for (std::int64_t i = 0; i < T; ++i) recomputed += i % k;
      const cairn::DriverStatistics& s = driver.statistics();
      CHECK(checked.costs.forward_steps == T + recomputed);
      CHECK(s.step_calls == T + recomputed);
      CHECK(s.adjoint_calls == T);
      CHECK(s.stores == T / k + 1);
      CHECK(s.restores == T);
      CHECK(s.steps == T);
    }
  }
}

TEST_CASE("driver: online misuse is refused with a clear message", "[driver][online]") {
  using Catch::Matchers::Contains;
  const burgers::Problem problem(8);
  const State x0 = problem.initial_state();
  cairn::MemoryStorage storage(3, x0.size() * sizeof(double));
  const auto step = [&](std::int64_t, State& x) { problem.step(x); };
  const auto adjoint = [&](std::int64_t, const State& x, State& l) { problem.adjoint_step(x, l); };
  const auto terminal = [&](const State& xT) { return problem.objective_gradient(xT); };
  cairn::Revolve revolve(10, 3);
  cairn::Driver<State> offline(revolve, storage, step, adjoint);
  CHECK_THROWS_WITH(offline.start(x0), Contains("need an online schedule"));
  cairn::OnlineRevolve online(3);
  cairn::Driver<State> driver(online, storage, step, adjoint);
  CHECK_THROWS_WITH(driver.run(x0, terminal), Contains("use start(), step() and finish()"));
  CHECK_THROWS_WITH(driver.step(), Contains("call start() first"));
  driver.start(x0);
  CHECK_THROWS_WITH(driver.finish(terminal), Contains("made no step"));
  driver.step();
  driver.step();
  const State gradient = driver.finish(terminal);
  CHECK(gradient.size() == x0.size());
  CHECK_THROWS_WITH(driver.finish(terminal), Contains("no online run in progress"));
}
