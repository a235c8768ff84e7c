"""The film studio page (issue #29): a crew uploads a clip, finds its shots, gives two shots their
looks, previews one, renders the cut and downloads it, in real headless Chromium against a real
`stylecast studio` process; the download is what `stylecast render --looks` makes of the looks
file the page wrote. A server killed mid-render resumes from its finished chunks. Bad uploads,
names and paths are clear 4xx."""
from __future__ import annotations

import importlib.util
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import run_cli, video_frames, wait_for
from support.server_process import ServerProcess
from support.temporal_metrics import ssim_quarter
from support.viewer import CHROMIUM, FLAGS, browser_missing

from stream.cluster.chunk_plan import video_frame_count
from stream.media.testsrc import write_test_clip, write_test_sequence

W, H, FPS = 192, 108, 25
SHOTS = Path(os.environ.get("STYLECAST_SCREENSHOTS", "test-screenshots"))


def _clip(path: Path, seconds: float = 4.0, **kw) -> Path:
    write_test_clip(path, seconds=seconds, width=kw.pop("width", W), height=kw.pop("height", H), fps=FPS,
                    cuts=kw.pop("cuts", (2.0,)), seed=5, **kw)
    return path


def _studio(folder: Path, *args: str) -> ServerProcess:
    return ServerProcess(str(folder), *args, command="studio")


def _change(server: ServerProcess, method: str, path: str, body=None, tab: str = "test") -> tuple[int, dict]:
    """A change to a project, made on its version now (``If-Match`` its ETag), as the page makes it."""
    pid = path.split("/")[3]
    version = server.request("GET", f"/api/projects/{pid}")[1]["version"]
    data = None if body is None else json.dumps(body).encode()
    return server.request(method, path, data, {"If-Match": f'"{version}"', "X-Stylecast-Tab": tab})


def _opened(server: ServerProcess, media: str) -> dict:
    status, body = server.request("POST", "/api/projects", json.dumps({"media": media}).encode())
    assert status == 201, body
    return wait_for(lambda: (p := server.request("GET", f"/api/projects/{body['id']}")[1])["state"] == "ready" and p,
                    30, "the shots found")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_a_crew_styles_a_cut_in_the_browser_and_the_download_is_what_render_makes(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    folder = tmp_path / "film"
    folder.mkdir()
    clip = _clip(tmp_path / "cut.mp4")  # outside the folder: the page uploads it
    with _studio(folder) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.goto(server.url)
        page.set_input_files("#upload", str(clip))
        expect(page.locator("#open-status")).to_contain_text("cut.mp4 is in the folder", timeout=20000)
        assert (folder / "cut.mp4").read_bytes() == clip.read_bytes()
        page.select_option("#media", "cut.mp4")
        page.click("#open")
        strip = page.locator("#strip li")
        expect(strip).to_have_count(2, timeout=30000)
        assert "00:00:00:00 – 00:00:02:00" in strip.nth(0).inner_text()
        assert "frames 50–99" in strip.nth(1).inner_text()
        # shot 1: mosaic from the gallery; shot 2: starry-night at 0.7, previewed
        page.locator("#gallery button[data-style=mosaic]").click()
        page.click("#save-look")
        expect(strip.nth(0)).to_contain_text("mosaic")
        strip.nth(1).click()
        page.fill("#style", "starry-night")
        page.eval_on_selector("#strength", "el => { el.value = 0.7; el.dispatchEvent(new Event('input')); }")
        page.click("#preview")
        expect(page.locator("#flicker")).to_contain_text("flicker", timeout=60000)
        expect(page.locator("#flicker")).to_contain_text("50 frames")
        page.wait_for_function("document.getElementById('after').naturalWidth > 0", timeout=10000)
        assert page.eval_on_selector("#after", "el => el.naturalWidth") == W  # at most 320 wide: 192 stays 192
        assert page.eval_on_selector("#before", "el => el.naturalWidth") == W
        # render the cut, watch it in the queue, download it
        page.fill("#output", "cut-styled.mp4")
        page.click("#render-go")
        done = page.locator("#jobs tr[data-state=done]")
        expect(done).to_have_count(1, timeout=120000)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "studio.png"), full_page=True)
        with page.expect_download() as download:
            done.locator("a.download").click()
        downloaded = tmp_path / "downloaded.mp4"
        download.value.save_as(downloaded)
        browser.close()
    # the looks file a render reads is the project's own, in .stylecast/: nothing is written beside the clip
    assert sorted(p.name for p in folder.iterdir()) == [".stylecast", "cut-styled.mp4", "cut.mp4"]
    looks_file = folder / ".stylecast" / "projects" / "1" / "looks.json"
    looks = json.loads(looks_file.read_text())
    assert looks["looks"] == [{"shot": 1, "style": "mosaic", "strength": 1, "stability": 0.8, "keep_colors": False},
                              {"shot": 2, "style": "starry-night", "strength": 0.7, "stability": 0.8,
                               "keep_colors": False}]
    code, _, err = run_cli("render", folder / "cut.mp4", "--looks", looks_file, "-o", tmp_path / "shell.mp4")
    assert code == 0, err
    times, frames = video_frames(downloaded)
    shell_times, shell = video_frames(tmp_path / "shell.mp4")
    assert len(frames) == len(shell) == 100 and times == pytest.approx(shell_times, abs=1e-3)
    assert min(ssim_quarter(a, b) for a, b in zip(frames, shell)) >= 0.99
    assert video_frames(folder / "cut-styled.mp4")[0] == times  # and the output is in the folder too


