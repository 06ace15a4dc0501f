"""Object-aware spatializer: a mono object sound placed where (and as far as) its box is on screen.

The tracked box gives two control curves, computed at a low control rate (default 1 kHz) and
expanded to samples by linear interpolation:

- pan: box centre x normalized to 0..1 across the frame, p = 2x - 1, plus the designer's pan
  offset, overridden by pan keyframes between the first and last keyframe; around an event
  that says where it happened (a footstep's foot, `Event.x`) the pan is that place's for the
  event's sound (`EVENT_PAN_SPAN_S`), so a person's steps come from its left and right feet;
- apparent distance: sqrt(reference area / box area) (a box with a quarter of the area is twice
  as far), times the designer's distance scale.

Both are interpolated between the object's frames, held before its first and after its last
frame, and smoothed with a zero-phase Hann window (`smoothing_ms` for pan, the longer
`distance_smoothing_ms` for distance) so a jumping box cannot make an audible step, a breathing
box is not heard as flutter, and the sound does not lag the picture. The signal path is: air absorption (a
crossfade between the dry sound and a zero-phase binomial low-pass, the low-pass share growing
with log distance) -> optional width (M/S with a velvet-noise decorrelated side) -> optional
ITD / Doppler (time-varying fractional delays) -> pan-law gains x inverse-distance gain x trim.
Mute and solo are the mixer's business, not applied here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from audio.filters import (
    binomial_taps,
    chunks,
    control_segment,
    expand_control,
    fir_filter,
    fir_span,
    hann_smooth,
    variable_delay_control,
    velvet_decorrelator,
)
from audio.nudges import Nudges
from audio.pan import check_pan_law, pan_gains
from video.base.timebase import SAMPLE_RATE, time_to_sample
from video.base.tracks import SILENT_KINDS, Track, VideoInfo

_MAX_LOG_DISTANCE = math.log(1000.0)
# seconds before and after an event with a place (Event.x) during which the pan is that place's:
# the attack and body of a footstep; the pan smoothing makes the moves there and back
EVENT_PAN_SPAN_S = (0.02, 0.15)
NO_NUDGES = Nudges()  # frozen, so one shared default is safe


@dataclass(frozen=True)
class SpatialConfig:
    """How tracked boxes become stereo placement (all render-wide; per-object edits are Nudges).

    reference_area: box area, as a fraction of the frame area, at which an object is at the
        reference distance (0 dB distance gain); None = each object's own median box area, so
        only its changes of size move it nearer or farther.
    reference_distance_m: metres the reference distance stands for (used by Doppler only).
    min_gain_db / max_gain_db: clamp of the inverse-distance gain (far objects stay audible,
        a box filling the frame does not explode).
    smoothing_ms: length of the zero-phase smoothing window on the pan and width curves.
    distance_smoothing_ms: the same for the distance curve, longer because box sizes jitter
        more than box positions (a tracker's box breathing would otherwise be heard as a
        flutter in level), while real approach/retreat is slow.
    control_rate: control points per second; must divide 48000.
    air_full_distance: apparent distance (x reference) at which the air low-pass is fully in.
    air_filter_order: even order of the binomial low-pass used for air absorption.
    itd_max_ms: far-ear delay for a hard-panned source when `itd` is on.
    doppler_max_delay_ms: cap on the propagation delay used for Doppler (keeps sync sane).
    auto_width: width given to every object on top of nothing (max with the nudge width).
    full_width_fraction: box width (fraction of frame width) at which width 1 is fully wide.
    """

    law: str = "-3dB"
    reference_area: float | None = 0.05
    reference_distance_m: float = 3.0
    min_gain_db: float = -30.0
    max_gain_db: float = 12.0
    smoothing_ms: float = 30.0
    distance_smoothing_ms: float = 150.0
    control_rate: int = 1000
    air_absorption: bool = True
    air_full_distance: float = 16.0
    air_filter_order: int = 8
    itd: bool = False
    itd_max_ms: float = 0.6
    doppler: bool = False
    speed_of_sound: float = 343.0
    doppler_max_delay_ms: float = 100.0
    auto_width: float = 0.0
    full_width_fraction: float = 0.5

    def __post_init__(self) -> None:
        check_pan_law(self.law)
        if self.reference_area is not None and not 0.0 < self.reference_area <= 1.0:
            raise ValueError(f"reference_area must be in (0, 1], got {self.reference_area}")
        if not self.min_gain_db <= 0.0 <= self.max_gain_db:
            raise ValueError("need min_gain_db <= 0 <= max_gain_db")
        if self.control_rate <= 0 or SAMPLE_RATE % self.control_rate:
            raise ValueError(f"control_rate must divide {SAMPLE_RATE}, got {self.control_rate}")
        if min(self.smoothing_ms, self.distance_smoothing_ms, self.itd_max_ms,
               self.doppler_max_delay_ms) < 0:
            raise ValueError("smoothing, itd_max_ms and doppler_max_delay_ms must be >= 0")
        if self.air_full_distance <= 1.0:
            raise ValueError("air_full_distance must be > 1 (a multiple of the reference)")
        if self.air_filter_order < 2 or self.air_filter_order % 2:
            raise ValueError("air_filter_order must be an even number >= 2")
        if not 0.0 <= self.auto_width <= 1.0 or not 0.0 < self.full_width_fraction <= 1.0:
            raise ValueError("auto_width must be in 0..1 and full_width_fraction in (0, 1]")
        if self.reference_distance_m <= 0 or self.speed_of_sound <= 0:
            raise ValueError("reference_distance_m and speed_of_sound must be positive")

    @property
    def block(self) -> int:
        """Samples between two control points."""
        return SAMPLE_RATE // self.control_rate


# ---------------------------------------------------------------- control curves (control rate)


def _block_of(control_rate: int) -> int:
    if control_rate <= 0 or SAMPLE_RATE % control_rate:
        raise ValueError(f"control_rate must divide {SAMPLE_RATE}, got {control_rate}")
    return SAMPLE_RATE // control_rate


def _control_positions(n_samples: int, block: int) -> np.ndarray:
    """Sample positions of the control points covering n_samples (one past the end)."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    return np.arange(-(-n_samples // block) + 1, dtype=np.float64) * block


