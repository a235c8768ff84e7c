"""The README's pictures, from real footage: a contact sheet of every built-in style and a
before/after strip (original, a built-in style, a blend, keep-colors).

    python -m docs.tools.make_pictures   # writes docs/images/styles.png and docs/images/before_after.png
"""
from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
from bench.clips import real_clip  # noqa: E402
from engines import Mix, open_engine  # noqa: E402
from engines.sheet import contact_sheet  # noqa: E402


def frame_at(clip: Path, index: int) -> np.ndarray:
    with av.open(str(clip)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == index:
                return f.to_ndarray(format="rgb24")
    raise SystemExit(f"{clip} has fewer than {index + 1} frames")


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (8 + 9 * len(text), 22), (255, 255, 255), -1)
    cv2.putText(out, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def save(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    print(f"wrote {path.relative_to(ROOT)} ({rgb.shape[1]}x{rgb.shape[0]})")


def main() -> None:
    images = ROOT / "docs" / "images"
    picture = frame_at(real_clip("bikes"), 120)
    engine = open_engine("cpu", "0")
    save(images / "styles.png", contact_sheet(engine, picture, tile=256))
    film = frame_at(real_clip("bigbuckbunny"), 60)
    film = cv2.resize(film, (640, 360), interpolation=cv2.INTER_AREA)
    tiles = [labelled(film, "original")]
    for spec, mix, label in (("starry-night", Mix(), "starry-night"),
                              ("mosaic:0.5,ice-wash:0.5", Mix(), "blend mosaic:0.5,ice-wash:0.5"),
                              ("red-flame", Mix(keep_colors=True), "red-flame --keep-colors")):
        engine.set_style(spec)
        engine.set_mix(mix)
        tiles.append(labelled(engine.stylize_one(film), label))
    grid = np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])
    save(images / "before_after.png", grid)


if __name__ == "__main__":
    main()
