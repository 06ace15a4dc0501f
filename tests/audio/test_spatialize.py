"""Spatializer: pan follows the box, distance loudness and dullness, smoothing, keyframes,
width, ITD and Doppler, measured on synthetic tracks with known truth."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import signal

from audio.filters import (
    binomial_lowpass,
    chunks,
    control_segment,
    expand_control,
    hann_smooth,
    variable_delay,
    velvet_decorrelator,
)
from audio.nudges import Nudges, PanKeyframe
from audio.pan import estimate_pan
from audio.spatialize import (
    SpatialConfig,
    distance_curve,
    frame_samples,
    pan_curve,
    spatialize,
    spatialize_chunks,
    spatialize_stream,
    spatialize_window,
)
from video.base.timebase import SAMPLE_RATE, frame_to_sample, time_to_sample
from video.base.tracks import Track, VideoInfo

FPS = Fraction(30000, 1001)
W, H = 640, 360
DRY = SpatialConfig(air_absorption=False)


def make_info(seconds: float, *, fps: Fraction = FPS,
              frame_times: tuple[float, ...] | None = None) -> VideoInfo:
    frames = int(math.floor(seconds * fps)) if frame_times is None else len(frame_times)
    return VideoInfo(path="synthetic.mp4", width=W, height=H, fps=fps, duration=seconds,
                     frames=frames, frame_times=frame_times)


def boxes_from(cx: np.ndarray, area_frac: np.ndarray | float, *, aspect: float = 1.0
               ) -> np.ndarray:
    """Boxes centred at pixel x `cx` (mid height) with a given fraction of the frame area."""
    cx = np.asarray(cx, dtype=np.float64)
    area = np.broadcast_to(np.asarray(area_frac, dtype=np.float64), cx.shape) * W * H
    bw = np.sqrt(area * aspect)
    bh = area / bw
    return np.stack([cx - bw / 2, H / 2 - bh / 2, cx + bw / 2, H / 2 + bh / 2], axis=1)


def static_track(x_frac: float, area_frac: float, info: VideoInfo) -> Track:
    frames = np.arange(info.frames)
    return Track(id=1, label="obj", frames=frames,
                 boxes=boxes_from(np.full(frames.size, x_frac * W), area_frac))


def rms_db(x: np.ndarray) -> float:
    return 10.0 * math.log10(float(np.mean(np.asarray(x, np.float64) ** 2)))


def centroid(x: np.ndarray) -> float:
    f, p = signal.welch(x, fs=SAMPLE_RATE, nperseg=2048)
    return float(np.sum(f * p) / np.sum(p))


@pytest.fixture
def noise(rng: np.random.Generator) -> np.ndarray:
    return (0.1 * rng.standard_normal(4 * SAMPLE_RATE)).astype(np.float32)


# ------------------------------------------------------------------ time mapping


def test_frame_samples_match_the_timebase() -> None:
    info = make_info(60.0)
    track = static_track(0.5, 0.05, info)
    got = frame_samples(track, info)
    want = [frame_to_sample(int(f), FPS) for f in track.frames]
    np.testing.assert_array_equal(got, want)


def test_frame_samples_use_vfr_timestamps() -> None:
    times = tuple(float(t) for t in np.cumsum(np.r_[0.0, np.full(49, 0.04)]) + 0.013)
    info = make_info(2.0, frame_times=times)
    track = static_track(0.5, 0.05, info)
    got = frame_samples(track, info)
    want = [time_to_sample(info.time_of_frame(int(f))) for f in track.frames]
    np.testing.assert_allclose(got, want, atol=1)


# ------------------------------------------------------------------ pan


def test_pan_follows_a_known_screen_path(noise: np.ndarray) -> None:
    info = make_info(4.0)
    frames = np.arange(info.frames)
    t = frames / float(FPS)
    x_true = 0.5 + 0.45 * np.sin(2 * math.pi * 0.4 * t)            # sweeps left and right
    track = Track(id=1, label="car", frames=frames, boxes=boxes_from(x_true * W, 0.05))
    out = spatialize(noise, track, info, config=DRY)
    win = SAMPLE_RATE // 20
    est, truth = [], []
    for start in range(0, noise.size - win, win):
        est.append(estimate_pan(out[:, start:start + win]))
        mid = (start + win / 2) / SAMPLE_RATE
        truth.append(2 * np.interp(mid, t, x_true) - 1)
    est_a, truth_a = np.array(est), np.array(truth)
    assert np.corrcoef(est_a, truth_a)[0, 1] >= 0.95
    assert np.mean(np.abs(est_a - truth_a)) < 0.06


@pytest.mark.parametrize(("x_frac", "law", "expected"), [
    (0.75, "-3dB", 0.5), (0.1, "-3dB", -0.8), (0.5, "-3dB", 0.0), (1.0, "-3dB", 1.0),
])
def test_static_object_pans_to_its_position(x_frac: float, law: str, expected: float,
                                            noise: np.ndarray) -> None:
    info = make_info(4.0)
    out = spatialize(noise, static_track(x_frac, 0.05, info), info,
                     config=SpatialConfig(law=law, air_absorption=False))
    assert estimate_pan(out) == pytest.approx(expected, abs=0.01)


def test_pan_is_held_before_first_and_after_last_frame() -> None:
    info = make_info(4.0)
    frames = np.arange(30, 61)
    cx = np.linspace(0.2, 0.8, frames.size) * W
    track = Track(id=1, label="ball", frames=frames, boxes=boxes_from(cx, 0.05))
    pan = pan_curve(track, info, n_samples=4 * SAMPLE_RATE)
    before = pan[: frame_to_sample(25, FPS)]
    after = pan[frame_to_sample(70, FPS):]
    np.testing.assert_allclose(before, 2 * 0.2 - 1, atol=1e-5)
    np.testing.assert_allclose(after, 2 * 0.8 - 1, atol=1e-5)
    mid = pan[frame_to_sample(45, FPS)]
    assert mid == pytest.approx(0.0, abs=0.02)


def test_box_jump_is_smoothed_without_steps() -> None:
    info = make_info(2.0)
    frames = np.arange(info.frames)
    cx = np.where(frames < 30, 0.05, 0.95) * W                       # teleports across
    track = Track(id=1, label="cut", frames=frames, boxes=boxes_from(cx, 0.05))
    n = 2 * SAMPLE_RATE
    pan = pan_curve(track, info, n_samples=n)
    # a step of height h smoothed by an N-sample Hann window rises at most 2h/N per sample
    smooth_samples = 0.030 * SAMPLE_RATE
    assert np.max(np.abs(np.diff(pan))) < 2.05 * 1.8 / smooth_samples
    # the gain a DC input gets is the envelope itself: no clicks (a raw jump would be ~0.92)
    out = spatialize(np.ones(n, np.float32), track, info, config=DRY)
    assert np.max(np.abs(np.diff(out, axis=1))) < 2.05 * 0.92 / smooth_samples
    assert out[0, 100] > 0.9 and out[1, -100] > 0.9                 # but it does get there


def test_box_size_jitter_is_not_heard_as_level_flutter(rng: np.random.Generator) -> None:
    info = make_info(4.0)
    frames = np.arange(info.frames)
    area = 0.05 * rng.uniform(0.8, 1.2, frames.size)               # a tracker's box breathing
    track = Track(id=1, label="jitter", frames=frames,
                  boxes=boxes_from(np.full(frames.size, W / 2), area))
    raw_db = 10 * np.log10(area / 0.05)                              # unsmoothed gain, dB
    assert np.std(raw_db) > 0.45

    def flutter(config: SpatialConfig) -> float:
        out = spatialize(np.ones(4 * SAMPLE_RATE, np.float32), track, info, config=config)
        level_db = 20 * np.log10(out[0, SAMPLE_RATE // 2: -SAMPLE_RATE // 2])
        assert np.mean(level_db) == pytest.approx(-3.0103, abs=0.1)
        return float(np.std(level_db) / np.std(raw_db))

    assert flutter(DRY) < 0.55                                       # 150 ms distance smoothing
    assert flutter(SpatialConfig(air_absorption=False, distance_smoothing_ms=30.0)) > 0.7


def test_keyframes_override_between_first_and_last() -> None:
    info = make_info(4.0)
    track = static_track(0.8, 0.05, info)                           # tracked pan +0.6
    nudges = Nudges(pan_offset=0.1, pan_keyframes=(PanKeyframe(2.0, 1.0),
                                                   PanKeyframe(1.0, -1.0)))
    pan = pan_curve(track, info, n_samples=4 * SAMPLE_RATE, nudges=nudges)
    at = {t: float(pan[time_to_sample(t)]) for t in (0.5, 1.25, 1.5, 1.75, 3.0)}
    assert at[0.5] == pytest.approx(0.7, abs=1e-4)                   # track + offset
    assert at[1.25] == pytest.approx(-0.5, abs=0.01)
    assert at[1.5] == pytest.approx(0.0, abs=0.01)
    assert at[1.75] == pytest.approx(0.5, abs=0.01)
    assert at[3.0] == pytest.approx(0.7, abs=1e-4)


@pytest.mark.parametrize(("offset", "expected"), [(0.5, 0.8), (-0.5, -0.2), (1.5, 1.0)])
def test_pan_offset_adds_and_clips(offset: float, expected: float) -> None:
    info = make_info(1.0)
    pan = pan_curve(static_track(0.65, 0.05, info), info, n_samples=SAMPLE_RATE,
                    nudges=Nudges(pan_offset=offset))
    np.testing.assert_allclose(pan, expected, atol=1e-5)


# ------------------------------------------------------------------ distance


@pytest.mark.parametrize(("area_ratio", "expected_db"), [
    (1.0, 0.0), (4.0, 6.0206), (0.25, -6.0206), (2.0, 3.0103), (16.0, 12.0),
    (1e-6, -30.0), (1e4, 12.0),                                      # clamped both ways
])
def test_bigger_box_is_louder_by_inverse_distance(area_ratio: float, expected_db: float,
                                                  noise: np.ndarray) -> None:
    info = make_info(4.0)
    ref = spatialize(noise, static_track(0.5, 0.01, info), info,
                     config=SpatialConfig(reference_area=0.01, air_absorption=False))
    out = spatialize(noise, static_track(0.5, min(0.01 * area_ratio, 1.0), info), info,
                     config=SpatialConfig(reference_area=0.01, air_absorption=False,
                                          max_gain_db=12.0))
    if area_ratio > 100:                                             # capped by the frame
        expected_db = 12.0
    assert rms_db(out) - rms_db(ref) == pytest.approx(expected_db, abs=0.05)


def test_distance_curve_values_and_scale() -> None:
    info = make_info(1.0)
    track = static_track(0.5, 0.0125, info)                          # 1/4 of 0.05
    d = distance_curve(track, info, n_samples=SAMPLE_RATE)
    # boxes are kept to 1/100 px (video.base.tracks), so the area is exact to ~1e-4
    np.testing.assert_allclose(d, 2.0, rtol=5e-4)
    d3 = distance_curve(track, info, n_samples=SAMPLE_RATE, nudges=Nudges(distance_scale=3.0))
    np.testing.assert_allclose(d3, 6.0, rtol=5e-4)


def test_reference_area_none_uses_the_objects_median() -> None:
    info = make_info(1.0)
    track = static_track(0.5, 0.3, info)
    d = distance_curve(track, info, n_samples=SAMPLE_RATE,
                       config=SpatialConfig(reference_area=None))
    np.testing.assert_allclose(d, 1.0, rtol=1e-6)


def test_distance_scale_and_gain_trim(noise: np.ndarray) -> None:
    info = make_info(4.0)
    track = static_track(0.3, 0.05, info)
    ref = spatialize(noise, track, info, config=DRY)
    far = spatialize(noise, track, info, nudges=Nudges(distance_scale=2.0), config=DRY)
    trim = spatialize(noise, track, info, nudges=Nudges(gain_db=-9.0), config=DRY)
    assert rms_db(far) - rms_db(ref) == pytest.approx(-6.0206, abs=0.01)
    assert rms_db(trim) - rms_db(ref) == pytest.approx(-9.0, abs=0.01)
    assert estimate_pan(far) == pytest.approx(estimate_pan(ref), abs=1e-4)


def test_farther_objects_are_duller(noise: np.ndarray) -> None:
    info = make_info(4.0)
    cents = []
    for scale in (1.0, 2.0, 4.0, 8.0, 16.0):
        out = spatialize(noise, static_track(0.5, 0.05, info), info,
                         nudges=Nudges(distance_scale=scale))
        cents.append(centroid(out[0]))
    assert all(b < a - 200.0 for a, b in zip(cents, cents[1:], strict=False))
    assert cents[0] == pytest.approx(12_000, rel=0.05)               # reference: untouched
    assert cents[-1] < 6_000


@pytest.mark.parametrize(("scale", "cutoff_hz"), [(4.0, 7040.0), (16.0, 4460.0), (20.0, 4460.0)])
def test_air_low_pass_cutoff_falls_with_distance(scale: float, cutoff_hz: float,
                                                 noise: np.ndarray) -> None:
    """Air share w = log(d)/log(16); response 1 - w(1 - cos^8(πf/fs)): -3 dB at 7.0 kHz for
    w = 0.5 (4x the reference distance), 4.5 kHz from w = 1 (16x) on (20x is the nudge limit)."""
    info = make_info(4.0)
    track = static_track(0.5, 0.05, info)
    near = spatialize(noise, track, info, config=SpatialConfig(max_gain_db=0.0))
    far = spatialize(noise, track, info, nudges=Nudges(distance_scale=scale),
                     config=SpatialConfig(min_gain_db=-60.0))
    f, p_near = signal.welch(near[0], fs=SAMPLE_RATE, nperseg=4096)
    _, p_far = signal.welch(far[0], fs=SAMPLE_RATE, nperseg=4096)
    response_db = 10 * np.log10(p_far / p_near)
    response_db -= np.mean(response_db[(f > 100) & (f < 500)])      # remove the distance gain
    crossing = float(f[np.argmax(response_db < -3.0)])
    assert crossing == pytest.approx(cutoff_hz, rel=0.06)


# ------------------------------------------------------------------ width, ITD, Doppler


def test_width_decorrelates_a_wide_object_and_keeps_power(noise: np.ndarray) -> None:
    info = make_info(4.0)
    wide = static_track(0.5, 0.25, info)                             # 300 px of 640 wide
    wide = wide.with_changes(boxes=boxes_from(np.full(len(wide), W / 2), 0.25, aspect=4.0))
    point = spatialize(noise, wide, info, config=DRY)
    spread = spatialize(noise, wide, info, nudges=Nudges(width=1.0), config=DRY)
    half = spatialize(noise, wide, info, nudges=Nudges(width=0.5), config=DRY)

    def corr(x: np.ndarray) -> float:
        return float(np.corrcoef(x[0], x[1])[0, 1])

    assert corr(point) == pytest.approx(1.0, abs=1e-6)
    assert abs(corr(spread)) < 0.1
    assert 0.3 < corr(half) < 0.95
    for ch in (0, 1):
        assert rms_db(spread[ch]) == pytest.approx(rms_db(point[ch]), abs=0.5)
    assert np.mean(spread[0] + spread[1]) == pytest.approx(0.0, abs=1e-3)


def lag_of(late: np.ndarray, early: np.ndarray) -> float:
    """Samples by which `late` trails `early` (cross-correlation peak, parabolic refinement)."""
    xc = signal.correlate(late, early, mode="full", method="fft")
    k = int(np.argmax(xc))
    a, b, c = xc[k - 1], xc[k], xc[k + 1]
    return k - (early.size - 1) + 0.5 * (a - c) / (a - 2 * b + c)


@pytest.mark.parametrize(("x_frac", "left_lag"), [(0.95, 25.92), (0.75, 14.4), (0.05, -25.92)])
def test_itd_delays_the_far_ear(x_frac: float, left_lag: float, noise: np.ndarray) -> None:
    info = make_info(4.0)
    out = spatialize(noise, static_track(x_frac, 0.05, info), info,
                     config=SpatialConfig(itd=True, air_absorption=False, law="0dB"))
    assert lag_of(out[0], out[1]) == pytest.approx(left_lag, abs=0.3)
    plain = spatialize(noise, static_track(x_frac, 0.05, info), info,
                       config=SpatialConfig(air_absorption=False, law="0dB"))
    assert lag_of(plain[0], plain[1]) == pytest.approx(0.0, abs=0.05)


def inst_freq(x: np.ndarray) -> float:
    phase = np.unwrap(np.angle(signal.hilbert(x)))
    return float(np.polyfit(np.arange(x.size) / SAMPLE_RATE, phase, 1)[0] / (2 * math.pi))


@pytest.mark.parametrize("doppler", [True, False])
def test_doppler_raises_pitch_approaching_and_lowers_it_receding(doppler: bool) -> None:
    info = make_info(4.0)
    frames = np.arange(info.frames)
    t = frames / float(FPS)
    d = np.where(t < 2.0, 10.0 - 4.5 * t, 1.0 + 4.5 * (t - 2.0))     # metres/3: 30 m -> 3 m -> 30 m
    track = Track(id=1, label="car", frames=frames, boxes=boxes_from(np.full(t.size, W / 2),
                                                                     0.05 / d**2))
    tone = np.sin(2 * math.pi * 1000.0 * np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE)
    out = spatialize(tone.astype(np.float32), track, info,
                     config=SpatialConfig(doppler=doppler, air_absorption=False,
                                          reference_distance_m=3.0, max_gain_db=30.0))
    approach = inst_freq(out[0, int(0.6 * SAMPLE_RATE):int(1.6 * SAMPLE_RATE)])
    recede = inst_freq(out[0, int(2.6 * SAMPLE_RATE):int(3.6 * SAMPLE_RATE)])
    shift = 13.5 / 343.0 if doppler else 0.0                         # 13.5 m/s radial
    assert approach == pytest.approx(1000.0 * (1 + shift), abs=2.0)
    assert recede == pytest.approx(1000.0 * (1 - shift), abs=2.0)


# ------------------------------------------------------------------ shapes and bad input


def test_output_shape_dtype_and_empty_track(noise: np.ndarray) -> None:
    info = make_info(4.0)
    empty = Track(id=3, label="ghost", frames=np.zeros(0), boxes=np.zeros((0, 4)))
    out = spatialize(noise, empty, info, config=DRY)
    assert out.shape == (2, noise.size) and out.dtype == np.float32
    assert estimate_pan(out) == pytest.approx(0.0, abs=1e-6)          # centre, reference level
    assert rms_db(out) - rms_db(noise) == pytest.approx(-3.0103, abs=0.01)
    assert spatialize(np.zeros(0, np.float32), empty, info).shape == (2, 0)
    assert spatialize(noise[None, :1000], empty, info).shape == (2, 1000)


@pytest.mark.parametrize(("dry", "message"), [
    (np.zeros((2, 100), np.float32), "mono"),
    (np.zeros((1, 2, 3), np.float32), "mono"),
    (np.array([0.0, np.nan], np.float32), "NaN"),
    (np.array([np.inf, 0.0], np.float32), "NaN"),
])
def test_bad_dry_signal_is_rejected(dry: np.ndarray, message: str) -> None:
    info = make_info(1.0)
    with pytest.raises(ValueError, match=message):
        spatialize(dry, static_track(0.5, 0.05, info), info)


@pytest.mark.parametrize("kwargs", [
    {"law": "-2dB"}, {"reference_area": 0.0}, {"reference_area": 1.5}, {"control_rate": 7},
    {"min_gain_db": 3.0}, {"air_filter_order": 5}, {"air_full_distance": 1.0},
    {"auto_width": 2.0}, {"smoothing_ms": -1.0}, {"speed_of_sound": 0.0},
])
def test_bad_config_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SpatialConfig(**kwargs)  # type: ignore[arg-type]


def test_pan_curve_rejects_bad_control_rate() -> None:
    info = make_info(1.0)
    with pytest.raises(ValueError, match="control_rate"):
        pan_curve(static_track(0.5, 0.05, info), info, n_samples=100, control_rate=7)


# ------------------------------------------------------------------ DSP building blocks


@pytest.mark.parametrize(("freq", "order"), [(1000.0, 8), (6000.0, 8), (12_000.0, 8),
                                             (12_000.0, 2), (18_000.0, 4)])
def test_binomial_lowpass_is_cos_power(freq: float, order: int) -> None:
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    tone = np.sin(2 * math.pi * freq * t).astype(np.float32)
    out = binomial_lowpass(tone, order=order)
    inner = slice(1000, -1000)
    ratio = np.std(out[inner]) / np.std(tone[inner])
    assert ratio == pytest.approx(math.cos(math.pi * freq / SAMPLE_RATE) ** order, rel=0.01)
    # zero phase: the output lines up with the input (no delay to comb with the dry signal)
    assert lag_of(out[inner], tone[inner]) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("order", [0, 1, 3, 7])
def test_binomial_lowpass_rejects_odd_orders(order: int) -> None:
    with pytest.raises(ValueError, match="even"):
        binomial_lowpass(np.zeros(100, np.float32), order=order)


@pytest.mark.parametrize("delay", [0.0, 2.5, 17.25])
def test_variable_delay_constant_fractional(delay: float) -> None:
    n = 4800
    t = np.arange(n) / SAMPLE_RATE
    tone = np.sin(2 * math.pi * 200.0 * t).astype(np.float32)
    out = variable_delay(tone, np.full(n, delay))
    want = np.sin(2 * math.pi * 200.0 * (t - delay / SAMPLE_RATE))
    np.testing.assert_allclose(out[40:], want[40:], atol=1e-3)
    assert np.all(out[: int(delay)] == 0.0)                          # before the start: silent


@pytest.mark.parametrize(("delay", "message"), [(-1.0, ">= 0"), (np.nan, "finite")])
def test_variable_delay_rejects_bad_delays(delay: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        variable_delay(np.zeros(10, np.float32), np.full(10, delay))


@pytest.mark.parametrize("n", [0, 1, 47, 48, 1000, 100_003])
def test_chunked_control_matches_whole_expansion(n: int, rng: np.random.Generator) -> None:
    curve = rng.standard_normal(-(-n // 48) + 1)
    whole = expand_control(curve, block=48, n_samples=n)
    parts = [control_segment(curve, block=48, start=a, stop=b)
             for a, b in chunks(n, block=48, size=4096)]
    joined = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    np.testing.assert_array_equal(joined, whole)
    with pytest.raises(ValueError, match="multiple"):
        control_segment(curve, block=48, start=5, stop=10)
    with pytest.raises(ValueError, match="control points"):
        expand_control(curve[:1], block=48, n_samples=n + 96)


def test_velvet_decorrelator_is_unit_energy_sparse_and_seeded() -> None:
    taps = velvet_decorrelator()
    assert float(np.sum(taps.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-5)
    assert 0.02 < np.count_nonzero(taps) / taps.size < 0.05
    np.testing.assert_array_equal(taps, velvet_decorrelator())
    assert not np.array_equal(taps, velvet_decorrelator(seed=8))


@pytest.mark.parametrize("width", [3, 30, 63, 64, 65, 150, 151])
def test_hann_smooth_by_fft_matches_the_direct_sum(width: int, rng: np.random.Generator) -> None:
    """Wide windows go through an FFT; the result must be the direct, edge-held convolution
    (to rounding), zero-phase, and hold a constant start and a constant end."""
    from scipy import ndimage

    curve = np.concatenate([np.full(400, 0.25), np.cumsum(rng.standard_normal(5000)) * 0.01,
                            np.full(400, -0.5)])
    window = np.hanning(width + 2)[1:-1]
    direct = ndimage.convolve1d(curve, window / window.sum(), mode="nearest")
    smooth = hann_smooth(curve, width=width)
    np.testing.assert_allclose(smooth, direct, rtol=0, atol=1e-12)
    np.testing.assert_allclose(smooth[:400 - width], 0.25, rtol=0, atol=1e-12)
    np.testing.assert_allclose(smooth[-(400 - width):], -0.5, rtol=0, atol=1e-12)
    step = hann_smooth(np.repeat([0.0, 1.0], 1000), width=width)
    assert step[999] + step[1000] == pytest.approx(1.0, abs=2.5 / width)   # within 1/2 sample


# ------------------------------------------------------------------ events with a place


def test_a_step_is_panned_at_its_foot_not_the_box_centre() -> None:
    """A person boxed at the centre whose left foot lands at 0.9 of the width and right foot
    at 0.2: during each step's sound the pan is its foot's (2x - 1), elsewhere the box's 0."""
    from video.base.tracks import Event

    info = make_info(3.0)
    track = static_track(0.5, 0.05, info).with_changes(events=(
        Event(time=1.0, strength=0.5, kind="step", foot="left", x=0.9 * W),
        Event(time=2.0, strength=0.5, kind="step", foot="right", x=0.2 * W),
        Event(time=2.5, strength=0.5, kind="step")))          # no place: the box's pan
    n = 3 * SAMPLE_RATE
    pan = pan_curve(track, info, n_samples=n)
    assert pan[time_to_sample(1.06)] == pytest.approx(0.8, abs=0.01)
    assert pan[time_to_sample(2.06)] == pytest.approx(-0.6, abs=0.01)
    for quiet in (0.5, 1.5, 2.55):
        assert pan[time_to_sample(quiet)] == pytest.approx(0.0, abs=0.01)
    # the designer's offset applies to the foot's place too
    shifted = pan_curve(track, info, n_samples=n, nudges=Nudges(pan_offset=0.1))
    assert shifted[time_to_sample(1.06)] == pytest.approx(0.9, abs=0.01)