def frame_samples(track: Track, info: VideoInfo) -> np.ndarray:
    """Sample index (float64 array) at which each of the track's frames is shown
    (VideoInfo.frame_samples, the project's one frame->sample mapping)."""
    return info.frame_samples(track.frames).astype(np.float64)


def _track_curve(values: np.ndarray, track: Track, info: VideoInfo, positions: np.ndarray,
                 *, default: float) -> np.ndarray:
    """Per-frame values interpolated at control positions; held outside the track."""
    if len(track) == 0:
        return np.full(positions.shape, default, dtype=np.float64)
    return np.interp(positions, frame_samples(track, info), values)


def _smooth_points(smoothing_ms: float, block: int) -> int:
    return int(round(smoothing_ms * 1e-3 * SAMPLE_RATE / block))


def _apply_keyframes(pan: np.ndarray, positions: np.ndarray, nudges: Nudges) -> np.ndarray:
    """Between the first and last keyframe the pan follows the keyframes (linear)."""
    keys = nudges.pan_keyframes
    if not keys:
        return pan
    at = np.array([time_to_sample(k.time) for k in keys], dtype=np.float64)
    values = np.array([k.pan for k in keys], dtype=np.float64)
    inside = (positions >= at[0]) & (positions <= at[-1])
    out = pan.copy()
    out[inside] = np.interp(positions[inside], at, values)
    return out


def _apply_event_places(pan: np.ndarray, positions: np.ndarray, track: Track, info: VideoInfo,
                        *, offset: float) -> np.ndarray:
    """Around each sounding event with a place (Event.x), the pan of that place (plus the
    offset); a silent marker (a hand letting go) places nothing."""
    placed = [e for e in track.events if e.x is not None and e.kind not in SILENT_KINDS]
    if not placed:
        return pan
    out = pan.copy()
    before, after = EVENT_PAN_SPAN_S
    for event in placed:
        assert event.x is not None
        start = time_to_sample(max(0.0, event.time - before))
        stop = time_to_sample(event.time + after)
        inside = (positions >= start) & (positions < stop)
        out[inside] = float(np.clip(2.0 * event.x / info.width - 1.0 + offset, -1.0, 1.0))
    return out


def pan_control(track: Track, info: VideoInfo, *, n_samples: int, nudges: Nudges = NO_NUDGES,
                control_rate: int = 1000, smoothing_ms: float = 30.0) -> np.ndarray:
    """The pan curve at control rate (one point every SAMPLE_RATE/control_rate samples)."""
    block = _block_of(control_rate)
    raw = _pan_raw(track, info, _control_positions(n_samples, block), nudges)
    return _smoothed_pan(raw, block=block, smoothing_ms=smoothing_ms)


def _smoothed_pan(raw: np.ndarray, *, block: int, smoothing_ms: float) -> np.ndarray:
    return np.clip(hann_smooth(raw, width=_smooth_points(smoothing_ms, block)), -1.0, 1.0)


