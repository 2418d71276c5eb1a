#include "grokscope/geometry/simcap.hpp"

#include <ClpSimplex.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"

namespace grokscope {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using PointsRef = Eigen::Ref<const MatrixXd>;

// Both certificates are accepted at 1e-9 of the points' scale: far above the rounding of the
// checks themselves (~1e-16 × n; the overlap residuals measured ~1e-15) and far below the margins
// of point sets that are not degenerate.
constexpr double kCertificateTolerance = 1e-9;

// The LP  max t  s.t.  y_r (wᵀz_r + b) − t ≥ 0 over the rows r added so far, |w_j| ≤ 1,
// |b| ≤ bound, 0 ≤ t ≤ 2·bound + 1.  t > 0 iff the rows are separable. By duality t is the least
// ‖Σ λ_r y_r z_r‖₁ over λ ≥ 0 with Σ λ_r = 1 and Σ λ_r y_r = 0 — half the L1 distance between the
// two classes' convex hulls — and at t = 0 the row duals are weights λ that prove an overlap.
// Every variable is boxed on purpose: CLP's dual simplex (the one that warm starts after rows are
// added) answered "proven infeasible" for separable points on the plain feasibility LP with free
// w, b and a zero objective. `bound` ≥ max ‖z‖₁ + 1 never binds b at a
// separating solution, since a separating hyperplane passes between points (|b| < max |wᵀz|).
class MarginLp {
 public:
  MarginLp(long n, double bound) : n_(n) {
    lp_.setLogLevel(0);
    lp_.scaling(0);  // the points arrive centered and rescaled; CLP's scaling only cost time
    std::vector<double> lower(n + 2, -1.0), upper(n + 2, 1.0), cost(n + 2, 0.0);
    lower[n] = -bound, upper[n] = bound;
    lower[n + 1] = 0.0, upper[n + 1] = 2 * bound + 1, cost[n + 1] = -1.0;
    const std::vector<CoinBigIndex> starts(n + 3, 0);  // columns start empty; rows come later
    lp_.addColumns(int(n + 2), lower.data(), upper.data(), cost.data(), starts.data(), nullptr,
                   nullptr);
  }

  void add_row(const VectorXd& z, int y) {
    rows_.push_back(z);
    labels_.push_back(y);
    for (long j = 0; j < n_; ++j)
      pending_index_.push_back(int(j)), pending_value_.push_back(y * z(j));
    pending_index_.push_back(int(n_)), pending_value_.push_back(y);
    pending_index_.push_back(int(n_ + 1)), pending_value_.push_back(-1.0);
    pending_start_.push_back(CoinBigIndex(pending_index_.size()));
  }

  // Solves with the rows added so far; warm starts from the previous basis.
  void solve() {
    flush_rows();
    lp_.dual();
    if (!lp_.isProvenOptimal()) lp_.primal();  // a second opinion before giving up
    if (!lp_.isProvenOptimal())
      throw Error("linear separability: CLP did not solve the margin LP (status " +
                  std::to_string(lp_.status()) + ", secondary " +
                  std::to_string(lp_.secondaryStatus()) + ", " + std::to_string(rows_.size()) +
                  " rows in " + std::to_string(n_) + " dimensions); refusing to guess");
  }

  Eigen::Map<const VectorXd> w() const { return {lp_.primalColumnSolution(), n_}; }
  double dual(std::size_t row) const { return lp_.dualRowSolution()[row]; }
  double b() const { return lp_.primalColumnSolution()[n_]; }
  double t() const { return lp_.primalColumnSolution()[n_ + 1]; }

  // Checks the overlap certificate: λ ≥ 0 from the row duals with Σ λ_r y_r (z_r, 1) = 0 means a
  // convex combination of one class equals one of the other (both weighted by Σλ/2), so no
  // hyperplane separates them. Implied rows (means of points) are convex combinations themselves.
  bool proves_overlap() const {
    const double* dual = lp_.dualRowSolution();
    VectorXd residual = VectorXd::Zero(n_);
    double residual_bias = 0, scale = 0;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const double lambda = std::max(0.0, dual[r]);
      if (lambda == 0) continue;
      residual += (lambda * labels_[r]) * rows_[r];
      residual_bias += lambda * labels_[r];
      scale += lambda * (rows_[r].lpNorm<1>() + 1.0);
    }
    return scale > 0 &&
           residual.lpNorm<1>() + std::abs(residual_bias) <= kCertificateTolerance * scale;
  }

