#!/usr/bin/env bash
# Packs this checkout for GPU checks on a lent device machine, which has the NVIDIA driver but no
# Node.js, no Vulkan loader and no network. Run from the project root after `npm run build`:
#   bash scripts/device-pack.sh
# then, with the device tool: carry [".device-pack"], command `bash scripts/device-check.sh [WHAT ...]`.
#
# .device-pack/ (git-ignored) gets:
#   what ../shared/device/pack.sh makes: node.xz, the Vulkan loader's packages, setup.sh;
#   libegl1, libgl1, libopengl0 and libgles2 besides: without them the NVIDIA Vulkan driver gave no
#     instance ("Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD
#     libGLX_nvidia.so.0") and Dawn found no GPU on an H200;
#   tree.tar.xz: dist/ (no source maps) and the files under node_modules that a short local run of
#     the benchmarks and report tests device-check.sh runs opened (strace): the whole node_modules
#     is far over the 64 MiB that travels.
set -euo pipefail
root=$(pwd)
out="$root/.device-pack"
[ -f dist/bench/train.js ] || { echo "build first: npm run build" >&2; exit 1; }
command -v strace >/dev/null || { echo "strace is needed to find the files the runs open (apt-get install strace)" >&2; exit 1; }
bash ../shared/device/pack.sh
rm -rf "$out/app" # its bundles are for single-file entries; the kernel runs from dist/ here
lists=$(mktemp -d)
mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
if ! ls "$out"/debs/libegl1_*.deb >/dev/null 2>&1; then
  apt-get $o update -qq && (cd "$out/debs" && apt-get $o download libegl1 libgl1 libopengl0 libgles2 2>/dev/null)
fi
trace=$(mktemp)
echo "running the checks briefly on this machine's GPU to find the files they open (a few minutes)"
strace -f -qq -e trace=openat,open -o "$trace" node dist/bench/train.js --steps 3 --warmup 1 --cnn-steps 3 --models mlp,cnn --devices gpu:0 --breakdown-steps 2 >/dev/null
strace -f -qq -e trace=openat,open -o "$trace.2" node dist/bench/transfers.js --sizes 4B >/dev/null
strace -f -qq -e trace=openat,open -o "$trace.3" node --test --test-concurrency=1 dist/test/protocol/report-gpu-time.test.js >/dev/null
list=$(mktemp)
{
  cat "$trace" "$trace.2" "$trace.3" | grep -v ENOENT | grep -oE "\"$root/node_modules/[^\"]+\"" | tr -d '"' | sed "s|^$root/||" | sort -u \
    | while read -r file; do [ -f "$file" ] && echo "$file"; done
  echo package.json
  find dist -type f ! -name '*.map'
} | sort -u > "$list"
tar cf - -T "$list" | xz -T0 -6 > "$out/tree.tar.xz"
rm -rf "$trace" "$trace.2" "$trace.3" "$list" "$lists"
du -sh "$out" "$out/tree.tar.xz"
