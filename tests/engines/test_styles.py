"""Every built-in style runs and looks different; names, indices, blends, strength and colours work."""
import json

import cv2
import numpy as np
import pytest
from conftest import H, W, one_error_line, run_cli

from engines import BUILTIN_NAMES, Mix, open_engine, resolve
from engines.errors import StyleError
from stream.media.testsrc import TestScene

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


@pytest.fixture(scope="module")
def picture():
    return TestScene(W, H).frame(0.5)


@pytest.fixture(scope="module")
def engine():
    return open_engine("cpu", "0")


def test_all_26_builtin_styles_run_and_differ(engine, picture):
    outputs = []
    for index in range(26):
        engine.set_style(str(index))
        out = engine.stylize_one(picture)
        assert out.shape == picture.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - picture).mean() > 15, BUILTIN_NAMES[index]
        outputs.append(out.astype(int))
    distances = [np.abs(a - b).mean() for i, a in enumerate(outputs) for b in outputs[i + 1:]]
    assert min(distances) > 5  # no two styles are the same


def test_name_and_index_are_the_same_style(engine, picture):
    engine.set_style("19")
    by_index = engine.stylize_one(picture)
    engine.set_style("starry-night")
    assert np.array_equal(engine.stylize_one(picture), by_index)


def test_odd_sizes_are_padded_and_cropped_back(engine):
    odd = TestScene(W, H).frame(0.1)[:97, :131]
    assert engine.stylize_one(np.ascontiguousarray(odd)).shape == (97, 131, 3)


def test_blend_lies_between_its_styles(engine, picture):
    outs = {}
    for spec in ("3", "mosaic", "3:0.5,mosaic:0.5"):
        engine.set_style(spec)
        outs[spec] = engine.stylize_one(picture).astype(int)
    blend = outs["3:0.5,mosaic:0.5"]
    assert np.abs(blend - outs["3"]).mean() > 5 and np.abs(blend - outs["mosaic"]).mean() > 5
    assert resolve("3:1,25:1").name == "ribbons:0.5,mosaic:0.5"
    assert resolve("starry-night:2").name == "starry-night"


@pytest.mark.parametrize("spec,message", [("starry-nite", "did you mean starry-night"), ("26", "0 to 25"),
                                          ("3:-1", "not negative"), ("3:x", "bad blend weight"),
                                          ("3:0", "no weight"), ("missing.jpg", "not found")])
def test_bad_style_specs_say_why(spec, message):
    with pytest.raises(StyleError, match=message):
        resolve(spec)


def test_strength_and_keep_colors(engine, picture):
    engine.set_style("red-flame")
    full = engine.stylize_one(picture).astype(int)
    engine.set_mix(Mix(strength=0.0))
    assert np.array_equal(engine.stylize_one(picture), picture)
    engine.set_mix(Mix(strength=0.5))
    half = engine.stylize_one(picture).astype(int)
    assert np.abs(half - (full + picture) / 2).max() <= 1
    engine.set_mix(Mix(keep_colors=True))
    kept = engine.stylize_one(picture)
    chroma = lambda im: cv2.cvtColor(im.astype(np.uint8), cv2.COLOR_RGB2YCrCb)[..., 1:].astype(int)
    luma = lambda im: cv2.cvtColor(im.astype(np.uint8), cv2.COLOR_RGB2YCrCb)[..., 0].astype(int)
    assert np.abs(chroma(kept) - chroma(picture)).mean() < 3 < np.abs(chroma(full) - chroma(picture)).mean()
    assert np.abs(luma(kept) - luma(full)).mean() < 3
    engine.set_mix(Mix())


def test_image_style_vector_is_computed_once(tmp_path, picture, monkeypatch):
    import engines.runtimes.cpu as cpu

    calls = []
    real = cpu.style_vector
    monkeypatch.setattr(cpu, "style_vector", lambda *a: calls.append(1) or real(*a))
    painting = tmp_path / "painting.png"
    stripes = np.zeros((300, 200, 3), np.uint8)
    stripes[::20] = (255, 40, 0)
    stripes[:, ::15] = (0, 80, 255)
    cv2.imwrite(str(painting), stripes)
    engine = open_engine("cpu", str(painting))
    wide = cv2.resize(picture, (400, 150))
    outs = [engine.stylize_one(wide) for _ in range(3)]
    assert len(calls) == 1
    assert outs[0].shape == wide.shape and np.abs(outs[0].astype(int) - wide).mean() > 20
    assert np.array_equal(outs[0], outs[2])


def test_styles_command_lists_26_unique_names():
    code, out, _ = run_cli("styles", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 26 and len({r["name"] for r in rows}) == 26
    assert rows[19] == {"name": "starry-night", "index": 19, "kind": "builtin",
                        "source": rows[19]["source"]} and "Apache-2.0" in rows[19]["source"]


def test_contact_sheet(tmp_path, picture):
    image = tmp_path / "me.png"
    cv2.imwrite(str(image), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    sheet = tmp_path / "sheet.png"
    code, out, err = run_cli("sheet", image, "-o", sheet, "--tile", "96")
    assert code == 0, err
    grid = cv2.imread(str(sheet))
    assert grid.shape[1] == 6 * (96 + 6) + 6 and grid.shape[0] > 4 * 54  # 27 tiles in 5 rows
    code, _, err = run_cli("sheet", image, "-o", sheet, "--tile", "96")
    assert code == 2 and "exists" in one_error_line(err)
