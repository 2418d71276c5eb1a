#include "grokscope/geometry/glue.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "grokscope/core/error.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/core/thread_team.hpp"
#include "grokscope/geometry/passive_cholesky.hpp"

namespace grokscope {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Relative tolerance of the optimality test w_j ≤ tol (w the negative NNLS gradient), relative to
// max_j |a_jᵀt|. Below rounding noise it would make the active-set loop chase noise.
constexpr double kOptimalityTolerance = 1e-10;
// Points per manifold that may join the working set in one screening round (see ConeProjection).
constexpr int kAddPerManifold = 2;
// Samples whose screening passes share one GEMM.
constexpr long kBlock = 16;

void check_input(const std::vector<MatrixXd>& manifolds, const GlueOptions& options) {
  if (options.n_t < 1) throw UsageError("GLUE: n_t must be >= 1, got " + std::to_string(options.n_t));
  if (options.threads < 1) throw UsageError("GLUE: threads must be >= 1, got " + std::to_string(options.threads));
  if (!(options.pinv_cutoff > 0 && options.pinv_cutoff < 1))
    throw UsageError("GLUE: pinv_cutoff must be in (0, 1), got " + std::to_string(options.pinv_cutoff));
  if (manifolds.size() < 2)
    throw UsageError("GLUE needs at least 2 manifolds, got " + std::to_string(manifolds.size()));
  const long N = manifolds.front().rows();
  if (N < 1) throw UsageError("GLUE needs at least 1 feature per point, got 0");
  for (std::size_t m = 0; m < manifolds.size(); ++m) {
    if (manifolds[m].rows() != N)
      throw UsageError("GLUE: manifold " + std::to_string(m) + " has " + std::to_string(manifolds[m].rows()) +
                       " features, manifold 0 has " + std::to_string(N));
    if (manifolds[m].cols() < 2)
      throw UsageError("GLUE: manifold " + std::to_string(m) + " has " + std::to_string(manifolds[m].cols()) +
                       " point(s); at least 2 are needed");
    if (!manifolds[m].allFinite())
      throw UsageError("GLUE: manifold " + std::to_string(m) + " contains NaN or infinite values");
  }
}

// All points side by side (N × Σ M_μ); manifold μ owns columns [start[μ], start[μ + 1]). Xf is a
// single-precision copy for screening, scaled by a power of two (exact) so that no entry overflows.
struct Points {
  MatrixXd X;
  Eigen::MatrixXf Xf;  // X / float_scale
  double float_scale = 1;
  VectorXd norms;  // ‖x_j‖
  std::vector<long> start;
  std::vector<int> owner;  // manifold of each column
  double scaled_norm(long j) const { return norms(j) / float_scale; }
};

Points stack_points(const std::vector<MatrixXd>& manifolds) {
  Points p;
  p.start.push_back(0);
  for (const auto& m : manifolds) p.start.push_back(p.start.back() + m.cols());
  p.X.resize(manifolds.front().rows(), p.start.back());
  for (std::size_t m = 0; m < manifolds.size(); ++m) {
    p.X.middleCols(p.start[m], manifolds[m].cols()) = manifolds[m];
    p.owner.insert(p.owner.end(), static_cast<std::size_t>(manifolds[m].cols()), static_cast<int>(m));
  }
  const double largest = p.X.cwiseAbs().maxCoeff();
  if (largest > 0) {
    int exponent = 0;
    std::frexp(largest, &exponent);
    p.float_scale = std::ldexp(1.0, exponent);
  }
  p.Xf = (p.X / p.float_scale).cast<float>();
  p.norms = p.X.colwise().norm().transpose();
  return p;
}

// Sample k: t ~ N(0, I_N), then y_μ = ±1 with probability ½ each from the same keyed stream; a
// dichotomy that puts every manifold on the same side is redrawn (from the same stream), since it
// asks for no separation at all and only measures the distance to a single cone.
struct Sample {
  VectorXd t;
  std::vector<int> y;
};

Sample draw_sample(std::uint64_t seed, int k, long N, long P) {
  RandomStream stream(seed, {stream_tag("glue"), std::uint64_t(k)});
  Sample s;
  s.t.resize(N);
  for (long i = 0; i < N; ++i) s.t(i) = stream.normal();
  s.y.resize(static_cast<std::size_t>(P));
  do {
    for (auto& y : s.y) y = (stream.next() >> 63) ? 1 : -1;
  } while (std::all_of(s.y.begin(), s.y.end(), [&](int v) { return v == s.y.front(); }));
  return s;
}

// One sample's problem, the dual of GLUE's: the projection of t onto the cone spanned by the
// columns a_j = −y_μ x_j, i.e. NNLS min ‖t − Aλ‖² over λ ≥ 0; the primal solution is v = t − Aλ.
//
// Why not the Nnls class: with all P·M points (9 400 for P = 47, M = 200) its Gram matrix AᵀA is
// 9 400² doubles (700 MB) per dichotomy, and plain Lawson–Hanson pays one pass over all points per
// column that enters (≈ 120 per sample at that shape). But at most N columns are active, so this is
// Lawson–Hanson on a small WORKING SET W of columns, wrapped in rounds of screening: once W's
// problem is solved exactly (warm-started from the previous round), one pass w = Aᵀv over all
// points finds the columns that violate optimality (w_j > tol), up to kAddPerManifold of the most
// violating per manifold join W, and the loop repeats until none violates. Termination: W only
// grows. Exactness: at the end λ is W's optimum and w_j ≤ tol for every j outside W, so the KKT
// conditions of the full problem hold. W's Gram matrix grows by one GEMM block per round (cheaper,
// measured, than computing on demand only the columns that become passive: over half of them do).
//
// The screening pass dominates the cost, so it runs for a block of samples at once, in single
// precision (one float GEMM instead of a memory-bound double GEMV per sample: ~5× faster at
// P = 47, M = 200, N = 512), and stays exact: a float value decides only when it is farther from
// the threshold than its rounding-error bound; otherwise w_j is recomputed in double.
class ConeProjection {
 public:
  ConeProjection(const Points& points, Sample sample)
      : pts_(&points),
        sample_(std::move(sample)),
        v_(sample_.t),
        in_w_(static_cast<std::size_t>(points.X.cols()), 0),
        chol_(std::min(points.X.rows(), points.X.cols())) {}

