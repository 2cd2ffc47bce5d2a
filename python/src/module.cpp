// The module cairn._cairn: the Action vocabulary, schedules, the checker, the NumPy driver, and
// Revolve's closed forms (beta, repetitions, forward_cost, info). C++ exceptions arrive as
// Python ones carrying the C++ message (pybind11's translation: std::invalid_argument,
// std::length_error and std::domain_error -> ValueError, std::overflow_error -> OverflowError,
// std::out_of_range -> IndexError, std::bad_alloc -> MemoryError, any other std::exception, e.g.
// std::logic_error -> RuntimeError).
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "cairn/binomial.hpp"
#include "cairn/revolve.hpp"
#include "cairn/version.hpp"

namespace cairn::python {
namespace {

using namespace pybind11::literals;

// `cairn info --format json`, key for key (tools/cairn/info.cpp).
py::dict info(std::int64_t steps, std::int64_t slots) {
  std::int64_t r = 0, t = 0, stores = 0;
  try {
    r = repetitions(steps, slots);
    t = forward_cost(steps, slots);
    stores = Revolve::store_count(steps, slots);
  } catch (const std::overflow_error& e) {
    throw std::overflow_error(std::string(e.what()) +
                              "; choose fewer steps or more slots so that the count fits in 64 "
                              "bits");
  }
  const double factor =
      (static_cast<double>(steps) + static_cast<double>(t)) / static_cast<double>(steps);
  py::dict d;
  d["schedule"] = "revolve";
  d["steps"] = steps;
  d["slots"] = slots;
  d["repetitions"] = r;
  d["forward_steps"] = t;
  d["recomputation_factor"] = factor;
  d["stores"] = stores;
  d["restores"] = steps - 1;
  d["reverses"] = steps;
  return d;
}

}  // namespace
}  // namespace cairn::python

PYBIND11_MODULE(_cairn, m) {
  namespace py = pybind11;
  using namespace pybind11::literals;
  m.doc() = "Cairn's compiled core: schedules, the checker and the NumPy driver.";
  m.attr("__version__") = CAIRN_VERSION_STRING;
  cairn::python::bind_actions(m);
  cairn::python::bind_schedules(m);
  cairn::python::bind_planners(m);
  cairn::python::bind_check(m);
  cairn::python::bind_driver(m);
  cairn::python::bind_graphs(m);
  cairn::python::bind_grids(m);
  m.def("beta", &cairn::beta, "c"_a, "r"_a,
        "beta(c, r) = C(c + r, c): the most steps c slots reverse with no step advanced more "
        "than r times. OverflowError beyond 2^63 - 1.");
  m.def("repetitions", &cairn::repetitions, "steps"_a, "slots"_a,
        "r(T, c): the smallest r with beta(c, r) >= T.");
  m.def("forward_cost", &cairn::forward_cost, "steps"_a, "slots"_a,
        "t(T, c) = r T - C(c + r, c + 1): Revolve's forward steps.");
  m.def("info", &cairn::python::info, "steps"_a, "slots"_a,
        "Revolve's costs in closed form: the dict of `cairn info --format json`.");
}
