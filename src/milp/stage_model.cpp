#include "milp/stage_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "graph/plan_rules.hpp"

namespace cairn::detail {

namespace {

std::size_t at(std::int64_t v) {
  return static_cast<std::size_t>(v);
}

struct Builder {
  StageModel& m;
  int column(double lower, double upper, double cost, bool is_integer) {
    m.column_lower.push_back(lower);
    m.column_upper.push_back(upper);
    m.objective.push_back(cost);
    m.integer.push_back(is_integer ? 1 : 0);
    return m.columns() - 1;
  }
  // One row: terms (column, value) with column -1 skipped.
  void row(const std::vector<std::pair<int, double>>& terms, double lower, double upper,
           double memory_constant = -1) {
    const int r = m.rows();
    for (const auto& [c, value] : terms) {
      if (c < 0 || value == 0) continue;
      m.entry_row.push_back(r);
      m.entry_column.push_back(c);
      m.entry_value.push_back(value);
    }
    m.row_lower.push_back(lower);
    m.row_upper.push_back(upper);
    m.memory_constant.push_back(memory_constant);
  }
};

constexpr double inf = 1e30;

}  // namespace

int StageModel::a(std::int64_t s, std::int64_t i, std::int64_t k) const {
  const int base = A[at(s)][at(i)];
  if (base < 0) return -1;
  return base + static_cast<int>(std::min(k, last[at(s)][at(i)]) - i);
}

StageModel build_stage_model(const Graph& g, std::uint64_t budget_bytes, bool min_peak,
                             bool aggregate) {
  StageModel m;
  const std::int64_t n = g.size();
  m.n = n;
  const std::uint64_t unit = exact_memory_unit(g);
  m.unit = unit;
  const auto bytes = [&](std::uint64_t b) { return static_cast<double>(b / unit); };
  const auto out = [&](std::int64_t v) { return bytes(g.node(v).output_bytes); };
  const auto tape = [&](std::int64_t v) { return bytes(g.node(v).tape_bytes); };
  const auto compute_workspace = [&](std::int64_t v) {
    return bytes(g.node(v).compute_workspace_bytes);
  };
  const auto record_workspace = [&](std::int64_t v) {
    return bytes(g.node(v).record_workspace_bytes);
  };
  const auto top = [&](std::int64_t s) { return n - 1 - s; };
  const double budget = min_peak ? 0 : static_cast<double>(budget_bytes / unit);
  for (std::int64_t v = 0; v < n; ++v) m.objective_offset += g.node(v).backward_cost;

  Builder b{m};
  const std::size_t ns = at(n);
  m.R.assign(ns, std::vector<int>(ns, -1));
  m.C = m.S = m.T = m.A = m.R;
  m.last.assign(ns, std::vector<std::int64_t>(ns, -1));
  // Costs scaled so that the largest forward cost is 1000: CBC's absolute tolerances would
  // otherwise hide differences between plans whose costs are small numbers (GFLOP of a layer).
  double largest_f = 0;
  for (std::int64_t v = 0; v < n; ++v) largest_f = std::max(largest_f, g.node(v).forward_cost);
  m.objective_scale = largest_f > 0 ? 1000 / largest_f : 1;
  const double f_weight = min_peak ? 0 : m.objective_scale;
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t v = 0; v <= top(s); ++v) {
      m.R[at(s)][at(v)] = b.column(0, 1, f_weight * g.node(v).forward_cost, true);
      if (v < top(s)) m.C[at(s)][at(v)] = b.column(0, 1, f_weight * g.node(v).forward_cost, true);
    }
  }
  if (min_peak) m.peak_column = b.column(0, inf, 1, false);
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t v = 0; v <= top(s); ++v) {
      if (s >= 1 && v < top(s)) m.S[at(s)][at(v)] = b.column(0, 1, 0, false);
      if (s >= 1) m.T[at(s)][at(v)] = b.column(0, 1, 0, false);
    }
    for (std::int64_t i = 0; i < top(s); ++i) {
      std::int64_t last = i;
      for (const std::int64_t w : g.consumers(i)) {
        if (w <= top(s)) last = std::max(last, w);
      }
      m.last[at(s)][at(i)] = last;
      m.A[at(s)][at(i)] = b.column(0, 1, 0, false);
      for (std::int64_t k = i + 1; k <= last; ++k) b.column(0, 1, 0, false);
    }
  }
  const auto R = [&](std::int64_t s, std::int64_t v) { return m.R[at(s)][at(v)]; };
  const auto C = [&](std::int64_t s, std::int64_t v) { return m.C[at(s)][at(v)]; };
  const auto S = [&](std::int64_t s, std::int64_t v) { return m.S[at(s)][at(v)]; };
  const auto T = [&](std::int64_t s, std::int64_t v) { return m.T[at(s)][at(v)]; };
  const auto end = [&](std::int64_t s, std::int64_t i) { return m.a(s, i, n); };

  // Every node is recorded once, in a stage up to its backward's.
  for (std::int64_t v = 0; v < n; ++v) {
    std::vector<std::pair<int, double>> terms;
    for (std::int64_t s = 0; s <= n - 1 - v; ++s) terms.push_back({R(s, v), 1});
    b.row(terms, 1, 1);
  }
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t v = 0; v <= top(s); ++v) {
      // A node whose output is held is not evaluated again in the stage.
      b.row({{C(s, v), 1}, {R(s, v), 1}, {S(s, v), 1}}, -inf, 1);
      // Tapes carry over: T[s+1] = T[s] + R[s] for the nodes still active.
      if (s + 1 < n && v <= top(s + 1)) {
        b.row({{T(s + 1, v), 1}, {T(s, v), -1}, {R(s, v), -1}}, 0, 0);
      }
      // Inputs are held when v is evaluated; a tape held in the stage (from before, or recorded
      // in it) pins them to the stage's backward, and one from before also at its start. With
      // aggregate rows, one row per node and rule: d * x <= sum over the d inputs, exact for a
      // 0/1 x since each term is at most 1 (fewer rows, a weaker relaxation).
      const auto held_by = [&](std::vector<std::pair<int, double>> lhs, auto input_column) {
        const double d = static_cast<double>(g.inputs(v).size());
        if (d == 0 || lhs.empty()) return;
        if (aggregate) {
          std::vector<std::pair<int, double>> terms;
          for (const auto& [c, value] : lhs) terms.push_back({c, d * value});
          for (const std::int64_t u : g.inputs(v)) terms.push_back({input_column(u), -1});
          b.row(terms, -inf, 0);
        } else {
          for (const std::int64_t u : g.inputs(v)) {
            std::vector<std::pair<int, double>> terms = lhs;
            terms.push_back({input_column(u), -1});
            b.row(terms, -inf, 0);
          }
        }
      };
      held_by({{C(s, v), 1}, {R(s, v), 1}}, [&](std::int64_t u) { return m.a(s, u, v - 1); });
      held_by({{T(s, v), 1}, {R(s, v), 1}}, [&](std::int64_t u) { return end(s, u); });
      if (s >= 1) held_by({{T(s, v), 1}}, [&](std::int64_t u) { return S(s, u); });
    }
    for (std::int64_t i = 0; i < top(s); ++i) {
      // An output exists after position i only if it was held or evaluated, and once freed it
      // stays freed in the stage.
      b.row({{m.a(s, i, i), 1}, {S(s, i), -1}, {C(s, i), -1}, {R(s, i), -1}}, -inf, 0);
      for (std::int64_t k = i + 1; k <= m.last[at(s)][at(i)]; ++k) {
        b.row({{m.a(s, i, k), 1}, {m.a(s, i, k - 1), -1}}, -inf, 0);
      }
      // What the next stage holds at its start, this one held at its end.
      if (s + 1 < n && i < top(s + 1)) b.row({{S(s + 1, i), 1}, {end(s, i), -1}}, -inf, 0);
      // A tape that keeps its node's output keeps it held: at the stage's start and through it
      // (held outputs only go, so its end is enough).
      if (g.node(i).tape_holds_output) {
        if (s >= 1) b.row({{S(s, i), 1}, {T(s, i), -1}}, 0, inf);
        b.row({{end(s, i), 1}, {T(s, i), -1}, {R(s, i), -1}}, 0, inf);
      }
    }
    // The stage's top node, run backward at its end, holds its output there when its tape keeps
    // it (its tape is held then), and through the stage if that tape is from an earlier one.
    const bool top_kept = g.node(top(s)).tape_holds_output && top(s) != n - 1;
    // Gradient buffers are fixed by the backward order: u's exists in stage s once a consumer
    // has run backward (consumers > top(s)) and until u's own backward.
    double gradients = 0, new_gradients = s == 0 ? out(n - 1) : 0;
    for (std::int64_t u = 0; u <= top(s); ++u) {
      if (!g.consumers(u).empty() && g.consumers(u).back() > top(s)) gradients += out(u);
    }
    // The network output's, from its backward (stage 0's end) on, where the caller keeps it.
    if (g.output_gradient_held() && s >= 1) gradients += out(n - 1);
    for (const std::int64_t u : g.inputs(top(s))) {
      if (g.consumers(u).back() == top(s)) new_gradients += out(u);
    }
    const auto memory_row = [&](std::vector<std::pair<int, double>> terms, double constant) {
      if (min_peak) {
        terms.push_back({m.peak_column, -1});
        b.row(terms, -inf, -constant, constant);
      } else {
        b.row(terms, -inf, budget - constant, constant);
      }
    };
    // The peak of evaluating position k: what is held after the frees of position k - 1 plus
    // k's output, tape and workspace (of a compute or of a record).
    for (std::int64_t k = 0; k <= top(s); ++k) {
      std::vector<std::pair<int, double>> terms;
      for (std::int64_t w = 0; w <= top(s); ++w) {
        terms.push_back({T(s, w), tape(w)});
        if (w <= k) terms.push_back({R(s, w), tape(w)});
      }
      for (std::int64_t i = 0; i < k; ++i) terms.push_back({m.a(s, i, k - 1), out(i)});
      for (std::int64_t i = k; i < top(s); ++i) terms.push_back({S(s, i), out(i)});
      terms.push_back({C(s, k), out(k) + compute_workspace(k)});
      terms.push_back({R(s, k), out(k) + record_workspace(k)});
      if (top_kept && s >= 1) terms.push_back({T(s, top(s)), out(top(s))});
      memory_row(terms, gradients);
    }
    // The peak of the stage's backward: what is held at the end of the stage plus the new
    // gradient buffers and its workspace (the network's output, which the loss reads, is held
    // at its backward).
    std::vector<std::pair<int, double>> terms;
    for (std::int64_t w = 0; w <= top(s); ++w) {
      terms.push_back({T(s, w), tape(w)});
      terms.push_back({R(s, w), tape(w)});
    }
    for (std::int64_t i = 0; i < top(s); ++i) terms.push_back({end(s, i), out(i)});
    memory_row(terms, gradients + new_gradients + (s == 0 ? out(n - 1) : 0) +
                          (top_kept ? out(top(s)) : 0) +
                          bytes(g.node(top(s)).backward_workspace_bytes));
  }
  return m;
}

