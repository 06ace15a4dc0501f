"""The render pipeline: analysis + per-object sounds -> dry foley -> stereo stems -> master + mix.

`render_scene` is the one-shot pipeline used by `stereofoley render`; `SceneRenderer` is the same
pipeline with caches, for the studio:

- dry audio is cached per object, keyed by a hash of everything that affects it (the track, the
  prompt, pinned sounds, the object and render seeds, the sound libraries), so a nudge never
  regenerates foley;
- `update_object` after a nudge re-spatializes that ONE object and patches the mix in place
  (subtract its old stem, add the new one). The prepared source of the last nudged objects
  (air absorption and width, which only the distance and width nudges change) is kept, so a
  pan or gain nudge only re-pans: ~10-20 ms for a 60 s object. The master gain measured by the last full render is
  kept fixed (not re-measured, and the true-peak limiter is not re-run) until the next explicit
  `render()`, so nudging is instant and levels do not jump while the designer works; a full
  render re-masters everything.

Stems are mastered alike (one loudness gain for all) and the mix is the sum of the active stems
(mute/solo as in audio.mix); muted stems are still delivered, with the same gain.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from audio.mix import active_ids
from audio.nudges import Nudges
from audio.spatialize import (
    PlacedSource,
    SpatialConfig,
    place,
    prepare_source,
    source_nudges,
    spatialize,
)
from model.choose import LibraryLike
from model.generate import GenerateConfig, SampleCache, WarnFn, generate_object
from model.scene import ObjectSound, RenderSettings
from video.errors import InputError
from video.progress import ProgressFn, report
from video.timebase import duration_to_samples
from video.tracks import Analysis, Track


@dataclass(frozen=True)
class RenderResult:
    """Everything one render produced, all float32 at 48 kHz and `n_samples` long.

    dry: mono foley per object id; stems: mastered (2, n) per object id; mix: (2, n) sum of the
    active stems after the master stage; master: the master stage's report (loudness, gain,
    limiter) as saved in project.json.
    """

    n_samples: int
    dry: Mapping[int, np.ndarray]
    stems: Mapping[int, np.ndarray]
    mix: np.ndarray
    master: Mapping[str, Any] = field(default_factory=dict)


def spatial_config(settings: RenderSettings) -> SpatialConfig:
    """The spatializer settings a project's render settings ask for."""
    return SpatialConfig(law=settings.pan_law, air_absorption=settings.air_absorption,
                         itd=settings.itd, doppler=settings.doppler)


def track_digest(track: Track) -> str:
    """Hash of a track's boxes, frames and events (what the foley is generated from)."""
    return hashlib.sha256(json.dumps(track.to_dict(), sort_keys=True).encode()).hexdigest()


