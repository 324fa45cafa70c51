#!/bin/bash
# The GPU check (CUDA.md section 5): on a machine with an NVIDIA GPU and a CUDA 13 driver, runs
# te4j's CUDA suites against the real runtime, compares every struct layout and constant with the
# headers there, exchanges IPC handles with a JVM and a CuPy peer, and measures Java against C for
# the same copies. Needs only what the kit carries (a JRE, the jars) plus the machine's driver,
# CUDA 13 runtime and headers, gcc; CuPy for G6's Python half. Writes out/results.jsonl,
# out/junit/*.xml and out/summary.txt; the summary table is printed last.
#
#   gpu-check.sh [--runtime PATH/libcudart.so.13] [--driver PATH/libcuda.so.1] [--only G1,G5]
#
# (--runtime and --driver naming the fake runtime, libte_fakecudart.so linked as libcudart.so.13,
# dry-run the kit on a machine without a GPU; its figures are the fake's, not a GPU's.)
set -u
KIT="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-$KIT/out}"
ONLY=""
RUNTIME=""
DRIVER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=",$2,"; shift 2 ;;
    --runtime) RUNTIME="$2"; shift 2 ;;
    --driver) DRIVER="$2"; shift 2 ;;
    *) echo "usage: $0 [--runtime PATH] [--driver PATH] [--only G1,G5]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT/junit"
RESULTS="$OUT/results.jsonl"
SUMMARY="$OUT/summary.txt"
: > "$RESULTS"
: > "$SUMMARY"
JAVA="$KIT/jre/bin/java"
[ -x "$JAVA" ] || JAVA="$(command -v java)"
CP="$KIT/test-classes:$KIT/lib/*"
FAILED=0

want() { [ -z "$ONLY" ] || [[ "$ONLY" == *",$1,"* ]]; }
say() { echo "$1 $2: $3" | tee -a "$SUMMARY"; [ "$2" = FAIL ] && FAILED=1; return 0; }
json() { echo "$1" >> "$RESULTS"; }

# --- G0: the machine
# The toolkit whose headers the layout probe and cuda_ref.c compile against.
for c in "${CUDA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v nvcc 2>/dev/null || echo /x/x/x)")")")" \
    /usr/local/cuda /usr/local/cuda-13*; do
  if [ -n "$c" ] && [ -f "$c/include/cuda_runtime_api.h" ]; then CUDA_HOME="$c"; break; fi
done
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
if [ -z "$RUNTIME" ]; then
  RUNTIME="$(ldconfig -p 2>/dev/null | awk '/libcudart\.so\.13 /{print $NF; exit}')"
  for c in "$CUDA_HOME"/lib64/libcudart.so.13 "$CUDA_HOME"/lib/libcudart.so.13 \
      $(python3 -c 'import nvidia, os; print(" ".join(os.path.join(p, "cuda_runtime/lib/libcudart.so.13") for p in nvidia.__path__))' 2>/dev/null); do
    [ -z "$RUNTIME" ] && [ -f "$c" ] && RUNTIME="$c"
  done
fi
[ -n "$DRIVER" ] || DRIVER="$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}')"
PROPS=(-Dte4j.cuda.cudart="${RUNTIME:-libcudart.so.13}" -Dte4j.cuda.driver="${DRIVER:-libcuda.so.1}")
if want G0; then
  GPUS="$(nvidia-smi -L 2>&1 | head -8 | tr '\n' ';')"
  DRV="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1 | head -1)"
  IBV="$(ibv_devices 2>&1 | tail -n +3 | awk '{print $1}' | tr '\n' ' ')"
  json "{\"check\":\"G0\",\"gpus\":\"${GPUS//\"/}\",\"driver\":\"${DRV//\"/}\",\"cudart\":\"$RUNTIME\",\"libcuda\":\"$DRIVER\",\"cuda_home\":\"$CUDA_HOME\",\"ibv_devices\":\"$IBV\"}"
  if [ -n "$RUNTIME" ] && [ -n "$DRIVER" ] && nvidia-smi -L > /dev/null 2>&1; then
    say G0 PASS "gpus: $GPUS driver $DRV; cudart $RUNTIME; libcuda $DRIVER; verbs NICs: ${IBV:-none}"
  else
    say G0 FAIL "cudart '${RUNTIME}' libcuda '${DRIVER}' (gpus: $GPUS): no GPU, or the runtime or the driver is missing"
  fi
