"""The studio's renderer for long, crowded projects: stems in a disk cache, never all in memory.

`SceneRenderer` keeps every object's dry sound, every stem and the mix as float arrays: fine for
a shot, impossible for a 10-minute scene with 100 objects (23 GB of stems). `CachedRenderer`
makes the same decisions per edit (`plan` / `sync`: new dry-audio key -> regenerate, other
placement nudges or spatial settings -> re-pan, mute/solo -> re-sum, first render or new
loudness settings -> re-master) but keeps its results in an `audio.stem_cache.StemCache`:

- an object's dry foley (generated once per dry key) and its stem (per dry key, placement and
  spatial settings) are files, written one object at a time and memory-mapped back, so peak
  memory is one object's sound however many objects and minutes there are; a project opened
  again finds every stem in the cache and renders nothing;
- the mix is an `audio.block_mix.BlockMix`: the playback callback sums the mapped stems a block
  at a time (only those sounding there), times the master stage's plan, decided once per
  re-master from the block-wise mix (`audio.master.plan_master`);
- each stem has a waveform overview (`audio.overview`, several zoom levels) saved beside it, and
  the mix's overview is patched over a nudged object's span only;
- a nudge re-places one object from its cached dry sound (only the chunks where it sounds),
  rewrites its stem file atomically and hands playback a new `BlockMix` with that stem, which
  the engine crossfades to at its next block.

Like `SceneRenderer` it is used from the worker thread only (`plan` may run on the UI thread: it
reads state that `sync` replaces whole).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audio.block_mix import BlockMix
from audio.mix import active_ids
from audio.overview import Overview, build_overview, load_overview, save_overview
from audio.stem_cache import CachedStem, StemCache
from video.base.errors import InputError
from video.base.progress import ProgressFn, report, scaled
from video.base.timebase import SAMPLE_RATE, duration_to_samples
from video.base.tracks import Analysis, Track

if TYPE_CHECKING:
    from audio.master import MasterPlan
    from model.foley.render import SyncPlan
    from model.foley.scene import ObjectSound, RenderSettings

PREVIEW_S = 1.0
"""Seconds of a nudged object placed at the playhead before its whole stem (heard at once)."""
PREVIEW_OBJECTS = 4   # a sync re-placing more objects than this is not an interactive nudge

STEM_MEMORY_BUDGET = 1 << 30
"""Float32 stems beyond this many bytes (duration x objects x 2 channels x 4 bytes) are not held
in memory: the studio renders such a project with `CachedRenderer`."""


def stems_bytes(analysis: Analysis) -> int:
    """What holding every object's stereo float32 stem in memory would take."""
    return duration_to_samples(analysis.video.duration) * len(analysis.objects) * 8


