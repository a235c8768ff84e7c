"""The TensorRT engine: a style network with the style folded in, compiled per GPU, cached.

Stages, as in NVIDIA's samples, one function each:
- ``style_graph``: the fixed-style ONNX graph (the torch network with one style's scale and shift
  folded in, exported once per style into the cache);
- ``build``: TensorRT builder, FP16, one optimization profile covering the sizes in use, a timing
  cache kept per GPU and TensorRT version;
- ``TensorRTEngine``: engines come from engines/runtimes/tensorrt_cache.py, whose metadata is checked before
  anything is deserialized (a stale or foreign engine is rebuilt, never trusted); frames run with
  ``execute_async_v3`` on a dedicated CUDA stream (torch's), on the frame path of
  engines/runtimes/gpu_network.py.

Device memory and streams come from torch; pycuda is not needed. Written against NVIDIA's
TensorRT 10 Python API and not run here: no machine this project has used has the TensorRT
builder (it ships no PyPI wheel). Everything around it is tested (cache keys and metadata,
engine choice, errors).
"""
from __future__ import annotations

from pathlib import Path

from engines.cache_dir import cache_dir, file_digest
from engines.catalog import Style
from engines.engine import Engine, Network
from engines.errors import EngineUnavailable
from engines.mix import Mix
from engines.networks.style_layers import layers_digest, style_layers

from .gpu_network import GpuNetwork
from .tensorrt_cache import EngineCache, EngineKey

INPUT, OUTPUT = "image", "stylized"
MIN_SIDE = 64
WORKSPACE = 1 << 30


def profile_for(max_side: int, size: tuple[int, int] | None = None) -> tuple[tuple[int, ...], ...]:
    """min, opt, max input shapes: any frame from 64x64 up to ``max_side`` on its longer side, tuned
    for the job's own frame ``size`` (width, height) where it is known (else 16:9 at 1280 or less):
    TensorRT picks its kernels for the optimal shape."""
    side = -(-max_side // 4) * 4
    up4 = lambda v: -(-v // 4) * 4  # noqa: E731  (the network pads to multiples of 4)
    if size is not None:
        opt_w, opt_h = (min(side, max(MIN_SIDE, up4(v))) for v in size)
    else:
        opt_w = min(side, 1280)
        opt_h = up4(opt_w * 9 // 16)
    return (1, 3, MIN_SIDE, MIN_SIDE), (1, 3, opt_h, opt_w), (1, 3, side, side)


def style_graph(style: Style) -> Path:
    """The ONNX graph of ``style`` folded into its network (made once, kept in the cache, named by
    the folded numbers: a blend, a picture or a new package version is a graph of its own)."""
    import torch

    from engines.networks.folded_net import FoldedNet

    layers = style_layers(style, "tensorrt")
    path = cache_dir("graphs") / f"style-{layers_digest(layers)[:24]}.onnx"
    if not path.exists():
        folded = FoldedNet(layers, fast=False).eval()  # the reference form: ONNX's InstanceNormalization
        partial = path.with_suffix(".partial")
        torch.onnx.export(folded, torch.rand(1, 3, 360, 640), str(partial), input_names=[INPUT],
                          output_names=[OUTPUT], opset_version=17, dynamo=False,
                          dynamic_axes={INPUT: {2: "height", 3: "width"}, OUTPUT: {2: "height", 3: "width"}})
        partial.replace(path)
    return path


def engine_key(graph: Path, precision: str, profile) -> EngineKey:
    import tensorrt as trt
    import torch

    major, minor = torch.cuda.get_device_capability()
    return EngineKey(gpu=torch.cuda.get_device_name(), compute_capability=f"{major}.{minor}",
                     tensorrt=trt.__version__, model_sha256=file_digest(graph), precision=precision,
                     profile=tuple(tuple(s) for s in profile))


def build(graph: Path, precision: str, profile, timing_cache: Path) -> bytes:
    """Compile ``graph`` for this GPU; the timing cache makes later builds of similar graphs fast."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch (the only mode in TensorRT 10)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(graph.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineUnavailable(f"TensorRT could not parse {graph.name}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    shapes = builder.create_optimization_profile()
    shapes.set_shape(INPUT, *profile)
    config.add_optimization_profile(shapes)
    cache = config.create_timing_cache(timing_cache.read_bytes() if timing_cache.exists() else b"")
    config.set_timing_cache(cache, ignore_mismatch=False)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineUnavailable(f"TensorRT could not build an engine from {graph.name} (see its log above)")
    timing_cache.write_bytes(bytes(config.get_timing_cache().serialize()))
    return bytes(serialized)


class TensorRTRunner:
    """One deserialized engine and its execution context: ``run(x) -> y`` on device tensors."""

    def __init__(self, data: bytes):
        import tensorrt as trt

        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            raise EngineUnavailable("TensorRT could not load a cached engine; delete the stylecast engine cache")
        self.context = self.engine.create_execution_context()
        self._out: dict[tuple, object] = {}

    def __call__(self, x):
        import torch

        shape = tuple(x.shape)
        out = self._out.get(shape)
        if out is None:
            out = self._out[shape] = torch.empty(shape, dtype=x.dtype, device=x.device)
        self.context.set_input_shape(INPUT, shape)
        self.context.set_tensor_address(INPUT, x.data_ptr())
        self.context.set_tensor_address(OUTPUT, out.data_ptr())
        if not self.context.execute_async_v3(torch.cuda.current_stream().cuda_stream):
            raise RuntimeError("TensorRT execution failed")
        return out


def engine_for(style: Style, max_side: int, precision: str = "fp16", cache: EngineCache | None = None,
               progress=None, size: tuple[int, int] | None = None) -> tuple[bytes, Path]:
    """A verified engine for ``style``: from the cache when its metadata checks, else built and stored;
    tuned for frames of ``size`` where the job knows it."""
    cache = cache or EngineCache()
    graph = style_graph(style)
    profile = profile_for(max_side, size)
    key = engine_key(graph, precision, profile)
    data = cache.load(key)
    if data is None:
        if progress:
            progress(f"building a TensorRT engine for {style.name} (once per GPU; a minute or two)")
        data = build(graph, precision, profile, cache.root / f"timing-{key.gpu}-{key.tensorrt}.cache".replace(" ", "_"))
        cache.store(key, data)
    return data, cache.paths(key)[0]


class TensorRTEngine(Engine):
    name = "tensorrt"
    precision = "fp16"

    def __init__(self, style: Style | str, mix: Mix = Mix(), max_side: int = 1920, progress=None,
                 size: tuple[int, int] | None = None):
        import torch

        self.device, self.dtype = torch.device("cuda"), torch.float32  # I/O stays fp32; FP16 inside
        self.max_side, self.progress, self.size = max_side, progress, size
        super().__init__(style, mix)

    def _load(self, style: Style) -> Network:
        data, _ = engine_for(style, self.max_side, progress=self.progress, size=self.size)
        return GpuNetwork(TensorRTRunner(data), self.device, self.dtype, graphs=False, channels_last=False)