def _pan_raw(track: Track, info: VideoInfo, positions: np.ndarray, nudges: Nudges
             ) -> np.ndarray:
    """The pan at control positions before smoothing (each point on its own)."""
    x = track.centers[:, 0] / info.width if len(track) else np.zeros(0)
    raw = np.clip(_track_curve(2.0 * x - 1.0, track, info, positions, default=0.0)
                  + nudges.pan_offset, -1.0, 1.0)
    raw = _apply_event_places(raw, positions, track, info, offset=nudges.pan_offset)
    return _apply_keyframes(raw, positions, nudges)


def pan_curve(track: Track, info: VideoInfo, *, n_samples: int, nudges: Nudges = NO_NUDGES,
              control_rate: int = 1000, smoothing_ms: float = 30.0) -> np.ndarray:
    """Per-sample pan in [-1, 1] (float32, n_samples) of an object, nudges included."""
    control = pan_control(track, info, n_samples=n_samples, nudges=nudges,
                          control_rate=control_rate, smoothing_ms=smoothing_ms)
    return expand_control(control, block=_block_of(control_rate), n_samples=n_samples)


def _reference_area(area_fraction: np.ndarray, config: SpatialConfig) -> float:
    if config.reference_area is not None:
        return config.reference_area
    positive = area_fraction[area_fraction > 0]
    return float(np.median(positive)) if positive.size else 0.05


def distance_control(track: Track, info: VideoInfo, *, n_samples: int,
                     nudges: Nudges = NO_NUDGES, config: SpatialConfig = SpatialConfig()
                     ) -> np.ndarray:
    """Apparent distance (1 = reference) at control rate: sqrt(ref/area) x distance_scale.

    Interpolated and smoothed in the log domain, where equal ratios of size are equal steps.
    """
    curve = _log_distance_raw(track, info, _control_positions(n_samples, config.block), config)
    return _smoothed_distance(curve, nudges, config)


def _smoothed_distance(log_raw: np.ndarray, nudges: Nudges, config: SpatialConfig
                       ) -> np.ndarray:
    curve = hann_smooth(log_raw, width=_smooth_points(config.distance_smoothing_ms, config.block))
    return np.exp(curve) * nudges.distance_scale


def _log_distance_raw(track: Track, info: VideoInfo, positions: np.ndarray,
                      config: SpatialConfig) -> np.ndarray:
    """Log apparent distance at control positions before smoothing."""
    area = track.areas / float(info.width * info.height) if len(track) else np.zeros(0)
    ref = _reference_area(area, config)
    log_d = np.clip(0.5 * (math.log(ref) - np.log(np.maximum(area, 1e-12))),
                    -_MAX_LOG_DISTANCE, _MAX_LOG_DISTANCE)
    return _track_curve(log_d, track, info, positions, default=0.0)


def distance_curve(track: Track, info: VideoInfo, *, n_samples: int, nudges: Nudges = NO_NUDGES,
                   config: SpatialConfig = SpatialConfig()) -> np.ndarray:
    """Per-sample apparent distance (float32, n_samples; 1 = reference, 2 = twice as far)."""
    control = distance_control(track, info, n_samples=n_samples, nudges=nudges, config=config)
    return expand_control(control, block=config.block, n_samples=n_samples)


def distance_gain(distance: np.ndarray, *, min_gain_db: float = -30.0,
                  max_gain_db: float = 12.0) -> np.ndarray:
    """Inverse-distance (free-field, -6 dB per doubling) linear gain, clamped in dB."""
    d = np.maximum(np.asarray(distance, dtype=np.float64), 1e-9)
    gain_db = np.clip(-20.0 * np.log10(d), min_gain_db, max_gain_db)
    return np.asarray(10.0 ** (gain_db / 20.0))


def air_weight(distance: np.ndarray, *, full_distance: float = 16.0) -> np.ndarray:
    """Share w (0..1) of the air low-pass in the signal: 0 up to the reference distance, rising
    with log distance to 1 at `full_distance`.

    The result's response is 1 - w·(1 - cos^N(πf/fs)), so with the default order 8 its -3 dB
    point falls as the object recedes: out of band for w < 0.29, 7.0 kHz at w = 0.5, 4.5 kHz at
    w = 1, and the top octave loses ever more (-24 dB at 12 kHz when w = 1).
    """
    d = np.maximum(np.asarray(distance, dtype=np.float64), 1e-9)
    return np.clip(np.log(d) / math.log(full_distance), 0.0, 1.0)