def test_a_hands_touch_is_panned_at_the_hand_and_a_silent_release_moves_nothing() -> None:
    """A thing boxed at the centre: the touch of a hand at 0.8 of the width pans its sound
    there; the release (no sound of its own) at 0.1 leaves the box's pan alone."""
    from video.base.tracks import Event

    info = make_info(3.0)
    track = static_track(0.5, 0.05, info).with_changes(events=(
        Event(time=1.0, strength=0.4, kind="touch", x=0.8 * W),
        Event(time=2.0, strength=0.15, kind="release", x=0.1 * W)))
    pan = pan_curve(track, info, n_samples=3 * SAMPLE_RATE)
    assert pan[time_to_sample(1.06)] == pytest.approx(0.6, abs=0.01)
    assert pan[time_to_sample(2.06)] == pytest.approx(0.0, abs=0.01)


# ------------------------------------------------------------------ chunked (streamed) render


def _sparse_dry(n: int, rng: np.random.Generator) -> np.ndarray:
    """Silence with two bursts (one straddling a chunk edge) and a lone click."""
    dry = np.zeros(n, dtype=np.float32)
    dry[40_000:90_000] = 0.2 * rng.standard_normal(50_000)
    dry[130_000:131_000] = 0.5 * rng.standard_normal(1000)
    dry[200_000] = 0.9
    return dry


