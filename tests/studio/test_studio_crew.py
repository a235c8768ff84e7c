"""A studio shared by a crew (issue #44): two tabs or two people on one project never lose each
other's edits (every change is made on the version it was made on: a stale one is refused, 412,
and the page says so, keeping what was typed), a shot is named by its id so a stale page cannot
put a look on the wrong shot, a look being edited is never dropped, nothing beside the clip is
ever written, ids are never given twice, a painted shot's training is shown with its steps and
can be cancelled, and the server stops at once on SIGTERM whatever it is doing. Each of these
failed on the studio before it; in real Chromium where it is about the page."""
from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for
from PIL import Image
from support.viewer import CHROMIUM, FLAGS, browser_missing
from test_studio import _change, _clip, _job, _opened, _studio

browser = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
W, H = 192, 108


def _hashes(folder: Path) -> dict[str, str]:
    """Every file outside .stylecast/: its name and its content's md5."""
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".stylecast" not in p.relative_to(folder).parts}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crew")
    _clip(folder / "bikes.mp4", seconds=3.0, cuts=(1.0, 2.0))
    with _studio(folder) as server:
        server.folder = folder
        yield server


def test_every_action_leaves_every_file_it_did_not_write_as_it_was(studio):
    folder = studio.folder
    (folder / "bikes.looks.json").write_text('{"looks": [], "note": "the grade the DP signed off"}\n')
    (folder / "bikes.shots.csv").write_text("shot,first_frame,last_frame\n1,0,74\n")
    before = _hashes(folder)
    one, two = _opened(studio, "bikes.mp4"), _opened(studio, "bikes.mp4")  # two projects of one clip
    assert (one["name"], two["name"]) == ("bikes.mp4", "bikes.mp4 (2)")  # told apart in the list
    for project in (one, two):
        pid = project["id"]
        assert _change(studio, "PUT", f"/api/projects/{pid}/looks/1", {"style": "mosaic", "strength": 0.6})[0] == 200
        assert _change(studio, "POST", f"/api/projects/{pid}/split", {"frame": 10})[0] == 200
        assert _change(studio, "POST", f"/api/projects/{pid}/merge", {"shot": 2})[0] == 200
        assert _change(studio, "POST", f"/api/projects/{pid}/undo")[0] == 200
        assert _change(studio, "PUT", f"/api/projects/{pid}/default-look", {"style": "woodcut"})[0] == 200
        for path in (f"/api/projects/{pid}/cut.otio", f"/api/projects/{pid}/cut.edl", f"/api/projects/{pid}/looks.json",
                     f"/api/projects/{pid}/shots/1.jpg", f"/api/projects/{pid}/frames/5.jpg?look=1"):
            assert studio.request("GET", path)[0] == 200, path
    preview = studio.request("POST", f"/api/projects/{one['id']}/shots/1/preview", json.dumps({"seconds": 1}).encode())[1]
    wait_for(lambda: studio.request("GET", f"/api/previews/{preview['key']}/state")[1]["state"] == "done", 60,
             "the preview")
    _, job = studio.request("POST", f"/api/projects/{one['id']}/render", json.dumps({"output": "cut A.mp4"}).encode())
    wait_for(lambda: _job(studio, job["job"])["state"] == "done", 120, "the render")
    _, job = studio.request("POST", f"/api/projects/{two['id']}/render", json.dumps({"output": "cut B.mp4"}).encode())
    wait_for(lambda: _job(studio, job["job"])["state"] == "done", 120, "the render")
    after = _hashes(folder)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing there before was changed
    assert sorted(set(after) - set(before)) == ["cut A.mp4", "cut B.mp4"]  # only the renders, as named
    # the two projects' looks are their own: each render read its own project's
    own = [json.loads((folder / ".stylecast" / "projects" / str(p["id"]) / "looks.json").read_text()) for p in (one, two)]
    assert own[0]["looks"][0]["style"] == own[1]["looks"][0]["style"] == "mosaic"


