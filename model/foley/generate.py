"""Per-object dry foley: a mono float32 signal covering the whole video, in sync with the picture.

For one tracked object, `generate_object`:
1. decides its sounds (`model.foley.choose.choose_sounds`: prompt + library, or motion + events);
2. places a one-shot on every visual event, its attack (onset) on the event's exact sample
   (`video.base.timebase.time_to_sample`), varied per hit (pitch, gain, brightness) and scaled by the
   event's strength, never the same library sample twice in a row;
3. adds a continuous movement texture whose level, brightness and pitch follow the object's
   smoothed speed, silent while it stands still.

Randomness comes from a Generator seeded by (render seed, object id, object seed), split into
independent streams for choice, events and texture, so the same project and seed give
bit-identical audio, and editing one object never changes another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from model.foley.choose import (
    SOUND_KINDS,
    LibraryLike,
    MotionConfig,
    MotionProfile,
    SoundPlan,
    Source,
    TextureLayer,
    choose_sounds,
    implied_event_times,
    motion_profile,
)
from model.foley.procedural import (
    ENGINE_PITCH_HZ,
    Scan,
    Step,
    bed_stream,
    chain_stream,
    cloth_stream,
    engine_stream,
    filter_stream,
    footstep,
    loopable,
    modal_impact,
    scrape_burst,
    scrape_stream,
    tyre_stream,
    whoosh_stream,
    wings_stream,
)
from model.foley.scene import ObjectSound
from model.foley.variation import (
    NoRepeatChooser,
    VariationConfig,
    loop_reader,
    onset_index,
    vary_one_shot,
)
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE, duration_to_samples, time_to_sample
from video.base.tracks import SILENT_KINDS, Track, VideoInfo

WarnFn = Callable[[str], None]
MAX_ONE_SHOT_S = 3.0       # longest stretch of a library recording played on one event


@dataclass(frozen=True)
class GenerateConfig:
    """Levels are relative to a full-strength one-shot peaking at `one_shot_level`.
    `class_recipes` False ignores the class recipes (`model.foley.recipes`): every object gets
    the prompt- or motion-based choice, as before objects were recognized (a baseline)."""

    motion: MotionConfig = field(default_factory=MotionConfig)
    variation: VariationConfig = field(default_factory=VariationConfig)
    one_shot_level: float = 0.9
    texture_level: float = 0.05      # RMS of the texture at the reference speed
    fade_s: float = 0.03             # texture fade at the ends of the track
    procedural_takes: int = 6        # distinct procedural one-shots per source and object
    min_event_gap_s: float = 0.03    # closer events are one contact
    class_recipes: bool = True


def object_seeds(render_seed: int, object_id: int, object_seed: int) -> np.random.SeedSequence:
    """The object's seed sequence: depends only on the three seeds (any ints, negative allowed)."""
    words = [int(v) & 0xFFFFFFFFFFFFFFFF for v in (render_seed, object_id, object_seed)]
    return np.random.SeedSequence(words)


class SampleCache:
    """Library samples as mono float32, loaded once; unreadable ones are warned about and skipped."""

    def __init__(self, library: LibraryLike | None, warn: WarnFn | None = None) -> None:
        self.library = library
        self.warn = warn
        self._mono: dict[str, np.ndarray | None] = {}

    def mono(self, entry_id: str) -> np.ndarray | None:
        if entry_id not in self._mono:
            self._mono[entry_id] = self._load(entry_id)
        return self._mono[entry_id]

    def _load(self, entry_id: str) -> np.ndarray | None:
        if self.library is None:
            return None
        try:
            audio = np.asarray(self.library.load(entry_id), dtype=np.float32)
        except (InputError, OSError, RuntimeError, ValueError, KeyError) as exc:
            if self.warn is not None:
                self.warn(f"skipping sound {entry_id!r}: {exc}")
            return None
        mono = audio.mean(axis=0) if audio.ndim == 2 else audio.reshape(-1)
        if mono.size == 0 or not np.all(np.isfinite(mono)) or not np.any(mono):
            if self.warn is not None:
                self.warn(f"skipping sound {entry_id!r}: empty or silent")
            return None
        return mono.astype(np.float32)


