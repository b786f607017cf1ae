#!/usr/bin/env bash
# Runs the GPU benchmark on a lent GPU machine from the kit scripts/device/pack.sh
# wrote (docs/webgpu.md, "Measuring on a GPU"). It is the device tool's command:
#   run(command: "bash scripts/device/run.sh", carry: [".device-kit"], timeout_s: 600)
# It unpacks the kit to /tmp, points the Vulkan loader it carries at the NVIDIA
# driver, prints nvidia-smi and `g2studio info`, runs `bench gpu` (medium,
# fp32/fp16/int8/int4 by default) and leaves BENCHMARKS.md, latest.json and run.log
# in $OUT. Every step is time-boxed: the whole script ends within G2_RUN_BUDGET_S
# (default 470 s; the golden call 270 s), and the bench stops starting new
# steps before that, so one hang costs its step, not the run.
#
# The golden set does not fit in the same call (64 MiB a call); pack.sh then
# writes it to .device-golden/, and a second call, made at once so that the
# machine is still warm, runs verify-golden on the GPU with the kit the first
# call unpacked:
#   run(command: "bash scripts/device/run.sh golden", carry: [".device-golden"], timeout_s: 300)
# It leaves BENCHMARKS.md (both calls' sections), golden.json and golden.log in $OUT.
#
# Environment: G2_RUN_BUDGET_S; G2_KIT_DIR (where to unpack, default /tmp/g2kit);
# G2_BENCH_GPU_* (passed to the bench: main/bench/gpu-bench.ts); OUT (where the
# results go: the device tool sets it; elsewhere /tmp/g2kit-out).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT="$ROOT/.device-kit"
GOLDEN_KIT="$ROOT/.device-golden"
MODE=${1:-bench}
case "$MODE" in bench | golden) ;; *) echo "usage: run.sh [golden]" >&2; exit 2 ;; esac
DEST=${G2_KIT_DIR:-/tmp/g2kit}
OUT=${OUT:-/tmp/g2kit-out}
# Inside the calls' timeout_s (600 and 300), with time left for the files to come back.
if [ "$MODE" = golden ]; then BUDGET=${G2_RUN_BUDGET_S:-270}; else BUDGET=${G2_RUN_BUDGET_S:-470}; fi
mkdir -p "$OUT"

step() { printf '\n== [%s, %3d s] %s\n' "$(date -u +%T)" "$SECONDS" "$*"; }
left() { echo $((BUDGET - SECONDS)); }

# .xz without the xz tool: Python's lzma (the device image has Python, maybe not xz).
unxz_to() { # <file.xz> : decompressed bytes on stdout
  if command -v xz >/dev/null; then
    xz -dc "$1"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1 << 20)' "$1"
  fi
}

# The kit unpacked into $DEST; the golden call reuses the one the first call unpacked.
unpack_kit() {
  if [ "$MODE" = golden ] && [ -x "$DEST/node/bin/node" ] && [ -f "$DEST/KIT.txt" ]; then
    step "reusing the kit the first call unpacked into $DEST"
  else
    step "unpacking the kit into $DEST"
    if [ ! -f "$KIT/app.tar.xz" ]; then
      if [ "$MODE" = golden ]; then
        echo "no kit on this machine: the golden call reuses the one \`run.sh\` unpacked, so it must follow that call while the machine is still warm. Make both calls again, back to back."
      else
        echo "no kit at $KIT: run scripts/device/pack.sh first and carry .device-kit"
      fi
      return 1
    fi
    rm -rf "$DEST" && mkdir -p "$DEST/node/bin"
    unxz_to "$KIT/app.tar.xz" | tar -xf - -C "$DEST" || { echo "the app did not unpack"; return 1; }
    unxz_to "$KIT"/node-*-linux-x64.xz >"$DEST/node/bin/node" && chmod +x "$DEST/node/bin/node"
  fi
  cat "$DEST/KIT.txt"
  NODE="$DEST/node/bin/node"
  "$NODE" --version || { echo "the carried Node does not run here"; return 1; }
}

# The golden set into $DEST/shared: from the kit where it fitted, else from .device-golden.
unpack_golden() {
  local from=""
  for f in "$KIT/golden.tar.xz" "$GOLDEN_KIT/golden.tar.xz"; do
    if [ -f "$f" ]; then from=$f && break; fi
  done
  if [ -n "$from" ]; then
    step "unpacking the golden set from $from"
    rm -rf "$DEST/shared/golden/g2vlm-tiny-a" && mkdir -p "$DEST/shared"
    unxz_to "$from" | tar -xf - -C "$DEST/shared" || { echo "the golden set did not unpack"; return 1; }
  elif [ "$MODE" = golden ]; then
    echo "no golden set carried: carry .device-golden (scripts/device/pack.sh writes it)"
    return 1
  elif [ -f "$KIT/GOLDEN-SKIPPED" ]; then
    echo "verify-golden is not in this call: $(cat "$KIT/GOLDEN-SKIPPED")"
  fi
}