fi

# --- G1: the C reference (layouts are compared by G2's CudaLayoutTest against the same headers)
if want G1 || want G8; then
  if gcc -std=gnu11 -O2 -I"$CUDA_HOME/include" "$KIT/cuda_ref.c" -L"$(dirname "$RUNTIME")" \
      -l:libcudart.so.13 -Wl,-rpath,"$(dirname "$RUNTIME")" -o "$OUT/cuda_ref" 2> "$OUT/cuda_ref.build.log" \
      && timeout 300 "$OUT/cuda_ref" >> "$RESULTS" 2> "$OUT/cuda_ref.log"; then
    say G1 PASS "C baselines measured (results.jsonl, c_*)"
  else
    say G1 FAIL "cuda_ref: $(tail -c 300 "$OUT/cuda_ref.build.log" "$OUT/cuda_ref.log" 2>/dev/null | tr '\n' ' ')"
  fi
fi

junit() { # id, classes...
  local id="$1"; shift
  local sel=()
  for c in "$@"; do sel+=(--select-class "io.te4j.transport.cuda.$c"); done
  CUDA_HOME="$CUDA_HOME" timeout 600 "$JAVA" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" \
    -cp "$CP" org.junit.platform.console.ConsoleLauncher execute --details=summary \
    --disable-banner --reports-dir="$OUT/junit/$id" "${sel[@]}" > "$OUT/$id.log" 2>&1
  local rc=$?
  local line
  line="$(grep -E '(tests|containers) (successful|failed|skipped|aborted)' "$OUT/$id.log" | tr -s ' ' | tr '\n' ';')"
  if [ $rc -eq 0 ]; then say "$id" PASS "$line"; else say "$id" FAIL "$line see $OUT/$id.log"; fi
}

# --- G2-G4: binding, layouts against the headers here, host functions on the runtime's threads
want G2 && junit G2 CudaLayoutTest JnaCudaRuntimeTest CudaProbeTest CudaHardwareIT
# --- G5: the suites over the real runtime: nvlink contract, GPU memory over nvlink, TCP and shm,
# *_on_cuda (the tests that need the fake's controls skip on a real GPU)
want G5 && junit G5 NvlinkContractIT NvlinkGpuMemoryIT TcpGpuMemoryContractIT ShmGpuMemoryIT OnCudaIT \
  HostFunctionStormIT

# --- G6: IPC handles across processes and languages
if want G6; then
  rm -f "$OUT/release"
  exec 3< <(timeout 120 "$JAVA" "${PROPS[@]}" -cp "$CP" io.te4j.transport.cuda.GpuCheckMain ipc-export 1048576 "$OUT/release" 2>>"$OUT/G6.log"; echo END)
  read -r _ HEX CRC SIZE <&3
  if [ -n "${HEX:-}" ]; then
    GOT="$("$JAVA" "${PROPS[@]}" -cp "$CP" io.te4j.transport.cuda.GpuCheckMain ipc-open "$HEX" "$SIZE" 2>>"$OUT/G6.log")"
    json "$GOT"
    if echo "$GOT" | grep -q "\"crc\":$CRC"; then say G6 PASS "Java -> Java"; else say G6 FAIL "Java -> Java: $GOT (want $CRC)"; fi
    if python3 -c 'import cupy' 2>/dev/null; then
      GOT="$(python3 "$KIT/ipc_peer.py" open "$HEX" "$SIZE" 2>>"$OUT/G6.log")"
      json "$GOT"
      if echo "$GOT" | grep -q "\"crc\": $CRC"; then say G6 PASS "Java -> CuPy"; else say G6 FAIL "Java -> CuPy: $GOT (want $CRC)"; fi
    else
      say G6 SKIP "no CuPy here: Java -> CuPy not checked"
    fi
  else
    say G6 FAIL "the Java exporter did not start: $(tail -c 300 "$OUT/G6.log")"
  fi
  touch "$OUT/release"
  exec 3<&-
  if python3 -c 'import cupy' 2>/dev/null; then
    rm -f "$OUT/release"
    exec 4< <(timeout 120 python3 "$KIT/ipc_peer.py" export 1048576 "$OUT/release" 2>>"$OUT/G6.log"; echo END)
    read -r _ HEX CRC SIZE <&4
    GOT="$("$JAVA" "${PROPS[@]}" -cp "$CP" io.te4j.transport.cuda.GpuCheckMain ipc-open "${HEX:-x}" "${SIZE:-1}" 2>>"$OUT/G6.log")"
    json "$GOT"
    if echo "$GOT" | grep -q "\"crc\":${CRC:-none}"; then say G6 PASS "CuPy -> Java"; else say G6 FAIL "CuPy -> Java: $GOT (want ${CRC:-?})"; fi
    touch "$OUT/release"
    exec 4<&-
  fi
