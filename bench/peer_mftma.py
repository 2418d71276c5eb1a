#!/usr/bin/python3
"""Peer for grokscope's MFTMA engine: the reference algorithm's per-sample computation in Python.

Written for bench/geometry.sh from the definition in shared/design/metrics.md section 2 (steps 1-7)
and the public reference's conventions (Cohen, Chung, Lee & Sompolinsky's `mftma` package,
`manifold_analysis_corr`): per Gaussian sample t and per manifold, a quadratic program solved by
cvxopt (min 1/2 |v - t|^2 s.t. s_j . v <= -kappa), unless the max-projection point s0 already makes
t feasible. This is our own code, not the reference's.

Center-subspace removal (step 3) IS implemented, not skipped: the reference does it with pymanopt
(not available here); this peer uses its own Riemannian conjugate gradient on the Stiefel manifold
(Hestenes-Stiefel beta clipped at 0, backtracking line search with the "2 x last decrease" initial
step, QR retraction, transport by projection; stop at |grad| < 1e-6, a step < 1e-10 or 20 000
iterations; 10 restarts per K). It uses an ANALYTIC gradient in numpy where pymanopt differentiates
the cost with autograd, so each of its iterations costs less than the reference's: the peer is no
slower than the reference here, and the speed-up of grokscope over it is a lower bound. The peer
also builds the cvxopt matrices P, G, h once per manifold instead of once per sample (again only in
the peer's favour).

Usage (Debian's /usr/bin/python3 with numpy and cvxopt):
  peer_mftma.py gen OUT.npy P M N [--seed 1]
      Gaussian clouds, shape (P, M, N) float64: centers N(0,1) per coordinate, points = center + 0.5
      N(0,1). The numbers are drawn with a port of grokscope's RandomStream (SplitMix64 + Box-Muller)
      in bench_geometry's order, so the file holds exactly the clouds bench_geometry makes in memory.
  peer_mftma.py run FILE.npy [--n-t 200] [--seed 0] [--t-source numpy|grokscope] [--check-every K]
      One JSON line: capacity, radius, dimension (and per manifold, with sampling standard errors),
      rho_c, K, the timings of each stage, and the QP-vs-NNLS check.
      --t-source numpy (default): t vectors and restart vectors from numpy's default_rng(seed), as
        the reference draws them from np.random (different t's from grokscope's).
      --t-source grokscope: the SAME t vectors (and restart vectors) as grokscope's engine with that
        seed, from the RandomStream port, so QP and NNLS can be compared number for number.
      --check-every K: after the timed computation, re-solve every K-th QP sample of each manifold by
        this file's own Lawson-Hanson NNLS and report the largest anchor difference (0: off).
      --qp-tol X: cvxopt's abstol = reltol = feastol = X instead of its defaults (the reference
        keeps the defaults, under which v, and so the anchor, is only good to ~1e-3: the error in v
        is about the square root of the duality gap).
      --cg-tol X: the center-subspace CG stops at |grad| < X (default 1e-6, pymanopt's default);
        at 1e-6 the subspace is ~4e-6 from its converged value, which shows in the 6th digit.
      --solver nnls: solve every sample by this file's NNLS instead of the QP (not the reference;
        a check that the rest of the pipeline matches grokscope's number for number).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import cvxopt  # noqa: E402
import cvxopt.solvers  # noqa: E402

cvxopt.solvers.options["show_progress"] = False

# ---------------------------------------------------------------------------------------------
# A port of grokscope::RandomStream (include/grokscope/core/random.hpp), vectorized: a stream's
# n-th output is mix(state0 + n * golden), so many outputs (or many streams) are computed at once.
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix_int(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _mix(z):  # numpy uint64 arrays; multiplication wraps modulo 2^64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_tag(name):
    h = 0xCBF29CE484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001B3) & MASK
    return h


def stream_states(seed, key_prefix, last_keys):
    """Initial states of RandomStream(seed, {*key_prefix, k}) for every k in last_keys."""
    s = _mix_int(seed & MASK)
    for k in key_prefix:
        s = _mix_int(s ^ _mix_int((k + GOLDEN) & MASK))
    ks = np.asarray(last_keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(np.uint64(s) ^ _mix(ks + np.uint64(GOLDEN)))


def stream_normals(states, count):
    """The first `count` normal() values of each stream (rows: streams)."""
    states = np.atleast_1d(np.asarray(states, dtype=np.uint64))
    pairs = (count + 1) // 2
    n = np.arange(1, 2 * pairs + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        out = _mix(states[:, None] + n[None, :] * np.uint64(GOLDEN))
    u = (out >> np.uint64(11)).astype(np.float64) * 2.0**-53
    u1, u2 = u[:, 0::2], u[:, 1::2]
    if not (u1 > 0).all():  # probability 2^-53 per pair: the C++ loop would redraw
        raise RuntimeError("a zero uniform: this port does not replay RandomStream's redraw")
    r = np.sqrt(-2.0 * np.log(u1))
    z = np.empty((states.size, 2 * pairs))
    z[:, 0::2] = r * np.cos(2.0 * np.pi * u2)
    z[:, 1::2] = r * np.sin(2.0 * np.pi * u2)
    return z[:, :count]


def generate_clouds(P, M, N, seed):
    """bench_geometry's clouds: RandomStream(seed); for p, for feature i: center, then M points."""
    z = stream_normals(np.array([_mix_int(seed)], dtype=np.uint64), P * N * (M + 1))[0]
    z = z.reshape(P, N, M + 1)
    x = z[:, :, :1] + 0.5 * z[:, :, 1:]  # (P, N, M)
    return np.ascontiguousarray(x.transpose(0, 2, 1))  # (P, M, N)