def _chunks_done(folder: Path, output: str) -> dict[str, tuple[int, int]]:
    """The chunk files of ``output`` that hold all their frames: name -> (frames, mtime_ns)."""
    chunks = folder / f".{output}.stylecast-chunks"
    try:
        plan = json.loads((chunks / "plan.json").read_text())
    except (OSError, ValueError):
        return {}
    done = {}
    for chunk in plan["chunks"]:
        path = chunks / f"chunk-{chunk['number']:05d}.mov"
        frames = chunk["last_frame"] - chunk["first_frame"] + 1
        if path.exists() and video_frame_count(path) == frames:
            done[path.name] = (frames, path.stat().st_mtime_ns)
    return done


def test_a_server_killed_mid_render_resumes_from_its_finished_chunks(tmp_path):
    folder = tmp_path / "film"
    folder.mkdir()
    _clip(folder / "long.mp4", seconds=8.0, width=256, height=144, cuts=())
    with _studio(folder, "--chunk-seconds", "1") as server:
        project = _opened(server, "long.mp4")
        status, body = server.request("POST", f"/api/projects/{project['id']}/render",
                                      json.dumps({"output": "long-styled.mp4"}).encode())
        assert status == 201, body
        before = wait_for(lambda: (d := _chunks_done(folder, "long-styled.mp4")) and len(d) >= 2 and d,
                          60, "two chunks finished", every=0.02)
        server.kill()
    assert not (folder / "long-styled.mp4").exists()
    with _studio(folder, "--chunk-seconds", "1") as server:
        job = wait_for(lambda: (j := server.request("GET", "/api/jobs")[1]["jobs"][0])["state"] == "done" and j,
                       120, "the resumed render done")
    assert job["runs"] == 2 and job["id"] == body["job"]
    assert job["resumed_frames"] >= sum(frames for frames, _ in before.values())  # none of them rendered again
    times, frames = video_frames(folder / "long-styled.mp4")
    assert len(frames) == 200 and times == sorted(times) and times[-1] == pytest.approx(199 / FPS, abs=1e-3)
    assert not (folder / ".long-styled.mp4.stylecast-chunks").exists()


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio")
    _clip(folder / "cut.mp4")
    with _studio(folder, "--max-upload-mb", "1") as server:
        server.folder = folder
        yield server


