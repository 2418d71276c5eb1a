#!/usr/bin/env bash
# expect_error.sh CODE REGEX COMMAND...: passes when COMMAND exits with CODE and its stderr matches
# REGEX (extended grep), i.e. bad input gets one clear error and the promised exit code.
set -u
code=$1 regex=$2
shift 2
err=$("$@" 2>&1 >/dev/null)
got=$?
echo "exit $got: $err"
[[ $got -eq $code ]] || { echo "FAIL: expected exit $code"; exit 1; }
grep -Eq -- "$regex" <<<"$err" || { echo "FAIL: stderr does not match: $regex"; exit 1; }