@pytest.mark.parametrize(("config", "nudges"), [
    (SpatialConfig(), Nudges()),                                  # air on: the common path
    (DRY, Nudges(pan_offset=0.3, gain_db=-4.0)),
    (SpatialConfig(), Nudges(width=0.7)),                         # width: the whole-stem path
    (SpatialConfig(itd=True, doppler=True), Nudges()),
])
def test_spatialize_chunks_equal_spatialize_and_skip_only_silence(
        config: SpatialConfig, nudges: Nudges, rng: np.random.Generator) -> None:
    info = make_info(12.0)
    frames = np.arange(info.frames)
    track = Track(id=1, label="obj", frames=frames,
                  boxes=boxes_from(np.linspace(0.1, 0.9, frames.size) * W,
                                   np.linspace(0.002, 0.08, frames.size)))
    dry = _sparse_dry(12 * SAMPLE_RATE, rng)
    whole = spatialize(dry, track, info, nudges=nudges, config=config)
    (lo, hi), parts = spatialize_chunks(dry, track, info, nudges=nudges, config=config)
    rebuilt = np.zeros_like(whole)
    starts = []
    for start, chunk in parts:
        assert lo <= start and start + chunk.shape[1] <= hi
        rebuilt[:, start:start + chunk.shape[1]] = chunk
        starts.append(start)
    assert starts == sorted(starts)
    np.testing.assert_array_equal(rebuilt, whole)           # bit for bit, silence included
    assert 0 < lo <= 40_000 and 200_000 < hi < 300_000    # the silent ends are skipped
    covered = sum(c.shape[1] for _, c in spatialize_chunks(dry, track, info, nudges=nudges,
                                                           config=config)[1])
    assert covered < whole.shape[1] // 2
    assert covered <= 7 * 32_736      # the chunks with sound, and a neighbour for the filters