@pytest.mark.quick
def test_names_that_differ_only_by_case_are_one_name(studio, tmp_path):
    clip = _clip(tmp_path / "clip.mp4", seconds=1.0, cuts=())
    status, reply = studio.request("POST", "/api/upload?name=BIKES.MP4", clip.read_bytes())
    assert status == 409 and "as bikes.mp4" in reply["error"]
    assert not (studio.folder / "BIKES.MP4").exists()
    project = _opened(studio, "bikes.mp4")
    status, reply = studio.request("POST", f"/api/projects/{project['id']}/render",
                                   json.dumps({"output": "Bikes.MP4"}).encode())
    assert status == 409 and "one name" in reply["error"]


@pytest.mark.quick
def test_a_stale_change_is_refused_and_a_shot_is_named_by_its_id(studio):
    pid = _opened(studio, "bikes.mp4")["id"]
    shown = studio.request("GET", f"/api/projects/{pid}")  # what tab B shows: version and shots
    version = shown[1]["version"]
    status, reply = _change(studio, "PUT", f"/api/projects/{pid}/looks/2", {"style": "charcoal"}, tab="A")
    assert status == 200 and reply["version"] == version + 1
    stale = {"If-Match": f'"{version}"', "X-Stylecast-Tab": "B"}
    status, reply = studio.request("PUT", f"/api/projects/{pid}/looks/2", json.dumps({"style": "woodcut",
                                   "strength": 0.5}).encode(), stale)
    assert status == 412 and reply["error"] == "changed elsewhere: reload to see it"
    assert reply["change"] == {"what": "the look of shot 2", "by": "A"}
    assert studio.request("GET", f"/api/projects/{pid}")[1]["shots"][1]["look"]["style"] == "charcoal"  # A's kept
    # no version at all: refused, never applied blindly
    status, reply = studio.request("PUT", f"/api/projects/{pid}/looks/2", b'{"style": "mosaic"}')
    assert status == 428 and "If-Match" in reply["error"]
    # A merges shots 1 and 2; B, on the version it saw, saves on its shot 2 (frames 25-49): refused,
    # and by the shot's id the merged shot is gone, so not even a fresh version lands on frames 50-74
    _change(studio, "POST", f"/api/projects/{pid}/merge", {"shot": 1}, tab="A")
    status, _ = studio.request("PUT", f"/api/projects/{pid}/looks/2", b'{"style": "ribbons"}', stale)
    assert status == 412
    status, reply = _change(studio, "PUT", f"/api/projects/{pid}/looks/2", {"style": "ribbons"}, tab="B")
    assert status == 404 and "no longer in the cut" in reply["error"]
    shots = studio.request("GET", f"/api/projects/{pid}")[1]["shots"]
    assert [(s["id"], s["first_frame"], (s["look"] or {}).get("style")) for s in shots] == [(1, 0, None), (3, 50, None)]