std::vector<double> least_completion(const Graph& g, const StageModel& m,
                                     const std::vector<double>& x) {
  const std::int64_t n = m.n;
  std::vector<double> y(x.size(), 0);
  const auto on = [&](int c) { return c >= 0 && x[at(c)] > 0.5; };
  const auto top = [&](std::int64_t s) { return n - 1 - s; };
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t v = 0; v <= top(s); ++v) {
      for (const int c : {m.R[at(s)][at(v)], m.C[at(s)][at(v)]}) {
        if (on(c)) y[at(c)] = 1;
      }
    }
  }
  const auto val = [&](int c) { return c >= 0 ? y[at(c)] : 0.0; };
  // Tapes forward in time.
  for (std::int64_t s = 1; s < n; ++s) {
    for (std::int64_t v = 0; v <= top(s); ++v) {
      y[at(m.T[at(s)][at(v)])] = val(m.T[at(s - 1)][at(v)]) + val(m.R[at(s - 1)][at(v)]);
    }
  }
  // Outputs backward in time: held at the end of a stage if the next stage holds them at its
  // start or a tape pins them; held after position k if a later position reads them.
  for (std::int64_t s = n; s-- > 0;) {
    for (std::int64_t i = top(s) - 1; i >= 0; --i) {
      double need = 0;
      if (s + 1 < n && i < top(s + 1)) need = val(m.S[at(s + 1)][at(i)]);
      if (g.node(i).tape_holds_output) {  // its own tape keeps it through the stage
        need = std::max(need, val(m.T[at(s)][at(i)]) + val(m.R[at(s)][at(i)]));
      }
      for (const std::int64_t w : g.consumers(i)) {
        if (w <= top(s)) need = std::max(need, val(m.T[at(s)][at(w)]) + val(m.R[at(s)][at(w)]));
      }
      const std::int64_t last = m.last[at(s)][at(i)];
      for (std::int64_t k = last; k >= i; --k) {
        if (k < last) need = std::max(need, y[at(m.a(s, i, k + 1))]);
        for (const std::int64_t w : g.consumers(i)) {
          if (w == k + 1 && w <= top(s)) {
            need = std::max(need, val(m.C[at(s)][at(w)]) + val(m.R[at(s)][at(w)]));
          }
        }
        y[at(m.a(s, i, k))] = need;
      }
      if (s >= 1) {
        double held =
            std::max(0.0, y[at(m.a(s, i, i))] - val(m.C[at(s)][at(i)]) - val(m.R[at(s)][at(i)]));
        for (const std::int64_t w : g.consumers(i)) {
          if (w <= top(s)) held = std::max(held, val(m.T[at(s)][at(w)]));
        }
        if (g.node(i).tape_holds_output) held = std::max(held, val(m.T[at(s)][at(i)]));
        y[at(m.S[at(s)][at(i)])] = held;
      }
    }
  }
  if (m.peak_column >= 0) {
    y[at(m.peak_column)] = 0;
    const RowCheck rc = check_rows(m, y);
    y[at(m.peak_column)] = static_cast<double>(rc.peak_bytes / m.unit);
  }
  return y;
}