 private:
  void flush_rows() {
    const int count = int(pending_start_.size()) - 1;
    if (count <= 0) return;
    const std::vector<double> lower(count, 0.0), upper(count, COIN_DBL_MAX);
    lp_.addRows(count, lower.data(), upper.data(), pending_start_.data(), pending_index_.data(),
                pending_value_.data());
    pending_start_.assign(1, 0);
    pending_index_.clear();
    pending_value_.clear();
  }

  long n_;
  ClpSimplex lp_;
  std::vector<VectorXd> rows_;
  std::vector<int> labels_;
  std::vector<CoinBigIndex> pending_start_{0};
  std::vector<int> pending_index_;
  std::vector<double> pending_value_;
};

// A separability question in the LP's coordinates: points as columns, centered and rescaled so
// that the box |w_j| ≤ 1 and the tolerances mean the same at any scale of the input.
struct SeparationProblem {
  PointsRef points;                // n × m
  const std::vector<int>& labels;  // ±1 per point
  const std::vector<int>& groups;  // group of each point, in [0, group_count)
  int group_count;
  int max_new_rows;               // rows added per round: the worst point of as many groups
  std::vector<VectorXd> implied;  // implied rows (means of points of one class) to start with
  std::vector<int> implied_labels;
};

// y_i (wᵀz_i + b) for every point.
VectorXd margins(PointsRef points, const std::vector<int>& labels, const VectorXd& w, double b) {
  VectorXd g = (points.transpose() * w).array() + b;
  for (long i = 0; i < g.size(); ++i) g(i) *= labels[i];
  return g;
}

// The separator certificate: every margin is positive by more than the rounding of wᵀz + b could
// explain (|w|∞ ‖z‖₁ + |b| bounds Σ|w_j z_j| + |b|).
bool separates(const VectorXd& g, const VectorXd& l1, const VectorXd& w, double b) {
  const double w_max = w.cwiseAbs().maxCoeff();
  for (long i = 0; i < g.size(); ++i)
    if (!(g(i) > kCertificateTolerance * (w_max * l1(i) + std::abs(b)))) return false;
  return true;
}

// Rows for the next round: per group the not-yet-used point of smallest margin below t/2 (a point
// the current solution misclassifies or nearly so), then the worst `max_new_rows` of those. One
// per group keeps the new rows spread over the manifolds instead of crowding one of them.
std::vector<long> violated_points(const SeparationProblem& pb, const VectorXd& g, double t,
                                  const std::vector<char>& used) {
  std::vector<std::pair<double, long>> worst(std::size_t(pb.group_count),
                                             {std::numeric_limits<double>::infinity(), -1});
  for (long i = 0; i < g.size(); ++i) {
    auto& slot = worst[std::size_t(pb.groups[i])];
    if (!used[i] && g(i) < 0.5 * t && g(i) < slot.first) slot = {g(i), i};
  }
  worst.erase(
      std::remove_if(worst.begin(), worst.end(), [](const auto& s) { return s.second < 0; }),
      worst.end());
  const std::size_t keep = std::min(worst.size(), std::size_t(std::max(1, pb.max_new_rows)));
  std::partial_sort(worst.begin(), worst.begin() + long(keep), worst.end());
  std::vector<long> out;
  for (std::size_t k = 0; k < keep; ++k) out.push_back(worst[k].second);
  return out;
}