# ---------------------------------------------------------------------------------------------
# Step 3: the low-rank center subspace.


def sign_fixed_q(A):
    """Thin QR's Q with R's diagonal made non-negative (as grokscope and pymanopt's retraction)."""
    Q, R = np.linalg.qr(A)
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1
    return Q * signs


def mean_abs_row_cosine(X):
    norms = np.linalg.norm(X, axis=1)
    C = np.abs(X @ X.T / np.outer(norms, norms))
    P = X.shape[0]
    return (C.sum() - np.trace(C)) / (P * (P - 1))


def center_cost(X, V, grad=True):
    """1/2 sum (C - c c^T)^2 / (c0 c0^T), C = X X^T, c = X V, c0 = diag(C) - rowsum(c^2), and dF/dV."""
    C = X @ X.T
    c = X @ V
    c0 = np.diag(C) - np.sum(c * c, axis=1)
    D = C - c @ c.T
    W = np.outer(c0, c0)
    ratio = D / W
    cost = 0.5 * np.sum(D * ratio)
    if not grad:
        return cost, None
    b = (ratio * ratio) @ c0
    dc = -2.0 * ratio @ c + 2.0 * b[:, None] * c
    return cost, X.T @ dc


def tangent(V, G):
    VtG = V.T @ G
    return G - V @ (0.5 * (VtG + VtG.T))


def stiefel_cg(X, V, max_iter=20000, min_grad=1e-6, min_step=1e-10):
    f, eg = center_cost(X, V)
    g = tangent(V, eg)
    d = -g
    f_old = None
    iterations = 0
    for iterations in range(1, max_iter + 1):
        gg = np.sum(g * g)
        if np.sqrt(gg) < min_grad:
            break
        df0 = np.sum(g * d)
        if df0 >= 0:
            d, df0 = -g, -gg
        dn = np.linalg.norm(d)
        alpha = 2.0 * (2.0 * (f - f_old) / df0) if f_old is not None else 1.0 / dn
        Vn = sign_fixed_q(V + alpha * d)
        fn, _ = center_cost(X, Vn, grad=False)
        for _ in range(25):
            if fn <= f + 1e-4 * alpha * df0:
                break
            alpha *= 0.5
            Vn = sign_fixed_q(V + alpha * d)
            fn, _ = center_cost(X, Vn, grad=False)
        if fn > f:
            break  # no decrease along d
        step = alpha * dn
        f_old, f = f, fn
        V = Vn
        _, eg = center_cost(X, V)
        gn = tangent(V, eg)
        g_old, d_old = tangent(V, g), tangent(V, d)
        diff = gn - g_old
        denom = np.sum(diff * d_old)
        beta = max(0.0, np.sum(gn * diff) / denom) if denom != 0 else 0.0
        g = gn
        d = -g + beta * d_old
        if step < min_step:
            break
    return V, iterations


