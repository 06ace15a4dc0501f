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
  render re-masters everything;
- `set_analysis` after a track edit (objects added, deleted, merged, re-tracked) and
  `set_settings` after a settings change keep every stem whose dry audio, track, nudges and
  spatial settings are unchanged, drop removed objects' stems and generate only new or changed
  objects, with the same kept master gain as `update_object` (a new loudness target or ceiling
  re-masters: a full render from the cached dry audio). Nothing is committed until such an
  update finishes, so a cancelled job leaves the renderer as it was.

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
from model.foley.choose import LibraryLike
from model.foley.generate import GenerateConfig, SampleCache, WarnFn, generate_object
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import InputError
from video.base.progress import ProgressFn, report
from video.base.timebase import duration_to_samples
from video.base.tracks import Analysis, Track


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


_MASTER_FIELDS = ("target_lufs", "true_peak_db")


@dataclass(frozen=True)
class _Scene:
    """What a renderer renders: the analysis, the settings, and what is derived from them
    (spatializer config, per-track digests, length). Replaced as a whole when a render or an
    edit commits, so a cancelled job leaves the renderer as it was."""

    analysis: Analysis
    settings: RenderSettings
    spatial: SpatialConfig
    digests: Mapping[int, str]
    n_samples: int

    @classmethod
    def build(cls, analysis: Analysis, settings: RenderSettings,
              previous: _Scene | None = None) -> _Scene:
        """A scene; digests of tracks `previous` already hashed (the same Track objects:
        edits and undo share unchanged tracks) are reused, since hashing long tracks is slow."""
        old = {} if previous is None else {t.id: t for t in previous.analysis.objects}
        digests = {t.id: (previous.digests[t.id] if previous is not None and old.get(t.id) is t
                          else track_digest(t)) for t in analysis.objects}
        return cls(analysis=analysis, settings=settings, spatial=spatial_config(settings),
                   digests=digests, n_samples=duration_to_samples(analysis.video.duration))

    def track(self, object_id: int) -> Track:
        try:
            return self.analysis.object(object_id)
        except KeyError:
            raise InputError(f"no object with id {object_id} in the analysis") from None

    def key(self, sound: ObjectSound) -> str:
        """The object's dry-audio key in this scene."""
        track = self.track(sound.id)
        return dry_key(track, sound, self.settings, digest=self.digests[track.id])