// Decides separability by row generation: solve the margin LP on the rows so far; stop when its
// (w, b) separates ALL points, or when its duals prove an overlap among the rows (which then holds
// for all points); otherwise add violated points and re-solve. Each round adds at least one new
// point, so this ends. `active` brings points to start with (a warm start from another n) and
// returns the points that bind in the final LP (positive duals): the support, at most n + 2 points,
// not every point ever added, which would only slow the next LP down.
bool decide(const SeparationProblem& pb, std::vector<long>* active) {
  const long n = pb.points.rows(), m = pb.points.cols();
  const VectorXd l1 = pb.points.cwiseAbs().colwise().sum().transpose();
  MarginLp lp(n, l1.maxCoeff() + 1.0);
  std::vector<char> used(std::size_t(m), 0);
  for (std::size_t k = 0; k < pb.implied.size(); ++k)
    lp.add_row(pb.implied[k], pb.implied_labels[k]);
  std::vector<long> chosen;
  for (long i : *active)
    if (!used[i]) used[i] = 1, chosen.push_back(i), lp.add_row(pb.points.col(i), pb.labels[i]);
  for (;;) {
    lp.solve();
    const VectorXd w = lp.w();
    const double b = lp.b(), t = lp.t();
    const VectorXd g = margins(pb.points, pb.labels, w, b);
    bool verdict = false;
    if (separates(g, l1, w, b)) {
      verdict = true;
    } else if (!lp.proves_overlap()) {
      const std::vector<long> add = violated_points(pb, g, t, used);
      if (add.empty())
        throw Error("linear separability: neither certificate holds for " + std::to_string(m) +
                    " points in " + std::to_string(n) + " dimensions (margin t = " +
                    std::to_string(t) + ", below the 1e-9 checks' reach); refusing to guess");
      for (long i : add)
        used[i] = 1, chosen.push_back(i), lp.add_row(pb.points.col(i), pb.labels[i]);
      continue;
    }
    active->clear();
    for (std::size_t k = 0; k < chosen.size(); ++k)
      if (lp.dual(pb.implied.size() + k) > 0) active->push_back(chosen[k]);
    return verdict;
  }
}

// Centered and rescaled to unit RMS (affine maps do not change separability with a bias).
MatrixXd normalized(const MatrixXd& points) {
  MatrixXd z = points.colwise() - points.rowwise().mean();
  const double rms = std::sqrt(z.squaredNorm() / double(z.size()));
  if (rms > 0) z /= rms;  // all points equal: keep zeros (separable iff one class)
  return z;
}

