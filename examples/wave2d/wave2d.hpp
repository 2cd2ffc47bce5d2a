// The 2-D acoustic wave equation u_tt = c(x)^2 (u_xx + u_yy) + s with a sponge layer, leapfrog in
// time, and the exact discrete adjoint of one step: the gradient of a least-squares misfit at
// receivers with respect to the velocity model, the core computation of full-waveform inversion.
// Used by examples/wave2d and tests/test_wave2d.cpp; docs/wave2d.md writes the scheme out.
//
// The kernels below are plain loops over flat arrays (point k = j * nx + i, i fastest) with the
// grid and the coefficients passed in, so that a CUDA build can mirror them one to one: the CUDA
// version (examples/wave2d/wave2d_cuda.cu and wave2d_kernels.cuh, on cairn::cuda::DeviceBuffer
// and DeviceStorage) runs the same kernels, one thread per point, in the same order of passes and
// with the same coefficients (Wave2d::r() .. source()), and is compiled with --fmad=false (nvcc
// would otherwise contract a * b + c into fused multiply-adds, which the host compiler for x86-64
// does not do), so that each point sees the same sequence of IEEE operations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace wave2d {

using State = std::vector<double>;  // (u^{i-1}, u^i), two fields of nx * ny points (below)

/// nx * ny points with spacing h (metres); point k = j * nx + i, i the fast index.
struct Grid {
  std::int64_t nx = 0;
  std::int64_t ny = 0;
  double h = 0;
  std::int64_t size() const noexcept { return nx * ny; }
};

// ---- Kernels: what a CUDA port mirrors, one thread per point k ------------------------------

/// Sum of the four neighbours minus 4 f_k: h^2 times the five-point Laplacian, with u = 0 outside
/// the grid (the sponge has damped the wave long before it gets there). It is symmetric, so it is
/// its own transpose.
inline double laplacian_sum(const double* f, std::int64_t nx, std::int64_t ny, std::int64_t i,
                            std::int64_t j, std::int64_t k) {
  const double west = i > 0 ? f[k - 1] : 0.0;
  const double east = i + 1 < nx ? f[k + 1] : 0.0;
  const double south = j > 0 ? f[k - nx] : 0.0;
  const double north = j + 1 < ny ? f[k + nx] : 0.0;
  return west + east + south + north - 4.0 * f[k];
}

/// Calls op(k, laplacian_sum(f)_k) for every point k in order. The interior of each row takes a
/// branch-free path with the very same arithmetic (so the same bits) as laplacian_sum; a CUDA
/// kernel calls op(k, laplacian_sum(f, ...)) with one thread per point instead.
template <typename Op>
inline void for_each_point(const Grid& g, const double* f, Op&& op) {
  const std::int64_t nx = g.nx, ny = g.ny;
  for (std::int64_t j = 0; j < ny; ++j) {
    const std::int64_t row = j * nx;
    if (j == 0 || j == ny - 1 || nx < 3) {
      for (std::int64_t i = 0; i < nx; ++i) op(row + i, laplacian_sum(f, nx, ny, i, j, row + i));
      continue;
    }
    op(row, laplacian_sum(f, nx, ny, 0, j, row));
    for (std::int64_t k = row + 1; k < row + nx - 1; ++k) {
      op(k, f[k - 1] + f[k + 1] + f[k - nx] + f[k + nx] - 4.0 * f[k]);
    }
    op(row + nx - 1, laplacian_sum(f, nx, ny, nx - 1, j, row + nx - 1));
  }
}

/// One damped leapfrog step without the source:
///   next_k = inv_k (2 cur_k - keep_k prev_k + r_k laplacian_sum(cur)_k),
/// r_k = dt^2 c_k^2 / h^2, inv_k = 1 / (1 + sigma_k dt / 2), keep_k = 1 - sigma_k dt / 2.
/// `next` may be `prev` (next_k reads prev_k alone).
inline void leapfrog_kernel(const Grid& g, const double* r, const double* inv, const double* keep,
                            const double* prev, const double* cur, double* next) {
  for_each_point(g, cur, [&](std::int64_t k, double lap) {
    next[k] = inv[k] * (2.0 * cur[k] - keep[k] * prev[k] + r[k] * lap);
  });
}

/// The source of step i at point ks: next_ks += inv_ks * dt^2 s^i / h^2 (`value` is
/// dt^2 s^i / h^2, a point source of strength s^i spread over one cell).
inline void inject_kernel(const double* inv, std::int64_t ks, double value, double* next) {
  next[ks] += inv[ks] * value;
}