@pytest.mark.parametrize("name, body, status, words", [
    ("../evil.mp4", b"x", 400, "name in the folder"),
    ("notes.txt", b"x", 400, "upload a video clip"),
    ("junk.mp4", b"not a video at all" * 100, 415, "not a video"),
    ("cut.mp4", b"x", 409, "already in the folder"),
    ("big.mp4", b"\0" * (2 << 20), 413, "over 1 MB"),
    ("empty.mp4", b"", 400, "empty"),
])
@pytest.mark.quick
def test_a_bad_upload_is_a_clear_4xx_and_leaves_nothing(studio, name, body, status, words):
    got, reply = studio.request("POST", f"/api/upload?name={name}", body)
    assert got == status and words in reply["error"], reply
    if status != 409:
        assert not (studio.folder / Path(name).name).exists()
    assert not any((studio.folder / ".stylecast" / "uploads").iterdir())


@pytest.mark.quick
def test_a_good_upload_is_listed(studio, tmp_path):
    clip = _clip(tmp_path / "second.mp4", seconds=1.0, cuts=())
    status, reply = studio.request("POST", "/api/upload?name=second.mp4", clip.read_bytes())
    assert status == 201 and reply["bytes"] == clip.stat().st_size
    assert "second.mp4" in studio.request("GET", "/api/media")[1]["media"]


@pytest.mark.parametrize("method, path, body, status, words", [
    ("POST", "/api/projects", {"media": "missing.mp4"}, 404, "not found"),
    ("POST", "/api/projects", {"media": "../cut.mp4"}, 400, "name in the folder"),
    ("POST", "/api/projects", {"media": "/etc/passwd"}, 400, "name in the folder"),
    ("GET", "/api/projects/999", None, 404, "project 999 not found"),
    ("PUT", "/api/projects/{p}/looks/1", {"style": "nope"}, 400, "unknown style"),
    ("PUT", "/api/projects/{p}/looks/9", {"style": "mosaic"}, 404, "shot 9 not found"),
    ("PUT", "/api/projects/{p}/looks/1", {"brush": 2}, 400, "unknown look field"),
    ("PUT", "/api/projects/{p}/looks/1", {"strength": 3}, 400, "strength"),
    ("PUT", "/api/projects/{p}/looks/1", {"style": "../x.png"}, 400, "its name in the folder"),
    ("POST", "/api/projects/{p}/render", {"output": "../out.mp4"}, 400, "name in the folder"),
    ("POST", "/api/projects/{p}/render", {"output": "out.xyz"}, 400, ".xyz"),
    ("POST", "/api/projects/{p}/render", {"output": "cut.mp4"}, 409, "cut.mp4 is already the clip"),
    ("POST", "/api/projects/{p}/merge", {"shot": 2}, 400, "no next shot"),
    ("POST", "/api/projects/{p}/merge", {"shot": 7}, 404, "no longer in the cut"),
    ("POST", "/api/projects/{p}/split", {"frame": 0}, 400, "split at a frame"),
    ("GET", "/api/jobs/999/download", None, 404, "job 999 not found"),
    ("POST", "/api/projects", {"media": "cut.mp4", "shots": "nope.edl"}, 404, "shot list not found"),
    ("POST", "/api/projects", {"media": "cut.mp4", "shots": "cut.mp4"}, 400, "a shot list is"),
    ("GET", "/api/previews/..%2Fstudio.sqlite", None, 400, "name in the folder"),
])
def test_bad_names_paths_and_looks_are_clear_4xx(studio, method, path, body, status, words):
    project = _opened(studio, "cut.mp4")
    path = path.format(p=project["id"])
    if method == "PUT" or path.endswith(("/merge", "/split")):
        got, reply = _change(studio, method, path, body)
    else:
        got, reply = studio.request(method, path, None if body is None else json.dumps(body).encode())
    assert got == status and words in reply.get("error", ""), reply


