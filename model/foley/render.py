"""The render pipeline: analysis + per-object sounds -> dry foley -> stereo stems -> master + mix.

`render_scene` is the one-shot pipeline used by `stereofoley render`; `SceneRenderer` is the same
pipeline with caches, for the studio:

- dry audio is cached per object, keyed by a hash of everything that affects it (the track, the
  prompt, pinned sounds, the object and render seeds, the sound libraries), so a nudge never
  regenerates foley;
- `sync(analysis, objects, settings)` is the one place that decides what an edit requires: it
  compares the scene it is asked for with the one it holds, per object (dry-audio key changed
  -> regenerate; placement nudges or spatial settings changed -> re-pan; mute/solo -> re-sum
  the mix; loudness target or true-peak ceiling changed, first render, another video ->
  re-master), redoes only that and returns what it did (`plan` says the same without doing
  it, so the studio can show which objects are out of date). Changed stems get the master gain
  of the last full render and the mix is patched in place (subtract the old stem, add the new
  one): the true-peak limiter is not re-run and levels do not jump while the designer works;
  a full `render()` re-masters everything. The prepared source of the last nudged objects
  (air absorption and width, which only the distance and width nudges change) is kept, so a
  pan or gain nudge only re-pans: ~10-20 ms for a 60 s object. Nothing is committed until a
  sync finishes, so a cancelled job leaves the renderer as it was.

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
from typing import TYPE_CHECKING, Any

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
from model.foley.choose import LibraryLike, describe_plan, sound_label
from model.foley.generate import GenerateConfig, SampleCache, WarnFn, generate_with_plan
from model.foley.recipes import recipe_for
from model.foley.scene import ObjectSound, RenderSettings
from video.base.errors import InputError
from video.base.progress import ProgressFn, report
from video.base.timebase import duration_to_samples
from video.base.tracks import Analysis, Track

if TYPE_CHECKING:      # audio.master loads scipy: the render imports it only when mastering
    from audio.master import MasterConfig, Span


@dataclass(frozen=True)
class RenderResult:
    """Everything one render produced, all float32 at 48 kHz and `n_samples` long.

    dry: mono foley per object id; stems: mastered (2, n) per object id; mix: (2, n) sum of the
    active stems after the master stage; master: the master stage's report (loudness, gain,
    limiter) as saved in project.json; chosen: per object id, what its foley was made of
    (`model.foley.choose.describe_plan`: the class recipe, the source and bank files per event
    kind, the layers), saved with the object in project.json; limiter: per object id, the
    true-peak limiter's gain spans its stem carries (audio.master.MasterResult.limiter; none
    for a muted stem or one re-placed since the last full render).
    """

    n_samples: int
    dry: Mapping[int, np.ndarray]
    stems: Mapping[int, np.ndarray]
    mix: np.ndarray
    master: Mapping[str, Any] = field(default_factory=dict)
    chosen: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    limiter: Mapping[int, Sequence[Span]] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncPlan:
    """What `SceneRenderer.sync` does (or did) to bring its audio to a scene, per object id.

    regenerate: new dry audio (a new object, or its track, prompt, pinned sounds, seeds or
    libraries changed; taken from the dry cache when that audio was made before), then placed;
    repan: the same dry audio placed again (placement nudges or spatial settings changed);
    drop: objects no longer in the scene; remix: the mix changes (any of the above, or who is
    heard under mute/solo); remaster: a full render with the master stage measured again.
    """

    regenerate: frozenset[int] = frozenset()
    repan: frozenset[int] = frozenset()
    drop: frozenset[int] = frozenset()
    remix: bool = False
    remaster: bool = False

    @property
    def stale(self) -> frozenset[int]:
        """Objects whose stem is out of date (rebuilt by the sync)."""
        return self.regenerate | self.repan

    @property
    def empty(self) -> bool:
        """True when the renderer already holds this scene's audio."""
        return not (self.stale or self.drop or self.remix or self.remaster)


@dataclass(frozen=True)
class Synced:
    """What a sync did, and the renderer's audio after it."""

    did: SyncPlan
    result: RenderResult


def _placement(nudges: Nudges) -> Nudges:
    """The nudges that shape an object's stem (mute and solo are the mixer's business)."""
    return replace(nudges, mute=False, solo=False)


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


def bed_nudges(track: Track, nudges: Nudges) -> Nudges:
    """The nudges an object is placed with: an ambience bed (its class recipe is a bed) is
    spread over its area (full width, scaled by its box width by the spatializer)."""
    recipe = recipe_for(sound_label(track))
    if recipe is None or not any(t.bed for t in recipe.textures) or nudges.width >= 1.0:
        return nudges
    return replace(nudges, width=1.0)


def _master_gain(report_doc: Mapping[str, Any]) -> float:
    """Linear loudness gain the master stage applied to every stem (1 if it reports none)."""
    return float(10.0 ** (float(report_doc.get("gain_db", 0.0)) / 20.0))