def default_cache_root() -> Path:
    """Where stems are cached: $STEREOFOLEY_STEM_CACHE, else ~/.cache/stereofoley/stems."""
    env = os.environ.get("STEREOFOLEY_STEM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stereofoley" / "stems"


def _hash(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class CachedSync:
    """What a sync produced: what was done, the mix to play, the stems and their overviews."""

    did: SyncPlan
    n_samples: int
    mix: BlockMix
    stems: Mapping[int, CachedStem]
    dry: Mapping[int, CachedStem]
    overviews: Mapping[int, Overview]
    mix_overview: Overview
    master: Mapping[str, Any]
    chosen: Mapping[int, Mapping[str, Any]]


@dataclass(frozen=True)
class _Held:
    """The renderer's committed state (replaced whole by a sync)."""

    analysis: Analysis | None = None
    settings: RenderSettings | None = None
    dry_keys: Mapping[int, str] = None  # type: ignore[assignment]
    stem_keys: Mapping[int, str] = None  # type: ignore[assignment]
    active: frozenset[int] = frozenset()
    result: CachedSync | None = None
    mix_key: str = ""


class CachedRenderer:
    """Renders a scene into a stem cache and keeps only maps of it (see the module doc)."""

    def __init__(self, analysis: Analysis, settings: RenderSettings, *, cache: StemCache,
                 library: Any = None, warn: Any = None) -> None:
        from model.foley.generate import GenerateConfig, SampleCache

        self.library = library
        self.warn = warn
        self.cache = cache
        self.config = GenerateConfig()
        self.samples = SampleCache(library, warn)
        self._digests: dict[int, tuple[Track, str]] = {}
        self._key_memo: dict[int, tuple[ObjectSound, Analysis, RenderSettings,
                                        tuple[str, str]]] = {}
        self._held = _Held(dry_keys={}, stem_keys={})
        self._chosen: dict[str, Mapping[str, Any]] = {}
        self.analysis, self.settings = analysis, settings

    # -- keys ------------------------------------------------------------------------------------

    def _digest(self, track: Track) -> str:
        from model.foley.render import track_digest

        held = self._digests.get(track.id)
        if held is not None and held[0] is track:      # edits share unchanged Track objects
            return held[1]
        digest = track_digest(track)
        self._digests[track.id] = (track, digest)
        return digest

    def _keys(self, analysis: Analysis, settings: RenderSettings, sound: ObjectSound
              ) -> tuple[str, str]:
        """(dry key, stem key) of an object in this scene (remembered while the object, the
        analysis and the settings are the same objects: an edit shares the unchanged ones)."""
        memo = self._key_memo.get(sound.id)
        if memo is not None and memo[0] is sound and memo[1] is analysis and memo[2] is settings:
            return memo[3]
        keys = self._make_keys(analysis, settings, sound)
        self._key_memo[sound.id] = (sound, analysis, settings, keys)
        return keys

    def _make_keys(self, analysis: Analysis, settings: RenderSettings, sound: ObjectSound
                   ) -> tuple[str, str]:
        from model.foley.render import bed_nudges, dry_key, spatial_config

        try:
            track = analysis.object(sound.id)
        except KeyError:
            raise InputError(f"no object with id {sound.id} in the analysis") from None
        dkey = dry_key(track, sound, settings, digest=self._digest(track))
        placement = replace(bed_nudges(track, sound.nudges), mute=False, solo=False)
        video = analysis.video
        skey = _hash({"dry": dkey, "nudges": repr(placement),
                      "spatial": repr(spatial_config(settings)),
                      "n": duration_to_samples(video.duration)})
        return dkey[:40], skey

    # -- planning ----------------------------------------------------------------------------------

    def plan(self, analysis: Analysis, objects: Sequence[ObjectSound], settings: RenderSettings,
             *, remaster: bool = False) -> SyncPlan:
        """What `sync` would do (nothing is done): as `SceneRenderer.plan`."""
        from model.foley.render import SyncPlan, master_settings

        held = self._held
        ids = [o.id for o in objects]
        if len(set(ids)) != len(ids):
            raise InputError(f"duplicate object ids {ids}")
        keys = {o.id: self._keys(analysis, settings, o) for o in objects}
        drop = frozenset(i for i in held.stem_keys if i not in keys)
        old = held.settings
        remaster = remaster or held.result is None or old is None \
            or held.analysis is None or analysis.video != held.analysis.video \
            or master_settings(old) != master_settings(settings)
        regenerate = frozenset(i for i, (d, _) in keys.items() if held.dry_keys.get(i) != d)
        repan = frozenset(i for i, (_, s) in keys.items()
                          if i not in regenerate and (remaster or held.stem_keys.get(i) != s))
        active = frozenset(active_ids({o.id: o.nudges for o in objects}))
        remix = bool(regenerate or repan or drop) or active != held.active
        return SyncPlan(regenerate=regenerate, repan=repan, drop=drop, remix=remix or remaster,
                        remaster=remaster)

    # -- rendering ---------------------------------------------------------------------------------

    def _dry(self, analysis: Analysis, settings: RenderSettings, sound: ObjectSound,
             dkey: str) -> tuple[np.ndarray, CachedStem | None]:
        """The object's dry foley as a full-length (n,) float32 array: from the cache (a fresh
        array holding only the sounding frames: the rest stays untouched zero pages) or
        generated and cached."""
        from model.foley.choose import describe_plan
        from model.foley.generate import generate_with_plan

        n = duration_to_samples(analysis.video.duration)
        cached = self.cache.get(dkey, "dry")
        if cached is not None and cached.n_samples == n:
            audio = np.zeros(n, dtype=np.float32)
            audio[cached.lo:cached.hi] = cached.frames[cached.lo:cached.hi, 0]
            return audio, cached
        audio, plan = generate_with_plan(analysis.object(sound.id), analysis.video, sound,
                                         render_seed=settings.seed, library=self.library,
                                         samples=self.samples, config=self.config,
                                         warn=self.warn)
        self._chosen[dkey] = describe_plan(plan, prompted=bool(sound.prompt.strip()
                                                               or sound.sounds))
        audio = np.asarray(audio, dtype=np.float32)
        nonzero = np.flatnonzero(audio)
        lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
        stored = self.cache.put(dkey, channels=1, n_samples=n, lo=lo, hi=hi, kind="dry",
                                chunks=[(lo, audio[np.newaxis, lo:hi])] if hi > lo else [])
        return audio, stored

    def _stem(self, analysis: Analysis, settings: RenderSettings, sound: ObjectSound,
              dkey: str, skey: str) -> tuple[CachedStem, Overview, CachedStem | None]:
        """The object's stem from the cache, or placed from its dry sound and cached (with its
        overview)."""
        from audio.spatialize import spatialize_chunks
        from model.foley.render import bed_nudges, spatial_config

        n = duration_to_samples(analysis.video.duration)
        stem = self.cache.get(skey)
        peaks = self.cache.path(skey, "peaks")
        if stem is not None and stem.n_samples == n and peaks.is_file():
            try:
                return stem, load_overview(peaks), self.cache.get(dkey, "dry")
            except (ValueError, OSError):
                pass
        dry, dry_file = self._dry(analysis, settings, sound, dkey)
        track = analysis.object(sound.id)
        (lo, hi), chunks = spatialize_chunks(dry, track, analysis.video,
                                             nudges=bed_nudges(track, sound.nudges),
                                             config=spatial_config(settings))
        stem = self.cache.put(skey, channels=2, n_samples=n, lo=lo, hi=hi, chunks=chunks)
        overview = build_overview(stem.load, n_samples=n, lo=lo, hi=hi)
        save_overview(overview, peaks)
        return stem, overview, dry_file

    def sync(self, analysis: Analysis, objects: Sequence[ObjectSound], settings: RenderSettings,
             *, remaster: bool = False, progress: ProgressFn | None = None,
             on_mix: Callable[[BlockMix], None] | None = None,
             playhead: Callable[[], int | None] | None = None) -> CachedSync:
        """Bring the cache and the mix to this scene, redoing only what changed (see `plan`).

        Progress: 0..0.8 objects, 0.8..0.95 the master stage (re-master only), then the mix's
        overview. `on_mix` gets the new mix as soon as it can play (before the overviews are
        updated: a nudge is heard sooner). `playhead` gives the sample playback reads next
        (None when stopped): a nudge of a few objects is then placed over the next `PREVIEW_S`
        seconds first and handed to `on_mix` as a patch of the current mix, before the
        objects' whole stems. Nothing is committed until the end: a cancelled sync leaves the
        renderer as it was (files it wrote stay in the cache, named by content, for next
        time)."""
        from model.foley.render import master_config, master_settings

        did = self.plan(analysis, objects, settings, remaster=remaster)
        held = self._held
        before = held.result
        keys = {o.id: self._keys(analysis, settings, o) for o in objects}
        n = duration_to_samples(analysis.video.duration)
        if on_mix is not None and playhead is not None and before is not None:
            self._preview(analysis, settings, objects, did, before, playhead, on_mix)
        stems: dict[int, CachedStem] = {}
        overviews: dict[int, Overview] = {}
        dry: dict[int, CachedStem] = {}
        for i, sound in enumerate(objects):
            if before is not None and sound.id in before.stems and sound.id not in did.stale:
                stems[sound.id] = before.stems[sound.id]
                overviews[sound.id] = before.overviews[sound.id]
                if sound.id in before.dry:
                    dry[sound.id] = before.dry[sound.id]
                continue
            report(progress, 0.8 * i / max(len(objects), 1), f"object {sound.id}")
            dkey, skey = keys[sound.id]
            stem, overview, dry_file = self._stem(analysis, settings, sound, dkey, skey)
            stems[sound.id], overviews[sound.id] = stem, overview
            if dry_file is not None:
                dry[sound.id] = dry_file
        active = frozenset(active_ids({o.id: o.nudges for o in objects}))
        plan: MasterPlan | None = before.mix.plan if before is not None else None
        mix = BlockMix(n, stems, active=active, plan=None)
        mkey = _hash({"stems": sorted((i, keys[i][1]) for i in active),
                      "master": list(master_settings(settings))})
        if did.remaster:
            plan = _load_plan(self.cache.path(mkey, "master"))
            if plan is None:
                from audio.master import plan_master

                report(progress, 0.8, "master")
                plan = plan_master(mix.planar(), config=master_config(settings),
                                   progress=scaled(progress, 0.8, 0.95),
                                   peaks_spool=self.cache.path(mkey, "truepeak"))
                _save_plan(plan, self.cache.path(mkey, "master"))
        mix = mix.with_plan(plan)
        if on_mix is not None:
            on_mix(mix)                 # playback first: the overviews can follow
        report(progress, 0.95, "waveforms")
        mix_overview = self._cached_mix_overview(mix, before, did, mkey)
        chosen = {o.id: self._chosen[keys[o.id][0]] for o in objects
                  if keys[o.id][0] in self._chosen}
        result = CachedSync(did=did, n_samples=n, mix=mix, stems=stems, dry=dry,
                            overviews=overviews, mix_overview=mix_overview,
                            master=dict(plan.report) if plan is not None else {}, chosen=chosen)
        report(progress, 1.0, "updated")
        previous = self.live_keys()
        self._held = _Held(analysis=analysis, settings=settings,
                           dry_keys={i: k[0] for i, k in keys.items()},
                           stem_keys={i: k[1] for i, k in keys.items()}, active=active,
                           result=result, mix_key=mkey)
        self.analysis, self.settings = analysis, settings
        # the files of this render and of the one before (undo of the last edit) stay
        self.cache.keep(self.live_keys() | previous)
        return result

    def _preview(self, analysis: Analysis, settings: RenderSettings,
                 objects: Sequence[ObjectSound], did: SyncPlan, before: CachedSync,
                 playhead: Callable[[], int | None], on_mix: Callable[[BlockMix], None]
                 ) -> None:
        """Hear a nudge at once: the re-placed objects' next `PREVIEW_S` seconds from the
        playhead, placed from their cached dry sound (`audio.spatialize.spatialize_window`:
        the same samples as the whole stem's), patched into the current mix and handed to
        playback. Only for a pure re-placement of a few objects; the others wait for the
        whole stems, which follow within a fraction of the preview."""
        from audio.spatialize import spatialize_window
        from model.foley.render import bed_nudges, spatial_config

        if did.regenerate or did.remaster or did.drop or not did.repan \
                or len(did.repan) > PREVIEW_OBJECTS:
            return
        at = playhead()
        if at is None:
            return
        n = before.n_samples
        stop = min(n, at + int(PREVIEW_S * SAMPLE_RATE))
        sounds = {o.id: o for o in objects}
        mix = before.mix.with_active(active_ids({o.id: o.nudges for o in objects}))
        patched = False
        for oid in sorted(did.repan):
            dry, stem = before.dry.get(oid), mix.stems.get(oid)
            if dry is None or stem is None or dry.hi <= at or dry.lo >= stop \
                    or oid not in sounds:
                continue
            track = analysis.object(oid)
            window = spatialize_window(_mono_reader(dry), track,
                                       analysis.video, n_samples=n, start=at, stop=stop,
                                       nudges=bed_nudges(track, sounds[oid].nudges),
                                       config=spatial_config(settings))
            if window is not None and window.shape[1]:
                mix, patched = mix.with_patch(oid, at, window.T), True
        if patched:
            on_mix(mix)

    def _cached_mix_overview(self, mix: BlockMix, before: CachedSync | None, did: SyncPlan,
                             mkey: str) -> Overview:
        """The mix's overview, from the cache after a re-master of a mix seen before."""
        path = self.cache.path(mkey, "peaks")
        if did.remaster and path.is_file():
            try:
                return load_overview(path)
            except (ValueError, OSError):
                pass
        overview = self._mix_overview(mix, before, did)
        if did.remaster:
            save_overview(overview, path)
        return overview

    @staticmethod
    def _mix_overview(mix: BlockMix, before: CachedSync | None, did: SyncPlan) -> Overview:
        """The mix's overview: patched over the spans of the objects whose part in the mix
        changed, or built whole after a re-master (every sample changes)."""
        if before is None or did.remaster or before.n_samples != mix.n_samples:
            return build_overview(mix.read, n_samples=mix.n_samples)
        old = before.mix
        changed = {i for i in set(old.stems) | set(mix.stems)
                   if (i in old.active) != (i in mix.active)
                   or (i in mix.active and old.stems.get(i) is not mix.stems.get(i))}
        overview = before.mix_overview
        for i in sorted(changed):
            spans = [(s.lo, s.hi) for s in (old.stems.get(i), mix.stems.get(i))
                     if s is not None and s.hi > s.lo]
            if spans:
                lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
                overview = build_overview(mix.read, n_samples=mix.n_samples, lo=lo, hi=hi,
                                          base=overview)
        return overview

    @property
    def result(self) -> CachedSync | None:
        return self._held.result

    def live_keys(self) -> set[str]:
        """The cache keys the current render uses (everything else may be cleaned away)."""
        held = self._held
        keys = set(held.dry_keys.values()) | set(held.stem_keys.values())
        return keys | ({held.mix_key} if held.mix_key else set())


def _mono_reader(stem: CachedStem) -> Callable[[int, int], np.ndarray]:
    """read(a, b): samples [a, b) of a mono cached file as (b - a,) float32."""
    def read(a: int, b: int) -> np.ndarray:
        return stem.load(a, b)[:, 0]
    return read


def _save_plan(plan: MasterPlan, path: Path) -> None:
    """The master plan as an .npz (scale, spans, report as JSON), written atomically."""
    spans = plan.spans
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, scale=np.float64(plan.scale),
                 n=np.int64(plan.limiter.n if plan.limiter is not None else 0),
                 bounds=np.array([(lo, hi) for lo, hi, _ in spans], dtype=np.int64).reshape(-1, 2),
                 gains=np.concatenate([np.asarray(g, dtype=np.float64) for _, _, g in spans])
                 if spans else np.zeros(0),
                 report=np.frombuffer(json.dumps(plan.report).encode(), dtype=np.uint8))
    os.replace(tmp, path)


def _load_plan(path: Path) -> MasterPlan | None:
    """A plan saved by `_save_plan`, or None (missing or unreadable: measure again)."""
    from audio.master import MasterPlan, SavedLimiter

    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            bounds, gains = data["bounds"], data["gains"]
            spans, at = [], 0
            for lo, hi in bounds:
                spans.append((int(lo), int(hi), gains[at:at + hi - lo]))
                at += int(hi - lo)
            n = int(data["n"])
            return MasterPlan(scale=float(data["scale"]),
                              limiter=SavedLimiter(spans, n) if spans else None,
                              report=json.loads(bytes(data["report"]).decode()))
    except (OSError, ValueError, KeyError):
        return None
