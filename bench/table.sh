#!/usr/bin/env bash
# Every line of the speed table (issue "Speed to the limit"), each beside its baseline measured in
# the same run: tcp against iperf3 of the same shape, one 4 KiB transfer against sockperf's round
# trip, shm and cxl against a C memcpy of the same shape, nvmeof against fio on the same file.
# Baselines that are not installed are said to be skipped. Usage: bench/table.sh [seconds per run]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
d="${1:-5}"
te() { "$here/te" bench --duration "$d" "$@" 2>/dev/null; }
line() { echo; echo "== $*"; }

for op in write read; do
  line "tcp $op 4 KiB x 128, 2 threads"
  te --operation "$op" --block-size 4K --batch-size 128 --baseline iperf3 | grep -E "throughput|iperf3"
  line "tcp $op 64 KiB .. 4 MiB x 4, 2 threads"
  te --operation "$op" --sweep 64K,1M,4M --baseline iperf3 --chart "/tmp/te-tcp-$op.svg" | sed -n 2,5p
done

line "tcp: one 4 KiB write at a time (p50 of the batch latency) and sockperf's round trip"
te --block-size 4K --batch-size 1 --threads 1 --baseline none | grep -E "latency"
if command -v sockperf >/dev/null; then
  port=$((20000 + RANDOM % 20000))
  sockperf sr --tcp -p "$port" >/dev/null 2>&1 & server=$!
  sleep 0.5
  sockperf pp --tcp -m 4096 -p "$port" -t "$d" 2>&1 \
    | awk '/percentile 50.000/ {print "sockperf ping-pong 4 KiB: round trip p50 " 2 * $NF " us"}'
  kill "$server" 2>/dev/null || true
else
  echo "sockperf not installed: skipped"
fi

cxl=/dev/shm/te4j-table-cxl-$$
trap 'rm -f "$cxl" /tmp/te4j-table-nvmeof-$$' EXIT
for p in shm cxl; do
  extra=(); [ "$p" = cxl ] && extra=(--cxl-device "$cxl")
  for op in write read; do
    line "$p $op 4 KiB x 128, 2 threads"
    te --protocol "$p" "${extra[@]}" --operation "$op" --block-size 4K --batch-size 128 \
      --buffer-size 1G | grep -E "throughput|memcpy"
    line "$p $op 64 KiB, 1 MiB, 64 MiB x 4, 2 threads"
    te --protocol "$p" "${extra[@]}" --operation "$op" --sweep 64K,1M,64M --buffer-size 1G \
      --chart "/tmp/te-$p-$op.svg" | sed -n 2,5p
  done
done

file=/tmp/te4j-table-nvmeof-$$
truncate -s 256M "$file"
for op in read write; do
  line "nvmeof $op 128 KiB and 1 MiB, depth 32, 1 thread (file $file)"
  te --segment-file "$file" --operation "$op" --sweep 128K,1M --batch-size 32 --threads 1 \
    --buffer-size 64M --chart "/tmp/te-nvmeof-$op.svg" | sed -n 2,4p
done
