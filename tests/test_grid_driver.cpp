#include <catch2/catch.hpp>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/grid_driver.hpp"
#include "cairn/grid_schedules.hpp"
#include "stacked_rnn/stacked_rnn.hpp"

namespace {

using stacked_rnn::State;

// What one run gives back: the weight gradient and the adjoints of the caller's inputs.
struct Result {
  std::vector<double> gradient;
  std::vector<State> left_adjoints, below_adjoints;
  cairn::GridDriverStatistics statistics;
};

Result run(stacked_rnn::Model& model, const std::vector<cairn::GridAction>& stream) {
  const cairn::GridShape shape = model.shape();
  Result r;
  r.gradient.assign(model.params().size(), 0.0);
  r.left_adjoints.resize(static_cast<std::size_t>(shape.depth()));
  r.below_adjoints.resize(static_cast<std::size_t>(shape.steps()));
  cairn::GridProblem<State> p = model.problem(r.gradient);
  p.left_input_adjoint = [&](std::int64_t l, const State& a) {
    r.left_adjoints[static_cast<std::size_t>(l)] = a;
  };
  p.below_input_adjoint = [&](std::int64_t t, const State& a) {
    r.below_adjoints[static_cast<std::size_t>(t)] = a;
  };
  cairn::GridDriver<State> driver(shape, std::move(p));
  driver.run(stream);
  r.statistics = driver.statistics();
  return r;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

bool bitwise_equal(const std::vector<State>& a, const std::vector<State>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!bitwise_equal(a[k], b[k])) return false;
  }
  return true;
}

// The driver's counts are the checker's: it runs exactly what the stream says.
void check_statistics(const cairn::GridShape& shape, const std::vector<cairn::GridAction>& stream,
                      const cairn::GridDriverStatistics& s) {
  const cairn::GridCosts costs = cairn::check_grid(shape, stream);
  REQUIRE(costs.legal);
  CHECK(s.computes == costs.computes);
  CHECK(s.reverses == costs.reverses);
  CHECK(s.frees == costs.frees);
  CHECK(s.reverses == shape.cells());
  CHECK(s.cell_calls == s.computes + 1);
  CHECK(s.adjoint_calls == s.reverses);
  CHECK(s.peak_states == costs.peak_state_cells);
}

// A state without size()/operator[]: the driver adds its contributions through the traits.
struct Scalar {
  double v = 0;
};

}  // namespace

namespace cairn {
template <>
struct GridStateTraits<Scalar> {
  static void add(Scalar& into, const Scalar& from) { into.v += from.v; }
};
}  // namespace cairn