def remove_center_subspace(centers, restarts, draw_restart, min_grad=1e-6):
    """centers: N x P. Returns (rho_c, residual, K, V11 (N x K) or None, CG iterations)."""
    P = centers.shape[1]
    Xb = centers.T - centers.T.mean(axis=0, keepdims=True)
    proj = sign_fixed_q(Xb.T)[:, : P - 1]
    X = Xb @ proj
    rho = mean_abs_row_cosine(X)
    sv = np.linalg.svd(Xb, compute_uv=False)
    cumulative = np.cumsum(sv**2 / np.sum(sv**2))
    below = np.nonzero(cumulative < 0.95)[0]
    max_k = min((below[-1] if below.size else 0) + 11, P - 2)
    if max_k < 1:
        return rho, rho, 0, None, 0
    xnorm = np.linalg.norm(X, axis=1)
    residuals, solutions, previous, total_iterations = [], [], None, 0
    for k in range(1, max_k + 1):
        best_stability, best = -1.0, None
        for rep in range(restarts):
            s = draw_restart(k, rep, P)
            V0 = (X.T @ s)[:, None]
            if k > 1:
                V0 = np.concatenate([V0, previous], axis=1)
            V, its = stiefel_cg(X, sign_fixed_q(V0), min_grad=min_grad)
            total_iterations += its
            X0 = X - X @ V @ V.T
            stability = np.min(np.linalg.norm(X0, axis=1) / xnorm)
            if stability > best_stability:
                best_stability, best = stability, V
        previous = best
        solutions.append(best)
        residuals.append(mean_abs_row_cosine(X - X @ best @ best.T))
        r = residuals
        if k > 4 and r[-1] > r[-2] > r[-3] > r[-4]:
            break
    i = int(np.argmin(residuals))
    return rho, residuals[i], i + 1, proj @ solutions[i], total_iterations


# ---------------------------------------------------------------------------------------------
# Steps 4-7.


def reduce_manifolds(clouds, V11):
    """clouds: list of N x M arrays. Returns the per-manifold (D+1) x M arrays sD1."""
    allpts = np.concatenate(clouds, axis=1)
    origin = allpts.mean(axis=1, keepdims=True)
    out = []
    for x in clouds:
        xr = x - origin
        if V11 is not None:
            xr = xr - V11 @ (V11.T @ xr)
        center = xr.mean(axis=1, keepdims=True)
        S = (xr - center) / np.linalg.norm(center)
        if S.shape[0] > S.shape[1]:
            S = sign_fixed_q(S).T @ S
        out.append(np.vstack([S, np.ones((1, S.shape[1]))]))
    return out


def qp_anchor(t, qp_mats, kappa):
    """min 1/2 |v|^2 - t.v s.t. S^T v <= -kappa by cvxopt; anchor s = (t - v) / sum(z)."""
    Pm, G, h = qp_mats
    sol = cvxopt.solvers.qp(Pm, cvxopt.matrix(-t), G, h)
    v = np.array(sol["x"]).ravel()
    z = np.array(sol["z"]).ravel()
    return v, z