main() {
  unpack_kit || return 1
  unpack_golden || return 1

  step "Vulkan loader and driver"
  # The loader goes into the kit's folder, not into / (device/README.md: other
  # packages unpacked into / can break it), and the process finds it by LD_LIBRARY_PATH.
  if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
    echo "system libvulkan.so.1: $(ldconfig -p | grep 'libvulkan.so.1 ' | head -1)"
  elif [ -e "$DEST/gl/usr/lib/x86_64-linux-gnu/libvulkan.so.1" ] || ls "$KIT"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
    # (the golden call finds it where the first call unpacked it)
    [ -e "$DEST/gl/usr/lib/x86_64-linux-gnu/libvulkan.so.1" ] || for f in "$KIT"/gl/*.deb; do dpkg -x "$f" "$DEST/gl"; done
    export LD_LIBRARY_PATH="$DEST/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "carried loader: $(ls "$DEST"/gl/usr/lib/x86_64-linux-gnu/libvulkan.so.1*)"
  else
    echo "no Vulkan loader here or in the kit: WebGPU will not start"
  fi
  # The NVIDIA driver's manifest: where the loader looks, else the driver folder's (device/README.md).
  if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
    if ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
      echo "NVIDIA Vulkan driver: $(ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* 2>/dev/null | tr '\n' ' ')"
    elif [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
      export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
      export VK_ICD_FILENAMES=$VK_DRIVER_FILES # loaders before 1.3.207 read only this one
      export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
      echo "NVIDIA Vulkan driver: VK_DRIVER_FILES=$VK_DRIVER_FILES"
    else
      echo "no NVIDIA Vulkan driver manifest found"
    fi
  fi
  # The driver's own libraries (libGLX_nvidia, which its manifest names), where they are not in ld's cache.
  if [ -d /usr/local/nvidia/lib64 ]; then export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"; fi
  ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

  step "nvidia-smi"
  if command -v nvidia-smi >/dev/null; then
    timeout 30 nvidia-smi || echo "nvidia-smi failed"
  else
    echo "no nvidia-smi on this machine"
  fi

  cd "$DEST" || return 1
  export G2STUDIO_SHARED="$DEST/shared" G2STUDIO_LIBRARY="$DEST/library" G2STUDIO_SKIP_DOWNLOADS=1
  export G2_BENCH_GPU_FRAMES_DIR=${G2_BENCH_GPU_FRAMES_DIR:-$DEST/frames}
  if [ "$MODE" = bench ]; then # the golden call's machine is the first call's: already printed there
    step "g2studio info"
    timeout 120 "$NODE" bin/g2studio.js info || echo "g2studio info failed or timed out"
    timeout 120 "$NODE" bin/g2studio.js model runtime || echo "g2studio model runtime failed or timed out"
  fi

  # The bench's own budget ends its steps 60 s before the hard limit, which keeps
  # time to write the report; the hard limit kills it if a step overruns anyway.
  hard=$(($(left) - 15))
  export G2_BENCH_GPU_BUDGET_S=${G2_BENCH_GPU_BUDGET_S:-$((hard - 60))}
  if [ "$MODE" = golden ]; then
    # Its section is named "gpu (golden only)": it joins the first call's in BENCHMARKS.md.
    export G2_BENCH_GPU_PARTS=golden G2_BENCH_GPU_GOLDEN="$DEST/shared/golden/g2vlm-tiny-a"
  fi
  step "bench gpu (budget ${G2_BENCH_GPU_BUDGET_S} s, hard limit ${hard} s)"
  env | grep -E '^(G2_BENCH_GPU_|G2STUDIO_|VK_|LD_LIBRARY_PATH)' | sort
  timeout --kill-after=10 "$hard" "$NODE" --expose-gc out/main/bench.js gpu
  status=$?
  [ $status -eq 124 ] || [ $status -eq 137 ] && echo "the bench was killed at the hard limit; the figures measured so far are in this log"

  step "results"
  cp BENCHMARKS.md "$OUT/BENCHMARKS.md" 2>/dev/null && echo "BENCHMARKS.md -> \$OUT"
  cp bench-results/latest.json "$OUT/$RESULTS" 2>/dev/null && echo "$RESULTS -> \$OUT"
  echo "done in $SECONDS s (bench exit $status)"
  return $status
}

# The log goes to $OUT as it is written: what ran before a kill still comes back.
# The golden call's files are named apart from the first call's.
if [ "$MODE" = golden ]; then RESULTS=golden.json LOG=golden.log; else RESULTS=latest.json LOG=run.log; fi
main 2>&1 | tee "$OUT/$LOG"
exit "${PIPESTATUS[0]}"