/// Adjoint pass 1, given u^i (`cur`) and lb = dJ/du^{i+1}:
///   z_k = r_k inv_k lb_k                     (pass 2 needs its Laplacian)
///   grad_k += dgc_k lb_k laplacian_sum(cur)_k
/// since d next_k / d c_k = inv_k (2 dt^2 c_k / h^2) laplacian_sum(cur)_k =: dgc_k laplacian_sum.
inline void adjoint_gradient_kernel(const Grid& g, const double* r, const double* inv,
                                    const double* dgc, const double* cur, const double* lb,
                                    double* z, double* grad) {
  for_each_point(g, cur, [&](std::int64_t k, double lap) {
    z[k] = r[k] * inv[k] * lb[k];
    grad[k] += dgc[k] * lb[k] * lap;
  });
}

/// Adjoint pass 2, in place: la holds dJ/du^i as seen from x_{i+1} (its first field) and becomes
/// dJ/du^i of x_i; lb holds dJ/du^{i+1} and becomes dJ/du^{i-1}:
///   la_k <- la_k + 2 inv_k lb_k + laplacian_sum(z)_k,   lb_k <- -keep_k inv_k lb_k.
inline void adjoint_transpose_kernel(const Grid& g, const double* inv, const double* keep,
                                     const double* z, double* la, double* lb) {
  for_each_point(g, z, [&](std::int64_t k, double lap) {
    const double b = lb[k];
    la[k] = la[k] + 2.0 * inv[k] * b + lap;
    lb[k] = -keep[k] * inv[k] * b;
  });
}

// ---- The problem --------------------------------------------------------------------------

/// A double as printf's %.6g writes it, for messages.
inline std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

/// The largest stable time step of the scheme: dt <= h / (c_max sqrt(2)).
inline double cfl_limit(double h, double c_max) {
  return h / (c_max * std::sqrt(2.0));
}

/// Ricker wavelet of peak frequency f (Hz), delayed by 1.2 / f so that it starts near zero.
inline double ricker(double t, double frequency) {
  constexpr double pi = 3.14159265358979323846;
  const double tau = t - 1.2 / frequency;
  const double a = pi * pi * frequency * frequency * tau * tau;
  return (1.0 - 2.0 * a) * std::exp(-a);
}

struct Config {
  std::int64_t nx = 128;
  std::int64_t ny = 128;
  double h = 10.0;           ///< grid spacing, m
  double dt = 0.0;           ///< time step, s (> 0, at most cfl_limit)
  std::int64_t steps = 600;  ///< T
  double frequency = 10.0;   ///< Ricker peak frequency, Hz
  double c0 = 2000.0;        ///< background velocity, m/s; also sets the sponge's strength
  double anomaly = 200.0;    ///< peak of the true model's Gaussian anomaly, m/s
  std::int64_t sponge = 10;  ///< width of the damping band, points
  double reflection = 1e-3;  ///< the sponge's nominal reflection coefficient
  double amplitude = 1e7;    ///< source strength (J is then of order 1)
};

/// Background model: c0 everywhere.
inline std::vector<double> background_velocity(const Config& cfg) {
  return std::vector<double>(static_cast<std::size_t>(cfg.nx * cfg.ny), cfg.c0);
}

/// True model: c0 + anomaly * exp(-|x - x_centre|^2 / (2 w^2)), w = max(nx, ny) h / 10.
inline std::vector<double> true_velocity(const Config& cfg) {
  std::vector<double> c = background_velocity(cfg);
  const double w = static_cast<double>(std::max(cfg.nx, cfg.ny)) / 10.0;
  const double ci = 0.5 * static_cast<double>(cfg.nx - 1);
  const double cj = 0.5 * static_cast<double>(cfg.ny - 1);
  for (std::int64_t j = 0; j < cfg.ny; ++j) {
    for (std::int64_t i = 0; i < cfg.nx; ++i) {
      const double di = static_cast<double>(i) - ci;
      const double dj = static_cast<double>(j) - cj;
      c[static_cast<std::size_t>(j * cfg.nx + i)] +=
          cfg.anomaly * std::exp(-(di * di + dj * dj) / (2.0 * w * w));
    }
  }
  return c;
}