  bool done() const { return done_; }
  const VectorXd& residual() const { return v_; }

  // One round: `screen` ≈ Xᵀv / points.float_scale from the float pass.
  void advance(const Eigen::Ref<const Eigen::VectorXf>& screen) {
    if (first_round_) {
      first_round_ = false;
      const double scale = pts_->float_scale * double(screen.cwiseAbs().maxCoeff());
      if (!(scale > 0)) {  // every point orthogonal to t: nothing to correct
        done_ = true;
        return;
      }
      tol_ = kOptimalityTolerance * scale;
    }
    if (!grow_working_set(screen)) {
      done_ = true;
      return;
    }
    solve_working_set();
    v_ = sample_.t;
    for (int p : chol_.columns()) v_ -= lambda_(p) * aw_.col(p);
  }

  // The passive set: (point, λ_j > 0) pairs.
  std::vector<std::pair<long, double>> solution() const {
    std::vector<std::pair<long, double>> out;
    for (int p : chol_.columns()) out.emplace_back(index_[p], lambda_(p));
    return out;
  }

 private:
  double sign(long j) const { return -double(sample_.y[pts_->owner[j]]); }

  // w_j from the float screen, or recomputed in double when the float value is within its error
  // bound of the threshold. The bound: a float dot product of length N is within γ Σ|x_i v_i| ≤
  // γ ‖x‖‖v‖ of the exact one, γ = (N + 2)u for rounding the inputs and summing in any order
  // (u = 2⁻²⁴), doubled for safety; the 1e-30 absorbs underflow of tiny coordinates.
  bool violation(long j, float screened, double vnorm, double* w) const {
    const Points& p = *pts_;
    const double gamma = 2.0 * double(p.X.rows() + 2) * 0x1.0p-24;
    *w = sign(j) * p.float_scale * double(screened);
    const double margin = gamma * p.float_scale * (p.scaled_norm(j) + 1e-30) * vnorm;
    if (*w - margin > tol_) return true;
    if (*w + margin <= tol_) return false;
    *w = sign(j) * p.X.col(j).dot(v_);
    return *w > tol_;
  }

