"""Peer of bench/ntk.cpp: the empirical NTK by functorch (vmap(jacrev), the public recipe).

usage: peer_ntk.py WORKDIR CASE WIDTHS CLASSES N_PROBES
Creates the MLP (seed 0) and the probes, writes them as raw float32 files for the C++ side
(WORKDIR/CASE.<name>.bin), computes the full (nC)x(nC) NTK (sample-major, logit-minor) with
functorch, float32, and prints one JSON line: time, and entries the C++ side checks against.
"""
import json
import sys
import time

import torch
from functorch import jacrev, make_functional, vmap


def main():
    workdir, case, widths, classes, n = sys.argv[1], sys.argv[2], [int(w) for w in sys.argv[3].split(",")], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(2)
    torch.manual_seed(0)
    layers, fan_in = [], 784
    for w in widths:
        layers += [torch.nn.Linear(fan_in, w), torch.nn.ReLU()]
        fan_in = w
    layers.append(torch.nn.Linear(fan_in, classes))
    net = torch.nn.Sequential(*layers)
    x = torch.rand(n, 784)
    for i, p in enumerate(net.parameters()):
        p.detach().numpy().astype("float32").tofile(f"{workdir}/{case}.param{i}.bin")
    x.numpy().astype("float32").tofile(f"{workdir}/{case}.x.bin")

    fnet, params = make_functional(net)

    def single(params, xi):
        return fnet(params, xi.unsqueeze(0)).squeeze(0)

    t = time.perf_counter()
    jac = vmap(jacrev(single), (None, 0))(params, x)
    jac = [j.flatten(2) for j in jac]  # (n, C, p_k)
    kernel = torch.stack([torch.einsum("Naf,Mbf->NaMb", j, j) for j in jac]).sum(0).reshape(n * classes, n * classes)
    seconds = time.perf_counter() - t
    rows = [0, n * classes // 2, n * classes - 1]
    print(json.dumps({"impl": "functorch", "case": case, "n": n, "rows": n * classes, "seconds": seconds,
                      "check_rows": rows, "check_values": [kernel[r, rows].tolist() for r in rows],
                      "trace": float(kernel.diagonal().double().sum())}))


if __name__ == "__main__":
    main()
