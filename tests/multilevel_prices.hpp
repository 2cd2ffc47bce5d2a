// The price sets of the two-level tests (MultilevelRevolve, TwoLevelRevolve): each a cost model
// (uf, ub, RAM write, RAM read, disk write, disk read) whose values are dyadic fractions, so that
// every sum is exact and costs compare with ==.
#pragma once

#include <vector>

namespace multilevel_prices {

struct Prices {
  double uf, ub, w0, r0, w1, r1;
};

inline const std::vector<Prices> price_sets = {
    {1, 0, 0, 0, 0, 0},       // free storage: Revolve with c0 + c1 slots
    {1, 1, 0, 0, 2, 2},       // a disk as slow as two steps
    {1, 0, 0, 0, 5, 1},       // expensive writes, cheap reads
    {2, 1, 0.5, 0.5, 3, 7},   // RAM not free, reads dearer than writes
    {1, 3, 0, 0, 0.25, 10},   // costly adjoint, very slow reads
    {1, 0, 0, 0, 1.5, 0.75},  // fractional prices
};

}  // namespace multilevel_prices