@pytest.mark.quick
def test_merge_and_split_keep_each_shot_its_look(studio):
    project = _opened(studio, "cut.mp4")
    pid = project["id"]
    _change(studio, "PUT", f"/api/projects/{pid}/looks/2", {"style": "mosaic"})
    status, split = _change(studio, "POST", f"/api/projects/{pid}/split", {"frame": 70})
    assert status == 200 and [s["first_frame"] for s in split["shots"]] == [0, 50, 70]
    assert [(s["look"] or {}).get("style") for s in split["shots"]] == [None, "mosaic", "mosaic"]
    assert [s["id"] for s in split["shots"]] == [1, 2, 3]  # the new shot gets a new id
    status, merged = _change(studio, "POST", f"/api/projects/{pid}/merge", {"shot": 1})
    assert [s["first_frame"] for s in merged["shots"]] == [0, 70]
    assert [(s["look"] or {}).get("style") for s in merged["shots"]] == [None, "mosaic"]
    assert [s["id"] for s in merged["shots"]] == [1, 3]  # each shot keeps its id; shot 2's is gone
    thumb = studio.request("GET", f"/api/projects/{pid}/shots/3.jpg")
    assert thumb[0] == 200 and thumb[1]["bytes"] > 500
    assert studio.request("GET", f"/api/projects/{pid}/shots/2.jpg")[0] == 404


def test_a_range_renders_in_one_piece_and_an_image_sequence_opens_too(studio):
    project = _opened(studio, "cut.mp4")
    status, body = studio.request("POST", f"/api/projects/{project['id']}/render",
                                  json.dumps({"output": "middle.mp4", "from": "1", "to": "00:00:03:00"}).encode())
    assert status == 201, body
    job = wait_for(lambda: (j := _job(studio, body["job"]))["state"] in ("done", "failed") and j, 60, "the range")
    assert job["state"] == "done", job
    times, _ = video_frames(studio.folder / "middle.mp4")
    assert len(times) == 50 and times[0] == pytest.approx(0.0)
    write_test_sequence(studio.folder / "plates", range(1001, 1049), fps=24.0, width=W, height=H)
    assert "plates" in studio.request("GET", "/api/media")[1]["media"]
    plates = _opened(studio, "plates")
    assert plates["frames"] == 48 and plates["rate"] == "24"
    _, body = studio.request("POST", f"/api/projects/{plates['id']}/render", json.dumps({"output": "plates.mov"}).encode())
    job = wait_for(lambda: (j := _job(studio, body["job"]))["state"] in ("done", "failed") and j, 60, "the sequence")
    assert job["state"] == "done", job
    assert len(video_frames(studio.folder / "plates.mov")[1]) == 48


def _job(server, job: int) -> dict:
    return next(j for j in server.request("GET", "/api/jobs")[1]["jobs"] if j["id"] == job)