def width_control(track: Track, info: VideoInfo, *, n_samples: int, nudges: Nudges,
                  config: SpatialConfig) -> np.ndarray:
    """Stereo width (0 = point, 1 = fully decorrelated) at control rate.

    The designer's width (or the render-wide auto width) scaled by how wide the box is: a box
    `full_width_fraction` of the frame wide or wider may be fully wide.
    """
    amount = max(nudges.width, config.auto_width)
    positions = _control_positions(n_samples, config.block)
    if amount <= 0.0:
        return np.zeros(positions.shape)
    box_w = (track.boxes[:, 2] - track.boxes[:, 0]) / info.width if len(track) else np.zeros(0)
    curve = _track_curve(box_w, track, info, positions, default=0.0)
    curve = np.clip(curve / config.full_width_fraction, 0.0, 1.0) * amount
    return hann_smooth(curve, width=_smooth_points(config.smoothing_ms, config.block))


# ---------------------------------------------------------------- signal path (sample rate)


@lru_cache(maxsize=1)
def _decorrelator() -> np.ndarray:
    taps = velvet_decorrelator()
    taps.setflags(write=False)
    return taps


def _as_mono(dry: np.ndarray) -> np.ndarray:
    x = np.asarray(dry, dtype=np.float32)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 1:
        raise ValueError(f"spatialize needs a mono (n,) signal, got shape {x.shape}")
    # one BLAS pass: the energy is finite unless a sample is NaN/inf (or absurdly large)
    if not np.isfinite(np.dot(x, x)):
        raise ValueError("dry signal contains NaN or inf (or values far beyond full scale)")
    return x


def _air_weight(distance: np.ndarray, config: SpatialConfig) -> np.ndarray | None:
    """The air share w at control rate (float32), or None where it is nowhere audible."""
    if not config.air_absorption:
        return None
    weight = air_weight(distance, full_distance=config.air_full_distance).astype(np.float32)
    return None if float(weight.max(initial=0.0)) < 1e-4 else weight


def _air_span(x: np.ndarray, weight: np.ndarray, config: SpatialConfig, *, start: int,
              stop: int) -> np.ndarray:
    """Samples [start, stop) of x + w·(lowpass(x) - x)."""
    seg = fir_span(x, binomial_taps(config.air_filter_order), start=start, stop=stop)
    seg -= x[start:stop]
    seg *= control_segment(weight, block=config.block, start=start, stop=stop)
    seg += x[start:stop]
    return seg


def _apply_air(x: np.ndarray, distance: np.ndarray, config: SpatialConfig) -> np.ndarray:
    """x + w·(lowpass(x) - x), w the air share from distance, chunk by chunk (no full-length
    temporaries besides the result)."""
    weight = _air_weight(distance, config)
    if weight is None:
        return x
    out = np.empty_like(x)
    for start, stop in chunks(x.size, block=config.block):
        out[start:stop] = _air_span(x, weight, config, start=start, stop=stop)
    return out


def _gains_span(out: np.ndarray, left: np.ndarray, right: np.ndarray, gain_l: np.ndarray,
                gain_r: np.ndarray, *, block: int, start: int, stop: int) -> None:
    """out[:, start:stop] = sources times their control-rate gain curves (float32 curves)."""
    np.multiply(left, control_segment(gain_l, block=block, start=start, stop=stop),
                out=out[0, start:stop])
    np.multiply(right, control_segment(gain_r, block=block, start=start, stop=stop),
                out=out[1, start:stop])


def _apply_gains(left: np.ndarray, right: np.ndarray, gain_l: np.ndarray, gain_r: np.ndarray,
                 *, block: int) -> np.ndarray:
    """(2, n) output: each channel source times its control-rate gain curve, chunk by chunk."""
    out = np.empty((2, left.size), dtype=np.float32)
    gain_l, gain_r = gain_l.astype(np.float32), gain_r.astype(np.float32)
    for start, stop in chunks(left.size, block=block):
        _gains_span(out, left[start:stop], right[start:stop], gain_l, gain_r, block=block,
                    start=start, stop=stop)
    return out


def _apply_width(x: np.ndarray, width: np.ndarray, config: SpatialConfig
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) sources: mid ± side with constant total power per channel.

    mid = x / sqrt(1 + k²), side = k·D(x) / sqrt(1 + k²) with D the velvet decorrelator, so
    each channel keeps the power of x and k = 1 makes the channels uncorrelated.
    """
    if float(width.max(initial=0.0)) < 1e-4:
        return x, x
    side = fir_filter(x, _decorrelator())
    norm64 = 1.0 / np.sqrt(1.0 + width**2)
    norm, spread_gain = norm64.astype(np.float32), (width * norm64).astype(np.float32)
    left = np.empty_like(x)
    right = np.empty_like(x)
    block = config.block
    for start, stop in chunks(x.size, block=block):
        mid = x[start:stop] * control_segment(norm, block=block, start=start, stop=stop)
        spread = side[start:stop]
        spread *= control_segment(spread_gain, block=block, start=start, stop=stop)
        np.add(mid, spread, out=left[start:stop])
        np.subtract(mid, spread, out=right[start:stop])
    return left, right


def _delays(pan: np.ndarray, distance: np.ndarray, config: SpatialConfig
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel delays in samples at control rate (ITD on the far ear, Doppler on both)."""
    left = np.zeros_like(pan)
    right = np.zeros_like(pan)
    if config.itd:
        itd = config.itd_max_ms * 1e-3 * SAMPLE_RATE
        left += itd * np.maximum(pan, 0.0)
        right += itd * np.maximum(-pan, 0.0)
    if config.doppler:
        metres = distance * config.reference_distance_m
        seconds = np.minimum((metres - metres.min(initial=0.0)) / config.speed_of_sound,
                             config.doppler_max_delay_ms * 1e-3)
        left += seconds * SAMPLE_RATE
        right += seconds * SAMPLE_RATE
    return left, right