def nnls(S, t, tol=1e-10):
    """Our own Lawson-Hanson NNLS: argmin_{a >= 0} |t - S a|^2 (for the QP check only)."""
    n = S.shape[1]
    a = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = S.T @ t
    scale = max(1.0, np.max(np.abs(w)))
    for _ in range(3 * n + 10):
        cand = np.where(~passive, w, -np.inf)
        j = int(np.argmax(cand))
        if cand[j] <= tol * scale:
            break
        passive[j] = True
        while True:
            idx = np.nonzero(passive)[0]
            z = np.linalg.lstsq(S[:, idx], t, rcond=None)[0]
            if np.all(z > 0):
                a[:] = 0
                a[idx] = z
                break
            neg = np.nonzero(z <= 0)[0]
            steps = a[idx][neg] / (a[idx][neg] - z[neg])
            leave = idx[neg[int(np.argmin(steps))]]
            a[idx] += np.min(steps) * (z - a[idx])
            a[leave] = 0
            passive[idx[a[idx] <= 0]] = False
            a[~passive] = 0
        w = S.T @ (t - S @ a)
    return a


def manifold_metrics(t_all, s_all, kappa):
    """Step 6 for one manifold, plus standard errors of the estimates over the n_t draws."""
    D = t_all.shape[0] - 1
    n = t_all.shape[1]
    proj = np.maximum(np.sum(t_all * s_all, axis=0) + kappa, 0.0)
    s_sq = np.sum(s_all * s_all, axis=0)
    slam = np.where(s_sq > 0, proj**2 / np.where(s_sq > 0, s_sq, 1), 0.0)
    mean_slam = slam.mean()
    capacity = 1.0 / mean_slam
    ds = (s_all[:D] - s_all[:D].mean(axis=1, keepdims=True)) / s_all[D]
    ds_sq = np.sum(ds * ds, axis=0)
    radius = np.sqrt(ds_sq.mean())
    t_hat = t_all[:D] / np.linalg.norm(t_all[:D], axis=0)
    s_hat = s_all[:D] / np.sqrt(np.sum(s_all[:D] ** 2, axis=0) + 1e-12)
    cos = np.sum(t_hat * s_hat, axis=0)
    dimension = D * cos.mean() ** 2
    se = lambda v: v.std(ddof=1) / np.sqrt(n)  # noqa: E731
    return {
        "capacity": capacity, "radius": radius, "dimension": dimension, "mean_slam": mean_slam,
        "se_mean_slam": se(slam), "se_capacity": capacity**2 * se(slam),
        "se_radius": se(ds_sq) / (2 * radius), "se_dimension": 2 * D * abs(cos.mean()) * se(cos),
    }


