#!/usr/bin/env bash
# Configures and builds grokscope (release preset, 2 parallel jobs). Incremental when build/ exists.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[[ -f build/release/CMakeCache.txt ]] || cmake --preset release >/dev/null
cmake --build --preset release "$@"
