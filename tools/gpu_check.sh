#!/usr/bin/env bash
# The device check (issues #36, #45): one call on the lent GPU machine (Python 3.12, torch 2.11 +
# CUDA 13, Triton, no TensorRT, no network), made to measure on its first run:
#
#   bash tools/gpu_wheels.sh                                  # here, first: .gpu-wheels/, built and checked
#   run(command="bash tools/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=420)
#   bash tools/gpu_check.sh --dry                             # here, any time: the same script on the CPU, tiny
#
# Within its time by construction: each part runs under its own limit, and the limits (nvidia-smi and
# doctor included) add up to at most BUDGET_S, which the script checks before it starts. Nothing is
# lost: each case prints one flushed JSON line as it finishes ($OUT/gpu_check.jsonl), a failed or
# stopped part is recorded and the next goes on, and $OUT/gpu_check.json (every line, and each
# part's status and seconds) is written on exit, whatever ends it. One inductor cache
# (TORCHINDUCTOR_CACHE_DIR) serves the tests and the benches, so the renders' networks compile from
# what pytest -m gpu compiled, and the renders time clips long enough to say which form ran.
# --dry: the same parts on the CPU with tiny sizes (no install, no nvidia-smi): how the suite tests
# this script (tests/framepath/test_gpu_check.py) before a GPU sees it.
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=""
[ "${1:-}" = "--dry" ] && DRY="--dry"
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
: > "$OUT/gpu_check.jsonl"
: > "$OUT/parts.tsv"
exec > >(tee "$OUT/gpu_check.log") 2>&1
BUDGET_S=${GPU_CHECK_BUDGET_S:-330}
PY=${PYTHON:-python3}  # the GPU machine's python3 holds torch; --dry here: the venv's
# part name, its limit in seconds: the sum is checked against BUDGET_S below
PARTS=("install 25" "nvidia-smi 5" "doctor 10" "pytest-gpu 75" "networks 50" "renders 85" "live 40" "serve 40")
total=0
for p in "${PARTS[@]}"; do total=$((total + ${p##* })); done
if [ "$total" -gt "$BUDGET_S" ]; then
    echo "gpu_check: the parts' limits add up to $total s, over the $BUDGET_S s budget" >&2
    exit 2
fi
limit() { for p in "${PARTS[@]}"; do [ "${p% *}" = "$1" ] && echo "${p##* }"; done; }
started=$(date +%s)

summary() {  # on exit, whatever ended the check: every case's line, and each part's status
    "$PY" - "$OUT" "$DRY" "$(( $(date +%s) - started ))" <<'PY'
import json, pathlib, sys
out, dry, seconds = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
cases = []
for line in (out / "gpu_check.jsonl").read_text().splitlines():
    try:
        case = json.loads(line)
    except ValueError:  # a part's own words (pytest's, nvidia-smi's) beside its JSON lines
        continue
    if isinstance(case, dict) and "case" in case:
        cases.append(case)
parts = {}
for line in (out / "parts.tsv").read_text().splitlines():
    name, status, took = line.split("\t")
    parts[name] = {"status": status, "seconds": int(took)}
whole = {"dry": bool(dry), "seconds": seconds, "parts": parts, "cases": cases,
         "failed_cases": [c["case"] for c in cases if "error" in c]}
(out / "gpu_check.json").write_text(json.dumps(whole, indent=1))
print(f"gpu_check: {len(cases)} cases ({len(whole['failed_cases'])} failed), parts: "
      + ", ".join(f"{k} {v['status']}" for k, v in parts.items()) + f"; {seconds} s in all")
PY
}
trap summary EXIT

# part NAME CMD...: CMD under NAME's limit; its JSON lines kept; its status and seconds recorded
part() {
    local name=$1 secs rc t0
    shift
    secs=$(limit "$name")
    t0=$(date +%s)
    echo "== $name (limit $secs s; $(( t0 - started )) s in)"
    timeout "$secs" "$@" | tee -a "$OUT/gpu_check.jsonl"
    rc=${PIPESTATUS[0]}
    local status=ok
    [ "$rc" -eq 124 ] && status="stopped at its limit"
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && status="failed (rc $rc)"
    printf '%s\t%s\t%s\n' "$name" "$status" "$(( $(date +%s) - t0 ))" >> "$OUT/parts.tsv"
}

export PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/stylecast-inductor}
export STYLECAST_CACHE=${STYLECAST_CACHE:-/tmp/stylecast-cache}
if [ -z "$DRY" ]; then
    part install bash -c 'rm -rf /tmp/site && '"$PY"' -m pip install -q --no-index --no-deps --no-compile \
        --target /tmp/site .gpu-wheels/*.whl && echo "{\"part\": \"setup\", \"case\": \"wheels installed\"}"'
    export PYTHONPATH=/tmp/site:$PWD
    part nvidia-smi nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
    printf 'install\tskipped (--dry: tools/gpu_wheels.sh checks the folder under Python 3.12)\t0\n' >> "$OUT/parts.tsv"
    printf 'nvidia-smi\tskipped (--dry)\t0\n' >> "$OUT/parts.tsv"
fi
part doctor "$PY" -c 'import json, subprocess, sys
rows = json.loads(subprocess.run([sys.executable, "-m", "stream.cli", "doctor", "--json"], capture_output=True,
                                 text=True, check=True).stdout)
print(json.dumps({"part": "setup", "case": "doctor", "rows": rows}))'
part pytest-gpu "$PY" -m pytest -q -m gpu -p no:cacheprovider -o addopts="" tests/engines tests/framepath  # in one process: xdist is not carried
SIZE=$([ -n "$DRY" ] && echo "--runs 1" || echo "--runs 2")
CLIP=$([ -f .gpu-wheels/bigbuckbunny.mp4 ] && [ -z "$DRY" ] && echo "--clip .gpu-wheels/bigbuckbunny.mp4")
# shellcheck disable=SC2086
part networks "$PY" -m bench.gpu networks $SIZE $DRY
# shellcheck disable=SC2086
part renders "$PY" -m bench.gpu renders $SIZE $CLIP $DRY
# shellcheck disable=SC2086
part live "$PY" -m bench.gpu live --live-seconds "$([ -n "$DRY" ] && echo 4 || echo 15)" $DRY
# shellcheck disable=SC2086
part serve "$PY" -m bench.gpu serve $SIZE $DRY
