// Store-all on the grid: every cell but the last evaluated once and held.
#include "cairn/grid_schedules.hpp"
#include "grid/grid_stream.hpp"

namespace cairn {

std::vector<GridAction> grid_store_all(const GridShape& shape) {
  const std::int64_t T = shape.steps(), L = shape.depth();
  detail::GridStream stream(shape);
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t l = 0; l < L; ++l) {
      if (t != T - 1 || l != L - 1) stream.compute(t, l);
    }
  }
  for (std::int64_t t = T - 1; t >= 0; --t) {
    for (std::int64_t l = L - 1; l >= 0; --l) stream.reverse(t, l);
  }
  return stream.take();
}

}  // namespace cairn
