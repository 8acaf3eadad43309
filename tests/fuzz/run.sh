#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build/fuzz and runs each for a time budget, starting
# from its committed seed corpus (tests/fuzz/corpus/<target>/). Fails on any crash, sanitizer
# report (ASan, UBSan, leaks), broken property, or an input that runs longer than 5 s.
#
#   tests/fuzz/run.sh [seconds per target, default 20] [target ...]
#
# New inputs the fuzzers find go to a scratch folder, not into the repository. A failing input is
# kept in build/fuzz/artifacts/ and its log in build/fuzz/logs/; replay it with
#   build/fuzz/tests/fuzz/<target> build/fuzz/artifacts/<target>-crash-...
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-20}"
shift || true
build=build/fuzz
jobs="${TL_FUZZ_JOBS:-$(nproc)}"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DTL_FUZZ=ON \
  -DTL_BUILD_TESTS=OFF -DTL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target tl_fuzzers --parallel "$jobs"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*_fuzz.cpp; do
    name="$(basename "$source" .cpp)"
    targets+=("$name")
  done
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/artifacts" "$build/logs"
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  log="$build/logs/$target.log"
  # -timeout: a single input running longer is a hang; -rss_limit_mb bounds memory per input.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target-" "$scratch/$target" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)"
    echo "fuzz: $target ok: ${runs:-?} inputs in ${seconds}s, ${coverage:-cov: ?}"
  else
    echo "fuzz: $target FAILED (log: $log)"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