TEST_CASE("GridDriver: gradients under blocked and nested are bitwise store-all's",
          "[grid_driver]") {
  // Three RNN layers of different widths and the loss layer: a 9 x 4 grid.
  stacked_rnn::Model model(9, {2, 3, 2, 4}, 7);
  const cairn::GridShape shape = model.shape();
  const std::int64_t T = shape.steps(), L = shape.depth();
  const std::vector<cairn::GridAction> reference_stream = cairn::grid_store_all(shape);
  const Result reference = run(model, reference_stream);
  check_statistics(shape, reference_stream, reference.statistics);
  CHECK(reference.statistics.computes == shape.cells() - 1);

  struct Blocks {
    std::int64_t bt, bl;
  };
  for (const Blocks& b : {Blocks{1, 1}, Blocks{T, L}, Blocks{4, 3}, Blocks{2, 2}, Blocks{5, 1},
                          Blocks{1, L}, Blocks{T, 1}}) {
    INFO("blocked " << b.bt << " x " << b.bl);
    const std::vector<cairn::GridAction> stream = cairn::grid_blocked(shape, b.bt, b.bl);
    const Result r = run(model, stream);
    CHECK(bitwise_equal(r.gradient, reference.gradient));
    CHECK(bitwise_equal(r.left_adjoints, reference.left_adjoints));
    CHECK(bitwise_equal(r.below_adjoints, reference.below_adjoints));
    check_statistics(shape, stream, r.statistics);
  }
  struct Slots {
    std::int64_t outer, inner;
  };
  for (cairn::GridNesting nesting :
       {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
    for (const Slots& s : {Slots{1, 1}, Slots{2, 2}, Slots{3, 1}, Slots{1, 3}, Slots{T, L}}) {
      INFO("nested " << (nesting == cairn::GridNesting::time_outer ? "time" : "depth") << "-outer "
                     << s.outer << "/" << s.inner);
      const std::vector<cairn::GridAction> stream =
          cairn::grid_nested(shape, nesting, s.outer, s.inner);
      const Result r = run(model, stream);
      CHECK(bitwise_equal(r.gradient, reference.gradient));
      CHECK(bitwise_equal(r.left_adjoints, reference.left_adjoints));
      CHECK(bitwise_equal(r.below_adjoints, reference.below_adjoints));
      check_statistics(shape, stream, r.statistics);
    }
  }
}

TEST_CASE("GridDriver: the gradient matches finite differences", "[grid_driver]") {
  stacked_rnn::Model model(5, {2, 3, 2}, 3);
  const Result r = run(model, cairn::grid_store_all(model.shape()));
  std::vector<double>& p = model.params();
  const double h = 1e-6;
  for (std::size_t k = 0; k < p.size(); k += 3) {
    const double saved = p[k];
    p[k] = saved + h;
    const double plus = model.loss();
    p[k] = saved - h;
    const double minus = model.loss();
    p[k] = saved;
    CHECK((plus - minus) / (2 * h) == Approx(r.gradient[k]).margin(1e-7));
  }
}

TEST_CASE("GridDriver: an illegal stream is rejected with check_grid's reason", "[grid_driver]") {
  stacked_rnn::Model model(4, {2, 2, 2}, 1);
  std::vector<double> gradient(model.params().size(), 0.0);
  cairn::GridDriver<State> driver(model.shape(), model.problem(gradient));
  std::vector<cairn::GridAction> stream = cairn::grid_store_all(model.shape());
  stream.erase(stream.begin());  // (0, 0) never computed: (0, 1) reads nothing
  try {
    driver.run(stream);
    FAIL("an illegal stream ran");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("illegal grid stream at action") != std::string::npos);
    CHECK(what.find(cairn::check_grid(model.shape(), stream).reason) != std::string::npos);
  }
  CHECK(driver.statistics().cell_calls == 0);
  std::vector<cairn::GridAction> incomplete = cairn::grid_store_all(model.shape());
  incomplete.pop_back();
  CHECK_THROWS_AS(driver.run(incomplete), std::invalid_argument);
}

TEST_CASE("GridDriver: the problem is checked when the driver is made", "[grid_driver]") {
  stacked_rnn::Model model(4, {2, 2}, 1);
  std::vector<double> gradient(model.params().size(), 0.0);
  cairn::GridProblem<State> p = model.problem(gradient);
  p.prototypes.pop_back();
  CHECK_THROWS_AS(cairn::GridDriver<State>(model.shape(), p), std::invalid_argument);
  p = model.problem(gradient);
  p.inputs.clear();
  CHECK_THROWS_AS(cairn::GridDriver<State>(model.shape(), p), std::invalid_argument);
  p = model.problem(gradient);
  p.cell_adjoint = nullptr;
  CHECK_THROWS_AS(cairn::GridDriver<State>(model.shape(), p), std::invalid_argument);
}