void check_separability_input(const MatrixXd& points, const std::vector<int>& labels) {
  if (points.rows() < 1 || points.cols() < 1)
    throw UsageError("linearly_separable: needs at least one point with at least one coordinate");
  if (long(labels.size()) != points.cols())
    throw UsageError("linearly_separable: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(points.cols()) + " points");
  for (int y : labels)
    if (y != 1 && y != -1)
      throw UsageError("linearly_separable: labels must be +1 or -1, got " + std::to_string(y));
  if (!points.allFinite())
    throw UsageError("linearly_separable: points contain NaN or infinite values");
}

void check_simcap_input(const std::vector<MatrixXd>& manifolds, const SimcapOptions& options) {
  if (options.dichotomies < 1)
    throw UsageError("simulated capacity: dichotomies must be >= 1, got " +
                     std::to_string(options.dichotomies));
  if (manifolds.size() < 2)
    throw UsageError("simulated capacity needs at least 2 manifolds, got " +
                     std::to_string(manifolds.size()));
  const long N = manifolds.front().rows();
  if (N < 2)
    throw UsageError("simulated capacity needs at least 2 features per point, got " +
                     std::to_string(N));
  for (std::size_t m = 0; m < manifolds.size(); ++m) {
    if (manifolds[m].rows() != N)
      throw UsageError("simulated capacity: manifold " + std::to_string(m) + " has " +
                       std::to_string(manifolds[m].rows()) + " features, manifold 0 has " +
                       std::to_string(N));
    if (manifolds[m].cols() < 1)
      throw UsageError("simulated capacity: manifold " + std::to_string(m) + " has no points");
    if (!manifolds[m].allFinite())
      throw UsageError("simulated capacity: manifold " + std::to_string(m) +
                       " contains NaN or infinite values");
  }
}

// Column j of the projection: the same draw for every n (common random numbers).
MatrixXd projection(long N, std::uint64_t seed) {
  MatrixXd R(N, N);
  for (long j = 0; j < N; ++j) {
    RandomStream stream(seed, {stream_tag("simcap-projection"), std::uint64_t(j)});
    for (long i = 0; i < N; ++i) R(i, j) = stream.normal();
    R.col(j).normalize();
  }
  return R;
}

// Manifold labels of dichotomy d: exactly ⌊P/2⌋ of them +1, chosen at random.
std::vector<int> dichotomy(long P, std::uint64_t seed, int d) {
  std::vector<int> labels(std::size_t(P), -1);
  std::fill(labels.begin(), labels.begin() + P / 2, 1);
  RandomStream stream(seed, {stream_tag("simcap-dichotomy"), std::uint64_t(d)});
  stream.shuffle(labels);
  return labels;
}

// What is known about one dichotomy: separability is monotone in n, so a verdict at one n
// settles every n on its side.
struct DichotomyState {
  std::vector<int> manifold_labels;
  int inseparable_up_to = 1;  // largest n known not separable
  int separable_from;         // smallest n known separable
  std::vector<long> active;   // support of the last LP, to warm start the next one
};

// All points, projected to N coordinates once: rows [0, n) are the n-dimensional projection.
struct ProjectedPoints {
  MatrixXd z;              // N × (all points), centered, unit RMS
  std::vector<int> owner;  // manifold of each point
  MatrixXd centers;        // N × P manifold means, the implied rows
};

ProjectedPoints project_all(const std::vector<MatrixXd>& manifolds, std::uint64_t seed) {
  const long N = manifolds.front().rows();
  long total = 0;
  for (const auto& m : manifolds) total += m.cols();
  MatrixXd X(N, total);
  ProjectedPoints out;
  long at = 0;
  for (std::size_t m = 0; m < manifolds.size(); ++m) {
    X.middleCols(at, manifolds[m].cols()) = manifolds[m];
    out.owner.insert(out.owner.end(), std::size_t(manifolds[m].cols()), int(m));
    at += manifolds[m].cols();
  }
  out.z = projection(N, seed).transpose() * normalized(X);
  const double rms = std::sqrt(out.z.squaredNorm() / double(out.z.size()));
  if (rms > 0) out.z /= rms;
  out.centers = MatrixXd::Zero(N, long(manifolds.size()));
  for (long i = 0; i < total; ++i) out.centers.col(out.owner[i]) += out.z.col(i);
  for (std::size_t m = 0; m < manifolds.size(); ++m)
    out.centers.col(long(m)) /= double(manifolds[m].cols());
  return out;
}

// One projection dimension n, shared by all dichotomies evaluated there.
class ProjectedProblem {
 public:
  ProjectedProblem(const ProjectedPoints& pts, int n)
      : pts_(pts), z_(pts.z.topRows(n)), l1_(z_.cwiseAbs().colwise().sum().transpose()) {}

  bool separable(DichotomyState& state) {
    const long P = pts_.centers.cols();
    std::vector<int> labels(pts_.owner.size());
    for (std::size_t i = 0; i < labels.size(); ++i)
      labels[i] = state.manifold_labels[pts_.owner[i]];
    const Readout ls = least_squares(labels);
    if (ls.valid && separates(ls.margins, l1_, ls.w, ls.b)) return true;
    // A dichotomy met for the first time starts from the point of each manifold that the readout
    // got most wrong: a better first guess at the support than the manifold centers alone.
    if (state.active.empty() && ls.valid) state.active = worst_per_manifold(ls.margins);
    SeparationProblem pb{z_, labels, pts_.owner, int(P), int(P), {}, state.manifold_labels};
    for (long m = 0; m < P; ++m) pb.implied.push_back(pts_.centers.col(m).head(z_.rows()));
    return decide(pb, &state.active);
  }

 private:
  struct Readout {
    VectorXd w, margins;
    double b = 0;
    bool valid = false;
  };

  // A quick try before the LP: the least-squares readout of the labels (the points are centered,
  // so its bias is the mean label; a ridge of 1e-9 of the mean eigenvalue keeps the solve stable).
  // Well above N_c it separates most dichotomies at the cost of two matrix-vector products (the
  // Gram factor is shared), and what it finds passes the same certificate check as the LP's; when
  // it fails, the LP decides.
  Readout least_squares(const std::vector<int>& labels) {
    if (!gram_) {
      MatrixXd gram = z_ * z_.transpose();
      gram.diagonal().array() += 1e-9 * gram.trace() / double(gram.rows());
      gram_.emplace(gram);
    }
    Readout r;
    const VectorXd y =
        Eigen::Map<const Eigen::VectorXi>(labels.data(), long(labels.size())).cast<double>();
    r.b = y.mean();
    r.w = gram_->solve(z_ * (y.array() - r.b).matrix());
    r.valid = r.w.allFinite();
    if (r.valid) r.margins = margins(z_, labels, r.w, r.b);
    return r;
  }

  std::vector<long> worst_per_manifold(const VectorXd& g) const {
    std::vector<long> worst(std::size_t(pts_.centers.cols()), -1);
    for (long i = 0; i < g.size(); ++i) {
      long& w = worst[std::size_t(pts_.owner[i])];
      if (w < 0 || g(i) < g(w)) w = i;
    }
    return worst;
  }

  const ProjectedPoints& pts_;
  PointsRef z_;
  VectorXd l1_;
  std::optional<Eigen::LLT<MatrixXd>> gram_;  // built on first use
};

}  // namespace