fi

# --- G8: throughput, Java against C for the same copies; the engine over nvlink and staged TCP
if want G8; then
  timeout 600 "$JAVA" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" -cp "$CP" \
    io.te4j.transport.cuda.GpuCheckMain throughput >> "$RESULTS" 2>> "$OUT/G8.log" \
    && timeout 600 "$JAVA" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" -cp "$CP" \
    io.te4j.transport.cuda.GpuCheckMain engine >> "$RESULTS" 2>> "$OUT/G8.log"
  if [ $? -eq 0 ]; then
    python3 - "$RESULTS" <<'PY' | tee -a "$SUMMARY"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rate = {(r["check"], r["bytes"]): r["gbps"] for r in rows if "gbps" in r}
for (check, n), g in sorted(rate.items()):
    if check.startswith("java_"):
        c = rate.get(("c_" + check[5:], n))
        ratio = "" if not c else " ratio %.3f %s" % (g / c, "(aim 0.95)" if n >= 1 << 20 else "")
        print("G8 %s %d bytes: Java %.2f GB/s, C %s GB/s%s" % (check[5:], n, g, "%.2f" % c if c else "-", ratio))
    elif check.startswith("engine_"):
        ipc = rate.get(("c_ipc_d2d", 1 << 20 if n < 64 << 20 else 64 << 20))
        print("G8 %s %d bytes: %.2f GB/s (C IPC-mapped D2D %s GB/s)" % (check, n, g, "%.2f" % ipc if ipc else "-"))
PY
  else
    say G8 FAIL "$(tail -c 400 "$OUT/G8.log" | tr '\n' ' ')"
  fi
fi

# --- G7: fabric handles: recorded (te4j has no fabric path; an H100 without NVSwitch/IMEX says 0)
if want G7; then
  F="$(grep -o '"check":"c_fabric_supported","value":-\?[0-9]*' "$RESULTS" | grep -o -- '-\?[0-9]*$')"
  say G7 SKIP "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED = ${F:-not measured (G1)}; te4j publishes legacy IPC handles only"
fi

# --- G10: leaks: free GPU memory back where it was after engines moved GPU memory and closed
if want G10; then
  L="$(timeout 600 "$JAVA" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" -cp "$CP" \
    io.te4j.transport.cuda.GpuCheckMain leaks 2>> "$OUT/G10.log" | grep '"G10"')"
  json "${L:-{\"check\":\"G10\",\"error\":\"see G10.log\"}}"
  D="$(echo "$L" | grep -o '"delta":-\?[0-9]*' | grep -o -- '-\?[0-9]*$')"
  if [ -n "$D" ] && [ "${D#-}" -le 2097152 ]; then say G10 PASS "free GPU memory back within ${D} bytes"
  else say G10 FAIL "free GPU memory ${D:-unknown} bytes below where it started (allowed 2 MiB): $(tail -c 300 "$OUT/G10.log")"; fi
fi

# --- G9: unavailability on the real driver
if want G9; then
  P1="$(CUDA_VISIBLE_DEVICES= "$JAVA" "${PROPS[@]}" -cp "$CP" io.te4j.transport.cuda.CudaProbe 2>&1 | tail -1)"
  P2="$("$JAVA" -Dte4j.cuda.cudart=/nonexistent/libcudart.so.13 -cp "$CP" io.te4j.transport.cuda.CudaProbe 2>&1 | tail -1)"
  json "{\"check\":\"G9\",\"no_visible_device\":\"${P1//\"/}\",\"bogus_runtime\":\"${P2//\"/}\"}"
  if [[ "$P1" == *unavailable* ]] && [[ "$P2" == *unavailable* ]]; then
    say G9 PASS "no visible device: $P1 | bogus runtime: $P2"
  else
    say G9 FAIL "no visible device: $P1 | bogus runtime: $P2"
  fi
fi

echo "---------------- summary ($OUT)"
cat "$SUMMARY"
exit $FAILED