TEST_CASE("GridDriver: a throwing callback propagates and leaves the driver reusable",
          "[grid_driver]") {
  stacked_rnn::Model model(8, {2, 3, 3}, 5);
  const cairn::GridShape shape = model.shape();
  const std::vector<cairn::GridAction> stream = cairn::grid_blocked(shape, 3, 2);
  const Result reference = run(model, stream);

  for (const char* where : {"cell", "cell_adjoint", "terminal_adjoint"}) {
    INFO(where);
    std::vector<double> gradient(model.params().size(), 0.0);
    cairn::GridProblem<State> p = model.problem(gradient);
    int calls = 0;
    bool armed = true;
    const std::string which = where;
    auto cell = p.cell;
    auto cell_adjoint = p.cell_adjoint;
    auto terminal = p.terminal_adjoint;
    p.cell = [&, cell](std::int64_t t, std::int64_t l, const State& a, const State& b, State& out) {
      if (armed && which == "cell" && ++calls == 7) throw std::runtime_error("cell failed");
      cell(t, l, a, b, out);
    };
    p.cell_adjoint = [&, cell_adjoint](std::int64_t t, std::int64_t l, const State& a,
                                       const State& b, const State& oa, State& la, State& ba) {
      if (armed && which == "cell_adjoint" && ++calls == 5) {
        throw std::runtime_error("adjoint failed");
      }
      cell_adjoint(t, l, a, b, oa, la, ba);
    };
    p.terminal_adjoint = [&, terminal](const State& out, State& adjoint) {
      if (armed && which == "terminal_adjoint") throw std::runtime_error("seed failed");
      terminal(out, adjoint);
    };
    cairn::GridDriver<State> driver(shape, std::move(p));
    CHECK_THROWS_AS(driver.run(stream), std::runtime_error);
    armed = false;
    std::fill(gradient.begin(), gradient.end(), 0.0);
    driver.run(stream);
    CHECK(bitwise_equal(gradient, reference.gradient));
    check_statistics(shape, stream, driver.statistics());
  }
}

TEST_CASE("GridDriver: a user type specialises GridStateTraits", "[grid_driver]") {
  // A scalar cell h = 0.5 left + 0.25 below + 1 in a struct without size()/operator[].
  cairn::GridProblem<Scalar> p;
  p.cell = [](std::int64_t, std::int64_t, const Scalar& a, const Scalar& b, Scalar& out) {
    out.v = 0.5 * a.v + 0.25 * b.v + 1;
  };
  p.cell_adjoint = [](std::int64_t, std::int64_t, const Scalar&, const Scalar&, const Scalar& oa,
                      Scalar& la, Scalar& ba) {
    la.v = 0.5 * oa.v;
    ba.v = 0.25 * oa.v;
  };
  p.terminal_adjoint = [](const Scalar&, Scalar& a) { a.v = 1; };
  const std::int64_t T = 3, L = 2;
  p.left_inputs.assign(L, Scalar{});
  p.prototypes.assign(L, Scalar{});
  p.inputs.assign(T, Scalar{});
  std::vector<double> left(L), below(T);
  p.left_input_adjoint = [&](std::int64_t l, const Scalar& a) {
    left[static_cast<std::size_t>(l)] = a.v;
  };
  p.below_input_adjoint = [&](std::int64_t t, const Scalar& a) {
    below[static_cast<std::size_t>(t)] = a.v;
  };
  const cairn::GridShape shape = cairn::GridShape::uniform(T, L);
  cairn::GridDriver<Scalar> driver(shape, p);
  driver.run(cairn::grid_store_all(shape));
  // d h[2][1] / d h[-1][1] = 0.5^3; d h[2][1] / d h[-1][0] = 3 paths of 0.5^3 0.25.
  CHECK(left[1] == 0.125);
  CHECK(left[0] == 3 * 0.125 * 0.25);
  CHECK(below[2] == 0.25 * 0.25);
}

TEST_CASE("GridDriver: one driver runs different streams in turn", "[grid_driver]") {
  // The pools grow to the largest stream seen and are reused; each run starts them empty.
  stacked_rnn::Model model(10, {3, 2, 4}, 11);
  const cairn::GridShape shape = model.shape();
  const Result reference = run(model, cairn::grid_store_all(shape));
  std::vector<double> gradient(model.params().size(), 0.0);
  cairn::GridDriver<State> driver(shape, model.problem(gradient));
  for (const std::vector<cairn::GridAction>& stream :
       {cairn::grid_blocked(shape, 3, 1), cairn::grid_store_all(shape),
        cairn::grid_nested(shape, cairn::GridNesting::depth_outer, 2, 3),
        cairn::grid_blocked(shape, 10, 3)}) {
    std::fill(gradient.begin(), gradient.end(), 0.0);
    driver.run(stream);
    CHECK(bitwise_equal(gradient, reference.gradient));
    check_statistics(shape, stream, driver.statistics());
  }
}