def test_spatialize_chunks_of_silence_are_nothing() -> None:
    info = make_info(2.0)
    (lo, hi), parts = spatialize_chunks(np.zeros(2 * SAMPLE_RATE, dtype=np.float32),
                                        static_track(0.5, 0.05, info), info)
    assert (lo, hi) == (0, 0) and list(parts) == []


@pytest.mark.parametrize(("config", "nudges", "edges"), [
    (SpatialConfig(), Nudges(), (0, 39_998, 40_003, 131_000, 262_144, 400_000)),
    (SpatialConfig(), Nudges(pan_offset=-0.2), (0, 1, 2, 90_000, 200_001, 500_000)),
    (DRY, Nudges(gain_db=3.0), (0, 262_144)),
])
def test_spatialize_stream_gives_the_chunks_of_the_whole_signal(
        config: SpatialConfig, nudges: Nudges, edges: tuple[int, ...],
        rng: np.random.Generator) -> None:
    """Blocks of any size (block edges two samples from a burst, inside the air filter's
    reach): the same chunks, bit for bit, as spatialize_chunks of the whole dry signal."""
    info = make_info(12.0)
    frames = np.arange(info.frames)
    track = Track(id=1, label="obj", frames=frames,
                  boxes=boxes_from(np.linspace(0.1, 0.9, frames.size) * W,
                                   np.linspace(0.002, 0.08, frames.size)))
    n = 12 * SAMPLE_RATE
    dry = _sparse_dry(n, rng)
    cuts = [*edges, n]
    blocks = ((a, dry[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))
    got = list(spatialize_stream(blocks, track, info, n_samples=n, nudges=nudges,
                                 config=config))
    _, want = spatialize_chunks(dry, track, info, nudges=nudges, config=config)
    want_list = list(want)
    assert [a for a, _ in got] == [a for a, _ in want_list]
    for (_, g), (_, w) in zip(got, want_list, strict=True):
        np.testing.assert_array_equal(g, w)


def test_spatialize_stream_refuses_what_needs_the_whole_signal() -> None:
    info = make_info(1.0)
    track = static_track(0.5, 0.05, info)
    blocks = [(0, np.zeros(SAMPLE_RATE, dtype=np.float32))]
    with pytest.raises(ValueError, match="whole dry signal"):
        list(spatialize_stream(blocks, track, info, n_samples=SAMPLE_RATE,
                               nudges=Nudges(width=0.5)))
    with pytest.raises(ValueError, match="follow each other"):
        list(spatialize_stream([(0, np.zeros(100, np.float32)), (200, np.zeros(100, np.float32))],
                               track, info, n_samples=SAMPLE_RATE))
    with pytest.raises(ValueError, match="end at"):
        list(spatialize_stream([(0, np.zeros(100, np.float32))], track, info,
                               n_samples=SAMPLE_RATE))


def _walker(info: VideoInfo) -> Track:
    """A track crossing and growing over frames 30..470, with a placed step at 5 s."""
    from video.base.tracks import Event

    frames = np.arange(30, min(470, info.frames))
    cx = np.linspace(40.0, 600.0, frames.size)
    return Track(id=1, label="person", frames=frames,
                 boxes=boxes_from(cx, np.linspace(0.01, 0.2, frames.size)),
                 events=(Event(time=5.0, strength=1.0, kind="step", x=300.0),))


@pytest.mark.parametrize(("start", "stop"), [
    (0, 1000), (5 * SAMPLE_RATE + 17, 6 * SAMPLE_RATE + 3), (16 * SAMPLE_RATE - 5000,
                                                            16 * SAMPLE_RATE),
    (123, 124), (SAMPLE_RATE, SAMPLE_RATE), (15 * SAMPLE_RATE, 17 * SAMPLE_RATE)])
@pytest.mark.parametrize(("config", "nudges"), [
    (SpatialConfig(), Nudges()),
    (DRY, Nudges(pan_offset=0.3, gain_db=-3.0)),
    (SpatialConfig(reference_area=None), Nudges(distance_scale=3.0, pan_keyframes=(
        PanKeyframe(time=4.0, pan=-1.0), PanKeyframe(time=6.0, pan=1.0))))])
def test_a_window_is_the_same_samples_as_the_whole_stem(
        start: int, stop: int, config: SpatialConfig, nudges: Nudges,
        rng: np.random.Generator) -> None:
    """A nudge is heard at the playhead from a window placed alone: it must be the whole
    stem's samples there (curves made over the window and their smoothing's reach only)."""
    info = make_info(16.0)
    n = 16 * SAMPLE_RATE
    dry = np.zeros(n, dtype=np.float32)
    dry[SAMPLE_RATE: 15 * SAMPLE_RATE] = 0.1 * rng.standard_normal(14 * SAMPLE_RATE)
    track = _walker(info)
    whole = spatialize(dry, track, info, nudges=nudges, config=config)
    asked: list[tuple[int, int]] = []

    def read(a: int, b: int) -> np.ndarray:
        asked.append((a, b))
        return dry[a:b]

    got = spatialize_window(read, track, info, n_samples=n, start=start, stop=stop,
                            nudges=nudges, config=config)
    assert got is not None
    stop = min(stop, n)
    assert got.shape == (2, stop - start) and got.dtype == np.float32
    np.testing.assert_allclose(got, whole[:, start:stop], rtol=0, atol=1e-6)
    (a, b), = asked                               # only the window and the filter's reach
    assert start - 100 <= a <= start and stop <= b <= stop + 100


@pytest.mark.parametrize(("config", "nudges"), [
    (SpatialConfig(itd=True), Nudges()), (SpatialConfig(doppler=True), Nudges()),
    (SpatialConfig(), Nudges(width=0.5)), (SpatialConfig(auto_width=0.2), Nudges())])
def test_a_window_is_not_placed_where_the_whole_signal_is_needed(
        config: SpatialConfig, nudges: Nudges) -> None:
    info = make_info(4.0)
    got = spatialize_window(lambda a, b: np.zeros(b - a, np.float32), _walker(info), info,
                            n_samples=4 * SAMPLE_RATE, start=0, stop=1000, nudges=nudges,
                            config=config)
    assert got is None


def test_a_window_rejects_a_short_read() -> None:
    info = make_info(4.0)
    with pytest.raises(ValueError, match="samples for"):
        spatialize_window(lambda a, b: np.zeros(max(0, b - a - 1), np.float32), _walker(info),
                          info, n_samples=4 * SAMPLE_RATE, start=0, stop=1000)