@pytest.mark.quick
def test_fifty_random_edits_from_two_tabs_lose_nothing(studio):
    """Two tabs edit one project at random (merge, split, looks, undo), each on the version it last
    saw; a refused change is reloaded and made again. The server's final state is every accepted
    change applied in order: none was lost or landed elsewhere."""
    pid = _opened(studio, "bikes.mp4")["id"]
    rng = random.Random(7)
    tabs = {name: studio.request("GET", f"/api/projects/{pid}")[1] for name in "AB"}
    accepted, refused = [], 0
    styles = ["mosaic", "woodcut", "charcoal", "cubist", "ribbons"]
    while len(accepted) < 50:
        name = rng.choice("AB")
        view = tabs[name]
        shots = view["shots"]
        kind = rng.choice(["look", "look", "split", "merge", "undo"])
        if kind == "look":
            shot = rng.choice(shots)
            path, body, method = f"/api/projects/{pid}/looks/{shot['id']}", {"style": rng.choice(styles)}, "PUT"
        elif kind == "split":
            shot = rng.choice([s for s in shots if s["frames"] > 2] or shots)
            path, body, method = f"/api/projects/{pid}/split", {"frame": shot["first_frame"] + 1}, "POST"
        elif kind == "merge" and len(shots) > 1:
            path, body, method = f"/api/projects/{pid}/merge", {"shot": rng.choice(shots[:-1])["id"]}, "POST"
        else:
            path, body, method = f"/api/projects/{pid}/undo", None, "POST"
        status, reply = studio.request(method, path, None if body is None else json.dumps(body).encode(),
                                       {"If-Match": f'"{view["version"]}"', "X-Stylecast-Tab": name})
        if status == 412:
            refused += 1
            tabs[name] = studio.request("GET", f"/api/projects/{pid}")[1]  # reload, as the page offers
            continue
        if status == 400:  # nothing to undo, a split on a cut: said, nothing changed
            continue
        assert status == 200, reply
        accepted.append((kind, body, view, reply))
        tabs[name] = reply
    assert refused > 0  # the tabs did get in each other's way
    for kind, body, before, after in accepted:  # made on the state it was made on, each did just what it said
        assert after["version"] == before["version"] + 1
        was = {s["id"]: s for s in before["shots"]}
        now = {s["id"]: s for s in after["shots"]}
        if kind == "look":
            changed = [i for i in now if (now[i]["look"] or {}) != (was.get(i, {}).get("look") or {})]
            assert len(changed) <= 1 and [now[i]["first_frame"] for i in now] == [was[i]["first_frame"] for i in was]
            assert not changed or now[changed[0]]["look"]["style"] == body["style"]
        elif kind == "split":
            assert sorted(s["first_frame"] for s in after["shots"]) == sorted([*(s["first_frame"] for s in before["shots"]),
                                                                               body["frame"]])
            assert set(was) < set(now) and len(now) == len(was) + 1  # every shot keeps its id; one new
        elif kind == "merge":
            gone = set(was) - set(now)
            assert len(gone) == 1 and set(now) < set(was) and body["shot"] in now
            assert all((now[i]["look"] or {}) == (was[i]["look"] or {}) for i in now)
    final = studio.request("GET", f"/api/projects/{pid}")[1]
    last = accepted[-1][3]
    assert {k: v for k, v in final.items() if k != "suggested_output"} == \
        {k: v for k, v in last.items() if k != "suggested_output"}  # the last accepted change is the state
    versions = [after["version"] for *_, after in accepted]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)  # one line of changes


def test_a_deleted_jobs_id_is_never_given_again(studio):
    project = _opened(studio, "bikes.mp4")
    _, first = studio.request("POST", f"/api/projects/{project['id']}/render", json.dumps({"output": "ids-1.mp4"}).encode())
    wait_for(lambda: _job(studio, first["job"])["state"] == "done", 120, "the render")
    assert studio.request("DELETE", f"/api/jobs/{first['job']}")[0] == 200
    _, second = studio.request("POST", f"/api/projects/{project['id']}/render", json.dumps({"output": "ids-2.mp4"}).encode())
    assert second["job"] > first["job"]
    status, reply = studio.request("GET", f"/api/jobs/{first['job']}/download")
    assert status == 404 and "not found" in reply["error"]
    studio.request("POST", f"/api/jobs/{second['job']}/cancel")
    # a deleted project's id too
    assert studio.request("DELETE", f"/api/projects/{project['id']}")[0] in (200, 400)
    assert _opened(studio, "bikes.mp4")["id"] > project["id"]


@browser
def test_two_tabs_a_stale_save_is_refused_kept_and_made_again_after_a_reload(studio):
    from playwright.sync_api import expect, sync_playwright

    pid = _opened(studio, "bikes.mp4")["id"]
    _change(studio, "PUT", f"/api/projects/{pid}/looks/2", {"style": "woodcut"})
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        a, b = (chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page() for _ in range(2))
        for page in (a, b):
            page.goto(f"{studio.url}#project={pid}")
            expect(page.locator("#strip li")).to_have_count(3, timeout=30000)
            page.locator("#strip li").nth(1).locator("img").click()  # the picture: never the card's merge button
        # B moves strength (not saved yet); A sets shot 2 to charcoal and saves
        b.eval_on_selector("#strength", "el => { el.value = 0.5; el.dispatchEvent(new Event('input')); }")
        a.locator("#gallery button[data-style=charcoal]").click()
        a.click("#save-look")
        expect(a.locator("#saved")).to_have_text("✓ saved")
        # B is told another tab changed it, and its save is refused, not written over A's
        expect(b.locator("#stale")).to_be_visible(timeout=10000)
        b.click("#save-look")
        expect(b.locator("#look-error")).to_contain_text("changed elsewhere: reload to see it")
        expect(b.locator("#saved")).to_have_text("unsaved changes")  # never "✓ saved"
        assert _get_look(studio, pid, 1) == {"style": "charcoal", "strength": 1, "stability": 0.8, "keep_colors": False}
        # reloaded, B shows charcoal with its own strength kept, and saves it on top of A's
        b.click("#stale-reload")
        expect(b.locator("#style")).to_have_value("charcoal")
        expect(b.locator("#strength")).to_have_value("0.5")
        b.click("#save-look")
        expect(b.locator("#saved")).to_have_text("✓ saved")
        assert _get_look(studio, pid, 1) == {"style": "charcoal", "strength": 0.5, "stability": 0.8,
                                                    "keep_colors": False}
        # A, with nothing unsaved, follows B's change and says who made it
        expect(a.locator("#elsewhere")).to_contain_text("another tab changed this project")
        expect(a.locator("#strength")).to_have_value("0.5")
        # A merges shots 1 and 2; B, with an unsaved look on its shot 2, cannot put it on frames 50-74
        b.locator("#gallery button[data-style=ribbons]").click()
        a.locator("#strip li").nth(0).locator("button.merge").click()
        expect(a.locator("#strip li")).to_have_count(2)
        b.click("#save-look")
        expect(b.locator("#look-error")).to_contain_text("changed elsewhere")
        shots = studio.request("GET", f"/api/projects/{pid}")[1]["shots"]
        assert [(s["look"] or {}).get("style") for s in shots] == [None, None]
        chromium.close()