/// A smooth perturbation for Taylor tests, unlike the anomaly: 50 m/s * sin(3 pi x) sin(2 pi y)
/// + 20 m/s, over the whole grid (the sponge included).
inline std::vector<double> taylor_direction(const Config& cfg) {
  constexpr double pi = 3.14159265358979323846;
  std::vector<double> d(static_cast<std::size_t>(cfg.nx * cfg.ny));
  for (std::int64_t j = 0; j < cfg.ny; ++j) {
    for (std::int64_t i = 0; i < cfg.nx; ++i) {
      const double x = (static_cast<double>(i) + 0.5) / static_cast<double>(cfg.nx);
      const double y = (static_cast<double>(j) + 0.5) / static_cast<double>(cfg.ny);
      d[static_cast<std::size_t>(j * cfg.nx + i)] =
          50.0 * std::sin(3.0 * pi * x) * std::sin(2.0 * pi * y) + 20.0;
    }
  }
  return d;
}

/// The scheme for one velocity model. The state of step i is x_i = (u^{i-1}, u^i), one vector of
/// 2 N doubles (N = nx ny) in which u^n lives in half n % 2 (offset (n % 2) N): a step writes
/// u^{i+1} over u^{i-1} and nothing is copied. The adjoint lambda_i = dJ/dx_i has x_i's layout.
/// x_0 = (u^{-1}, u^0) = (0, 0): the medium is at rest until the source fires.
///
/// Sponge: sigma = sigma_max ((d_x / w)^2 + (d_y / w)^2), d_x, d_y the distances (in points) into
/// the band of w = `sponge` points along each edge, sigma_max = 3 c0 ln(1 / R) / (2 w h). The
/// source is at (nx / 2, w + 2), the receivers on the line j = ny - 1 - w - 2, i = w .. nx - 1 - w.
class Wave2d {
 public:
  Wave2d(const Config& cfg, std::vector<double> velocity)
      : cfg_(cfg), grid_{cfg.nx, cfg.ny, cfg.h}, velocity_(std::move(velocity)) {
    if (cfg.sponge < 0) throw std::invalid_argument("wave2d: the sponge width must be >= 0");
    const std::int64_t min_points = 2 * cfg.sponge + 8;
    if (cfg.nx < min_points || cfg.ny < min_points) {
      throw std::invalid_argument(
          "wave2d: a grid of " + std::to_string(cfg.nx) + " x " + std::to_string(cfg.ny) +
          " points is too small for a sponge of " + std::to_string(cfg.sponge) +
          " points: nx and ny must be >= " + std::to_string(min_points) + " (2 sponge + 8)");
    }
    if (cfg.steps < 1) throw std::invalid_argument("wave2d: steps must be >= 1");
    if (!(cfg.h > 0) || !std::isfinite(cfg.h)) {
      throw std::invalid_argument("wave2d: the grid spacing h must be > 0");
    }
    if (!(cfg.frequency > 0) || !std::isfinite(cfg.frequency)) {
      throw std::invalid_argument("wave2d: the source frequency must be > 0");
    }
    if (!(cfg.c0 > 0) || !std::isfinite(cfg.c0)) {
      throw std::invalid_argument("wave2d: the background velocity c0 must be > 0");
    }
    if (!(cfg.reflection > 0 && cfg.reflection < 1)) {
      throw std::invalid_argument("wave2d: the sponge's reflection coefficient must be in (0, 1)");
    }
    const std::size_t n = static_cast<std::size_t>(grid_.size());
    if (velocity_.size() != n) {
      throw std::invalid_argument("wave2d: the velocity model has " +
                                  std::to_string(velocity_.size()) + " values for " +
                                  std::to_string(n) + " grid points");
    }
    double c_max = 0;
    for (const double c : velocity_) {
      if (!(c > 0) || !std::isfinite(c)) {
        throw std::invalid_argument("wave2d: velocities must be finite and > 0");
      }
      c_max = std::max(c_max, c);
    }
    const double limit = cfl_limit(cfg.h, c_max);
    if (!(cfg.dt > 0) || !std::isfinite(cfg.dt)) {
      throw std::invalid_argument("wave2d: the time step dt must be > 0");
    }
    if (cfg.dt > limit) {
      throw std::invalid_argument(
          "wave2d: dt = " + number(cfg.dt) +
          " s violates the CFL condition dt <= h / (c_max sqrt(2)) = " + number(limit) +
          " s (h = " + number(cfg.h) + " m, c_max = " + number(c_max) + " m/s); take a smaller dt");
    }
    const double dt = cfg.dt;
    r_.resize(n);
    dgc_.resize(n);
    inv_.resize(n);
    keep_.resize(n);
    const double w = static_cast<double>(cfg.sponge);
    const double sigma_max =
        cfg.sponge > 0 ? 3.0 * cfg.c0 * std::log(1.0 / cfg.reflection) / (2.0 * w * cfg.h) : 0.0;
    const auto depth = [&](std::int64_t i, std::int64_t count) {
      const std::int64_t d =
          std::max({std::int64_t{0}, cfg.sponge - i, i - (count - 1 - cfg.sponge)});
      return cfg.sponge > 0 ? static_cast<double>(d) / w : 0.0;
    };
    for (std::int64_t j = 0; j < grid_.ny; ++j) {
      for (std::int64_t i = 0; i < grid_.nx; ++i) {
        const std::size_t k = static_cast<std::size_t>(j * grid_.nx + i);
        const double dx = depth(i, grid_.nx), dy = depth(j, grid_.ny);
        const double sigma = sigma_max * (dx * dx + dy * dy);
        inv_[k] = 1.0 / (1.0 + 0.5 * sigma * dt);
        keep_[k] = 1.0 - 0.5 * sigma * dt;
        const double c = velocity_[k];
        r_[k] = dt * dt * c * c / (cfg.h * cfg.h);
        dgc_[k] = 2.0 * inv_[k] * dt * dt * c / (cfg.h * cfg.h);
      }
    }
    source_index_ = (cfg.sponge + 2) * grid_.nx + grid_.nx / 2;
    source_.resize(static_cast<std::size_t>(cfg.steps));
    for (std::int64_t i = 0; i < cfg.steps; ++i) {
      source_[static_cast<std::size_t>(i)] = dt * dt * cfg.amplitude *
                                             ricker(static_cast<double>(i) * dt, cfg.frequency) /
                                             (cfg.h * cfg.h);
    }
    const std::int64_t jr = grid_.ny - 1 - cfg.sponge - 2;
    for (std::int64_t i = cfg.sponge; i <= grid_.nx - 1 - cfg.sponge; ++i) {
      receivers_.push_back(jr * grid_.nx + i);
    }
  }