bool linearly_separable(const MatrixXd& points, const std::vector<int>& labels) {
  check_separability_input(points, labels);
  const bool one_class =
      std::all_of(labels.begin(), labels.end(), [&](int y) { return y == labels[0]; });
  if (one_class) return true;  // w = 0, b = y
  const MatrixXd z = normalized(points);
  const long m = z.cols();
  std::vector<int> groups(static_cast<std::size_t>(m));
  for (long i = 0; i < m; ++i) groups[i] = int(i);
  // Each point is its own group: a round adds the n + 2 points of smallest margin.
  SeparationProblem pb{z, labels, groups, int(m), int(z.rows() + 2), {}, {1, -1}};
  for (int y : {1, -1}) {
    VectorXd mean = VectorXd::Zero(z.rows());
    long count = 0;
    for (long i = 0; i < m; ++i)
      if (labels[i] == y) mean += z.col(i), ++count;
    pb.implied.push_back(mean / double(count));
  }
  std::vector<long> active;
  return decide(pb, &active);
}

SimcapResult simulated_capacity(const std::vector<MatrixXd>& manifolds,
                                const SimcapOptions& options, Communicator* comm) {
  check_simcap_input(manifolds, options);
  const long P = long(manifolds.size());
  const int N = int(manifolds.front().rows());
  const ProjectedPoints pts = project_all(manifolds, options.seed);
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;

  std::vector<DichotomyState> mine;  // this rank's share: d % ranks == rank
  for (int d = rank; d < options.dichotomies; d += ranks) {
    DichotomyState s;
    s.manifold_labels = dichotomy(P, options.seed, d);
    s.separable_from = N + 1;
    mine.push_back(std::move(s));
  }

  // p(n) over all dichotomies; only the undecided ones of this rank need an LP.
  auto fraction_separable = [&](int n) {
    ProjectedProblem problem(pts, n);
    double count = 0;
    for (DichotomyState& s : mine) {
      if (n <= s.inseparable_up_to) continue;
      if (n < s.separable_from) {
        if (problem.separable(s))
          s.separable_from = n;
        else
          s.inseparable_up_to = n;
      }
      if (n >= s.separable_from) count += 1;
    }
    if (comm && ranks > 1) comm->allreduce_sum(&count, 1);  // integer counts: exact in any order
    return count / double(options.dichotomies);
  };

  // Bisection for the smallest n with p(n) ≥ ½, with the invariant p(lo) < ½ ≤ p(hi); lo = 1 and
  // hi = N + 1 stand for the unevaluated ends.
  std::map<int, double> curve;
  int lo = 1, hi = N + 1;
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    const double p = fraction_separable(mid);
    curve[mid] = p;
    (p >= 0.5 ? hi : lo) = mid;
  }

  SimcapResult result;
  if (hi == N + 1)
    result.critical_dimension = N;  // p(N) < ½: clamped, see the header
  else if (lo == 1)
    result.critical_dimension = 2;  // p(2) ≥ ½: clamped
  else
    result.critical_dimension = lo + (0.5 - curve[lo]) / (curve[hi] - curve[lo]);
  result.capacity = double(P) / result.critical_dimension;
  result.curve.assign(curve.begin(), curve.end());
  return result;
}

}  // namespace grokscope