def dry_key(track: Track, sound: ObjectSound, settings: RenderSettings, *,
            digest: str | None = None) -> str:
    """Hash of everything that changes an object's dry audio (and nothing that does not).

    `digest` is `track_digest(track)` when the caller has it cached (hashing a long track is
    the slow part)."""
    doc = {"track": digest if digest is not None else track_digest(track),
           "prompt": sound.prompt, "sounds": list(sound.sounds), "seed": sound.seed,
           "render_seed": settings.seed, "libraries": list(settings.libraries)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _master_gain(report_doc: Mapping[str, Any]) -> float:
    """Linear loudness gain the master stage applied to every stem (1 if it reports none)."""
    return float(10.0 ** (float(report_doc.get("gain_db", 0.0)) / 20.0))


class SceneRenderer:
    """Renders a scene and keeps what a nudge does not change (see the module docstring).

    The dry cache is least-recently-used, bounded to two versions per object plus
    `spare_dry`, so a long editing session does not grow without limit.
    """

    spare_dry = 8
    spare_sources = 2   # prepared sources kept for the most recently nudged objects

    def __init__(self, analysis: Analysis, settings: RenderSettings, *,
                 library: LibraryLike | None = None, warn: WarnFn | None = None,
                 config: GenerateConfig | None = None) -> None:
        self.analysis = analysis
        self.settings = settings
        self.library = library
        self.warn = warn
        self.config = config if config is not None else GenerateConfig()
        self.spatial = spatial_config(settings)
        self.n_samples = duration_to_samples(analysis.video.duration)
        self.samples = SampleCache(library, warn)
        self._dry: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sources: OrderedDict[int, tuple[tuple[str, tuple[float, float]], PlacedSource]] \
            = OrderedDict()
        self._digests = {t.id: track_digest(t) for t in analysis.objects}
        self._objects: dict[int, ObjectSound] = {}
        self._stems: dict[int, np.ndarray] = {}
        self._mix = np.zeros((2, self.n_samples), dtype=np.float32)
        self._gain = 1.0
        self._report: dict[str, Any] = {}

    def _track(self, object_id: int) -> Track:
        try:
            return self.analysis.object(object_id)
        except KeyError:
            raise InputError(f"no object with id {object_id} in the analysis") from None

    def dry(self, sound: ObjectSound) -> np.ndarray:
        """The object's dry foley, generated once per distinct (track, prompt, sounds, seeds)."""
        track = self._track(sound.id)
        key = dry_key(track, sound, self.settings, digest=self._digests[track.id])
        if key in self._dry:
            self._dry.move_to_end(key)
            return self._dry[key]
        audio = generate_object(track, self.analysis.video, sound, render_seed=self.settings.seed,
                                library=self.library, samples=self.samples, config=self.config,
                                warn=self.warn)
        audio.setflags(write=False)
        self._dry[key] = audio
        # keep every current object's audio plus a few recent ones (undo of a prompt edit)
        while len(self._dry) > 2 * len(self.analysis.objects) + self.spare_dry:
            self._dry.popitem(last=False)
        return audio

    def _spatialize(self, sound: ObjectSound, *, gain: float = 1.0, keep: bool = False
                    ) -> np.ndarray:
        """The object's stereo stem, times `gain` (folded into the spatializer's own gain
        curve when the nudge range allows: one pass over the audio fewer).

        keep: reuse (and remember) the object's prepared source (air absorption, width), which
        a pan or gain nudge does not change, so such a nudge only re-pans."""
        nudges = sound.nudges
        folded = nudges.gain_db + 20.0 * math.log10(gain) if gain > 0 else -math.inf
        if gain != 1.0 and -60.0 <= folded <= 24.0:
            nudges, gain = replace(nudges, gain_db=folded), 1.0
        track = self._track(sound.id)
        if keep:
            stem = place(self._source(sound, nudges), track, self.analysis.video,
                         nudges=nudges, config=self.spatial)
        else:
            stem = spatialize(self.dry(sound), track, self.analysis.video, nudges=nudges,
                              config=self.spatial)
        if gain != 1.0:
            stem *= np.float32(gain)
        return stem

    def _source(self, sound: ObjectSound, nudges: Nudges) -> PlacedSource:
        """The object's prepared source, from the small cache of recently nudged objects."""
        track = self._track(sound.id)
        key = (dry_key(track, sound, self.settings, digest=self._digests[track.id]),
               source_nudges(nudges))
        cached = self._sources.get(sound.id)
        if cached is not None and cached[0] == key:
            self._sources.move_to_end(sound.id)
            return cached[1]
        source = prepare_source(self.dry(sound), track, self.analysis.video, nudges=nudges,
                                config=self.spatial)
        self._sources[sound.id] = (key, source)
        self._sources.move_to_end(sound.id)
        while len(self._sources) > self.spare_sources:
            self._sources.popitem(last=False)
        return source

    def _active(self) -> set[int]:
        return active_ids({oid: o.nudges for oid, o in self._objects.items()})

    def render(self, objects: Sequence[ObjectSound], *, progress: ProgressFn | None = None
               ) -> RenderResult:
        """Full render: generate (cached), spatialize every object, master, mix."""
        from audio.master import MasterConfig, master

        ids = [o.id for o in objects]
        if len(set(ids)) != len(ids):
            raise InputError(f"duplicate object ids {ids}")
        self._objects = {o.id: o for o in objects}
        spatial: dict[int, np.ndarray] = {}
        for i, sound in enumerate(objects):
            report(progress, 0.85 * i / max(len(objects), 1), f"object {sound.id}: foley")
            spatial[sound.id] = self._spatialize(sound)
        report(progress, 0.85, "master")
        active = self._active()
        playing = {oid: s for oid, s in spatial.items() if oid in active}
        result = master(playing, n_samples=self.n_samples,   # the stems are ours: in place
                        config=MasterConfig(target_lufs=self.settings.target_lufs,
                                            true_peak_db=self.settings.true_peak_db),
                        in_place=True)
        self._report = dict(result.report)
        self._gain = _master_gain(self._report)
        gain = np.float32(self._gain)
        self._stems = {oid: (np.asarray(result.stems[oid], dtype=np.float32) if oid in playing
                             else spatial[oid] * gain) for oid in spatial}
        self._mix = result.mix            # a fresh array of the master stage's own
        report(progress, 1.0, "rendered")
        return self.result()

    def update_object(self, sound: ObjectSound) -> RenderResult:
        """Apply one object's edit (nudges, or prompt/seed: then its foley is regenerated) without
        re-mastering: its stem is re-spatialized with the last master gain and the mix patched."""
        if sound.id not in self._objects:
            raise InputError(f"object {sound.id} was not part of the last render")
        before = self._active()
        self._objects[sound.id] = sound
        after = self._active()
        stem = self._spatialize(sound, gain=self._gain, keep=True)
        old = self._stems[sound.id]
        self._stems[sound.id] = stem
        if before != after:           # mute/solo changed: the set of summed stems changed
            self._mix = self._sum_active(after)
        elif sound.id in after:
            _patch(self._mix, stem, old)
        return self.result()

    def _sum_active(self, active: set[int]) -> np.ndarray:
        total = np.zeros((2, self.n_samples), dtype=np.float32)
        for oid in sorted(active):
            total += self._stems[oid]
        return total

    def result(self) -> RenderResult:
        """The current state as a RenderResult (arrays are shared, not copied)."""
        dry = {oid: self.dry(o) for oid, o in self._objects.items()}
        return RenderResult(n_samples=self.n_samples, dry=dry, stems=dict(self._stems),
                            mix=self._mix, master=dict(self._report))

    def nudges(self) -> dict[int, Nudges]:
        return {oid: o.nudges for oid, o in self._objects.items()}


def _patch(mix: np.ndarray, new: np.ndarray, old: np.ndarray, *, chunk: int = 1 << 15) -> None:
    """mix += new - old, in place, a cache-sized chunk at a time (one pass over the mix)."""
    for start in range(0, mix.shape[1], chunk):
        part = slice(start, start + chunk)
        mix[:, part] += np.subtract(new[:, part], old[:, part])


def render_scene(analysis: Analysis, objects: Sequence[ObjectSound], settings: RenderSettings, *,
                 library: LibraryLike | None = None, progress: ProgressFn | None = None,
                 warn: WarnFn | None = None) -> RenderResult:
    """Render every object of `objects` (ids from `analysis`) to stems, master and mix."""
    renderer = SceneRenderer(analysis, settings, library=library, warn=warn)
    return renderer.render(objects, progress=progress)