def _procedural_one_shot(source: Source, strength: float, size: float,
                         rng: np.random.Generator) -> np.ndarray:
    if source.kind == "step":
        return footstep(surface=source.variant or "hard", strength=strength, rng=rng)
    if source.kind == "scrape":
        return scrape_burst(strength=strength, rng=rng)
    return modal_impact(material=source.variant or "wood", strength=strength, rng=rng, size=size)


def _add_at(out: np.ndarray, clip: np.ndarray, start: int) -> None:
    """out[start:start+len(clip)] += clip, cut at both ends of `out`."""
    lo, hi = max(start, 0), min(start + len(clip), len(out))
    if hi > lo:
        out[lo:hi] += clip[lo - start: hi - start]


def _event_list(track: Track, plan: SoundPlan, profile: MotionProfile, *, moves: bool,
                config: GenerateConfig) -> list[tuple[float, float, str]]:
    if not plan.one_shots:          # a bed: the region's motion is not a sequence of hits
        return []
    events = [(e.time, e.strength, e.kind) for e in track.events if e.kind not in SILENT_KINDS]
    if plan.implied_events is not None:
        events += [(t, s, plan.implied_events)
                   for t, s in implied_event_times(profile, plan.implied_events,
                                                   config=config.motion)]
    textured = plan.texture is not None or bool(plan.layers)
    if not events and (not textured or not moves):   # never silent: at least one hit
        events = [(t, s, "impact") for t, s in implied_event_times(profile, "impact",
                                                                   config=config.motion)]
    return merge_close_events(events, min_gap_s=config.min_event_gap_s)


def merge_close_events(events: list[tuple[float, float, str]], *, min_gap_s: float
                       ) -> list[tuple[float, float, str]]:
    """Events sorted by time, where ones closer than `min_gap_s` to the previous kept one are
    merged into it (earliest time, strongest strength): a detector firing twice on one contact
    must not play a flam."""
    merged: list[tuple[float, float, str]] = []
    for time_s, strength, kind in sorted(events):
        if merged and time_s - merged[-1][0] < min_gap_s:
            t0, s0, k0 = merged[-1]
            merged[-1] = (t0, max(s0, strength), k0 if s0 >= strength else kind)
        else:
            merged.append((time_s, strength, kind))
    return merged