def run(args):
    t_load = time.perf_counter()
    x = np.load(args.input)
    P, M, N = x.shape
    clouds = [np.ascontiguousarray(x[p].T) for p in range(P)]  # N x M, points as columns
    started = time.perf_counter()
    kappa = 0.0
    if args.t_source == "numpy":
        rng = np.random.default_rng(args.seed)
        draw_restart = lambda k, rep, P: rng.standard_normal(P)  # noqa: E731
    else:
        tag_restart = stream_tag("mftma-center-restart")
        draw_restart = lambda k, rep, P: stream_normals(  # noqa: E731
            stream_states(args.seed, [tag_restart, k], [rep]), P)[0]
    # Steps 1-3.
    centers = np.stack([c.mean(axis=1) for c in clouds], axis=1)
    rho, residual, K, V11, cg_iterations = remove_center_subspace(centers, 10, draw_restart, args.cg_tol)
    t_center = time.perf_counter()
    sD1 = reduce_manifolds(clouds, V11)
    # Step 5: anchors.
    per, anchors, ts, n_qp, n_short = [], [], [], 0, 0
    qp_samples = []
    for m, S in enumerate(sD1):
        D1, Mm = S.shape
        D = D1 - 1
        if args.t_source == "numpy":
            t_all = rng.standard_normal((D1, args.n_t))
        else:
            states = stream_states(args.seed, [stream_tag("mftma-t"), m], range(args.n_t))
            t_all = stream_normals(states, D1).T.copy()
        qp_mats = (cvxopt.matrix(np.eye(D1)), cvxopt.matrix(np.ascontiguousarray(S.T)),
                   cvxopt.matrix(-kappa * np.ones(Mm)))
        s_all = np.empty_like(t_all)
        proj = S[:D].T @ t_all[:D]  # M x n_t
        best = np.argmax(proj, axis=0)
        for k in range(args.n_t):
            t = t_all[:, k]
            s0 = S[:, best[k]]
            if t @ s0 + kappa < 0:
                s_all[:, k] = s0
                n_short += 1
                continue
            if args.solver == "qp":
                v, z = qp_anchor(t, qp_mats, kappa)
                weight = z.sum()
            else:
                z = nnls(S, t)
                v, weight = t - S @ z, z.sum()
            n_qp += 1
            qp_samples.append((m, k))
            s_all[:, k] = s0 if np.linalg.norm(v - t) < 1e-8 else (t - v) / weight
        anchors.append(s_all)
        ts.append(t_all)
        per.append(manifold_metrics(t_all, s_all, kappa))
    # Step 7.
    capacity = P / sum(1.0 / r["capacity"] for r in per)
    radius = float(np.mean([r["radius"] for r in per]))
    dimension = float(np.mean([r["dimension"] for r in per]))
    finished = time.perf_counter()
    se = {
        "capacity": capacity**2 / P * np.sqrt(sum(r["se_mean_slam"] ** 2 for r in per)),
        "radius": np.sqrt(sum(r["se_radius"] ** 2 for r in per)) / P,
        "dimension": np.sqrt(sum(r["se_dimension"] ** 2 for r in per)) / P,
    }
    out = {
        "impl": "peer", "t_source": args.t_source, "solver": args.solver,
        "qp_tol": args.qp_tol or "cvxopt default (abstol 1e-7, reltol 1e-6, feastol 1e-7)", "P": P, "M": M, "N": N, "n_t": args.n_t,
        "capacity": capacity, "radius": radius, "dimension": dimension, "se": se,
        "center_correlation": rho, "residual_correlation": residual, "K": K,
        "cg_iterations": cg_iterations, "qp_solves": n_qp, "shortcut_samples": n_short,
        "seconds": {"load": started - t_load, "center_subspace": t_center - started,
                    "samples": finished - t_center, "compute": finished - started},
        "per_manifold": {k: [float(r[k]) for r in per] for k in
                         ("capacity", "radius", "dimension", "se_capacity", "se_radius", "se_dimension")},
    }
    # The QP-vs-NNLS check on the same t vectors (not timed).
    if args.check_every > 0:
        worst_abs, worst_rel, checked = 0.0, 0.0, 0
        for i, (m, k) in enumerate(qp_samples):
            if k % args.check_every:
                continue
            S, t = sD1[m], ts[m][:, k]
            a = nnls(S, t)
            s_nnls = S @ a / a.sum()
            diff = np.max(np.abs(s_nnls - anchors[m][:, k]))
            worst_abs = max(worst_abs, diff)
            worst_rel = max(worst_rel, diff / np.max(np.abs(s_nnls)))
            checked += 1
        out["qp_vs_nnls"] = {"checked": checked, "max_abs_anchor_diff": worst_abs,
                             "max_rel_anchor_diff": worst_rel}
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("P", type=int)
    g.add_argument("M", type=int)
    g.add_argument("N", type=int)
    g.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("input")
    r.add_argument("--n-t", type=int, default=200)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--t-source", choices=("numpy", "grokscope"), default="numpy")
    r.add_argument("--check-every", type=int, default=0)
    r.add_argument("--solver", choices=("qp", "nnls"), default="qp")
    r.add_argument("--qp-tol", type=float, default=0.0)
    r.add_argument("--cg-tol", type=float, default=1e-6)
    args = ap.parse_args()
    if args.cmd == "gen":
        np.save(args.out, generate_clouds(args.P, args.M, args.N, args.seed))
    else:
        if args.qp_tol > 0:
            cvxopt.solvers.options.update(abstol=args.qp_tol, reltol=args.qp_tol, feastol=args.qp_tol)
        run(args)


if __name__ == "__main__":
    sys.exit(main())
