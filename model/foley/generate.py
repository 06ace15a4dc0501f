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

from collections.abc import Callable
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
    bed_texture,
    chain_texture,
    cloth_texture,
    engine_texture,
    filtered,
    footstep,
    loopable,
    modal_impact,
    scrape_burst,
    scrape_texture,
    tyre_texture,
    whoosh_texture,
    wings_texture,
)
from model.foley.scene import ObjectSound
from model.foley.variation import (
    NoRepeatChooser,
    VariationConfig,
    onset_index,
    play_loop,
    vary_one_shot,
)
from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE, duration_to_samples, time_to_sample
from video.base.tracks import Track, VideoInfo

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
    events = [(e.time, e.strength, e.kind) for e in track.events]
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
        start = time_to_sample(time_s) - onset_index(shot, fraction=config.variation.onset_fraction)
        _add_at(out, shot, start)


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


def _texture_from_sample(loop_src: np.ndarray, level: np.ndarray, bright: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    loop = loopable(loop_src / np.float32(max(float(np.sqrt(np.mean(loop_src ** 2))), 1e-9)))
    rate = (np.float32(0.8) + np.float32(0.4) * bright).astype(np.float64)
    y = play_loop(loop, rate, offset=float(rng.uniform(0, len(loop))))
    low = filtered(y, "lowpass", 1500.0)
    return ((low + (y - low) * bright) * level).astype(np.float32)


@dataclass(frozen=True)
class TextureControls:
    """Per-sample texture controls from `start` (a sample index of the video) on: `level`
    (0 while still, rising with speed, faded at the track's ends) and `speed` relative to the
    reference speed (drives brightness and pitch)."""

    start: int
    level: np.ndarray
    speed: np.ndarray


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
    span = _track_span(profile, n_samples)
    if span is None:
        return None
    start, stop = span
    speed = _speed_curve(profile, start, stop)
    m = config.motion
    gate = _gate(speed, m)
    moving = gate > 0
    if not moving.any():
        return None
    lo, hi = int(np.argmax(moving)), moving.size - int(np.argmax(moving[::-1]))
    rel = np.clip(speed[lo:hi] / np.float32(m.ref_speed), 0.0, 1.25).astype(np.float32)
    level = (gate[lo:hi] * rel ** np.float32(0.7)).astype(np.float32)
    fade = min(int(config.fade_s * SAMPLE_RATE), len(level) // 2)
    if fade > 1:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        level[:fade] *= ramp
        level[-fade:] *= ramp[::-1]
    return TextureControls(start=start + lo, level=level, speed=rel)


def _synthesize_texture(source: Source, controls: TextureControls, samples: SampleCache,
                        rng: np.random.Generator) -> np.ndarray:
    """The texture signal for `controls`: a looped library sound, else the procedural preset of
    its kind (whoosh for a kind with none: a library kind whose sound could not be read)."""
    level, rel = controls.level, controls.speed
    bright = np.clip(rel, 0.0, 1.0)
    loop_src = samples.mono(source.entries[int(rng.integers(len(source.entries)))]) \
        if source.entries else None
    if loop_src is not None:
        return _texture_from_sample(loop_src, level, bright, rng)
    if source.kind == "engine":
        lo, hi = ENGINE_PITCH_HZ.get(source.variant, ENGINE_PITCH_HZ["car"])
        return engine_texture(level, np.float32(lo) + np.float32(hi - lo) * rel, rng=rng)
    if source.kind == "chain":
        return chain_texture(level, np.float32(6.0) + np.float32(50.0) * bright, rng=rng)
    if source.kind == "bed":
        return bed_texture(level, rng=rng, kind=source.variant)
    presets = {"tyres": tyre_texture, "cloth": cloth_texture, "wings": wings_texture,
               "scrape": scrape_texture}
    return presets.get(source.kind, whoosh_texture)(level, bright, rng=rng)


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
    silent throughout.

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
    level_s = _speed_curve(profile, start, stop, values=level)
    rel_s = _speed_curve(profile, start, stop, values=rel)
    fade = min(int(config.fade_s * SAMPLE_RATE), len(level_s) // 2)
    if fade > 1:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        level_s[:fade] *= ramp
        level_s[-fade:] *= ramp[::-1]
    return TextureControls(start=start, level=level_s, speed=rel_s)


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
