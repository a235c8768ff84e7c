"""A render spread over a Ray cluster (``render --cluster``): plan on the driver, chunks on the
workers, one output joined by stream copy.

1. The driver reads the input's frame times (packets only) and its shots (``--shots``, or found as
   ``stylecast shots`` does), and plans chunks (stream/cluster/chunk_plan.py). The plan lives in a hidden
   folder beside the output; a re-run of the same input and options skips the chunks already
   there and checked (their frame count).
2. One worker (an actor: stream/cluster/chunk_worker.py) per core of the cluster, or one per GPU where it
   has GPUs, keeps the network loaded and takes chunks one at a time; only descriptors travel.
3. Ray restarts a worker that dies and runs its chunk again; a chunk whose file then fails its
   check is rendered again up to CHUNK_RETRIES times, after which the render ends with one line,
   nothing at the output path, and the finished chunks kept for the re-run.
4. The chunks are joined by stream copy with the source's sound and metadata (stream/cluster/chunk_join.py).
"""
from __future__ import annotations

import collections
import sys
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

from engines import open_engine, resolve
from engines.errors import OutputError, StylecastError
from stream.core.notes import note
from stream.core.progress import FRAMES, Advance, Progress, quiet
from stream.edit.cuts import find_shots
from stream.edit.shots import ShotList
from stream.media.decoder import open_decoder
from stream.media.testsrc import write_test_clip
from stream.render.job import (
    RenderOptions,
    RenderResult,
    prepare,
    render,
    train_paintings,
)
from stream.styling.controls import FIELDS

from .address import check_cluster, check_reachable, connect, parse_cluster
from .chunk_join import join_chunks
from .chunk_options import chunk_options
from .chunk_plan import CHUNK_SECONDS, Chunk, ChunkFolder, plan_chunks, plan_key

CHUNK_RETRIES = 2        # renders of a chunk after its first, when its file fails the check
WORKER_RESTARTS = 2      # Ray restarts a dead worker this often, and runs its chunk again
POLL_S = 0.5
_PLAN_FIELDS = (*FIELDS, "max_side", "style_scale", "engine", "precision", "crf",
                "preset", "codec", "looks", "style_per_shot", "shots", "chunk_seconds", "ignore_errors",
                "keyframes", "keyframe_steps", "keyframe_seconds", "carry")


@dataclass(kw_only=True)
class ClusterRenderOptions(RenderOptions):
    """A render in chunks on Ray: ``cluster`` is auto, HOST:PORT (a Ray head) or local:N (N workers
    here); ``chunk_seconds`` the chunk length where no cut is near."""

    cluster: str = "auto"
    chunk_seconds: float = CHUNK_SECONDS

    def check(self) -> None:
        super().check()
        check_cluster(self)


def _shots(opts, source: Path, times: list[float], rate: Fraction) -> ShotList:
    if opts.shots is not None:
        return ShotList.read(opts.shots, rate, None, len(times))
    started = time.perf_counter()
    shots = find_shots(source)
    note(f"found {len(shots.shots)} shots in {time.perf_counter() - started:.1f} s")
    return shots


def _workers(ray, opts, counter: str) -> tuple[list, Callable]:
    """One worker per GPU where the cluster has GPUs (and the engine may use them), else one per
    core, each actor sized to one core; and how to start one more (for one Ray gave up on)."""
    from .chunk_worker import ChunkRenderer

    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0)) if opts.engine != "cpu" else 0
    count, size = (gpus, {"num_gpus": 1, "num_cpus": 1}) if gpus else (max(1, int(resources.get("CPU", 1))), {"num_cpus": 1})
    actor = ray.remote(max_restarts=WORKER_RESTARTS, max_task_retries=WORKER_RESTARTS, **size)(ChunkRenderer)
    spawn = lambda: actor.remote(opts, counter, 1)  # noqa: E731
    return [spawn() for _ in range(count)], spawn