RowCheck check_rows(const StageModel& m, const std::vector<double>& x) {
  std::vector<double> activity(at(m.rows()), 0);
  for (std::size_t e = 0; e < m.entry_value.size(); ++e) {
    if (m.entry_column[e] == m.peak_column) continue;  // the peak is what is measured
    activity[at(m.entry_row[e])] += m.entry_value[e] * x[at(m.entry_column[e])];
  }
  RowCheck rc;
  double peak = 0;
  for (int r = 0; r < m.rows(); ++r) {
    const double a = activity[at(r)];
    double lower = m.row_lower[at(r)], upper = m.row_upper[at(r)];
    if (m.memory_constant[at(r)] >= 0) {
      peak = std::max(peak, a + m.memory_constant[at(r)]);
      if (m.peak_column >= 0) continue;
    }
    const double violation = std::max(lower - a, a - upper);
    if (violation > rc.worst_violation) {
      rc.worst_violation = violation;
      rc.worst_row = r;
    }
  }
  rc.peak_bytes = static_cast<std::uint64_t>(std::llround(peak)) * m.unit;
  return rc;
}

std::vector<GraphAction> stage_stream(const StageModel& m, const std::vector<double>& x) {
  std::vector<GraphAction> stream;
  for (std::int64_t s = 0; s < m.n; ++s) {
    const std::int64_t top = m.n - 1 - s;
    for (std::int64_t v = 0; v <= top; ++v) {
      const int c = m.C[at(s)][at(v)];
      if (c >= 0 && x[at(c)] > 0.5) stream.push_back({GraphActionKind::compute, v});
      if (x[at(m.R[at(s)][at(v)])] > 0.5) stream.push_back({GraphActionKind::record, v});
    }
    stream.push_back({GraphActionKind::backward, top});
  }
  return stream;
}

std::vector<double> stage_choices(const StageModel& m, const std::vector<GraphAction>& stream) {
  std::vector<double> x(at(m.columns()), 0);
  std::int64_t s = 0, position = -1;
  for (const GraphAction& a : stream) {
    if (s >= m.n) return {};
    const std::int64_t top = m.n - 1 - s;
    if (a.kind == GraphActionKind::backward) {
      if (a.node != top) return {};
      ++s;
      position = -1;
      continue;
    }
    if (a.kind == GraphActionKind::free) continue;
    if (a.node <= position || a.node > top) return {};
    position = a.node;
    const int c =
        a.kind == GraphActionKind::record ? m.R[at(s)][at(a.node)] : m.C[at(s)][at(a.node)];
    if (c < 0) return {};
    x[at(c)] = 1;
  }
  return x;
}

}  // namespace cairn::detail