def _trimmed(x: np.ndarray, seconds: float) -> np.ndarray:
    """`x` cut to `seconds` after its onset, with a 50 ms fade-out where it was cut (a long
    recording used as a one-shot must not smear over the next events)."""
    n = onset_index(x) + int(seconds * SAMPLE_RATE)
    if len(x) <= n:
        return x.astype(np.float32)
    y = x[:n].astype(np.float32)
    fade = min(n, SAMPLE_RATE // 20)
    y[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return y


def _one_shot_pool(source: Source, count: int, size: float, samples: SampleCache,
                   rng: np.random.Generator) -> list[np.ndarray]:
    """Up to `count` peak-normalized one-shots for `source`: its library samples (unreadable
    ones skipped), else procedural takes (a handful, varied per hit later, like a sample set)."""
    pool = [x for x in (samples.mono(e) for e in source.entries) if x is not None]
    if pool:
        return [_trimmed(x / np.float32(np.max(np.abs(x))), MAX_ONE_SHOT_S) for x in pool]
    return [_procedural_one_shot(source, 1.0, size, rng) for _ in range(count)]


def place_events(out: np.ndarray, events: list[tuple[float, float, str]], plan: SoundPlan, *,
                 size: float, samples: SampleCache, rng: np.random.Generator,
                 config: GenerateConfig) -> None:
    """Add one varied one-shot per event into `out`, its onset on the event's sample."""
    for start, shot in event_shots(events, plan, size=size, samples=samples, rng=rng,
                                   config=config):
        _add_at(out, shot, start)


def event_shots(events: list[tuple[float, float, str]], plan: SoundPlan, *, size: float,
                samples: SampleCache, rng: np.random.Generator, config: GenerateConfig
                ) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, one-shot) per event, in event order: one varied one-shot per event, its
    onset on the event's sample (made lazily, so a long clip's hits need not all be held)."""
    pools: dict[Source, tuple[list[np.ndarray], NoRepeatChooser]] = {}
    for time_s, strength, kind in events:
        source = plan.source_for(kind)
        if source not in pools:
            uses = sum(plan.source_for(k) == source for _, _, k in events)
            pool = _one_shot_pool(source, min(uses, config.procedural_takes),
                                  size if source.size is None else source.size, samples, rng)
            pools[source] = (pool, NoRepeatChooser(len(pool), rng))
        pool, chooser = pools[source]
        shot = vary_one_shot(pool[chooser.next()], strength=strength, rng=rng,
                             config=config.variation)
        shot *= np.float32(config.one_shot_level * source.level)
        yield time_to_sample(time_s) - onset_index(
            shot, fraction=config.variation.onset_fraction), shot


def _speed_curve(profile: MotionProfile, start: int, stop: int, *, chunk: int = 1 << 16,
                 values: np.ndarray | None = None) -> np.ndarray:
    """Per-sample speed (float32; or per-frame `values` instead) over samples [start, stop),
    interpolated a cache-sized chunk at a time (no full-length float64 temporaries)."""
    per_frame = profile.speed if values is None else values
    out = np.empty(max(0, stop - start), dtype=np.float32)
    for a in range(start, stop, chunk):
        b = min(stop, a + chunk)
        t = np.arange(a, b, dtype=np.float64) / SAMPLE_RATE
        out[a - start: b - start] = np.interp(t, profile.times, per_frame)
    return out


def _gate(speed: np.ndarray, motion: MotionConfig, *, chunk: int = 1 << 16) -> np.ndarray:
    """Smoothstep of speed between still and moving (0 while still), chunk by chunk."""
    gate = np.empty_like(speed)
    for a in range(0, speed.size, chunk):
        g = np.clip((speed[a:a + chunk] - motion.still_speed)
                    / (motion.moving_speed - motion.still_speed), 0.0, 1.0)
        gate[a:a + chunk] = g * g * (3 - 2 * g)              # smoothstep: no clicks at the gate
    return gate


def _sample_stream(loop_src: np.ndarray, scan: Scan, *, rng: np.random.Generator) -> Step:
    """A library sound looped as a texture, a block at a time (control: brightness): read at a
    rate rising with brightness, darker when dim."""
    loop = loopable(loop_src / np.float32(max(float(np.sqrt(np.mean(loop_src ** 2))), 1e-9)))
    read = loop_reader(loop, offset=float(rng.uniform(0, len(loop))))
    lowpass = filter_stream("lowpass", 1500.0)

    def step(level: np.ndarray, bright: np.ndarray) -> np.ndarray:
        y = read((np.float32(0.8) + np.float32(0.4) * bright).astype(np.float64))
        low = lowpass(y)
        return ((low + (y - low) * bright) * level).astype(np.float32)
    return step


@dataclass(frozen=True)
class TextureControls:
    """Per-sample texture controls from `start` (a sample index of the video) on: `level`
    (0 while still, rising with speed, faded at the track's ends) and `speed` relative to the
    reference speed (drives brightness and pitch)."""

    start: int
    level: np.ndarray
    speed: np.ndarray


class ControlStream:
    """A texture's controls over samples [start, stop) made a block at a time (the same values
    as `TextureControls`, which is one block of them): `curves(a, b)` gives (level, relative
    speed) for samples [a, b) inside the span, float32. Per-frame inputs are held, per-sample
    curves are not."""

    def __init__(self, start: int, stop: int, make: Callable[[int, int], tuple[np.ndarray,
                                                                              np.ndarray]],
                 *, fade: int) -> None:
        self.start, self.stop = start, stop
        self._make = make
        self._fade = fade
        self._ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32) if fade > 1 else None

    def curves(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(level, relative speed) over samples [a, b) of the video (inside the span)."""
        if not self.start <= a <= b <= self.stop:
            raise ValueError(f"[{a}, {b}) is outside the controls' span "
                             f"[{self.start}, {self.stop})")
        level, speed = self._make(a, b)
        ramp = self._ramp
        if ramp is not None:       # the fades at the span's ends (never overlapping)
            fade, i, j = self._fade, a - self.start, b - self.start
            if i < fade:
                level[:min(j, fade) - i] *= ramp[i:min(j, fade)]
            tail = self.stop - self.start - fade
            if j > tail:
                k = max(i, tail)
                level[k - i:] *= ramp[::-1][k - tail: j - tail]
        return level, speed

    def scan(self, block: int = 1 << 18) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The curves over the whole span, `block` samples at a time."""
        for a in range(self.start, self.stop, block):
            yield self.curves(a, min(self.stop, a + block))

    def whole(self) -> TextureControls:
        """The curves over the whole span at once."""
        level, speed = self.curves(self.start, self.stop)
        return TextureControls(start=self.start, level=level, speed=speed)


def _track_span(profile: MotionProfile, n_samples: int) -> tuple[int, int] | None:
    """Samples [start, stop) of the tracked span (to the end of its last frame), None when it
    is under two frames or two samples."""
    if len(profile.times) < 2:
        return None
    frame_s = float(profile.times[1] - profile.times[0])
    start = max(0, time_to_sample(float(profile.times[0])))
    stop = min(n_samples, time_to_sample(float(profile.times[-1]) + frame_s))
    return (start, stop) if stop - start >= 2 else None


def texture_controls(profile: MotionProfile, n_samples: int, *,
                     config: GenerateConfig = GenerateConfig()) -> TextureControls | None:
    """Level and relative-speed curves over the span where the object moves; None if it never
    moves (or is tracked for less than two frames)."""
    stream = texture_control_stream(profile, n_samples, config=config)
    return None if stream is None else stream.whole()


def texture_control_stream(profile: MotionProfile, n_samples: int, *,
                           config: GenerateConfig = GenerateConfig(),
                           chunk: int = 1 << 18) -> ControlStream | None:
    """`texture_controls` a block at a time: where it moves is found in a first pass over the
    speed curve, a chunk at a time; None if it never moves."""
    span = _track_span(profile, n_samples)
    if span is None:
        return None
    start, stop = span
    m = config.motion
    first = last = -1
    for a in range(start, stop, chunk):
        moving = np.flatnonzero(_gate(_speed_curve(profile, a, min(stop, a + chunk)), m) > 0)
        if moving.size:
            first = a + int(moving[0]) if first < 0 else first
            last = a + int(moving[-1])
    if first < 0:
        return None

    def make(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        speed = _speed_curve(profile, a, b)
        rel = np.clip(speed / np.float32(m.ref_speed), 0.0, 1.25).astype(np.float32)
        level = (_gate(speed, m) * rel ** np.float32(0.7)).astype(np.float32)
        return level, rel

    length = last + 1 - first
    return ControlStream(first, last + 1, make,
                         fade=min(int(config.fade_s * SAMPLE_RATE), length // 2))


def _synthesize_texture(source: Source, controls: TextureControls, samples: SampleCache,
                        rng: np.random.Generator) -> np.ndarray:
    """The texture signal for `controls`: a looped library sound, else the procedural preset of
    its kind (whoosh for a kind with none: a library kind whose sound could not be read)."""
    make, control_of = _texture_maker(source, samples, rng)
    level, control = controls.level, control_of(controls.speed)
    return make(lambda: [(level, control)])(level, control)


def _texture_maker(source: Source, samples: SampleCache, rng: np.random.Generator
                   ) -> tuple[Callable[[Scan], Step], Callable[[np.ndarray], np.ndarray]]:
    """How to make `source`'s texture a block at a time: (make, control_of) where make(scan)
    sets the texture up (drawing its random numbers) and gives its step, and control_of maps a
    block's relative speed to the step's control curve. Draws the library sound here."""
    loop_src = samples.mono(source.entries[int(rng.integers(len(source.entries)))]) \
        if source.entries else None

    def brightness(rel: np.ndarray) -> np.ndarray:
        return np.clip(rel, 0.0, 1.0)

    if loop_src is not None:
        return (lambda scan: _sample_stream(loop_src, scan, rng=rng)), brightness
    if source.kind == "engine":
        lo, hi = ENGINE_PITCH_HZ.get(source.variant, ENGINE_PITCH_HZ["car"])
        return ((lambda scan: engine_stream(scan, rng=rng)),
                lambda rel: np.float32(lo) + np.float32(hi - lo) * rel)
    if source.kind == "chain":
        return ((lambda scan: chain_stream(scan, rng=rng)),
                lambda rel: np.float32(6.0) + np.float32(50.0) * brightness(rel))
    if source.kind == "bed":
        return (lambda scan: bed_stream(scan, rng=rng, kind=source.variant)), brightness
    presets = {"tyres": tyre_stream, "cloth": cloth_stream, "wings": wings_stream,
               "scrape": scrape_stream}
    preset = presets.get(source.kind, whoosh_stream)
    return (lambda scan: preset(scan, rng=rng)), brightness


def approach_rate(profile: MotionProfile) -> np.ndarray:
    """Per frame, how fast the box grows relative to its size (1/s; > 0 approaching), smoothed
    over about half a second: the pass-by cue of a vehicle coming towards the camera."""
    if len(profile.times) < 2:
        return np.zeros(len(profile.times))
    dt = np.maximum(np.gradient(profile.times), 1e-6)
    growth = np.gradient(profile.size) / dt / np.maximum(profile.size, 1e-3)
    k = max(1, int(round(0.5 / float(np.median(dt))))) | 1
    if k > 1 and len(growth) >= 3:
        k = min(k, len(growth) if len(growth) % 2 else len(growth) - 1)
        growth = np.convolve(np.pad(growth, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    return growth


def layer_controls(profile: MotionProfile, n_samples: int, layer: TextureLayer, *,
                   config: GenerateConfig = GenerateConfig()) -> TextureControls | None:
    """Level and relative-speed curves of a recipe layer: gated by its own (still, moving)
    speeds, kept at its `idle` level while the object is tracked but still, louder and brighter
    while approaching (`passby`), or constant over the whole track (`bed`). None when it is
    silent throughout."""
    stream = layer_control_stream(profile, n_samples, layer, config=config)
    return None if stream is None else stream.whole()


def layer_control_stream(profile: MotionProfile, n_samples: int, layer: TextureLayer, *,
                         config: GenerateConfig = GenerateConfig()) -> ControlStream | None:
    """`layer_controls` a block at a time.

    The curves are computed per video frame and interpolated to samples (two interpolations,
    no per-sample powers): the speed they follow is itself a per-frame curve."""
    span = _track_span(profile, n_samples)
    if span is None:
        return None
    start, stop = span
    spec = layer.spec
    m = config.motion if spec.gate is None else replace(
        config.motion, still_speed=spec.gate[0], moving_speed=spec.gate[1])
    rel = np.clip(profile.speed / m.ref_speed, 0.0, 1.25)
    if spec.bed:
        level, rel = np.ones_like(rel), np.full_like(rel, 0.5)
    else:
        g = np.clip((profile.speed - m.still_speed) / (m.moving_speed - m.still_speed), 0.0, 1.0)
        level = g * g * (3 - 2 * g) * rel ** 0.7
        if spec.idle > 0:
            level = spec.idle + (1.0 - spec.idle) * level
    if spec.passby > 0:
        approach = np.clip(approach_rate(profile), -1.0, 1.0) * spec.passby
        level = level * (1.0 + 0.6 * approach)
        rel = np.clip(rel + 0.4 * approach, 0.0, 1.25)
    moving = level > 0
    if not moving.any():
        return None
    # the span where it sounds (a frame either side: the interpolation ramps in and out)
    lo = max(0, int(np.argmax(moving)) - 1)
    hi = min(len(level) - 1, len(level) - int(np.argmax(moving[::-1])))
    start = max(start, time_to_sample(float(profile.times[lo])))
    if hi < len(level) - 1:
        stop = min(stop, time_to_sample(float(profile.times[hi])))
    if stop - start < 2:
        return None

    def make(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        return (_speed_curve(profile, a, b, values=level),
                _speed_curve(profile, a, b, values=rel))

    return ControlStream(start, stop, make,
                         fade=min(int(config.fade_s * SAMPLE_RATE), (stop - start) // 2))


def object_size(profile: MotionProfile) -> float:
    """Apparent size for modal pitch: median box diagonal relative to a mid-size object."""
    if len(profile.size) == 0:
        return 1.0
    return float(np.clip(np.median(profile.size) / 0.15, 0.5, 2.5))


def generate_object(track: Track, info: VideoInfo, sound: ObjectSound, *, render_seed: int = 0,
                    library: LibraryLike | None = None, samples: SampleCache | None = None,
                    config: GenerateConfig = GenerateConfig(),
                    warn: WarnFn | None = None) -> np.ndarray:
    """Dry mono foley (float32, the video's length at 48 kHz) for one tracked object."""
    return generate_with_plan(track, info, sound, render_seed=render_seed, library=library,
                              samples=samples, config=config, warn=warn)[0]


def generate_with_plan(track: Track, info: VideoInfo, sound: ObjectSound, *,
                       render_seed: int = 0, library: LibraryLike | None = None,
                       samples: SampleCache | None = None,
                       config: GenerateConfig = GenerateConfig(),
                       warn: WarnFn | None = None) -> tuple[np.ndarray, SoundPlan]:
    """`generate_object`'s audio and the SoundPlan it played (what was chosen: the recipe, the
    source per event kind, the layers)."""
    n = duration_to_samples(info.duration)
    out = np.zeros(n, dtype=np.float32)
    seeds = object_seeds(render_seed, track.id, sound.seed)
    rng_plan, rng_events, rng_texture = (np.random.default_rng(s) for s in seeds.spawn(3))
    samples = samples if samples is not None else SampleCache(library, warn)
    profile = motion_profile(track, info, config=config.motion)
    plan = choose_sounds(track, profile, prompt=sound.prompt, pinned=sound.sounds,
                         pinned_kind=_pinned_kind(library, sound.sounds), library=library,
                         rng=rng_plan, recipes=config.class_recipes)
    # the controls matter only with a texture (_event_list reads `moves` only then either)
    controls = texture_controls(profile, n, config=config) if plan.texture is not None else None
    layers = [(layer, layer_controls(profile, n, layer, config=config)) for layer in plan.layers]
    moves = controls is not None or any(c is not None for _, c in layers)
    events = _event_list(track, plan, profile, moves=moves, config=config)
    place_events(out, events, plan, size=object_size(profile), samples=samples, rng=rng_events,
                 config=config)
    if plan.texture is not None and controls is not None:
        tex = _synthesize_texture(plan.texture, controls, samples, rng_texture)
        gain = np.float32(config.texture_level * plan.texture_gain)
        tex = np.asarray(tex, dtype=np.float32)     # a fresh array of its own: scaled in place
        tex *= gain
        out[controls.start: controls.start + len(tex)] += tex
    for layer, layer_ctl in layers:
        if layer_ctl is None:
            continue
        tex = np.asarray(_synthesize_texture(layer.source, layer_ctl, samples, rng_texture),
                         dtype=np.float32)
        tex *= np.float32(config.texture_level * layer.spec.gain)
        out[layer_ctl.start: layer_ctl.start + len(tex)] += tex
    return out, plan


def _scan_of(controls: ControlStream, control_of: Callable[[np.ndarray], np.ndarray]) -> Scan:
    """The (level, control) blocks of a texture over its whole span (for its setup pass)."""
    return lambda: ((level, control_of(rel)) for level, rel in controls.scan())


class DryStream:
    """`generate_with_plan`'s audio a block at a time: `blocks(frames)` yields (start, block)
    covering the whole video in order, the same samples as the whole signal, with memory that
    does not grow with the clip.

    State carried across blocks: the one-shots (made lazily in event order from the same
    random stream; one that straddles a block edge is kept until it has been played out), each
    texture's phases, loop positions and filters (`model.foley.procedural.*_stream`) and its
    control curves, made per block (`ControlStream`, fades included). Whole-clip values are
    found first in cheap passes: where the object moves, which noise bands a texture uses, the
    one-shots' extents (made once and dropped, so each block knows which hits reach it)."""

    def __init__(self, track: Track, info: VideoInfo, sound: ObjectSound, *,
                 render_seed: int = 0, library: LibraryLike | None = None,
                 samples: SampleCache | None = None,
                 config: GenerateConfig = GenerateConfig(), warn: WarnFn | None = None) -> None:
        self.n = duration_to_samples(info.duration)
        seeds = object_seeds(render_seed, track.id, sound.seed)
        rng_plan, rng_events, rng_texture = (np.random.default_rng(s) for s in seeds.spawn(3))
        samples = samples if samples is not None else SampleCache(library, warn)
        profile = motion_profile(track, info, config=config.motion)
        self.plan = plan = choose_sounds(
            track, profile, prompt=sound.prompt, pinned=sound.sounds,
            pinned_kind=_pinned_kind(library, sound.sounds), library=library, rng=rng_plan,
            recipes=config.class_recipes)
        controls = texture_control_stream(profile, self.n, config=config) \
            if plan.texture is not None else None
        layers = [(layer, layer_control_stream(profile, self.n, layer, config=config))
                  for layer in plan.layers]
        moves = controls is not None or any(c is not None for _, c in layers)
        events = _event_list(track, plan, profile, moves=moves, config=config)
        size = object_size(profile)

        def shots(rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
            return event_shots(events, plan, size=size, samples=samples, rng=rng, config=config)

        extents = [(start, start + len(shot)) for start, shot in
                   shots(copy.deepcopy(rng_events))]
        self.one_shots = extents            # [first, end) sample of each hit, in event order
        starts = np.array([a for a, _ in extents], dtype=np.int64)
        # the earliest start among the shots from each one on: shots are made in event order
        self._later_start = np.minimum.accumulate(starts[::-1])[::-1] if starts.size \
            else starts
        self._shots = shots(rng_events)
        self.textures: list[tuple[ControlStream, Step, Callable[[np.ndarray], np.ndarray],
                                  np.float32]] = []
        voices = [(plan.texture, controls, config.texture_level * plan.texture_gain)] \
            if plan.texture is not None else []
        voices += [(layer.source, ctl, config.texture_level * layer.spec.gain)
                   for layer, ctl in layers]
        for source, ctl, gain in voices:
            if ctl is None:
                continue
            make, control_of = _texture_maker(source, samples, rng_texture)
            step = make(_scan_of(ctl, control_of))
            self.textures.append((ctl, step, control_of, np.float32(gain)))
        spans = [*extents, *((c.start, c.stop) for c, _, _, _ in self.textures)]
        lo = max(0, min((a for a, _ in spans), default=0))
        hi = min(self.n, max((b for _, b in spans), default=0))
        self.extent = (lo, hi) if hi > lo else (0, 0)
        self._used = False

    def blocks(self, frames: int) -> Iterator[tuple[int, np.ndarray]]:
        """(start, float32 block of `frames` samples, the last one shorter) from sample 0 to
        the end. A DryStream plays once (its textures carry their state)."""
        if self._used:
            raise RuntimeError("a DryStream plays once")
        self._used = True
        pending: list[tuple[int, np.ndarray]] = []
        made = 0
        for a in range(0, self.n, frames):
            b = min(self.n, a + frames)
            out = np.zeros(b - a, dtype=np.float32)
            while made < self._later_start.size and self._later_start[made] < b:
                pending.append(next(self._shots))
                made += 1
            for start, shot in pending:         # in event order, as the whole signal adds them
                _add_at(out, shot, start - a)
            pending = [(start, shot) for start, shot in pending if start + len(shot) > b]
            for ctl, step, control_of, gain in self.textures:
                lo, hi = max(a, ctl.start), min(b, ctl.stop)
                if hi > lo:
                    level, rel = ctl.curves(lo, hi)
                    tex = np.asarray(step(level, control_of(rel)), dtype=np.float32)
                    tex *= gain
                    out[lo - a: hi - a] += tex
            yield a, out

    def whole(self) -> np.ndarray:
        """All the blocks as one signal (for the spatializer paths that need it whole)."""
        out = np.empty(self.n, dtype=np.float32)
        for a, block in self.blocks(1 << 18):
            out[a: a + block.size] = block
        return out


def _pinned_kind(library: LibraryLike | None, ids: tuple[str, ...]) -> str | None:
    """The generator kind of the first pinned entry, if the library knows it (else None)."""
    getter = getattr(library, "get", None)
    if not ids or getter is None:
        return None
    try:
        entry = getter(ids[0])
    except (KeyError, LookupError, InputError):
        return None
    for kind in getattr(entry, "kinds", ()):
        base = str(kind).split("/", 1)[0]
        if base in SOUND_KINDS:
            return base
    return None
