"""SMPTE timecode labels, as editing programs count them."""
from fractions import Fraction

import pytest

from engines.errors import OptionError
from stream.media.time_range import Place, TimeRange, parse_range
from stream.media.timecode import Timecode

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

NTSC, NTSC60 = Fraction(30000, 1001), Fraction(60000, 1001)


@pytest.mark.parametrize("rate, frames, label", [
    (Fraction(25), 90250, "01:00:10:00"),
    (Fraction(24000, 1001), 86400, "01:00:00:00"),   # 23.976 counts as 24
    (NTSC, 1799, "00:00:59;29"),
    (NTSC, 1800, "00:01:00;02"),                    # ;00 and ;01 skipped at the minute
    (NTSC, 17982, "00:10:00;00"),                   # but not at each tenth minute
    (NTSC, 107892, "01:00:00;00"),
    (NTSC60, 3600, "00:01:00;04"),
])
def test_labels_and_frame_counts_agree(rate, frames, label):
    assert str(Timecode(frames, rate, ";" in label)) == label
    assert Timecode.parse(label, rate).frames == frames


def test_labels_that_do_not_exist_are_refused():
    with pytest.raises(OptionError, match="drop-frame"):
        Timecode.parse("00:01:00;01", NTSC)
    with pytest.raises(OptionError, match="not a valid label"):
        Timecode.parse("00:00:00:25", Fraction(25))


def test_a_range_places_frames_before_in_the_warm_up_and_inside():
    span = TimeRange(2.0, 4.0, warmup=1.0)
    assert [span.place(t) for t in (0.5, 1.0, 1.96, 2.0, 3.96, 4.0)] == \
        [Place.BEFORE, Place.WARMUP, Place.WARMUP, Place.INSIDE, Place.INSIDE, Place.AFTER]
    assert parse_range("01:00:12:00", None, Fraction(25), Timecode.parse("01:00:10:00", Fraction(25)), 6.0).start == 2.0