_MASTER_FIELDS = ("target_lufs", "true_peak_db", "max_limiting_db")


def master_settings(settings: RenderSettings) -> tuple[float, ...]:
    """The render settings the master stage depends on: a change of any re-masters."""
    return tuple(getattr(settings, f) for f in _MASTER_FIELDS)


def master_config(settings: RenderSettings) -> MasterConfig:
    """The master stage's options from a project's render settings."""
    from audio.master import MasterConfig

    return MasterConfig(target_lufs=settings.target_lufs, true_peak_db=settings.true_peak_db,
                        max_limiting_db=settings.max_limiting_db)


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
        self._chosen: dict[str, Mapping[str, Any]] = {}     # dry key -> describe_plan
        self._sources: OrderedDict[int, tuple[tuple[str, tuple[float, float]], PlacedSource]] \
            = OrderedDict()
        self._objects: dict[int, ObjectSound] = {}
        self._dry_of: dict[int, tuple[str, np.ndarray]] = {}  # current objects' (key, dry audio)
        self._stems: dict[int, np.ndarray] = {}
        self._limited: dict[int, Sequence[Span]] = {}   # the limiter spans each stem carries
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
        audio, plan = generate_with_plan(scene.track(sound.id), scene.analysis.video, sound,
                                         render_seed=scene.settings.seed, library=self.library,
                                         samples=self.samples, config=self.config,
                                         warn=self.warn)
        audio.setflags(write=False)
        self._dry[key] = audio
        self._chosen[key] = describe_plan(plan, prompted=bool(sound.prompt.strip() or sound.sounds))
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
        track = scene.track(sound.id)
        nudges = bed_nudges(track, sound.nudges)
        folded = nudges.gain_db + 20.0 * math.log10(gain) if gain > 0 else -math.inf
        if gain != 1.0 and -60.0 <= folded <= 24.0:
            nudges, gain = replace(nudges, gain_db=folded), 1.0
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

    def _next_scene(self, analysis: Analysis, settings: RenderSettings) -> _Scene:
        """The scene for `analysis` and `settings`, reusing the held scene's track digests
        (no cache is touched: `plan` runs this on the studio's UI thread)."""
        held = self._scene
        if analysis is held.analysis and settings == held.settings:
            return held
        same_video = analysis.video == held.analysis.video
        return _Scene.build(analysis, settings, held if same_video else None)

    def plan(self, analysis: Analysis, objects: Sequence[ObjectSound], settings: RenderSettings,
             *, remaster: bool = False) -> SyncPlan:
        """What `sync` would do to bring the renderer to this scene (nothing is done).

        Per object, against what the renderer holds: a new dry-audio key (track, prompt, pinned
        sounds, seeds, libraries; or a new object) -> regenerate; the same dry audio with other
        placement nudges, or new spatial settings -> re-pan; mute/solo only -> re-sum the mix.
        Before the first render, for another video, for a new loudness target or true-peak
        ceiling, or when asked (`remaster`), everything is re-mastered: a full render, from the
        cached dry audio where its key is unchanged."""
        return self._plan(self._next_scene(analysis, settings), objects, remaster=remaster)

    def _plan(self, scene: _Scene, objects: Sequence[ObjectSound], *, remaster: bool) -> SyncPlan:
        # each of these is replaced whole when a sync commits (never changed in place), so a
        # plan on another thread than the sync's reads consistent, if maybe just outdated, state
        old, held, dry_of = self._scene, self._objects, self._dry_of
        _check_ids(scene, objects)
        ids = {o.id for o in objects}
        drop = frozenset(i for i in held if i not in ids)
        remaster = remaster or not self._rendered or scene.analysis.video != old.analysis.video \
            or master_settings(scene.settings) != master_settings(old.settings)
        regenerate = frozenset(o.id for o in objects
                               if o.id not in dry_of or dry_of[o.id][0] != scene.key(o))
        if remaster:
            return SyncPlan(regenerate=regenerate, repan=frozenset(ids - regenerate), drop=drop,
                            remix=True, remaster=True)
        respatial = scene.spatial != old.spatial
        repan = frozenset(o.id for o in objects if o.id not in regenerate and (
            respatial or o.id not in held
            or _placement(o.nudges) != _placement(held[o.id].nudges)))
        remix = bool(regenerate or repan or drop) or active_ids(
            {o.id: o.nudges for o in objects}) != active_ids(
            {i: o.nudges for i, o in held.items()})
        return SyncPlan(regenerate=regenerate, repan=repan, drop=drop, remix=remix,
                        remaster=False)

    def sync(self, analysis: Analysis, objects: Sequence[ObjectSound], settings: RenderSettings,
             *, remaster: bool = False, progress: ProgressFn | None = None) -> Synced:
        """Bring the renderer to this scene, redoing only what changed (see `plan`), and say
        what was done.

        Regenerated objects get new dry audio (from the dry cache when their key was seen
        before: undo). Re-panned objects are placed again from their dry audio; when the spatial
        settings are unchanged their prepared source (air absorption, width) is reused while
        only pan or gain nudges changed, so a pan or gain nudge only re-pans. Changed stems get
        the master gain of the last full render (levels do not jump while the designer works)
        and the mix is patched for them. A re-master is a full `render()`. Nothing is committed
        until the sync finishes, so a cancelled one leaves the renderer as it was."""
        scene = self._next_scene(analysis, settings)
        did = self._plan(scene, objects, remaster=remaster)
        if did.remaster:
            return Synced(did, self.render(objects, analysis=analysis, settings=settings,
                                           progress=progress))
        keep = scene.spatial == self.spatial
        if not keep:
            self._sources.clear()    # prepared sources depend on the spatial settings
        stems = {s.id: self._stems[s.id] for s in objects if s.id not in did.stale}
        limited = {s.id: self._limited.get(s.id, ()) if s.id not in did.stale else ()
                   for s in objects}
        dry = {s.id: self._dry_of[s.id][1] for s in objects if s.id not in did.stale}
        todo = [s for s in objects if s.id in did.stale]
        for i, sound in enumerate(todo):
            what = "foley" if sound.id in did.regenerate else "placing"
            report(progress, i / len(todo), f"object {sound.id}: {what}")
            stems[sound.id] = self._spatialize(scene, sound, gain=self._gain, keep=keep)
            dry[sound.id] = self._dry_in(scene, sound)     # just used: cached
        mix = self._mix
        if did.remix:
            before = active_ids(self.nudges())
            after = active_ids({o.id: o.nudges for o in objects})
            mix = self._updated_mix(stems, before, after)
        report(progress, 1.0, "updated")   # last chance to cancel: nothing committed yet
        self._commit(scene, objects, dry, stems, mix)
        self._limited = limited
        return Synced(did, self.result())

    def render(self, objects: Sequence[ObjectSound], *, analysis: Analysis | None = None,
               settings: RenderSettings | None = None, progress: ProgressFn | None = None
               ) -> RenderResult:
        """Full render: generate (cached), spatialize every object, master, mix.

        analysis, settings: render this scene instead of the current one (the renderer adopts
        it; dry audio of objects whose track and sound are unchanged stays cached)."""
        from audio.master import master

        scene = self._next_scene(self.analysis if analysis is None else analysis,
                                 self.settings if settings is None else settings)
        if scene.analysis.video != self.analysis.video:
            self._dry.clear()        # another video: no cached audio fits it
            self._sources.clear()
        elif scene.spatial != self.spatial:
            self._sources.clear()
        _check_ids(scene, objects)
        spatial: dict[int, np.ndarray] = {}
        for i, sound in enumerate(objects):
            report(progress, 0.85 * i / max(len(objects), 1), f"object {sound.id}: foley")
            spatial[sound.id] = self._spatialize(scene, sound)
        report(progress, 0.85, "master")
        active = active_ids({o.id: o.nudges for o in objects})
        playing = {oid: s for oid, s in spatial.items() if oid in active}
        result = master(playing, n_samples=scene.n_samples,  # the stems are ours: in place
                        config=master_config(scene.settings), in_place=True)
        gain = _master_gain(result.report)
        stems = {oid: (np.asarray(result.stems[oid], dtype=np.float32) if oid in playing
                       else spatial[oid] * np.float32(gain)) for oid in spatial}
        dry = {o.id: self._dry_in(scene, o) for o in objects}   # just used: cached
        report(progress, 1.0, "rendered")   # last chance to cancel: nothing committed yet
        self._commit(scene, objects, dry, stems, result.mix)  # the master stage's fresh mix
        self._report, self._gain, self._rendered = dict(result.report), gain, True
        self._limited = {oid: result.limiter if oid in playing else () for oid in spatial}
        return self.result()

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
        live = set(self._dry) | {key for key, _ in self._dry_of.values()}
        self._chosen = {k: v for k, v in self._chosen.items() if k in live}

    def update_object(self, sound: ObjectSound) -> RenderResult:
        """Apply one object's edit (nudges, or prompt/seed: then its foley is regenerated): a
        `sync` of the held scene with that object's new sound."""
        if sound.id not in self._objects:
            raise InputError(f"object {sound.id} was not part of the last render")
        objects = [sound if o.id == sound.id else o for o in self._objects.values()]
        return self.sync(self.analysis, objects, self.settings).result

    def result(self) -> RenderResult:
        """The current state as a RenderResult (arrays are shared, not copied)."""
        dry = {oid: audio for oid, (_, audio) in self._dry_of.items()}
        chosen = {oid: self._chosen[key] for oid, (key, _) in self._dry_of.items()
                  if key in self._chosen}
        return RenderResult(n_samples=self.n_samples, dry=dry, stems=dict(self._stems),
                            mix=self._mix, master=dict(self._report), chosen=chosen,
                            limiter=dict(self._limited))

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