  const Config& config() const noexcept { return cfg_; }
  const Grid& grid() const noexcept { return grid_; }
  double dt() const noexcept { return cfg_.dt; }
  std::int64_t steps() const noexcept { return cfg_.steps; }
  std::size_t points() const noexcept { return static_cast<std::size_t>(grid_.size()); }
  const std::vector<double>& velocity() const noexcept { return velocity_; }
  const std::vector<std::int64_t>& receivers() const noexcept { return receivers_; }
  std::int64_t source_index() const noexcept { return source_index_; }
  /// The per-point coefficients of the kernels below (r, inv, keep, dgc) and the source values
  /// dt^2 s^i / h^2 of steps i = 0..T-1: what the CUDA build (wave2d_cuda.cu) uploads, so that
  /// both builds run on the very same numbers.
  const std::vector<double>& r() const noexcept { return r_; }
  const std::vector<double>& inv() const noexcept { return inv_; }
  const std::vector<double>& keep() const noexcept { return keep_; }
  const std::vector<double>& dgc() const noexcept { return dgc_; }
  const std::vector<double>& source() const noexcept { return source_; }

  State initial_state() const { return State(2 * points(), 0.0); }

  /// u^n inside a state of step `step` (n = step for the current field, step - 1 for the other).
  double* field(State& x, std::int64_t n) const { return x.data() + offset(n); }
  const double* field(const State& x, std::int64_t n) const { return x.data() + offset(n); }

  /// x_i -> x_{i+1} in place: u^{i+1} over u^{i-1}, then the source s^i.
  void step(std::int64_t i, State& x) const {
    tangent_step(i, x);
    inject_kernel(inv_.data(), source_index_, source_[static_cast<std::size_t>(i)],
                  field(x, i + 1));
  }

  /// The step without its source: the linear map x_i -> x_{i+1} itself (its Jacobian in x).
  void tangent_step(std::int64_t i, State& x) const {
    leapfrog_kernel(grid_, r_.data(), inv_.data(), keep_.data(), field(x, i - 1), field(x, i),
                    field(x, i + 1));
  }

  /// The Jacobian of step i in the velocity, applied to dc at x_i: the change of x_{i+1} (its u^i
  /// does not change; its u^{i+1} changes by dgc dc laplacian_sum(u^i)). For the dot-product test.
  State velocity_tangent(std::int64_t i, const State& x, const std::vector<double>& dc) const {
    State dx(2 * points(), 0.0);
    const double* cur = field(x, i);
    double* next = field(dx, i + 1);
    for (std::int64_t j = 0; j < grid_.ny; ++j) {
      for (std::int64_t ii = 0; ii < grid_.nx; ++ii) {
        const std::int64_t k = j * grid_.nx + ii;
        const std::size_t s = static_cast<std::size_t>(k);
        next[k] = dgc_[s] * dc[s] * laplacian_sum(cur, grid_.nx, grid_.ny, ii, j, k);
      }
    }
    return dx;
  }