@dataclass(frozen=True)
class PlacedSource:
    """The part of the signal path that pan and gain do not change: the left and right source
    signals after air absorption and width (the same array twice when there is no width), and
    the control-rate distance curve they were made with.

    Depends on the dry sound, the track, the config and only two nudges (distance_scale, width):
    a renderer can keep it and re-run only `place` when the designer moves the pan or the gain
    (see `source_nudges`)."""

    left: np.ndarray
    right: np.ndarray
    distance: np.ndarray
    nudges: tuple[float, float]


def source_nudges(nudges: Nudges) -> tuple[float, float]:
    """The nudges a PlacedSource depends on: (distance_scale, width)."""
    return (float(nudges.distance_scale), float(nudges.width))


def prepare_source(dry: np.ndarray, track: Track, info: VideoInfo, *,
                   nudges: Nudges = NO_NUDGES, config: SpatialConfig = SpatialConfig()
                   ) -> PlacedSource:
    """Air absorption and width of a mono object sound: the first half of `spatialize`."""
    x = _as_mono(dry)
    distance = distance_control(track, info, n_samples=x.size, nudges=nudges, config=config)
    source = _apply_air(x, distance, config) if config.air_absorption else x
    width = width_control(track, info, n_samples=x.size, nudges=nudges, config=config)
    left, right = _apply_width(source, width, config)
    return PlacedSource(left=left, right=right, distance=distance, nudges=source_nudges(nudges))


def place(source: PlacedSource, track: Track, info: VideoInfo, *, nudges: Nudges = NO_NUDGES,
          config: SpatialConfig = SpatialConfig()) -> np.ndarray:
    """Pan, optional ITD / Doppler, distance gain and trim: the second half of `spatialize`.

    `source` must have been prepared with the same distance_scale and width as `nudges`."""
    if source.nudges != source_nudges(nudges):
        raise ValueError("the source was prepared for other distance/width nudges")
    pan, left, right = _delayed(source, track, info, nudges=nudges, config=config)
    gain_l, gain_r = _channel_gains(pan, source.distance, nudges, config)
    return _apply_gains(left, right, gain_l, gain_r, block=config.block)


def _delayed(source: PlacedSource, track: Track, info: VideoInfo, *, nudges: Nudges,
             config: SpatialConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pan control curve, left, right): the prepared source after the optional ITD / Doppler
    delays, which depend on the pan."""
    pan = pan_control(track, info, n_samples=source.left.size, nudges=nudges,
                      control_rate=config.control_rate, smoothing_ms=config.smoothing_ms)
    left, right = source.left, source.right
    if config.itd or config.doppler:
        delay_l, delay_r = _delays(pan, source.distance, config)
        left = variable_delay_control(left, delay_l, block=config.block)
        right = variable_delay_control(right, delay_r, block=config.block)
    return pan, left, right


def _level(distance: np.ndarray, nudges: Nudges, config: SpatialConfig) -> np.ndarray:
    """Linear level at control rate: the clamped distance gain x the trim."""
    return distance_gain(distance, min_gain_db=config.min_gain_db,
                         max_gain_db=config.max_gain_db) * 10.0 ** (nudges.gain_db / 20.0)


def _channel_gains(pan: np.ndarray, distance: np.ndarray, nudges: Nudges, config: SpatialConfig
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Left and right gain curves at control rate: pan law x distance gain x trim."""
    gain = _level(distance, nudges, config)
    gain_l, gain_r = pan_gains(pan, law=config.law)
    return gain_l * gain, gain_r * gain


