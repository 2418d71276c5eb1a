"""PyTorch eager peer of bench/train_step.cpp: the same models, batches, losses and optimizer.

Run with Debian's python3; OPENBLAS_NUM_THREADS must be set before torch is imported, so
bench/train_step.sh starts one process per thread setting. Prints one JSON object per case.
"""
import json
import sys
import time

import torch


def mlp(widths, classes):
    layers, fan_in = [], 784
    for w in widths:
        layers += [torch.nn.Linear(fan_in, w), torch.nn.ReLU()]
        fan_in = w
    layers.append(torch.nn.Linear(fan_in, classes))
    return torch.nn.Sequential(*layers)


def bench_case(name, widths, classes, batch, loss, steps, setting):
    torch.manual_seed(0)
    model = mlp(widths, classes)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    x = torch.rand(1000, 784)
    y = torch.randint(0, classes, (1000,))
    params = sum(p.numel() for p in model.parameters())

    def step(i):
        start = (i * batch) % (1000 - batch)
        xb, yb = x[start:start + batch], y[start:start + batch]
        opt.zero_grad()
        out = model(xb)
        if loss == "mse":
            value = torch.nn.functional.mse_loss(out, torch.nn.functional.one_hot(yb, classes).float())
        else:
            value = torch.nn.functional.cross_entropy(out, yb)
        value.backward()
        opt.step()

    for i in range(50):
        step(i)
    per_step = float("inf")  # the best of 7 rounds, as the C++ side does
    for _ in range(7):
        t = time.perf_counter()
        for i in range(steps):
            step(i)
        per_step = min(per_step, (time.perf_counter() - t) / steps)
    print(json.dumps({"impl": "pytorch", "case": name, "setting": setting, "ms_per_step": per_step * 1e3,
                      "gflops": 6.0 * params * batch / per_step / 1e9, "params": params}))


def main():
    torch_threads, steps, setting = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(torch_threads)
    bench_case("omnigrok_mlp_b200", [200, 200], 10, 200, "mse", steps, setting)
    bench_case("emnist_mlp_b128", [128, 512, 128], 47, 128, "cross_entropy", steps, setting)


if __name__ == "__main__":
    main()
