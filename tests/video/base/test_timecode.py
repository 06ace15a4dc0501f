"""Timecode labels <-> frame counts, drop-frame included, checked against hand-counted values."""

from __future__ import annotations

from fractions import Fraction

import pytest

from video.base.timecode import Timecode, frame_to_label, label_to_frame, zero_timecode

DF30 = Fraction(30000, 1001)
DF60 = Fraction(60000, 1001)


@pytest.mark.parametrize("label, rate, frame", [
    ("00:00:00:00", Fraction(25), 0),
    ("01:00:00:00", Fraction(25), 90_000),
    ("00:00:01:00", Fraction(24000, 1001), 24),          # 23.976 counts at 24, no drop
    ("00:10:00:00", DF30, 18_000),                         # non-drop label at 29.97
    ("00:00:59;29", DF30, 1_799),
    ("00:01:00;02", DF30, 1_800),                          # ;00 and ;01 skipped
    ("00:02:00;02", DF30, 3_598),
    ("00:09:59;29", DF30, 17_981),
    ("00:10:00;00", DF30, 17_982),                         # every tenth minute keeps ;00
    ("00:10:00;01", DF30, 17_983),
    ("00:11:00;02", DF30, 19_782),                         # minute 10 had all 1800
    ("01:00:00;00", DF30, 107_892),
    ("23:59:59;29", DF30, 2_589_407),
    ("00:01:00;04", DF60, 3_600),                          # 59.94 drops four labels
    ("01:00:00;00", DF60, 215_784),
])
def test_label_frame_table(label: str, rate: Fraction, frame: int) -> None:
    assert label_to_frame(label, rate) == frame
    assert frame_to_label(frame, rate, drop=";" in label) == label


@pytest.mark.parametrize("label, rate, message", [
    ("00:01:00;00", DF30, "skipped"),
    ("00:01:00;01", DF30, "skipped"),
    ("00:01:00;03", DF60, "skipped"),
    ("00:00:00;00", Fraction(25), "drop-frame"),
    ("00:00:00:25", Fraction(25), "out of range"),
    ("00:60:00:00", Fraction(25), "out of range"),
    ("1:2:3", Fraction(25), "HH:MM:SS"),
    ("", DF30, "HH:MM:SS"),
])
def test_bad_labels(label: str, rate: Fraction, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        label_to_frame(label, rate)


def test_every_drop_frame_count_round_trips_and_labels_are_consecutive() -> None:
    previous = None
    for frame in range(0, 40_000):
        label = frame_to_label(frame, DF30, drop=True)
        assert label_to_frame(label, DF30) == frame
        if previous is not None:          # labels only ever skip ;00/;01 at minute starts
            assert label > previous
        previous = label


def test_timecode_seconds_and_samples_land_on_the_frame() -> None:
    tc = Timecode.parse("01:00:00;00", DF30)
    assert tc.drop and tc.frame == 107_892 and str(tc) == "01:00:00;00"
    assert tc.seconds == Fraction(107_892 * 1001, 30_000)
    samples = tc.samples(48_000)
    assert samples == 172_799_828              # 107892 x 1601.6 = 172799827.2, rounded up
    assert samples * DF30 // 48_000 == 107_892 and round(samples * DF30 / 48_000) == 107_892
    assert Timecode.parse("01:00:00:00", Fraction(25)).samples() == 3600 * 48_000
    assert zero_timecode(DF30).samples() == 0 and zero_timecode(DF30).label == "00:00:00:00"
    with pytest.raises(ValueError):
        Timecode(frame=-1, rate=DF30)
    with pytest.raises(ValueError):
        Timecode(frame=0, rate=Fraction(25), drop=True)