  // Adds the most violating points of each manifold to W; false when nothing violates.
  bool grow_working_set(const Eigen::Ref<const Eigen::VectorXf>& screen) {
    const double vnorm = v_.norm();
    std::vector<long> added;
    std::vector<std::pair<double, long>> best;
    for (std::size_t m = 0; m + 1 < pts_->start.size(); ++m) {
      best.clear();
      for (long j = pts_->start[m]; j < pts_->start[m + 1]; ++j) {
        double w = 0;
        if (!in_w_[j] && violation(j, screen(j), vnorm, &w)) best.emplace_back(w, j);
      }
      const std::size_t keep = std::min<std::size_t>(best.size(), kAddPerManifold);
      std::partial_sort(best.begin(), best.begin() + keep, best.end(), std::greater<>());
      for (std::size_t i = 0; i < keep; ++i) added.push_back(best[i].second);
    }
    if (added.empty()) return false;
    append_columns(added);
    return true;
  }

  void append_columns(const std::vector<long>& added) {
    const long old = long(index_.size()), n = old + long(added.size()), N = pts_->X.rows();
    if (n > aw_.cols()) {  // grow geometrically; conservativeResize keeps what is stored
      const long cap = std::max(n, 2 * aw_.cols());
      aw_.conservativeResize(N, cap);
      gram_.conservativeResize(cap, cap);
      atw_.conservativeResize(cap);
      lambda_.conservativeResize(cap);
    }
    for (std::size_t i = 0; i < added.size(); ++i) {
      const long j = added[i], slot = old + long(i);
      aw_.col(slot) = sign(j) * pts_->X.col(j);
      atw_(slot) = aw_.col(slot).dot(sample_.t);
      lambda_(slot) = 0;
      in_w_[j] = 1;
      index_.push_back(j);
    }
    const auto fresh = aw_.middleCols(old, n - old);
    gram_.block(0, old, n, n - old).noalias() = aw_.leftCols(n).transpose() * fresh;
    gram_.block(old, 0, n - old, old) = gram_.block(0, old, old, n - old).transpose();
  }

  // w_j = a_jᵀt − G[j, P] λ_P, the negative gradient, for the non-passive slots j of W (the only
  // ones that may enter). λ is zero off the passive set, so each is one contiguous dot product.
  void working_gradient(const std::vector<char>& passive, VectorXd& w) const {
    const long n = long(index_.size());
    w.resize(n);
    for (long j = 0; j < n; ++j)
      if (!passive[j]) w(j) = atw_(j) - gram_.col(j).head(n).dot(lambda_.head(n));
  }

  // Lawson–Hanson over W, warm-started from the previous round's passive set (whose λ is still the
  // least-squares solution on it, the invariant the method needs).
  void solve_working_set() {
    const int n = static_cast<int>(index_.size());
    std::vector<char> passive(static_cast<std::size_t>(n), 0), rejected(static_cast<std::size_t>(n), 0);
    for (int p : chol_.columns()) passive[p] = 1;
    VectorXd w;
    working_gradient(passive, w);
    const int max_iterations = 3 * n + 10;
    for (int iteration = 0; iteration < max_iterations; ++iteration) {
      int enter = -1;
      double best = tol_;
      for (int j = 0; j < n; ++j)
        if (!passive[j] && !rejected[j] && w(j) > best) best = w(j), enter = j;
      if (enter < 0) return;
      if (!chol_.add(enter, gram_.col(enter).head(n))) {  // dependent column: it cannot improve the fit
        rejected[enter] = 1;
        continue;
      }
      passive[enter] = 1;
      least_squares_on_passive(passive);
      working_gradient(passive, w);
      std::fill(rejected.begin(), rejected.end(), 0);
    }
  }