@pytest.mark.alone  # it measures time: a cancel within 2 s
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="training a painted shot's network needs torch")
def test_a_shot_can_take_a_painted_keyframe_and_the_looks_file_carries_it(studio):
    from PIL import Image

    Image.new("RGB", (W, H), (200, 40, 40)).save(studio.folder / "painted.png")
    project = _opened(studio, "cut.mp4")
    pid = project["id"]
    look = {"keyframe": {"frame": 25, "image": "painted.png"}, "strength": 0.9}
    status, reply = _change(studio, "PUT", f"/api/projects/{pid}/looks/1", look)
    assert status == 200 and reply["shots"][0]["look"]["keyframe"] == [{"frame": 25, "image": "painted.png"}]
    for bad, words in (({"keyframe": {"frame": 25, "image": "missing.png"}}, "not found in the folder"),
                       ({"keyframe": {"frame": 900, "image": "painted.png"}}, "frame 900 is outside shot 1"),
                       ({"keyframe": {"frame": 25, "image": "painted.png"}, "style": "mosaic"}, "not both")):
        status, reply = _change(studio, "PUT", f"/api/projects/{pid}/looks/1", bad)
        assert status == 400 and words in reply["error"], reply
    _, body = studio.request("POST", f"/api/projects/{pid}/render", json.dumps({"output": "painted.mp4"}).encode())
    # training takes minutes: the page shows it with its loss; cancelled there, the files are what is checked
    phase = wait_for(lambda: "loss" in (_job(studio, body["job"]).get("phase") or "") and _job(studio, body["job"])["phase"],
                     60, "the training's steps shown on the job")
    assert phase.startswith("painting shot 1: ") and "% (step " in phase and "loss" in phase  # "12% (step 40, loss 0.41)"
    assert _job(studio, body["job"])["training"]["total"] == 100  # percent of its time budget
    asked = time.monotonic()
    studio.request("POST", f"/api/jobs/{body['job']}/cancel")
    job = wait_for(lambda: (j := _job(studio, body["job"]))["state"] in ("cancelled", "done", "failed") and j, 60,
                   "the job stopped")
    assert time.monotonic() - asked <= 2.0  # stopped at the training's next step
    assert job["state"] == "cancelled" and not (studio.folder / "painted.mp4").exists()
    assert not (studio.folder / "cut.looks.json").exists()  # nothing written beside the clip
    own = json.loads((studio.folder / ".stylecast" / "jobs" / f"job-{body['job']}.looks.json").read_text())
    assert own["looks"][0]["keyframe"][0]["image"] == str(studio.folder.resolve() / "painted.png")


@pytest.mark.parametrize("fmt", ["edl", "xml", "otio"])
def test_the_cut_goes_to_an_editor_and_comes_back_with_its_looks(studio, fmt):
    project = _opened(studio, "cut.mp4")
    pid = project["id"]
    _change(studio, "POST", f"/api/projects/{pid}/split", {"frame": 75})
    _change(studio, "PUT", f"/api/projects/{pid}/looks/2", {"style": "mosaic"})
    _change(studio, "PUT", f"/api/projects/{pid}/looks/3", {"style": "cubist"})
    with urllib.request.urlopen(f"{studio.base}/api/projects/{pid}/cut.{fmt}") as reply:
        assert reply.status == 200 and f'filename="cut.{fmt}"' in reply.headers["Content-Disposition"]
        (studio.folder / f"edit.{fmt}").write_bytes(reply.read())
    assert f"edit.{fmt}" in studio.request("GET", "/api/media")[1]["shot_lists"]
    status, reply = studio.request("POST", "/api/projects", json.dumps({"media": "cut.mp4", "shots": f"edit.{fmt}"}).encode())
    back = wait_for(lambda: (p := studio.request("GET", f"/api/projects/{reply['id']}")[1])["state"] != "finding" and p,
                    30, "the shot list read")
    assert back["state"] == "ready", back
    assert [s["first_frame"] for s in back["shots"]] == [0, 50, 75]  # every cut on its frame
    assert [(s["look"] or {}).get("style") for s in back["shots"]] == [None, "mosaic", "cubist"]


def test_a_studio_with_a_token_refuses_requests_without_it(tmp_path):
    with _studio(tmp_path, "--token", "s3cret") as server:
        assert server.request("GET", "/api/media", token=False)[0] == 401
        assert server.request("GET", "/api/media")[0] == 200
        assert "token=s3cret" in server.url


def test_cancel_stops_a_render_and_leaves_no_output(studio):
    project = _opened(studio, "cut.mp4")
    _, body = studio.request("POST", f"/api/projects/{project['id']}/render",
                             json.dumps({"output": "cancelled.mp4"}).encode())
    studio.request("POST", f"/api/jobs/{body['job']}/cancel")
    job = wait_for(lambda: (j := studio.request("GET", "/api/jobs")[1]["jobs"][-1])["state"] in ("cancelled", "done") and j,
                   60, "the job cancelled")
    assert job["state"] == "cancelled" and not (studio.folder / "cancelled.mp4").exists()
    assert not (studio.folder / ".cancelled.mp4.stylecast-chunks").exists()
