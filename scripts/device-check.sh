#!/usr/bin/env bash
# The GPU checks, on the lent device machine (made ready by scripts/device-pack.sh here). Each
# writes its output under $OUT, and stops at its own time limit, so that one that hangs leaves
# time and output for the others:
#   bash scripts/device-check.sh [train] [transfers] [report]      (all three when none is named)
#   train:      npm run bench:train on gpu:0 (the seed's MLP, 100 steps; the CNN, 30)
#   transfers:  npm run bench:transfers, 4 B to 256 MiB
#   report:     the report tests that compare GPU time and moves with the cell's own clocks
set -u
start=$(date +%s)
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
# shellcheck disable=SC1091
source .device-pack/setup.sh > "$out/setup.txt" 2>&1
cat "$out/setup.txt"
export PATH=/tmp/node-bin:$PATH
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
xz -T0 -dc .device-pack/tree.tar.xz | tar xf -
what=${*:-train transfers report}
for check in $what; do
  case $check in
    train) (set -o pipefail; timeout 250 node dist/bench/train.js --steps 100 --warmup 10 --cnn-steps 30 --models mlp,cnn --devices gpu:0 --breakdown-steps 10 2>&1 | tee "$out/train.txt") ;;
    transfers) (set -o pipefail; timeout 120 node dist/bench/transfers.js --sizes 4B,1M,16M,64M,256M 2>&1 | tee "$out/transfers.txt") ;;
    report)
      tests=""
      for name in report-gpu-time report-exact-bytes report-upload-made-on-gpu report-host-op-time report-gpu-queue-latency report-own-staging-setup report-upload-held-at-call report-read-held-at-call devices-memory; do
        tests="$tests dist/test/protocol/$name.test.js"
      done
      # shellcheck disable=SC2086
      (set -o pipefail; timeout 240 node --test --test-concurrency=1 $tests > "$out/report-tests.txt" 2>&1)
      grep -E '^# (tests|pass|fail)|^not ok|^    not ok' "$out/report-tests.txt" ;;
    *) echo "unknown check: $check (train, transfers, report)" >&2 ;;
  esac
  echo "$check: rc $? at $(( $(date +%s) - start )) s"
done