def _get_look(studio, pid: int, index: int) -> dict | None:
    return studio.request("GET", f"/api/projects/{pid}")[1]["shots"][index]["look"]


@browser
def test_an_unsaved_look_is_never_dropped_by_a_split_a_click_or_a_key(studio):
    from playwright.sync_api import expect, sync_playwright

    pid = _opened(studio, "bikes.mp4")["id"]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{studio.url}#project={pid}")
        strip = page.locator("#strip li")
        expect(strip).to_have_count(3, timeout=30000)
        strength = "el => { el.value = %s; el.dispatchEvent(new Event('input')); }"
        # clicking the shot already shown keeps the edit as it is
        page.eval_on_selector("#strength", strength % 0.4)
        strip.nth(0).locator("img").click()
        expect(page.locator("#strength")).to_have_value("0.4")
        expect(page.locator("#saved")).to_have_text("unsaved changes")
        # a split saves it first: the edit is in both parts
        page.fill("#playhead-frame", "10")
        page.press("#playhead-frame", "Enter")
        page.click("#split")
        expect(strip).to_have_count(4)
        looks = [s["look"] for s in studio.request("GET", f"/api/projects/{pid}")[1]["shots"]]
        assert looks[0]["strength"] == looks[1]["strength"] == 0.4
        # a key on a focused control is the control's: space presses the button, not the playhead;
        # ArrowRight moves the slider, not to the next shot
        page.focus("#strength")
        page.keyboard.press("ArrowRight")
        expect(page.locator("#strength")).to_have_value("0.45")
        expect(strip.nth(0)).to_have_class("selected")
        # Ctrl+Z with an unsaved edit asks, and takes back only the edit
        page.on("dialog", lambda dialog: dialog.accept())
        page.focus("#timeline")
        page.keyboard.press("Control+z")
        expect(page.locator("#strength")).to_have_value("0.4")
        expect(strip).to_have_count(4)  # the split stays
        chromium.close()