class _Dispatch:
    """Chunks to workers, one at a time each, until every chunk is done and checked."""

    def __init__(self, ray, workers: list, spawn: Callable, folder: ChunkFolder, chunks: list[Chunk],
                 todo: list[Chunk], counter, advance):
        self.ray, self.folder, self.chunks, self.counter, self.advance = ray, folder, chunks, counter, advance
        self.spawn = spawn
        self.idle, self.todo = list(workers), collections.deque(todo)
        self.engine: dict = {}  # the engine and precision the workers ran
        self.running: dict = {}
        self.tries: collections.Counter = collections.Counter()
        self.retries, self.shown = 0, 0

    def run(self) -> None:
        while self.todo or self.running:
            while self.todo and self.idle:
                chunk, worker = self.todo.popleft(), self.idle.pop()
                self.running[worker.render.remote(chunk, self.folder.file(chunk))] = (chunk, worker)
            ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=POLL_S)
            self._progress()
            for ref in ready:
                self._finished(ref, *self.running.pop(ref))
        self._progress()

    def _progress(self) -> None:
        frames, _ = self.ray.get(self.counter.read.remote())
        if frames > self.shown:
            self.advance(frames - self.shown)
            self.shown = frames

    def _finished(self, ref, chunk: Chunk, worker) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        try:
            self.engine = self.ray.get(ref)
            why = None if self.folder.done(chunk) else "its file does not hold all its frames"
        except RayTaskError as exc:
            if isinstance(exc.cause, StylecastError):
                raise exc.cause from None  # the input or options: no retry changes that
            why = f"its worker failed: {str(exc.cause or exc).splitlines()[0][:160]}"
        except RayActorError as exc:  # Ray's own restarts are spent: a new worker takes its place
            why, worker = f"its worker died ({str(exc).splitlines()[0][:120]})", self.spawn()
        self.idle.append(worker)
        if why is None:
            return
        self.tries[chunk.number] += 1
        if self.tries[chunk.number] > CHUNK_RETRIES:
            done = sum(1 for c in self.chunks if self.folder.done(c))
            raise OutputError(f"chunk {chunk.number} (frames {chunk.first_frame}-{chunk.last_frame}) failed after "
                              f"{CHUNK_RETRIES} retries: {why}; the {done} finished chunks are kept in "
                              f"{self.folder.path} for a re-run")
        self.retries += 1
        self.todo.appendleft(chunk)


def _run_chunks(ray, opts, source: Path, folder: ChunkFolder, chunks: list[Chunk], todo: list[Chunk], advance):
    """Workers started, the chunks still to do rendered and checked; (workers, the engine and
    precision they ran, chunks retried and workers restarted)."""
    from .chunk_worker import FrameCounter

    try:
        name = f"stylecast-frames-{plan_key(source, {'at': time.time()})}"
        counter = FrameCounter.options(name=name).remote()
        workers, spawn = _workers(ray, replace(opts, input=source), name) if todo else ([], None)
        if todo:
            note(f"rendering {len(todo)} chunks on {len(workers)} workers")
        dispatch = _Dispatch(ray, workers, spawn, folder, chunks, todo, counter, advance)
        dispatch.run()
        return workers, dispatch.engine, dispatch.retries + max(0, ray.get(counter.read.remote())[1] - len(workers))
    finally:
        ray.shutdown()


