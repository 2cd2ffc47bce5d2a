// The kernels of wave2d.hpp as CUDA kernels, one thread per grid point (a 2-D launch: i from x,
// j from y), with the very same expressions in the same order, so that, compiled with
// --fmad=false (no fused multiply-adds), every point goes through the same IEEE operations as on
// the host. Used by wave2d_cuda.cu; docs/wave2d.md ("CUDA build") says what is compared.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace wave2d::cuda {

/// The coefficients of one velocity model on the device (N doubles each; wave2d::Wave2d's).
struct Coefficients {
  const double* r = nullptr;
  const double* inv = nullptr;
  const double* keep = nullptr;
  const double* dgc = nullptr;
};

/// wave2d::laplacian_sum: the four neighbours (0 outside the grid) minus 4 f_k, summed in the
/// host's order (west + east + south + north - 4 f_k).
__device__ inline double laplacian_sum(const double* f, int nx, int ny, int i, int j,
                                       std::int64_t k) {
  const double west = i > 0 ? f[k - 1] : 0.0;
  const double east = i + 1 < nx ? f[k + 1] : 0.0;
  const double south = j > 0 ? f[k - nx] : 0.0;
  const double north = j + 1 < ny ? f[k + nx] : 0.0;
  return west + east + south + north - 4.0 * f[k];
}

/// wave2d::leapfrog_kernel and then wave2d::inject_kernel at point ks (next_ks += inv_ks value),
/// in one pass: next_k = inv_k (2 cur_k - keep_k prev_k + r_k laplacian_sum(cur)_k). `next` may
/// be `prev` (each thread reads prev_k before it writes next_k).
__global__ void step_kernel(int nx, int ny, Coefficients c, const double* prev,
                            const double* __restrict__ cur, double* next, std::int64_t ks,
                            double value) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int j = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (i >= nx || j >= ny) return;
  const std::int64_t k = static_cast<std::int64_t>(j) * nx + i;
  const double lap = laplacian_sum(cur, nx, ny, i, j, k);
  double v = c.inv[k] * (2.0 * cur[k] - c.keep[k] * prev[k] + c.r[k] * lap);
  if (k == ks) v += c.inv[k] * value;
  next[k] = v;
}

/// wave2d::adjoint_gradient_kernel: z_k = r_k inv_k lb_k, grad_k += dgc_k lb_k
/// laplacian_sum(cur)_k.
__global__ void adjoint_gradient_kernel(int nx, int ny, Coefficients c,
                                        const double* __restrict__ cur,
                                        const double* __restrict__ lb, double* __restrict__ z,
                                        double* __restrict__ grad) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int j = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (i >= nx || j >= ny) return;
  const std::int64_t k = static_cast<std::int64_t>(j) * nx + i;
  const double lap = laplacian_sum(cur, nx, ny, i, j, k);
  z[k] = c.r[k] * c.inv[k] * lb[k];
  grad[k] += c.dgc[k] * lb[k] * lap;
}

/// wave2d::adjoint_transpose_kernel, in place: la_k <- la_k + 2 inv_k lb_k + laplacian_sum(z)_k,
/// lb_k <- -keep_k inv_k lb_k. A second kernel because it needs z of the neighbours.
__global__ void adjoint_transpose_kernel(int nx, int ny, Coefficients c,
                                         const double* __restrict__ z, double* __restrict__ la,
                                         double* __restrict__ lb) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int j = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (i >= nx || j >= ny) return;
  const std::int64_t k = static_cast<std::int64_t>(j) * nx + i;
  const double lap = laplacian_sum(z, nx, ny, i, j, k);
  const double b = lb[k];
  la[k] = la[k] + 2.0 * c.inv[k] * b + lap;
  lb[k] = -c.keep[k] * c.inv[k] * b;
}

/// Receiver r of `count` reads u at receiver[r] into out[r] (a row of the observed traces).
__global__ void record_kernel(const double* __restrict__ u, const std::int64_t* __restrict__ rec,
                              int count, double* __restrict__ out) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r < count) out[r] = u[rec[r]];
}

/// wave2d::Misfit::add_residual on the device: residual = u_rec - d, l_rec += residual, and
/// J_r += residual^2 / 2 per receiver (the receivers are distinct points: no races). The J_r are
/// summed once, on the host, at the end.
__global__ void residual_kernel(const double* __restrict__ u, const std::int64_t* __restrict__ rec,
                                const double* __restrict__ d, int count, double* __restrict__ l,
                                double* __restrict__ J) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= count) return;
  const double residual = u[rec[r]] - d[r];
  l[rec[r]] += residual;
  J[r] += 0.5 * residual * residual;
}

}  // namespace wave2d::cuda