  // Lawson–Hanson's inner loop: move toward the passive least-squares solution, dropping the
  // columns whose coefficient reaches zero first, until the solution is positive.
  void least_squares_on_passive(std::vector<char>& passive) {
    while (true) {
      const VectorXd s = chol_.solve(atw_);
      const auto& cols = chol_.columns();
      double alpha = 1.0;
      int leave = -1;
      for (int i = 0; i < chol_.size(); ++i)
        if (s(i) <= 0) {
          const double ai = lambda_(cols[i]);
          const double step = ai / (ai - s(i));
          if (step < alpha) alpha = step, leave = i;
        }
      if (leave < 0) {
        for (int i = 0; i < chol_.size(); ++i) lambda_(cols[i]) = s(i);
        return;
      }
      for (int i = 0; i < chol_.size(); ++i) lambda_(cols[i]) += alpha * (s(i) - lambda_(cols[i]));
      lambda_(cols[leave]) = 0;
      for (int i = chol_.size(); i-- > 0;) {
        const int j = chol_.columns()[i];
        if (lambda_(j) <= 0) {
          lambda_(j) = 0;
          passive[j] = 0;
          chol_.remove(i);
        }
      }
    }
  }

  const Points* pts_;
  Sample sample_;
  VectorXd v_;  // the residual t − Aλ (the primal solution once done)
  bool first_round_ = true, done_ = false;
  double tol_ = 0;
  std::vector<char> in_w_;        // per point: in the working set
  std::vector<long> index_;       // per working-set slot: the point
  MatrixXd aw_;                   // N × |W|: the signed columns a_j of the working set
  MatrixXd gram_;                 // A_WᵀA_W
  VectorXd atw_;                  // A_Wᵀt
  VectorXd lambda_;               // per slot; > 0 exactly on the passive set
  PassiveCholesky chol_;
};

// Runs a block of samples to optimality, one shared float screening pass per round.
void project_block(const Points& points, std::vector<ConeProjection>& block) {
  Eigen::MatrixXf V, W;
  std::vector<ConeProjection*> live;
  while (true) {
    live.clear();
    for (auto& p : block)
      if (!p.done()) live.push_back(&p);
    if (live.empty()) return;
    V.resize(points.X.rows(), long(live.size()));
    for (std::size_t c = 0; c < live.size(); ++c) V.col(long(c)) = live[c]->residual().cast<float>();
    W.noalias() = points.Xf.transpose() * V;
    for (std::size_t c = 0; c < live.size(); ++c) live[c]->advance(W.col(long(c)));
  }
}

// Quadratic form rᵀG⁺r, G symmetric positive semidefinite; eigenvalues at or below
// cutoff × the largest are treated as zero.
double pinv_quadratic(const MatrixXd& G, const VectorXd& r, double cutoff) {
  if (G.size() == 0) return 0;
  const Eigen::SelfAdjointEigenSolver<MatrixXd> es(G);
  const VectorXd& ev = es.eigenvalues();
  const double top = ev.maxCoeff();
  if (!(top > 0)) return 0;
  const VectorXd proj = es.eigenvectors().transpose() * r;
  double q = 0;
  for (long i = 0; i < ev.size(); ++i)
    if (ev(i) > cutoff * top) q += proj(i) * proj(i) / ev(i);
  return q;
}

// Sums of |cos| per ordered pair of manifolds, and how many samples defined each.
struct PairMeans {
  MatrixXd sum, count;
  explicit PairMeans(long P) : sum(MatrixXd::Zero(P, P)), count(MatrixXd::Zero(P, P)) {}
  // Adds |C(μ,ν)| / (nu(μ) nv(ν)) for μ ≠ ν where both norms are nonzero.
  void add(const MatrixXd& C, const VectorXd& nu, const VectorXd& nv) {
    for (long n = 0; n < C.cols(); ++n)
      for (long m = 0; m < C.rows(); ++m)
        if (m != n && nu(m) > 0 && nv(n) > 0) {
          sum(m, n) += std::abs(C(m, n)) / (nu(m) * nv(n));
          count(m, n) += 1;
        }
  }
  // Mean over the pairs that were defined at least once of each pair's mean over its samples.
  double mean() const {
    double total = 0, pairs = 0;
    for (long n = 0; n < sum.cols(); ++n)
      for (long m = 0; m < sum.rows(); ++m)
        if (count(m, n) > 0) total += sum(m, n) / count(m, n), pairs += 1;
    return pairs > 0 ? total / pairs : 0.0;
  }
};

}  // namespace