def _run_here(opts, source: Path, folder: ChunkFolder, todo: list[Chunk], advance: Advance, progress: Progress):
    """``--cluster here``: the chunks still to do, one after another in this process, on one engine
    (an exception from ``advance``, a cancel, stops between frames; the finished chunks stay).
    Each chunk's frames go to the whole render's ``advance``; ``progress`` hears what is not
    frames (a painted shot's training)."""

    def heard(total: int | None, label: str) -> Advance:
        return advance if label == FRAMES else progress(total, label)

    engine, ran = None, {}
    for chunk in todo:
        one = chunk_options(replace(opts, input=source), chunk, folder.file(chunk))
        if engine is None:
            controls = one.controls()
            engine = open_engine(one.engine, controls.style, controls.mix, throughput=True,
                                 max_side=one.max_side, notes=note, precision=one.precision)
        result = render(one, heard, engine=engine)
        ran = {"engine": result.engine, "precision": result.precision}
        if not folder.done(chunk):
            raise OutputError(f"chunk {chunk.number} (frames {chunk.first_frame}-{chunk.last_frame}) was not "
                              f"written whole; the finished chunks are kept in {folder.path} for a re-run")
    return ["here"] if todo else [], ran, 0


def render_on_cluster(opts: ClusterRenderOptions, progress: Progress = quiet):
    """``render(opts)`` in chunks on the cluster ``opts.cluster``: the same RenderResult."""
    opts = prepare(opts)
    address = parse_cluster(opts.cluster)
    check_reachable(address)
    if opts.output.exists() and not opts.overwrite:
        raise OutputError(f"output exists: {opts.output} (add --overwrite to replace it)")
    style = resolve(opts.style)
    codec_suffix = ".mkv" if opts.codec == "ffv1" else ".mov"
    folder = ChunkFolder(opts.output, codec_suffix)
    started = time.perf_counter()
    source = opts.input
    if source is None:  # the built-in scene, written where every node can read it: beside the output
        source = opts.output.parent / f".{opts.output.name}.stylecast-testsrc.mkv"
        if not source.exists():
            write_test_clip(source)
    with open_decoder(source) as decoder:
        times, rate = decoder.frame_times(), decoder.rate
    shots = _shots(opts, source, times, rate)
    chunks = plan_chunks(times, opts.chunk_seconds, shots.starts())
    done = folder.open(plan_key(source, {f: getattr(opts, f) for f in _PLAN_FIELDS}), chunks)
    if opts.shots is None and (opts.looks is not None or opts.style_per_shot is not None or opts.keyframes):
        shots.write(folder.path / "shots.csv", overwrite=True)  # the workers count shots in this list
        opts = replace(opts, shots=folder.path / "shots.csv")
    painted = []
    if opts.keyframes:  # each painted shot trained once, here; the workers find its network in the folder
        opts = replace(opts, keyframe_cache=folder.path / "keyframes", input=source)
        painted = train_paintings(opts, progress)
    if done:
        note(f"{len(done)} of {len(chunks)} chunks were already rendered: rendering the other {len(chunks) - len(done)}")
    advance = progress(len(times), FRAMES)
    advance(sum(c.frames for c in done))
    todo = [c for c in chunks if c not in done]
    if address.kind == "here":
        workers, ran, retries = _run_here(opts, source, folder, todo, advance, progress)
    else:
        ray = connect(address)
        with redirect_stdout(sys.stderr):  # Ray prints a dead worker's report on stdout: keep --json clean
            workers, ran, retries = _run_chunks(ray, opts, source, folder, chunks, todo, advance)
    writer, fragmented = join_chunks(opts, source, chunks, [folder.file(c) for c in chunks])
    if opts.input is None:
        source.unlink(missing_ok=True)
    folder.remove()
    seconds = time.perf_counter() - started
    return RenderResult(frames=writer.frames, seconds=round(seconds, 3), fps=round(writer.frames / max(seconds, 1e-9), 2),
                        engine=ran.get("engine", opts.engine), precision=ran.get("precision", "fp32"), style=style.name,
                        output=str(opts.output), codec=opts.output_plan().codec_name, stability=opts.stability,
                        fragmented=fragmented, copied_packets=writer.copied_packets, skipped_streams=writer.skipped,
                        timecode=str(writer.timecode) if writer.timecode else None,
                        shots=len(shots.shots), chunks=len(chunks), workers=len(workers),
                        retries=retries, painted=painted)

