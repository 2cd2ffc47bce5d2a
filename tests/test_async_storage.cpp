#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "burgers1d/burgers.hpp"
#include "cairn/async_storage.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/revolve.hpp"

using State = std::vector<double>;

namespace {

bool bitwise_equal(const State& a, const State& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

State random_state(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  State x(n);
  for (double& e : x) e = normal(rng);
  return x;
}

// Holds the worker inside inner.store() until the test opens it.
class Gate {
 public:
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
};

struct Reopen {
  Gate& gate;
  ~Reopen() { gate.open(); }
};

struct Call {
  std::string op;
  std::int64_t slot;
  std::int64_t step;
  std::thread::id thread;
};

// A MemoryStorage that logs every call with its thread, and can be slowed, held or made to fail.
class FakeStorage final : public cairn::Storage {
 public:
  FakeStorage(std::int64_t slots, std::size_t slot_bytes) : memory_(slots, slot_bytes) {}

  std::int64_t slots() const noexcept override {
    log("slots", -1, -1);
    return memory_.slots();
  }
  std::size_t slot_bytes() const noexcept override {
    log("slot_bytes", -1, -1);
    return memory_.slot_bytes();
  }
  std::int64_t occupied() const noexcept override {
    log("occupied", -1, -1);
    return memory_.occupied();
  }
  std::int64_t held_step(std::int64_t slot) const override {
    log("held_step", slot, -1);
    return memory_.held_step(slot);
  }
  void store(std::int64_t slot, std::int64_t step, const cairn::StateWriter& state) override {
    log("store", slot, step);
    ++stores_entered;
    gate.pass();
    std::this_thread::sleep_for(std::chrono::milliseconds(store_delay_ms.load()));
    if (slot == fail_store_slot.load()) {
      memory_.free(slot);  // the contract: a failed store leaves its slot empty
      ++stores_finished;
      throw std::runtime_error("disk full");
    }
    memory_.store(slot, step, state);
    ++stores_finished;
  }
  void restore(std::int64_t slot, std::int64_t step, const cairn::StateReader& state) override {
    log("restore", slot, step);
    ++restores;
    memory_.restore(slot, step, state);
  }
  void free(std::int64_t slot) override {
    log("free", slot, -1);
    memory_.free(slot);
  }
  void flush() override { ++flushes; }
  const char* name() const noexcept override {
    log("name", -1, -1);
    return "fake";
  }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  // The store/restore/free calls only, as "store 0 10", "free 1", ...
  std::vector<std::string> actions() const {
    std::vector<std::string> out;
    for (const Call& c : calls()) {
      if (c.op == "store" || c.op == "restore") {
        out.push_back(c.op + " " + std::to_string(c.slot) + " " + std::to_string(c.step));
      } else if (c.op == "free") {
        out.push_back("free " + std::to_string(c.slot));
      }
    }
    return out;
  }

  Gate gate;
  std::atomic<std::int64_t> fail_store_slot{-1};
  std::atomic<int> store_delay_ms{0};
  std::atomic<int> stores_entered{0};
  std::atomic<int> stores_finished{0};
  std::atomic<int> restores{0};
  int flushes = 0;

 private:
  void log(const char* op, std::int64_t slot, std::int64_t step) const {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(Call{op, slot, step, std::this_thread::get_id()});
  }

  cairn::MemoryStorage memory_;
  mutable std::mutex mutex_;
  mutable std::vector<Call> calls_;
};

// Waits (at most 10 s) until `done` holds.
template <typename F>
bool eventually(F&& done) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

State restored(cairn::Storage& storage, std::int64_t slot, std::int64_t step, std::size_t n) {
  State x(n, 0.0);
  storage.restore(slot, step, cairn::reader_for(x));
  return x;
}

}  // namespace

TEST_CASE("AsyncStorage round-trips states bitwise through MemoryStorage", "[async]") {
  const std::size_t n = 1000;
  const State held_before = random_state(n, 99);
  for (const std::size_t buffers : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    INFO("staging buffers " << buffers);
    cairn::MemoryStorage memory(6, n * sizeof(double));
    memory.store(5, 77, cairn::writer_for(held_before));  // a checkpoint from before the wrapper
    {
      cairn::AsyncStorage storage(memory, {buffers, 1});
      REQUIRE(storage.slots() == 6);
      REQUIRE(storage.slot_bytes() == n * sizeof(double));
      REQUIRE(std::string(storage.name()) == "ram");
      REQUIRE(storage.prefetch_depth() == 1);
      REQUIRE(storage.held_step(5) == 77);
      REQUIRE(storage.occupied() == 1);
      std::vector<State> states;
      for (int s = 0; s < 5; ++s) {
        states.push_back(random_state(n, static_cast<unsigned>(s + 10 * buffers)));
        storage.store(s, 100 + s, cairn::writer_for(states.back()));
      }
      REQUIRE(storage.occupied() == 6);
      REQUIRE(storage.held_step(3) == 103);
      // Some restores come from staging buffers, the others are read back from `memory`.
      for (int s = 4; s >= 0; --s) {
        REQUIRE(bitwise_equal(restored(storage, s, 100 + s, n), states[std::size_t(s)]));
      }
      REQUIRE(bitwise_equal(restored(storage, 5, 77, n), held_before));
      storage.flush();
      for (int s = 0; s < 5; ++s) {
        REQUIRE(bitwise_equal(restored(storage, s, 100 + s, n), states[std::size_t(s)]));
      }
      storage.free(0);
      REQUIRE(storage.held_step(0) == -1);
      REQUIRE(storage.occupied() == 5);
      const auto counters = storage.counters();
      REQUIRE(counters.stores == 5);
      REQUIRE(counters.restores_staged + counters.restores_prefetched + counters.restores_read ==
              11);
    }
    REQUIRE(memory.held_step(0) == -1);  // the free reached it before the destructor returned
    REQUIRE(memory.held_step(4) == 104);
  }
}

TEST_CASE("AsyncStorage keeps the Storage contract at once from its logical state", "[async]") {
  FakeStorage fake(3, 4 * sizeof(double));
  const cairn::AsyncStorageOptions no_buffers{0, 0};
  const cairn::AsyncStorageOptions too_deep{2, 3};
  REQUIRE_THROWS_AS(cairn::AsyncStorage(fake, no_buffers), std::invalid_argument);
  REQUIRE_THROWS_WITH(cairn::AsyncStorage(fake, too_deep),
                      Catch::Contains("prefetch_depth = 3") && Catch::Contains("<= staging"));
  cairn::AsyncStorage storage(fake, {2, 1});
  const Reopen reopen{fake.gate};  // even if a check fails, the worker is let go before joining
  fake.gate.close();               // nothing reaches `fake` while we check
  const State x{1, 2, 3, 4};
  storage.store(0, 7, cairn::writer_for(x));
  REQUIRE(eventually([&] { return fake.stores_entered.load() == 1; }));
  State big(5, 0.0);
  REQUIRE_THROWS_AS(storage.store(1, 3, cairn::writer_for(big)), std::invalid_argument);
  State y(4, 0.0);
  REQUIRE_THROWS_WITH(storage.restore(0, 6, cairn::reader_for(y)),
                      Catch::Contains("slot 0 holds x_7, not x_6"));
  REQUIRE_THROWS_AS(storage.restore(1, 0, cairn::reader_for(y)), std::logic_error);
  REQUIRE_THROWS_AS(storage.held_step(3), std::out_of_range);
  REQUIRE_THROWS_AS(storage.store(-1, 0, cairn::writer_for(x)), std::out_of_range);
  // An empty slot holds -1: "x_-1" is no state to store or to restore from it.
  REQUIRE_THROWS_WITH(storage.restore(2, -1, cairn::reader_for(y)),
                      Catch::Contains("step -1 names no state"));
  REQUIRE_THROWS_AS(storage.store(2, -1, cairn::writer_for(x)), std::invalid_argument);
  // Served from the staging buffer while the write is still held up.
  storage.restore(0, 7, cairn::reader_for(y));
  REQUIRE(bitwise_equal(y, x));
  REQUIRE(fake.stores_finished.load() == 0);
  fake.gate.open();
  storage.flush();
  REQUIRE(fake.stores_finished.load() == 1);
}

TEST_CASE("AsyncStorage calls inner on one worker thread in the order issued", "[async]") {
  FakeStorage fake(3, 2 * sizeof(double));
  {
    cairn::AsyncStorage storage(fake, {1, 1});
    const State a{1, 2};
    const State b{3, 4};
    State c{5, 6};
    storage.store(0, 0, cairn::writer_for(a));
    storage.store(1, 1, cairn::writer_for(b));
    storage.free(0);
    storage.store(0, 2, cairn::writer_for(c));
    REQUIRE(bitwise_equal(restored(storage, 1, 1, 2), b));  // the one buffer holds x_2: a read
    storage.free(2);
    storage.prefetch(1, 1);  // in the buffer already: no read
    storage.flush();
    const std::vector<std::string> expected{"store 0 0", "store 1 1",   "free 0",
                                            "store 0 2", "restore 1 1", "free 2"};
    REQUIRE(fake.actions() == expected);
    storage.store(2, 3, cairn::writer_for(c));
  }  // the destructor finishes the queue
  const std::vector<Call> calls = fake.calls();
  REQUIRE(calls.front().op == "slots");  // the constructor's queries run on the worker too
  REQUIRE(fake.actions().back() == "store 2 3");
  for (const Call& call : calls) {
    INFO(call.op << " " << call.slot);
    REQUIRE(call.thread == calls.front().thread);
    REQUIRE(call.thread != std::this_thread::get_id());
  }
}

TEST_CASE("AsyncStorage store returns before the slow write and never touches the state again",
          "[async]") {
  const std::size_t n = 512;
  FakeStorage fake(2, n * sizeof(double));
  cairn::AsyncStorage storage(fake, {2, 1});
  const Reopen reopen{fake.gate};
  State x = random_state(n, 1);
  const State original = x;

  fake.gate.close();
  storage.store(0, 4, cairn::writer_for(x));
  REQUIRE(eventually([&] { return fake.stores_entered.load() == 1; }));
  REQUIRE(fake.stores_finished.load() == 0);  // store() returned, the write is still going on
  std::fill(x.begin(), x.end(), -1.0);        // the caller may reuse its state at once
  fake.gate.open();

  // A slow write: store() takes far less than the 200 ms the inner storage sleeps.
  fake.store_delay_ms = 200;
  const auto start = std::chrono::steady_clock::now();
  storage.store(1, 5, cairn::writer_for(x));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(seconds < 0.15);
  storage.flush();
  REQUIRE(fake.stores_finished.load() == 2);
  fake.store_delay_ms = 0;

  // What reached the inner storage is the state as it was when store() was called.
  storage.store(1, 6, cairn::writer_for(x));  // two stores push x_4 out of the staging buffers
  storage.store(1, 7, cairn::writer_for(x));
  const int reads = fake.restores.load();
  REQUIRE(bitwise_equal(restored(storage, 0, 4, n), original));
  REQUIRE(fake.restores.load() == reads + 1);
  REQUIRE(bitwise_equal(restored(storage, 1, 7, n), State(n, -1.0)));
}

TEST_CASE("AsyncStorage serves restores from prefetches and drops stale hints", "[async]") {
  const std::size_t n = 64;
  FakeStorage fake(5, n * sizeof(double));
  cairn::AsyncStorage storage(fake, {3, 2});
  const Reopen reopen{fake.gate};
  std::vector<State> states;
  for (int s = 0; s < 5; ++s) {
    states.push_back(random_state(n, static_cast<unsigned>(s)));
    storage.store(s, 10 + s, cairn::writer_for(states.back()));
  }
  storage.flush();  // the buffers hold x_12, x_13, x_14 now

  storage.prefetch(0, 10);
  storage.prefetch(1, 99);  // slot 1 holds x_11: dropped
  REQUIRE(storage.counters().prefetches == 1);
  REQUIRE(storage.counters().prefetches_dropped == 1);
  REQUIRE(bitwise_equal(restored(storage, 0, 10, n), states[0]));
  REQUIRE(storage.counters().restores_prefetched == 1);
  REQUIRE(storage.counters().restores_read == 0);
  REQUIRE(fake.restores.load() == 1);  // the prefetch's read, nothing more
  REQUIRE(bitwise_equal(restored(storage, 0, 10, n), states[0]));
  REQUIRE(fake.restores.load() == 1);

  // A hint for a slot that is overwritten before the worker gets to it is dropped.
  fake.gate.close();
  storage.store(4, 20, cairn::writer_for(states[4]));  // holds the worker
  REQUIRE(eventually([&] { return fake.stores_entered.load() == 6; }));
  storage.prefetch(1, 11);  // queued behind the held store
  REQUIRE(storage.counters().prefetches == 2);
  const State replacement = random_state(n, 42);
  storage.store(1, 21, cairn::writer_for(replacement));
  // Every buffer is busy now: a hint is dropped at once instead of waiting.
  storage.prefetch(2, 12);
  REQUIRE(storage.counters().prefetches_dropped == 2);
  fake.gate.open();
  storage.flush();
  REQUIRE(storage.counters().prefetches_stale == 1);
  REQUIRE(fake.restores.load() == 1);  // the stale hint never reached inner
  REQUIRE(bitwise_equal(restored(storage, 1, 21, n), replacement));
  State y(n, 0.0);
  REQUIRE_THROWS_AS(storage.restore(1, 11, cairn::reader_for(y)), std::logic_error);
  // A hint for a freed slot is dropped too.
  storage.prefetch(3, 13);
  storage.free(3);
  REQUIRE_THROWS_AS(storage.restore(3, 13, cairn::reader_for(y)), std::logic_error);
  storage.flush();
}

TEST_CASE("AsyncStorage reports a failed background store at the next call", "[async]") {
  const std::size_t n = 16;
  FakeStorage fake(4, n * sizeof(double));
  fake.fail_store_slot = 2;
  std::vector<State> states;
  {
    cairn::AsyncStorage storage(fake, {2, 1});
    for (int s = 0; s < 3; ++s) {
      states.push_back(random_state(n, static_cast<unsigned>(s)));
      storage.store(s, 10 + s, cairn::writer_for(states.back()));  // returns: the write fails later
    }
    REQUIRE(eventually([&] { return storage.held_step(2) == -1; }));  // the failed slot is empty
    REQUIRE(storage.occupied() == 2);
    State y(n, 0.0);
    try {
      storage.restore(0, 10, cairn::reader_for(y));
      FAIL("the background error was not reported");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      INFO(what);
      REQUIRE(what.find("fake") != std::string::npos);
      REQUIRE(what.find("store of x_12 into slot 2") != std::string::npos);
      REQUIRE(what.find("disk full") != std::string::npos);
      REQUIRE_THROWS_WITH(std::rethrow_if_nested(e), "disk full");
    }
    // Reported once; the other slots keep their checkpoints.
    REQUIRE(bitwise_equal(restored(storage, 0, 10, n), states[0]));
    REQUIRE(bitwise_equal(restored(storage, 1, 11, n), states[1]));
    REQUIRE_THROWS_WITH(storage.restore(2, 12, cairn::reader_for(y)),
                        Catch::Contains("slot 2 holds nothing"));
    storage.flush();

    // From flush(), and from store(), which then leaves its own slot empty as well.
    storage.store(2, 22, cairn::writer_for(states[2]));
    REQUIRE_THROWS_WITH(storage.flush(), Catch::Contains("store of x_22 into slot 2"));
    storage.store(2, 32, cairn::writer_for(states[2]));
    REQUIRE(eventually([&] { return storage.held_step(2) == -1; }));
    REQUIRE_THROWS_WITH(storage.store(0, 40, cairn::writer_for(states[0])),
                        Catch::Contains("x_32"));
    REQUIRE(storage.held_step(0) == -1);
    REQUIRE(bitwise_equal(restored(storage, 1, 11, n), states[1]));

    // Errors at destruction are dropped: neither a throw nor a hang.
    fake.store_delay_ms = 20;
    for (int k = 0; k < 4; ++k) storage.store(k % 4, 50 + k, cairn::writer_for(states[0]));
  }
  REQUIRE(fake.stores_finished.load() == fake.stores_entered.load());
  REQUIRE(fake.actions().back() == "store 3 53");  // the queue was finished, not dropped
}

namespace {

// Revolve(T, c) with its slots spread over two levels: slot k goes to level k % 2, slot k / 2.
class TwoLevelRevolve final : public cairn::Schedule {
 public:
  TwoLevelRevolve(std::int64_t steps, std::int64_t slots) : revolve_(steps, slots) {}
  cairn::Action next() override {
    cairn::Action a = revolve_.next();
    if (a.kind == cairn::ActionKind::store || a.kind == cairn::ActionKind::restore ||
        a.kind == cairn::ActionKind::free) {
      a.level = static_cast<cairn::Level>(a.slot % 2);
      a.slot /= 2;
    }
    return a;
  }
  void reset() override { revolve_.reset(); }
  const char* name() const noexcept override { return "two-level revolve"; }