def spatialize(dry: np.ndarray, track: Track, info: VideoInfo, *, nudges: Nudges = NO_NUDGES,
               config: SpatialConfig = SpatialConfig()) -> np.ndarray:
    """Place a mono object sound in stereo: (n,) float32 in, (2, n) float32 out.

    Pan law gains from the box position, inverse-distance gain from the box size (clamped),
    air absorption, optional width / ITD / Doppler, and the nudges' gain trim. Mute is not
    applied here (the mixer does mute/solo).
    """
    if not streams_whole(nudges, config):
        source = prepare_source(dry, track, info, nudges=nudges, config=config)
        return place(source, track, info, nudges=nudges, config=config)
    # the common path in one chunked pass: no full-length air-absorbed copy (the same samples
    # as prepare_source + place)
    x = _as_mono(dry)
    distance = distance_control(track, info, n_samples=x.size, nudges=nudges, config=config)
    weight = _air_weight(distance, config)
    pan = pan_control(track, info, n_samples=x.size, nudges=nudges,
                      control_rate=config.control_rate, smoothing_ms=config.smoothing_ms)
    gain_l, gain_r = (g.astype(np.float32) for g in _channel_gains(pan, distance, nudges, config))
    out = np.empty((2, x.size), dtype=np.float32)
    for start, stop in chunks(x.size, block=config.block):
        src = x[start:stop] if weight is None else _air_span(x, weight, config, start=start,
                                                              stop=stop)
        _gains_span(out, src, src, gain_l, gain_r, block=config.block, start=start, stop=stop)
    return out


def _sounding_chunks(x: np.ndarray, spans: list[tuple[int, int]], reach: int
                     ) -> list[tuple[int, int]]:
    """The spans of `spans` whose samples can be non-zero: those within `reach` samples of a
    non-zero sample of x (every other span of the output is exactly zero)."""
    nonzero = np.zeros(len(spans), dtype=bool)
    for i, (start, stop) in enumerate(spans):
        nonzero[i] = bool(np.any(x[start:stop]))
    keep = nonzero.copy()
    if reach > 0:                      # a filter reaches across a chunk edge
        for i in map(int, np.flatnonzero(nonzero)):
            start, stop = spans[i]
            j = i - 1                  # earlier chunks within reach of a sample near the start
            while j >= 0 and spans[j][1] > start - reach and np.any(
                    x[start:min(stop, spans[j][1] + reach)]):
                keep[j], j = True, j - 1
            j = i + 1
            while j < len(spans) and spans[j][0] < stop + reach and np.any(
                    x[max(start, spans[j][0] - reach):stop]):
                keep[j], j = True, j + 1
    return [span for span, on in zip(spans, keep, strict=True) if on]


def spatialize_chunks(dry: np.ndarray, track: Track, info: VideoInfo, *,
                      nudges: Nudges = NO_NUDGES, config: SpatialConfig = SpatialConfig()
                      ) -> tuple[tuple[int, int], Iterator[tuple[int, np.ndarray]]]:
    """`spatialize` a chunk at a time, skipping what is silent: ([lo, hi), chunks) where the
    chunks are (start, (2, k) float32) in ascending order inside [lo, hi), and every sample of
    the stem outside the chunks is exactly zero (a filter of silence is silence). The samples
    are bit for bit those of `spatialize`; without width, ITD or Doppler no full-length stereo
    array is made (the stem can be written to disk as it is made, a chunk at a time).
    [lo, hi) is empty (0, 0) for a silent stem."""
    if not streams_whole(nudges, config):
        stem = spatialize(dry, track, info, nudges=nudges, config=config)
        spans = _sounding_chunks(np.max(np.abs(stem), axis=0), chunks(stem.shape[1],
                                 block=config.block), 0)
        whole = (spans[0][0], spans[-1][1]) if spans else (0, 0)
        return whole, ((a, stem[:, a:b]) for a, b in spans)
    x = _as_mono(dry)
    reach = binomial_taps(config.air_filter_order).size // 2 if config.air_absorption else 0
    spans = _sounding_chunks(x, chunks(x.size, block=config.block), reach)
    whole = (spans[0][0], spans[-1][1]) if spans else (0, 0)
    return whole, _chunk_stream(x, spans, track, info, nudges=nudges, config=config)


def _chunk_stream(x: np.ndarray, spans: list[tuple[int, int]], track: Track, info: VideoInfo,
                  *, nudges: Nudges, config: SpatialConfig) -> Iterator[tuple[int, np.ndarray]]:
    """The common path of `spatialize` (no width, ITD or Doppler) over the given chunks."""
    distance = distance_control(track, info, n_samples=x.size, nudges=nudges, config=config)
    weight = _air_weight(distance, config)
    pan = pan_control(track, info, n_samples=x.size, nudges=nudges,
                      control_rate=config.control_rate, smoothing_ms=config.smoothing_ms)
    gain_l, gain_r = (g.astype(np.float32) for g in _channel_gains(pan, distance, nudges, config))
    for start, stop in spans:
        src = x[start:stop] if weight is None else _air_span(x, weight, config, start=start,
                                                              stop=stop)
        out = np.empty((2, stop - start), dtype=np.float32)
        np.multiply(src, control_segment(gain_l, block=config.block, start=start, stop=stop),
                    out=out[0])
        np.multiply(src, control_segment(gain_r, block=config.block, start=start, stop=stop),
                    out=out[1])
        yield start, out


