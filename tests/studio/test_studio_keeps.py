"""The studio keeps a crew's work (issue #37): nothing in the folder is overwritten, each job keeps
and downloads its own file, a reload comes back to the project with its looks, merge, split and
looks are undone and redone, a bad look is refused when saved with its error beside its control,
exports carry the whole look, and names crews really use (spaces, punctuation, Unicode) work end to
end. In real Chromium against a real `stylecast studio` process, and through its routes."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from conftest import video_frames, wait_for
from support.viewer import CHROMIUM, FLAGS, browser_missing
from test_studio import _change, _clip, _job, _opened, _studio

from stream.media.testsrc import write_test_sequence

browser = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keeps")
    _clip(folder / "bikes.mp4", seconds=2.0, cuts=(1.0,))
    _clip(folder / "kenburns.mp4", seconds=1.0, cuts=())
    with _studio(folder) as server:
        server.folder = folder
        yield server


def _render(server, project: int, **body) -> tuple[int, dict]:
    return server.request("POST", f"/api/projects/{project}/render", json.dumps(body).encode())


def _finished(server, job: int) -> dict:
    return wait_for(lambda: (j := _job(server, job))["state"] in ("done", "failed") and j, 120, f"job {job}")


def test_nothing_in_the_folder_is_overwritten_and_each_job_downloads_its_own_file(studio):
    project = _opened(studio, "bikes.mp4")
    before = (studio.folder / "kenburns.mp4").read_bytes()
    status, reply = _render(studio, project["id"], output="kenburns.mp4")
    assert status == 409 and "kenburns.mp4 is already something in the folder" in reply["error"]
    assert "kenburns-v2.mp4" in reply["error"] and (studio.folder / "kenburns.mp4").read_bytes() == before
    # the default name, twice: two files, each job its own
    first = project["suggested_output"]
    assert first == "bikes-styled.mp4"
    status, one = _render(studio, project["id"])
    assert status == 201 and one["output"] == "bikes-styled.mp4"
    assert studio.request("GET", f"/api/projects/{project['id']}")[1]["suggested_output"] == "bikes-styled-v2.mp4"
    status, two = _render(studio, project["id"], output="bikes-styled-v2.mp4")
    assert status == 201
    status, again = _render(studio, project["id"], output="bikes-styled.mp4")  # queued, not written yet: taken
    assert status == 409 and "already a render's output" in again["error"]
    jobs = [_finished(studio, one["job"]), _finished(studio, two["job"])]
    assert [j["state"] for j in jobs] == ["done", "done"] and all(j["fps"] and j["clip"] == "bikes.mp4" for j in jobs)
    for job, name in ((one["job"], "bikes-styled.mp4"), (two["job"], "bikes-styled-v2.mp4")):
        with urllib.request.urlopen(f"{studio.base}/api/jobs/{job}/download") as got:
            assert got.read() == (studio.folder / name).read_bytes()
    # a file put at a job's name since is not that job's: its download says so
    (studio.folder / "bikes-styled.mp4").write_bytes(before)
    status, reply = studio.request("GET", f"/api/jobs/{one['job']}/download")
    assert status == 410 and "no longer job" in reply["error"]


def test_a_bad_look_is_refused_when_saved_in_the_pages_words(studio):
    project = _opened(studio, "bikes.mp4")
    pid = project["id"]
    for look, words in (({"keyframes": [{"at": 999, "strength": 0.2}]}, "shot 1's look: keyframe 1: \"at\" 999 is outside shot 1"),
                        ({"keyframes": [{"at": 1, "brush": 3}]}, "unknown field 'brush'"),
                        ({"keyframes": [{"at": 0.8, "strength": 0.2}, {"at": 0.3, "strength": 1}]}, "in time order")):
        status, reply = _change(studio, "PUT", f"/api/projects/{pid}/looks/1", {"style": "mosaic", **look})
        assert status == 400 and words in reply["error"], reply
        assert ".json" not in reply["error"] and "/" not in reply["error"]  # no file of the server's named
    assert studio.request("GET", f"/api/projects/{pid}")[1]["shots"][0]["look"] is None  # nothing was saved
    good = {"style": "mosaic", "keyframes": [{"at": 0.5, "strength": 0.2}]}
    assert _change(studio, "PUT", f"/api/projects/{pid}/looks/1", good)[0] == 200


@pytest.mark.quick
def test_merge_split_and_looks_undo_and_redo(studio):
    project = _opened(studio, "bikes.mp4")
    pid = project["id"]
    assert project["undo"] is None and project["redo"] is None
    _change(studio, "PUT", f"/api/projects/{pid}/looks/1", {"style": "mosaic"})
    _, split = _change(studio, "POST", f"/api/projects/{pid}/split", {"frame": 10})
    assert [s["first_frame"] for s in split["shots"]] == [0, 10, 25] and split["undo"] == "split at frame 10"
    _, undone = _change(studio, "POST", f"/api/projects/{pid}/undo")
    assert [s["first_frame"] for s in undone["shots"]] == [0, 25] and undone["redo"] == "split at frame 10"
    _, undone = _change(studio, "POST", f"/api/projects/{pid}/undo")
    assert undone["shots"][0]["look"] is None and undone["undo"] is None
    assert _change(studio, "POST", f"/api/projects/{pid}/undo")[0] == 400
    _, redone = _change(studio, "POST", f"/api/projects/{pid}/redo")
    assert redone["shots"][0]["look"]["style"] == "mosaic"
    _, redone = _change(studio, "POST", f"/api/projects/{pid}/redo")
    assert [s["first_frame"] for s in redone["shots"]] == [0, 10, 25]
    # several shots at once, and the look of shots without one
    _, both = _change(studio, "PUT", f"/api/projects/{pid}/looks", {"shots": [2, 3], "look": {"style": "cubist"}})
    assert [(s["look"] or {}).get("style") for s in both["shots"]] == ["mosaic", "cubist", "cubist"]
    _, default = _change(studio, "PUT", f"/api/projects/{pid}/default-look", {"style": "woodcut"})
    assert default["default_look"] == {"style": "woodcut"}
    _, cleared = _change(studio, "PUT", f"/api/projects/{pid}/looks/1", {})
    assert cleared["shots"][0]["look"] is None and cleared["shots"][0]["renders"]["style"] == "woodcut"
    # a reopened project has all of it, the history too
    listed = studio.request("GET", "/api/projects")[1]["projects"]
    assert listed[0]["id"] == pid and listed[0]["shots"] == 3 and listed[0]["looks"] == 2
    assert studio.request("GET", f"/api/projects/{pid}")[1]["undo"] == "the look of shot 1"


@pytest.mark.quick
def test_exports_carry_the_whole_look(studio):
    project = _opened(studio, "bikes.mp4")
    pid = project["id"]
    look = {"style": "mosaic", "strength": 0.6, "keep_colors": True, "stability": 0.5,
            "keyframes": [{"at": 0.4, "strength": 0.2, "ease": "ease"}]}
    _change(studio, "PUT", f"/api/projects/{pid}/looks/2", look)
    for fmt in ("otio", "edl", "xml"):
        with urllib.request.urlopen(f"{studio.base}/api/projects/{pid}/cut.{fmt}") as reply:
            (studio.folder / f"whole.{fmt}").write_bytes(reply.read())
        _, opened = studio.request("POST", "/api/projects", json.dumps({"media": "bikes.mp4", "shots": f"whole.{fmt}"}).encode())
        back = wait_for(lambda: (p := studio.request("GET", f"/api/projects/{opened['id']}")[1])["state"] != "finding" and p,
                        30, "the cut read back")
        assert back["shots"][0]["look"] is None and back["shots"][1]["look"] == look, fmt


def test_a_looks_file_is_not_offered_as_a_shot_list_and_a_sequence_keeps_its_rate(studio):
    (studio.folder / "bikes.looks.json").write_text('{"looks": []}')
    (studio.folder / "bikes.shots.csv").write_text("shot,first_frame,last_frame\n1,0,49\n")
    lists = studio.request("GET", "/api/media")[1]["shot_lists"]
    assert "bikes.shots.csv" in lists and "bikes.looks.json" not in lists
    write_test_sequence(studio.folder / "plates 25", range(1, 51), fps=25.0, width=192, height=108)
    status, opened = studio.request("POST", "/api/projects", json.dumps({"media": "plates 25", "fps": 25}).encode())
    plates = wait_for(lambda: (p := studio.request("GET", f"/api/projects/{opened['id']}")[1])["state"] == "ready" and p,
                      30, "the pictures")
    assert plates["rate"] == "25" and plates["sequence"] is True and plates["timecode"] == "00:00:00:01"
    _, job = _render(studio, plates["id"], output="plates 25.mp4")
    assert _finished(studio, job["job"])["state"] == "done"
    times, frames = video_frames(studio.folder / "plates 25.mp4")
    assert len(frames) == 50 and times[-1] == pytest.approx(49 / 25)  # 2.0 s long, as at 25 frames/s


@pytest.mark.parametrize("name", ["take (2).mp4", "Szene 1 Über.mp4", "日本語.mp4", "a'b+c.mp4"])
def test_names_crews_use_upload_render_and_download(studio, tmp_path, name):
    clip = _clip(tmp_path / "clip.mp4", seconds=1.0, cuts=())
    status, up = studio.request("POST", f"/api/upload?name={urllib.parse.quote(name)}", clip.read_bytes())
    assert status == 201 and up["media"] == name and (studio.folder / name).read_bytes() == clip.read_bytes()
    project = _opened(studio, name)
    status, job = _render(studio, project["id"])
    assert status == 201 and job["output"] == name.rsplit(".", 1)[0] + "-styled.mp4"
    assert _finished(studio, job["job"])["state"] == "done"
    with urllib.request.urlopen(f"{studio.base}/api/jobs/{job['job']}/download") as got:
        assert urllib.parse.quote(job["output"]) in got.headers["Content-Disposition"]
        assert got.read() == (studio.folder / job["output"]).read_bytes()


@pytest.mark.parametrize("name, words", [("a" * 252 + ".mp4", "at most 255 bytes"), ("sub/clip.mp4", "not a path"),
                                         (".hidden.mp4", "hidden"), ("bad\x07.mp4", "control characters")])
def test_names_that_cannot_be_a_file_of_the_folder_are_refused_in_words(studio, name, words):
    status, reply = studio.request("POST", f"/api/upload?name={urllib.parse.quote(name)}", b"x" * 100)
    assert status == 400 and words in reply["error"], reply


@browser
def test_the_page_comes_back_after_a_reload_undoes_and_shows_each_error_beside_its_control(studio):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        assert page.goto(studio.url.split("?")[0] + "favicon.ico").ok
        page.goto(studio.url)
        page.select_option("#media", "bikes.mp4")
        page.click("#open")
        strip = page.locator("#strip li")
        expect(strip).to_have_count(2, timeout=30000)
        page.locator("#gallery button[data-style=mosaic]").click()
        expect(page.locator("#saved")).to_have_text("unsaved changes")
        strip.nth(1).click()  # moving on saves the change made to shot 1, never drops it
        expect(strip.nth(0).locator(".look-name")).to_have_text("mosaic")
        expect(strip.nth(1).locator(".look-name")).to_contain_text("default: starry-night")
        # a bad keyframe: refused, the error beside the look's buttons, in view
        page.fill("#keyframes", '[{"at": 999, "strength": 0.2}]')
        page.click("#save-look")
        error = page.locator("#look-error")
        expect(error).to_contain_text('"at" 999 is outside shot 2')
        box, button = error.bounding_box(), page.locator("#save-look").bounding_box()
        assert 0 < box["y"] - button["y"] < 120  # just under the button, not at the top of the page
        page.fill("#keyframes", "")
        # a render over a clip of the folder: refused beside the render button, with a free name offered
        page.fill("#output", "kenburns.mp4")
        page.click("#render-go")
        expect(page.locator("#render-error")).to_contain_text("kenburns-v2.mp4")
        # keys: the playhead to frame 40 and S splits there; Ctrl+Z takes it back
        page.fill("#playhead-frame", "40")
        page.press("#playhead-frame", "Enter")
        page.focus("#timeline")
        page.keyboard.press("s")
        expect(strip).to_have_count(3)
        expect(page.locator("#cut-error")).to_have_text("")
        page.keyboard.press("Control+z")
        expect(strip).to_have_count(2)
        page.keyboard.press("ArrowLeft")
        expect(strip.nth(0)).to_have_class("selected")
        # a reload comes back to the project, its looks and its history
        page.reload()
        expect(strip).to_have_count(2, timeout=30000)
        expect(strip.nth(0).locator(".look-name")).to_have_text("mosaic")
        expect(page.locator("#redo")).to_be_enabled()
        expect(page.locator("#project-list li.current")).to_contain_text("bikes.mp4")
        chromium.close()