 private:
  cairn::Revolve revolve_;
};

struct Run {
  State gradient;
  cairn::DriverStatistics statistics;
};

Run burgers_run(const burgers::Problem& problem, cairn::Schedule& schedule,
                std::vector<cairn::Storage*> levels) {
  cairn::Driver<State> driver(
      schedule, std::move(levels), [&](std::int64_t, State& x) { problem.step(x); },
      [&](std::int64_t, const State& x, State& lambda) { problem.adjoint_step(x, lambda); });
  Run out;
  out.gradient = driver.run(problem.initial_state(),
                            [&](const State& xT) { return problem.objective_gradient(xT); });
  out.statistics = driver.statistics();
  return out;
}

}  // namespace

TEST_CASE("driver over RAM and AsyncStorage gives the single-level gradient bitwise", "[async]") {
  const std::int64_t N = 48;
  const burgers::Problem problem(N);
  const std::size_t bytes = N * sizeof(double);
  struct Case {
    std::int64_t T, c;
    std::size_t buffers, depth;
  };
  for (const Case k : {Case{300, 6, 2, 1}, Case{300, 6, 1, 1}, Case{1000, 8, 4, 3},
                       Case{2000, 5, 3, 0}, Case{50, 2, 2, 2}}) {
    INFO("T = " << k.T << ", c = " << k.c << ", " << k.buffers << " buffers, depth " << k.depth);
    cairn::Revolve single(k.T, k.c);
    cairn::MemoryStorage all_ram(k.c, bytes);
    const Run reference = burgers_run(problem, single, {&all_ram});

    TwoLevelRevolve split(k.T, k.c);
    cairn::MemoryStorage ram((k.c + 1) / 2, bytes);
    FakeStorage disk(k.c / 2, bytes);
    cairn::AsyncStorage async(disk, {k.buffers, k.depth});
    for (int repeat = 0; repeat < 2; ++repeat) {
      const Run run = burgers_run(problem, split, {&ram, &async});
      REQUIRE(bitwise_equal(run.gradient, reference.gradient));
      REQUIRE(run.statistics.step_calls == reference.statistics.step_calls);
      REQUIRE(run.statistics.restores == reference.statistics.restores);
    }
    const auto counters = async.counters();
    const std::int64_t level1_restores =
        counters.restores_staged + counters.restores_prefetched + counters.restores_read;
    INFO("staged " << counters.restores_staged << ", prefetched " << counters.restores_prefetched
                   << ", read " << counters.restores_read << ", prefetches " << counters.prefetches
                   << " (" << counters.prefetches_dropped << " dropped, "
                   << counters.prefetches_stale << " stale)");
    REQUIRE(level1_restores > 0);
    // Every read of the inner storage is a prefetch or a restore that found nothing staged.
    REQUIRE(disk.restores.load() ==
            counters.prefetches - counters.prefetches_stale + counters.restores_read);
    if (k.depth > 0 && k.c / 2 > static_cast<std::int64_t>(k.buffers)) {
      // More disk slots than buffers: some restores must come from the disk, and do so through
      // the driver's prefetch hints.
      REQUIRE(counters.prefetches > 0);
      REQUIRE(counters.restores_prefetched > 0);
    }
    if (k.depth == 0) REQUIRE(counters.prefetches == 0);
  }
}

TEST_CASE("driver: a failed background write surfaces with its slot and the driver recovers",
          "[async]") {
  const std::int64_t N = 16;
  const std::int64_t T = 400;
  const std::int64_t c = 6;
  const burgers::Problem problem(N);
  cairn::Revolve single(T, c);
  cairn::MemoryStorage all_ram(c, N * sizeof(double));
  const Run reference = burgers_run(problem, single, {&all_ram});

  TwoLevelRevolve split(T, c);
  cairn::MemoryStorage ram(3, N * sizeof(double));
  FakeStorage disk(3, N * sizeof(double));
  disk.fail_store_slot = 1;
  {
    cairn::AsyncStorage async(disk);
    const std::vector<cairn::Storage*> levels{&ram, &async};
    REQUIRE_THROWS_WITH(burgers_run(problem, split, levels), Catch::Contains("into slot 1") &&
                                                                 Catch::Contains("disk full") &&
                                                                 Catch::Contains("fake"));
    disk.fail_store_slot = -1;
    const Run again = burgers_run(problem, split, levels);
    REQUIRE(bitwise_equal(again.gradient, reference.gradient));
  }
  // Every level is flushed once at the end of a successful run.
  cairn::Revolve plain(T, 3);
  FakeStorage direct(3, N * sizeof(double));
  burgers_run(problem, plain, {&direct});
  REQUIRE(direct.flushes == 1);
}