def spatialize_window(read_dry: Callable[[int, int], np.ndarray], track: Track,
                      info: VideoInfo, *, n_samples: int, start: int, stop: int,
                      nudges: Nudges = NO_NUDGES, config: SpatialConfig = SpatialConfig()
                      ) -> np.ndarray | None:
    """Samples [start, stop) of `spatialize` of a long dry sound, made from the dry samples
    around them only: `read_dry(a, b)` gives dry samples [a, b) as (b - a,) float32.

    The control curves are made over the window plus their smoothing's reach, so the result
    equals the same samples of the whole stem to float rounding (the long distance smoothing
    sums by FFT, whose rounding depends on the length). This is what lets a nudge be heard at
    the playhead before the object's whole stem is placed again. (2, stop - start) float32, or
    None with width, ITD or Doppler (their filters and delays need the whole signal)."""
    if not streams_whole(nudges, config):
        return None
    start, stop = max(0, start), min(n_samples, stop)
    block = config.block
    reach = binomial_taps(config.air_filter_order).size // 2 if config.air_absorption else 0
    first = max(0, start - reach) // block * block            # block-aligned window start
    last = min(n_samples, stop + reach)
    x = _as_mono(read_dry(first, last))
    if x.size != last - first:
        raise ValueError(f"read_dry gave {x.size} samples for [{first}, {last})")
    if stop <= start:
        return np.zeros((2, 0), dtype=np.float32)
    total = -(-n_samples // block) + 1                        # control points of the whole
    margin = max(_smooth_points(config.smoothing_ms, block),
                 _smooth_points(config.distance_smoothing_ms, block)) // 2 + 2
    i0, i1 = first // block, min(total, -(-last // block) + 1)
    lo, hi = max(0, i0 - margin), min(total, i1 + margin)
    positions = np.arange(lo, hi, dtype=np.float64) * block
    distance = _smoothed_distance(_log_distance_raw(track, info, positions, config), nudges,
                                  config)[i0 - lo:]
    pan = _smoothed_pan(_pan_raw(track, info, positions, nudges), block=block,
                        smoothing_ms=config.smoothing_ms)[i0 - lo:]
    weight = _air_weight(distance, config)
    gain_l, gain_r = (g.astype(np.float32) for g in _channel_gains(pan, distance, nudges, config))
    a, b = start - first, stop - first
    aligned = a // block * block                   # control segments start on the grid
    src = x[aligned:b] if weight is None else _air_span(x, weight, config, start=aligned, stop=b)
    out = np.empty((2, b - aligned), dtype=np.float32)
    for channel, gain in enumerate((gain_l, gain_r)):
        np.multiply(src, control_segment(gain, block=block, start=aligned, stop=b),
                    out=out[channel])
    return np.ascontiguousarray(out[:, a - aligned:])


@dataclass(frozen=True)
class DryPlacement:
    """An object's sound before pan and level, and the curves that place it (for DAW sessions).

    audio: (1, n) float32 when the object has no width, ITD or Doppler (a mono source), else
        (2, n): the left and right sources after width and the delays (which stay baked in).
    pan, gain: control-rate curves (one point every `block` samples, the last one past the end):
        the pan in [-1, 1] and the linear level (distance gain x trim) that `spatialize`
        applies. Stem = pan_gains(pan)[channel] x gain x audio[channel], linear between points.
    """

    audio: np.ndarray
    pan: np.ndarray
    gain: np.ndarray
    block: int

    @property
    def control_times(self) -> np.ndarray:
        """Seconds (float64) of the control points."""
        return np.arange(self.pan.size, dtype=np.float64) * (self.block / SAMPLE_RATE)


def dry_placement(dry: np.ndarray, track: Track, info: VideoInfo, *,
                  nudges: Nudges = NO_NUDGES, config: SpatialConfig = SpatialConfig()
                  ) -> DryPlacement:
    """The spatializer's work split into a source signal and its pan and level curves:
    `apply_placement` of the result is `spatialize` of the same input (to float32 rounding)."""
    source = prepare_source(dry, track, info, nudges=nudges, config=config)
    pan, left, right = _delayed(source, track, info, nudges=nudges, config=config)
    audio = left[None, :] if left is right else np.stack([left, right])
    return DryPlacement(audio=np.asarray(audio, dtype=np.float32), pan=pan,
                        gain=_level(source.distance, nudges, config), block=config.block)


def apply_placement(audio: np.ndarray, pan: np.ndarray, gain: np.ndarray, *, block: int,
                    law: str = "-3dB") -> np.ndarray:
    """(2, n) stereo of a (1, n) or (2, n) source under control-rate pan and gain curves (the
    gain interpolated per sample, as the spatializer does)."""
    source = np.asarray(audio, dtype=np.float32)
    gain_l, gain_r = pan_gains(pan, law=law)
    left, right = source[0], source[-1]
    return _apply_gains(left, right, gain_l * gain, gain_r * gain, block=block)


class _Window:
    """Samples [lo, hi) of a long mono signal that arrives a block at a time, kept only while a
    chunked filter still reads them; sliced like the whole signal (`size` is its length)."""

    def __init__(self, n_samples: int) -> None:
        self.size = n_samples
        self.lo = 0
        self.data = np.zeros(0, dtype=np.float32)

    @property
    def hi(self) -> int:
        return self.lo + self.data.size

    def push(self, block: np.ndarray) -> None:
        self.data = np.concatenate([self.data, block])

    def drop(self, before: int) -> None:
        """Forget the samples before `before`."""
        cut = min(max(0, before - self.lo), self.data.size)
        if cut:
            self.data = self.data[cut:].copy()
            self.lo += cut

    def __getitem__(self, key: slice) -> np.ndarray:
        a, b = key.start, key.stop
        if not self.lo <= a <= b <= self.hi:
            raise IndexError(f"[{a}, {b}) is not held (holding [{self.lo}, {self.hi}))")
        return self.data[a - self.lo: b - self.lo]


def streams_whole(nudges: Nudges, config: SpatialConfig) -> bool:
    """Whether `spatialize_stream` can place this object (no width, ITD or Doppler, which the
    spatializer applies to the whole signal)."""
    return not (config.itd or config.doppler or max(nudges.width, config.auto_width) > 0.0)


def spatialize_stream(blocks: Iterable[tuple[int, np.ndarray]], track: Track, info: VideoInfo,
                      *, n_samples: int, nudges: Nudges = NO_NUDGES,
                      config: SpatialConfig = SpatialConfig()
                      ) -> Iterator[tuple[int, np.ndarray]]:
    """`spatialize_chunks` of a dry signal that arrives as consecutive (start, mono block)
    pieces from sample 0 to `n_samples`: (start, (2, k) float32) chunks in ascending order, the
    same chunks and samples as `spatialize_chunks` of the whole signal (silent ones skipped:
    every other sample of the stem is exactly zero), holding only a block of the dry signal
    and the air filter's reach beyond it. Only without width, ITD or Doppler
    (`streams_whole`)."""
    if not streams_whole(nudges, config):
        raise ValueError("width, ITD and Doppler need the whole dry signal: "
                         "use spatialize_chunks")
    n = n_samples
    reach = binomial_taps(config.air_filter_order).size // 2 if config.air_absorption else 0
    distance = distance_control(track, info, n_samples=n, nudges=nudges, config=config)
    weight = _air_weight(distance, config)
    pan = pan_control(track, info, n_samples=n, nudges=nudges,
                      control_rate=config.control_rate, smoothing_ms=config.smoothing_ms)
    gain_l, gain_r = (g.astype(np.float32) for g in _channel_gains(pan, distance, nudges, config))
    del pan, distance
    spans = chunks(n, block=config.block)
    x = _Window(n)
    i = 0
    for start, block in blocks:
        if start != x.hi:
            raise ValueError(f"blocks must follow each other: got {start}, expected {x.hi}")
        data = np.asarray(block, dtype=np.float32).reshape(-1)
        if not np.isfinite(np.dot(data, data)):
            raise ValueError("dry signal contains NaN or inf (or values far beyond full scale)")
        x.push(data)
        while i < len(spans) and min(n, spans[i][1] + reach) <= x.hi:
            a, b = spans[i]
            i += 1
            if not np.any(x[max(0, a - reach): min(n, b + reach)]):
                continue
            src = x[a:b] if weight is None else _air_span(x, weight, config,  # type: ignore[arg-type]
                                                           start=a, stop=b)
            out = np.empty((2, b - a), dtype=np.float32)
            np.multiply(src, control_segment(gain_l, block=config.block, start=a, stop=b),
                        out=out[0])
            np.multiply(src, control_segment(gain_r, block=config.block, start=a, stop=b),
                        out=out[1])
            yield a, out
        x.drop(spans[i][0] - reach if i < len(spans) else x.hi)
    if x.hi != n:
        raise ValueError(f"the dry blocks end at {x.hi}, not at {n}")