@browser
def test_the_wipe_halves_are_one_size_at_every_window_size_and_long_names_stay_in_the_page(studio, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    long_name = "Szene " + "ä" * 110 + ".mp4"  # 236 bytes of UTF-8
    clip = _clip(tmp_path / "clip.mp4", seconds=1.0, cuts=())
    status, _ = studio.request("POST", f"/api/upload?name={urllib.parse.quote(long_name)}", clip.read_bytes())
    assert status == 201
    pid = _opened(studio, long_name)["id"]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for width, height in ((1280, 900), (700, 900)):
            page = chromium.new_page(viewport={"width": width, "height": height})
            page.goto(f"{studio.url}#project={pid}")
            expect(page.locator("#strip li")).to_have_count(1, timeout=30000)
            page.wait_for_function("document.getElementById('wipe-after').naturalWidth > 0 && "
                                   "document.getElementById('wipe-before').naturalWidth > 0", timeout=20000)
            before = page.locator("#wipe-before").bounding_box()
            after = page.locator("#wipe-after").bounding_box()
            slider = page.locator("#wipe-position").bounding_box()
            assert abs(before["height"] - after["height"]) < 1 and abs(before["width"] - after["width"]) < 1
            assert abs(before["y"] - after["y"]) < 1 and slider["y"] >= before["y"] + before["height"] - 1
            page.screenshot(path=str(tmp_path / f"wipe-{width}.png"))
            shot = np.asarray(Image.open(tmp_path / f"wipe-{width}.png"))
            assert shot.shape[1] == width
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # the long name is cut, not wider
            name = page.locator("#project-list li.current .reopen")
            assert name.get_attribute("title").endswith(long_name + " again")
            expect(page.locator("#range-unit")).to_contain_text("seconds")
            page.close()
        chromium.close()


@pytest.fixture
def painted_studio(tmp_path):
    folder = tmp_path / "painted"
    folder.mkdir()
    _clip(folder / "shot.mp4", seconds=2.0, cuts=())
    Image.new("RGB", (W, H), (200, 40, 40)).save(folder / "painted.png")
    return folder


@pytest.mark.alone  # it measures time
def test_a_painted_preview_shows_its_training_cancels_within_2_s_and_sigterm_stops_the_server_within_5_s(painted_studio):
    pytest.importorskip("torch", reason="training a painted shot's network needs torch")
    with _studio(painted_studio) as server:
        pid = _opened(server, "shot.mp4")["id"]
        _change(server, "PUT", f"/api/projects/{pid}/looks/1", {"keyframe": {"frame": 10, "image": "painted.png"}})
        status, started = server.request("POST", f"/api/projects/{pid}/shots/1/preview", b"{}")
        assert status == 202 and started["state"] == "running"
        key = started["key"]
        state = wait_for(lambda: (s := server.request("GET", f"/api/previews/{key}/state")[1]).get("training")
                         and s["done"] >= 2 and s["eta_s"] is not None and s, 60, "training steps shown")
        assert state["total"] == 100 and state["info"].startswith("step ") and "loss" in state["info"]
        assert 0 < state["progress"] < 1 and state["eta_s"] is not None  # percent of the preview's training budget
        asked = time.monotonic()
        server.request("POST", f"/api/previews/{key}/cancel")
        wait_for(lambda: server.request("GET", f"/api/previews/{key}/state")[1]["state"] == "cancelled", 5,
                 "the preview cancelled")
        assert time.monotonic() - asked <= 2.0
        # again, and this time the server is stopped in the middle of the training
        server.request("POST", f"/api/projects/{pid}/shots/1/preview", b"{}")
        wait_for(lambda: (s := server.request("GET", f"/api/previews/{key}/state")[1]).get("training") and s["done"] >= 1,
                 60, "training again")
        asked = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(10)
        assert time.monotonic() - asked <= 5.0 and server.proc.returncode == 0
        server.returncode = 0
    with _studio(painted_studio) as server:  # after a restart the page is told the preview was stopped
        status, reply = server.request("GET", f"/api/previews/{key}/state")
        assert status == 404 and "stopped when the server stopped" in reply["error"]


@browser
def test_the_page_shows_a_painted_previews_training_and_cancels_it(painted_studio):
    pytest.importorskip("torch", reason="training a painted shot's network needs torch")
    from playwright.sync_api import expect, sync_playwright

    with _studio(painted_studio) as server, sync_playwright() as p:
        pid = _opened(server, "shot.mp4")["id"]
        _change(server, "PUT", f"/api/projects/{pid}/looks/1", {"keyframe": {"frame": 10, "image": "painted.png"}})
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{server.url}#project={pid}")
        expect(page.locator("#strip li")).to_have_count(1, timeout=30000)
        page.click("#preview")
        expect(page.locator("#flicker")).to_contain_text("training the painting's network: ", timeout=60000)
        expect(page.locator("#flicker")).to_contain_text(re.compile(r"\d+% \(step \d+, loss"), timeout=60000)  # slower on a busy machine
        expect(page.locator("#preview-progress")).to_be_visible()
        page.click("#preview-cancel")
        expect(page.locator("#look-error")).to_contain_text("the preview cancelled", timeout=5000)
        chromium.close()