GlueResult glue(const std::vector<MatrixXd>& manifolds, const GlueOptions& options, Communicator* comm) {
  check_input(manifolds, options);
  const long P = long(manifolds.size()), N = manifolds.front().rows(), n_t = options.n_t;
  const Points points = stack_points(manifolds);

  // 1. Anchors per sample (this rank's share), each in its own slot of zero-initialised arrays that
  // are then summed over the ranks: every slot comes from exactly one rank, so the result is the
  // same for any number of ranks. anchors: sample k's anchors as the columns of an N × P block;
  // weight: Σ_i λ_{μ,i}, zero where manifold μ is inactive.
  std::vector<double> anchors(static_cast<std::size_t>(n_t * N * P), 0.0);
  std::vector<double> weight(static_cast<std::size_t>(n_t * P), 0.0);
  // Samples go in fixed blocks of kBlock (dealt over the ranks by block), so the screening GEMMs,
  // and with them every rounding, are the same whatever the number of ranks. A rank's threads take
  // its blocks one at a time from a shared counter: a block's cost depends on how many anchors its
  // samples keep active, so a fixed deal would leave threads idle. Blocks write disjoint slots.
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  std::vector<long> mine;  // first sample of each block of this rank
  for (long first = 0, b = 0; first < n_t; first += kBlock, ++b)
    if (b % ranks == rank) mine.push_back(first);
  std::atomic<std::size_t> next{0};
  const auto solve_blocks = [&](int) {
    for (std::size_t i = next++; i < mine.size(); i = next++) {
      const long first = mine[i], last = std::min(n_t, first + kBlock);
      std::vector<ConeProjection> block;
      block.reserve(std::size_t(last - first));
      for (long k = first; k < last; ++k) block.emplace_back(points, draw_sample(options.seed, int(k), N, P));
      project_block(points, block);
      for (long k = first; k < last; ++k) {
        Eigen::Map<MatrixXd> S(anchors.data() + k * N * P, N, P);
        double* wk = weight.data() + k * P;
        for (const auto& [j, lambda] : block[std::size_t(k - first)].solution()) {
          const int m = points.owner[j];
          S.col(m) += lambda * points.X.col(j);
          wk[m] += lambda;
        }
        for (long m = 0; m < P; ++m)
          if (wk[m] > 0) S.col(m) /= wk[m];
      }
    }
  };
  const std::size_t threads = std::min(std::size_t(options.threads), mine.size());
  if (threads <= 1) {
    solve_blocks(0);
  } else {
    ThreadTeam team{static_cast<int>(threads)};
    team.run(solve_blocks);
  }
  if (comm && comm->size() > 1) {
    comm->allreduce_sum(anchors.data(), anchors.size());
    comm->allreduce_sum(weight.data(), weight.size());
  }
  const auto anchor_block = [&](long k) { return Eigen::Map<const MatrixXd>(anchors.data() + k * N * P, N, P); };
  const auto active = [&](long k, long m) { return weight[std::size_t(k * P + m)] > 0; };

  // 2. Anchor centers: the mean anchor over the samples where the manifold is active. An inactive
  // manifold has no anchor (λ_μ = 0 leaves s_μ undefined; S holds a zero row for it), so its zero
  // is not averaged in: that would shrink the center by the activity rate and give even a
  // point-like manifold a nonzero axis −s⁰_μ. Per sample, S0 and S1 = S − S0 keep zero rows for the
  // inactive manifolds, so those contribute to no quantity below.
  MatrixXd centers = MatrixXd::Zero(N, P);
  VectorXd times_active = VectorXd::Zero(P);
  for (long k = 0; k < n_t; ++k)
    for (long m = 0; m < P; ++m)
      if (active(k, m)) centers.col(m) += anchor_block(k).col(m), times_active(m) += 1;
  for (long m = 0; m < P; ++m)
    if (times_active(m) > 0) centers.col(m) /= times_active(m);
  const MatrixXd center_gram = centers.transpose() * centers;
  const VectorXd center_norms = centers.colwise().norm().transpose();

  // 3. Per sample a, b, c and the |cos| sums (every rank computes all samples, in order).
  const double cutoff = options.pinv_cutoff;
  double sum_a = 0, sum_b = 0, sum_c = 0;
  PairMeans axis(P), center_axis(P);
  for (long k = 0; k < n_t; ++k) {
    const VectorXd t = draw_sample(options.seed, int(k), N, P).t;
    const auto S = anchor_block(k);
    const VectorXd St = S.transpose() * t;
    sum_a += pinv_quadratic(S.transpose() * S, St, cutoff);

    MatrixXd S1 = S;
    MatrixXd G0 = center_gram;
    const double anchor_scale = S.colwise().squaredNorm().maxCoeff();
    for (long m = 0; m < P; ++m) {
      if (!active(k, m)) {
        G0.row(m).setZero(), G0.col(m).setZero();
        continue;
      }
      S1.col(m) -= centers.col(m);
      // An axis at rounding level of the anchors (a manifold that always anchors at the same
      // point) is zero: otherwise b, which is invariant to the axes' scale, would measure noise.
      if (S1.col(m).squaredNorm() <= cutoff * anchor_scale) S1.col(m).setZero();
    }
    const MatrixXd G1 = S1.transpose() * S1;
    const VectorXd t1 = S1.transpose() * t;
    sum_b += pinv_quadratic(G1, t1, cutoff);
    sum_c += pinv_quadratic(G0 + G1, t1, cutoff);

    const VectorXd axis_norms = G1.diagonal().cwiseSqrt();
    axis.add(G1, axis_norms, axis_norms);
    center_axis.add(centers.transpose() * S1, center_norms, axis_norms);
  }

  // 4. Summaries.
  const double Ea = sum_a / double(n_t), Eb = sum_b / double(n_t), Ec = sum_c / double(n_t);
  GlueResult r;
  r.capacity = Ea > 0 ? double(P) / Ea : std::numeric_limits<double>::infinity();
  r.dimension = Eb / double(P);
  r.utility = Ea > 0 ? Ec / Ea : 0.0;
  // b ≥ c (G0 + G1 ⪰ G1 and t1 lies in G1's range), so R is real; no axis at all means R = 0.
  r.radius = Ec > 0 ? std::sqrt(Ec / std::max(Eb - Ec, 0.0)) : 0.0;
  PairMeans centers_only(P);
  centers_only.add(center_gram, center_norms, center_norms);
  r.center_alignment = centers_only.mean();
  r.axis_alignment = axis.mean();
  r.center_axis_alignment = center_axis.mean();
  // Ψ(1 + R⁻²)/D = (E[c]/E[a]) (E[b]/E[c]) (P/E[b]) = P/E[a] = α: the identity holds by algebra, so
  // the error measures rounding (and flags degenerate cases, where it is NaN: no axes, E[c] = 0).
  const double predicted = r.utility * (1.0 + 1.0 / (r.radius * r.radius)) / r.dimension;
  r.identity_error = std::abs(r.capacity - predicted) / r.capacity;
  return r;
}

}  // namespace grokscope