class SceneRenderer:
    """Renders a scene and keeps what a nudge or a track edit does not change (see the module
    docstring).

    The dry cache is least-recently-used, bounded to two versions per object plus
    `spare_dry`, so a long editing session does not grow without limit.
    """

    spare_dry = 8
    spare_sources = 2   # prepared sources kept for the most recently nudged objects

    def __init__(self, analysis: Analysis, settings: RenderSettings, *,
                 library: LibraryLike | None = None, warn: WarnFn | None = None,
                 config: GenerateConfig | None = None) -> None:
        self.library = library
        self.warn = warn
        self.config = config if config is not None else GenerateConfig()
        self.samples = SampleCache(library, warn)
        self._scene = _Scene.build(analysis, settings)
        self._dry: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sources: OrderedDict[int, tuple[tuple[str, tuple[float, float]], PlacedSource]] \
            = OrderedDict()
        self._objects: dict[int, ObjectSound] = {}
        self._dry_of: dict[int, tuple[str, np.ndarray]] = {}  # current objects' (key, dry audio)
        self._stems: dict[int, np.ndarray] = {}
        self._mix = np.zeros((2, self.n_samples), dtype=np.float32)
        self._gain = 1.0
        self._report: dict[str, Any] = {}
        self._rendered = False

    @property
    def analysis(self) -> Analysis:
        return self._scene.analysis

    @property
    def settings(self) -> RenderSettings:
        return self._scene.settings

    @property
    def spatial(self) -> SpatialConfig:
        return self._scene.spatial

    @property
    def n_samples(self) -> int:
        return self._scene.n_samples

    def dry(self, sound: ObjectSound) -> np.ndarray:
        """The object's dry foley, generated once per distinct (track, prompt, sounds, seeds)."""
        return self._dry_in(self._scene, sound)

    def _dry_in(self, scene: _Scene, sound: ObjectSound) -> np.ndarray:
        key = scene.key(sound)
        pinned = self._dry_of.get(sound.id)
        if pinned is not None and pinned[0] == key:     # a current object's: never evicted
            return pinned[1]
        if key in self._dry:
            self._dry.move_to_end(key)
            return self._dry[key]
        audio = generate_object(scene.track(sound.id), scene.analysis.video, sound,
                                render_seed=scene.settings.seed, library=self.library,
                                samples=self.samples, config=self.config, warn=self.warn)
        audio.setflags(write=False)
        self._dry[key] = audio
        # keep every current object's audio plus a few recent ones (undo of a prompt edit)
        objects = max(len(scene.analysis.objects), len(self.analysis.objects))
        while len(self._dry) > 2 * objects + self.spare_dry:
            self._dry.popitem(last=False)
        return audio

    def _spatialize(self, scene: _Scene, sound: ObjectSound, *, gain: float = 1.0,
                    keep: bool = False) -> np.ndarray:
        """The object's stereo stem, times `gain` (folded into the spatializer's own gain
        curve when the nudge range allows: one pass over the audio fewer).

        keep: reuse (and remember) the object's prepared source (air absorption, width), which
        a pan or gain nudge does not change, so such a nudge only re-pans."""
        nudges = sound.nudges
        folded = nudges.gain_db + 20.0 * math.log10(gain) if gain > 0 else -math.inf
        if gain != 1.0 and -60.0 <= folded <= 24.0:
            nudges, gain = replace(nudges, gain_db=folded), 1.0
        track = scene.track(sound.id)
        if keep:
            stem = place(self._source(scene, sound, nudges), track, scene.analysis.video,
                         nudges=nudges, config=scene.spatial)
        else:
            stem = spatialize(self._dry_in(scene, sound), track, scene.analysis.video,
                              nudges=nudges, config=scene.spatial)
        if gain != 1.0:
            stem *= np.float32(gain)
        return stem

    def _source(self, scene: _Scene, sound: ObjectSound, nudges: Nudges) -> PlacedSource:
        """The object's prepared source, from the small cache of recently nudged objects."""
        key = (scene.key(sound), source_nudges(nudges))
        cached = self._sources.get(sound.id)
        if cached is not None and cached[0] == key:
            self._sources.move_to_end(sound.id)
            return cached[1]
        source = prepare_source(self._dry_in(scene, sound), scene.track(sound.id),
                                scene.analysis.video, nudges=nudges, config=scene.spatial)
        self._sources[sound.id] = (key, source)
        self._sources.move_to_end(sound.id)
        while len(self._sources) > self.spare_sources:
            self._sources.popitem(last=False)
        return source

    def _active(self) -> set[int]:
        return active_ids({oid: o.nudges for oid, o in self._objects.items()})

    def _adopt(self, analysis: Analysis | None, settings: RenderSettings | None) -> _Scene:
        """The scene for a new analysis and/or settings (None: the current one).

        Another video (length, frame rate, size) invalidates every cached audio."""
        analysis = self.analysis if analysis is None else analysis
        settings = self.settings if settings is None else settings
        if analysis is self.analysis and settings == self.settings:
            return self._scene
        if analysis.video != self.analysis.video:
            self._dry.clear()
            self._sources.clear()
            return _Scene.build(analysis, settings)
        if spatial_config(settings) != self.spatial:
            self._sources.clear()        # prepared sources depend on the spatial settings
        return _Scene.build(analysis, settings, self._scene)

    def render(self, objects: Sequence[ObjectSound], *, analysis: Analysis | None = None,
               settings: RenderSettings | None = None, progress: ProgressFn | None = None
               ) -> RenderResult:
        """Full render: generate (cached), spatialize every object, master, mix.

        analysis, settings: render this scene instead of the current one (the renderer adopts
        it; dry audio of objects whose track and sound are unchanged stays cached)."""
        from audio.master import MasterConfig, master

        scene = self._adopt(analysis, settings)
        _check_ids(scene, objects)
        spatial: dict[int, np.ndarray] = {}
        for i, sound in enumerate(objects):
            report(progress, 0.85 * i / max(len(objects), 1), f"object {sound.id}: foley")
            spatial[sound.id] = self._spatialize(scene, sound)
        report(progress, 0.85, "master")
        active = active_ids({o.id: o.nudges for o in objects})
        playing = {oid: s for oid, s in spatial.items() if oid in active}
        result = master(playing, n_samples=scene.n_samples,  # the stems are ours: in place
                        config=MasterConfig(target_lufs=scene.settings.target_lufs,
                                            true_peak_db=scene.settings.true_peak_db),
                        in_place=True)
        gain = _master_gain(result.report)
        stems = {oid: (np.asarray(result.stems[oid], dtype=np.float32) if oid in playing
                       else spatial[oid] * np.float32(gain)) for oid in spatial}
        dry = {o.id: self._dry_in(scene, o) for o in objects}   # just used: cached
        self._commit(scene, objects, dry, stems, result.mix)  # the master stage's fresh mix
        self._report, self._gain, self._rendered = dict(result.report), gain, True
        report(progress, 1.0, "rendered")
        return self.result()

    def set_analysis(self, analysis: Analysis, objects: Sequence[ObjectSound] | None = None, *,
                     settings: RenderSettings | None = None,
                     progress: ProgressFn | None = None) -> RenderResult:
        """Adopt an edited analysis (objects added, deleted, merged, re-tracked) without
        regenerating what did not change.

        objects: the sounds of the new scene (default: the last render's sound of each
        surviving object, a default sound for each new track). Objects whose dry-audio key
        (track digest, prompt, sounds, seed, render seed) and nudges are unchanged keep their
        stems as they are; removed objects' stems are dropped; new or changed objects are
        generated (or taken from the cache) and spatialized with the last master gain, as
        `update_object` does: levels do not jump while the designer edits, and the next
        `render()` re-masters. The mix stays the sum of the active stems. settings: new
        render settings at the same time (see `set_settings`). Before any render, and for
        another video, this is a full render. The renderer is unchanged if `progress` cancels.
        """
        if objects is None:
            objects = [self._objects.get(t.id, ObjectSound(id=t.id)) for t in analysis.objects]
        return self._update(analysis, settings, objects, progress)

    def set_settings(self, settings: RenderSettings, *, progress: ProgressFn | None = None
                     ) -> RenderResult:
        """Adopt new render settings for the current objects, doing only what they require.

        A new seed (or sound libraries) changes every dry-audio key: the objects are
        regenerated. A new pan law, air absorption, ITD or Doppler re-spatializes every object
        from its cached dry audio with the last master gain (as `update_object`). A new
        loudness target or true-peak ceiling re-masters: a full `render()`, still from the
        cached dry audio. The renderer is unchanged if `progress` cancels the update.
        """
        return self._update(None, settings, list(self._objects.values()), progress)

    def _update(self, analysis: Analysis | None, settings: RenderSettings | None,
                objects: Sequence[ObjectSound], progress: ProgressFn | None) -> RenderResult:
        """Bring the renderer to a new scene, rebuilding only the stems that changed."""
        video_changed = analysis is not None and analysis.video != self.analysis.video
        remaster = settings is not None and any(
            getattr(settings, f) != getattr(self.settings, f) for f in _MASTER_FIELDS)
        if not self._rendered or video_changed or remaster:
            return self.render(objects, analysis=analysis, settings=settings, progress=progress)
        old = self._scene
        scene = self._adopt(analysis, settings)
        _check_ids(scene, objects)
        todo = [s for s in objects if not self._stem_still_valid(old, scene, s)]
        redo = {s.id for s in todo}
        stems = {s.id: self._stems[s.id] for s in objects if s.id not in redo}
        dry = {s.id: self._dry_of[s.id][1] for s in objects if s.id not in redo}
        for i, sound in enumerate(todo):
            report(progress, i / len(todo), f"object {sound.id}: foley")
            stems[sound.id] = self._spatialize(scene, sound, gain=self._gain)
            dry[sound.id] = self._dry_in(scene, sound)     # just used: cached
        before = self._active()
        after = active_ids({o.id: o.nudges for o in objects})
        mix = self._updated_mix(stems, before, after)
        self._commit(scene, objects, dry, stems, mix)
        report(progress, 1.0, "updated")
        return self.result()

    def _stem_still_valid(self, old: _Scene, new: _Scene, sound: ObjectSound) -> bool:
        """True when the object's current stem is exactly what `new` would give it: same dry
        audio, same track, same nudges, same spatial settings (the master gain is kept)."""
        previous = self._objects.get(sound.id)
        if previous is None or sound.id not in self._stems or new.spatial != old.spatial \
                or previous.nudges != sound.nudges:
            return False
        return old.key(previous) == new.key(sound)   # the track digest is part of the key

    def _updated_mix(self, stems: Mapping[int, np.ndarray], before: set[int], after: set[int]
                     ) -> np.ndarray:
        """The mix for new `stems` (active ids `after`): the old mix patched for the objects
        whose contribution changed, or a fresh sum when that is fewer passes over the audio."""
        ids = set(stems) | set(self._stems)
        changed = [oid for oid in sorted(ids)
                   if (oid in before) != (oid in after)
                   or (oid in after and stems[oid] is not self._stems.get(oid))]
        if len(changed) >= len(after):
            total = np.zeros((2, self.n_samples), dtype=np.float32)
            for oid in sorted(after):
                total += stems[oid]
            return total
        mix = self._mix
        for oid in changed:
            if oid in before and oid in after:
                _patch(mix, stems[oid], self._stems[oid])
            elif oid in after:
                mix += stems[oid]
            else:
                mix -= self._stems[oid]
        return mix

    def _commit(self, scene: _Scene, objects: Sequence[ObjectSound],
                dry: Mapping[int, np.ndarray], stems: Mapping[int, np.ndarray],
                mix: np.ndarray) -> None:
        """Make a finished render or update the renderer's state (all at once)."""
        self._scene = scene
        self._objects = {o.id: o for o in objects}
        self._dry_of = {o.id: (scene.key(o), dry[o.id]) for o in objects}
        self._stems = dict(stems)
        self._mix = mix
        for oid in [k for k in self._sources if k not in self._objects]:
            del self._sources[oid]

    def update_object(self, sound: ObjectSound) -> RenderResult:
        """Apply one object's edit (nudges, or prompt/seed: then its foley is regenerated) without
        re-mastering: its stem is re-spatialized with the last master gain and the mix patched."""
        if sound.id not in self._objects:
            raise InputError(f"object {sound.id} was not part of the last render")
        before = self._active()
        stem = self._spatialize(self._scene, sound, gain=self._gain, keep=True)
        self._objects[sound.id] = sound
        self._dry_of[sound.id] = (self._scene.key(sound), self.dry(sound))
        after = self._active()
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
        dry = {oid: audio for oid, (_, audio) in self._dry_of.items()}
        return RenderResult(n_samples=self.n_samples, dry=dry,
                            stems=dict(self._stems), mix=self._mix, master=dict(self._report))

    def nudges(self) -> dict[int, Nudges]:
        return {oid: o.nudges for oid, o in self._objects.items()}


def _check_ids(scene: _Scene, objects: Sequence[ObjectSound]) -> None:
    """Object ids must be unique and name objects of the scene's analysis."""
    ids = [o.id for o in objects]
    if len(set(ids)) != len(ids):
        raise InputError(f"duplicate object ids {ids}")
    for oid in ids:
        scene.track(oid)


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
