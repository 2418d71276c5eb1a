#pragma once
// Synthetic manifolds shared by the geometry tests (unit tests only; header-only).
#include <Eigen/Dense>

#include <cmath>
#include <cstdint>
#include <vector>

#include "grokscope/core/random.hpp"

namespace grokscope::test_data {

// A rows × cols matrix of independent N(0, scale²) draws from `rng`, row by row.
inline Eigen::MatrixXd gaussian(RandomStream& rng, long rows, long cols, double scale = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) m(i, j) = scale * rng.normal();
  return m;
}

// P manifolds (N × M, one point a column): a random N(0, I) center (norm ≈ √N) plus Gaussian
// noise of standard deviation `noise` per coordinate, so the points lie at distance ≈ noise·√N
// from their center: `noise` is the radius relative to the center's norm.
inline std::vector<Eigen::MatrixXd> gaussian_clouds(long P, long M, long N, double noise, std::uint64_t seed) {
  RandomStream rng(seed);
  std::vector<Eigen::MatrixXd> out;
  for (long p = 0; p < P; ++p) {
    const Eigen::MatrixXd center = gaussian(rng, N, 1);
    out.push_back(center.replicate(1, M) + gaussian(rng, N, M, noise));
  }
  return out;
}

// The same clouds with the points at absolute distance ≈ `distance` from their center (center
// norm ≈ √N, so the relative radius is distance / √N).
inline std::vector<Eigen::MatrixXd> clouds_at_distance(long P, long M, long N, double distance, std::uint64_t seed) {
  return gaussian_clouds(P, M, N, distance / std::sqrt(double(N)), seed);
}

}  // namespace grokscope::test_data