  /// lambda_{i+1} -> lambda_i in place given x_i (the transpose of step i's Jacobian in x), and
  /// grad += (d x_{i+1} / d c)^T lambda_{i+1}. `scratch` holds N doubles (resized if not).
  void adjoint_step(std::int64_t i, const State& x, State& lambda, std::vector<double>& grad,
                    std::vector<double>& scratch) const {
    if (scratch.size() != points()) scratch.resize(points());
    if (grad.size() != points()) throw std::invalid_argument("wave2d: grad must have N values");
    double* la = field(lambda, i);
    double* lb = field(lambda, i + 1);
    adjoint_gradient_kernel(grid_, r_.data(), inv_.data(), dgc_.data(), field(x, i), lb,
                            scratch.data(), grad.data());
    adjoint_transpose_kernel(grid_, inv_.data(), keep_.data(), scratch.data(), la, lb);
  }

  /// u^n at the receivers, from a state whose current field is u^n.
  void record(std::int64_t n, const State& x, double* out) const {
    const double* u = field(x, n);
    for (std::size_t r = 0; r < receivers_.size(); ++r) out[r] = u[receivers_[r]];
  }

  /// A plain forward run: u^n at the receivers for n = 1..T, row n - 1 of a T x receivers table.
  std::vector<double> traces() const {
    const std::size_t nr = receivers_.size();
    std::vector<double> d(static_cast<std::size_t>(cfg_.steps) * nr);
    State x = initial_state();
    for (std::int64_t i = 0; i < cfg_.steps; ++i) {
      step(i, x);
      record(i + 1, x, d.data() + static_cast<std::size_t>(i) * nr);
    }
    return d;
  }

 private:
  std::size_t offset(std::int64_t n) const noexcept {
    return static_cast<std::size_t>(((n % 2) + 2) % 2) * points();
  }

  Config cfg_;
  Grid grid_;
  std::vector<double> velocity_;
  std::vector<double> r_, dgc_, inv_, keep_;
  std::int64_t source_index_ = 0;
  std::vector<double> source_;
  std::vector<std::int64_t> receivers_;
};

/// J(c) = 1/2 sum_{n=1..T} sum_r (u^n_r(c) - d_obs^n_r)^2 with d_obs = Wave2d::traces() of another
/// model. phi_n, the term of step n, depends on x_n alone, so the adjoint adds dphi_n/dx_n to
/// lambda_n right after step n's transpose (add_residual), and terminal() gives lambda_T.
class Misfit {
 public:
  Misfit(const Wave2d& problem, std::vector<double> observed)
      : problem_(problem), observed_(std::move(observed)) {
    if (observed_.size() !=
        static_cast<std::size_t>(problem.steps()) * problem.receivers().size()) {
      throw std::invalid_argument("wave2d: the observed data have the wrong size");
    }
  }

  /// lambda_n += dphi_n/dx_n and J += phi_n, for 1 <= n <= T (x is x_n).
  void add_residual(std::int64_t n, const State& x, State& lambda, double& J) const {
    const std::vector<std::int64_t>& rec = problem_.receivers();
    const double* u = problem_.field(x, n);
    double* l = problem_.field(lambda, n);
    const double* d = observed_.data() + static_cast<std::size_t>(n - 1) * rec.size();
    for (std::size_t r = 0; r < rec.size(); ++r) {
      const double residual = u[rec[r]] - d[r];
      l[rec[r]] += residual;
      J += 0.5 * residual * residual;
    }
  }

  /// lambda_T = dphi_T/dx_T, and J = phi_T.
  State terminal(const State& xT, double& J) const {
    State lambda(xT.size(), 0.0);
    J = 0;
    add_residual(problem_.steps(), xT, lambda, J);
    return lambda;
  }

  /// J by a plain forward run (no adjoint; for Taylor tests).
  double value() const {
    const std::vector<std::int64_t>& rec = problem_.receivers();
    State x = problem_.initial_state();
    double J = 0;
    for (std::int64_t i = 0; i < problem_.steps(); ++i) {
      problem_.step(i, x);
      const double* u = problem_.field(x, i + 1);
      const double* d = observed_.data() + static_cast<std::size_t>(i) * rec.size();
      for (std::size_t r = 0; r < rec.size(); ++r) {
        const double residual = u[rec[r]] - d[r];
        J += 0.5 * residual * residual;
      }
    }
    return J;
  }

 private:
  const Wave2d& problem_;
  std::vector<double> observed_;
};

}  // namespace wave2d
