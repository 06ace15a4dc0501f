"""Sound library: index folders of recorded sounds once, search them by text, load them at 48 kHz.

A library is the bundled starter bank (assets/sounds) plus any folders the user adds. Each folder
is scanned for audio files; the expensive part (decoding each file to check it and measure it) is
cached on disk, keyed by the folder's path and every file's size and mtime, so a second open
decodes nothing. Names are understood three ways: a `manifest.json` in the folder (category,
subcategory, tags per file, as the bundled bank has), UCS file names
("CatID_FXName_CreatorID_SourceID"), or plain file and folder names. Search is BM25 over stemmed
tokens and synonym concepts with per-field weights; `by_kind` serves the foley generator's
requests such as "step/gravel" or "impact/metal".
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio import synonyms
from audio.decode import load_audio
from video.base.atomic import atomic_write_text
from video.base.errors import InputError
from video.base.progress import ProgressFn, report
from video.base.timebase import SAMPLE_RATE

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
     ".m4a", ".aac", ".au", ".caf", ".w64", ".wma"}
)
BUNDLED_NAME = "bundled"
CACHE_SCHEMA = "stereofoley.soundindex/1"
MANIFEST_NAME = "manifest.json"

# BM25F field weights: a word in the category or the sound's own name says more than a folder.
FIELD_WEIGHTS: dict[str, float] = {
    "category": 2.5, "subcategory": 2.0, "name": 2.0, "tags": 1.5, "folders": 1.0, "kinds": 1.0,
}
SYNONYM_WEIGHT = 0.5  # a synonym match counts half an exact one
KIND_BOOST = 2.0  # score factor for entries serving the kind the query asks for
BM25_K1 = 1.2
BM25_B = 0.5


@dataclass(frozen=True)
class SoundEntry:
    """One indexed sound file and what is known about it."""

    id: str  # "<library name>:<path relative to the library folder>"
    path: str
    category: str
    subcategory: str
    tags: tuple[str, ...]
    duration: float  # seconds
    channels: int
    name: str = ""  # FX name (UCS) or file name without extension
    catid: str = ""  # UCS CatID when the name or manifest gives one
    kinds: tuple[str, ...] = ()  # generator kinds, e.g. ("step", "step/gravel")
    peak: float = 0.0  # linear peak after decoding
    rms_db: float = -120.0  # RMS level in dBFS
    license: str = ""  # from a manifest, when it has one


@dataclass(frozen=True)
class IndexStats:
    """What the last `SoundLibrary.open` did: files seen, decoded, reused from cache, skipped."""

    files: int = 0
    decoded: int = 0
    cached: int = 0
    skipped: int = 0


def bundled_sounds_dir() -> Path:
    """The starter bank shipped with the program (assets/sounds in the repository)."""
    return Path(__file__).resolve().parent.parent / "assets" / "sounds"


def default_cache_dir() -> Path:
    """~/.cache/stereofoley, honouring XDG_CACHE_HOME."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stereofoley"


class SoundLibrary:
    """Indexed sounds from one or more folders, searchable by text and by generator kind."""

    def __init__(self, entries: Iterable[SoundEntry], *, stats: IndexStats | None = None,
                 memory_items: int = 64) -> None:
        self.entries: tuple[SoundEntry, ...] = tuple(entries)
        self.stats = stats if stats is not None else IndexStats()
        self._by_id = {entry.id: entry for entry in self.entries}
        self._index = _SearchIndex(self.entries)
        self._memory_items = memory_items
        self._audio: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        # query -> ranked (entry index, score): the entries never change, so neither do the
        # answers (every object of a class asks the same queries on every render)
        self._searches: OrderedDict[str, list[tuple[int, float]]] = OrderedDict()

    @classmethod
    def open(cls, folders: Sequence[str | Path] = (), *, include_bundled: bool = True,
             cache_dir: Path | None = None, warn: Callable[[str], None] | None = None,
             progress: ProgressFn | None = None) -> SoundLibrary:
        """Index the bundled bank (optional) and `folders`, reusing the on-disk cache.

        A folder that does not exist is bad input (InputError); a file that cannot be decoded
        is skipped with a message to `warn`.
        """
        roots: list[tuple[str, Path]] = []
        if include_bundled and bundled_sounds_dir().is_dir():
            roots.append((BUNDLED_NAME, bundled_sounds_dir()))
        for folder in folders:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise InputError(f"sound library folder not found: {path}")
            if any(root == path.resolve() for _, root in roots):
                continue  # the same folder twice (or the bundled bank again) is indexed once
            roots.append((_unique_name(path.resolve().name or "library", roots), path.resolve()))
        cache = cache_dir if cache_dir is not None else default_cache_dir()
        entries: list[SoundEntry] = []
        total = IndexStats()
        for number, (name, root) in enumerate(roots):
            found, stats = index_folder(root, library_name=name, cache_dir=cache, warn=warn,
                                        progress=_sub(progress, number, len(roots)))
            entries.extend(found)
            total = IndexStats(total.files + stats.files, total.decoded + stats.decoded,
                               total.cached + stats.cached, total.skipped + stats.skipped)
        report(progress, 1.0, f"{len(entries)} sounds indexed")
        return cls(entries, stats=total)

    def get(self, entry_id: str) -> SoundEntry:
        """The entry with this id; InputError if the library has none."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise InputError(f"no sound with id {entry_id!r} in the sound library") from None

    def search(self, query: str, *, limit: int = 20) -> list[tuple[SoundEntry, float]]:
        """Entries matching `query`, best first, with their scores (> 0); [] when nothing does."""
        with self._lock:
            order = self._searches.get(query)
            if order is not None:
                self._searches.move_to_end(query)
        if order is None:
            order = self._ranked(query)
            with self._lock:
                self._searches[query] = order
                while len(self._searches) > 256:
                    self._searches.popitem(last=False)
        return [(self.entries[i], score) for i, score in order[: max(0, limit)] if score > 0]

    def _ranked(self, query: str) -> list[tuple[int, float]]:
        """Every matching entry index with its score, best first (ties by id)."""
        tokens = synonyms.tokenize(query)
        scored = self._index.scores(tokens)
        wanted = {k for k in synonyms.kinds_for(tokens) if "/" not in k}
        if wanted:  # "car engine" asks for an engine: a car horn is a worse answer than a truck
            for i in scored:
                if wanted & set(self.entries[i].kinds):
                    scored[i] *= KIND_BOOST
        return sorted(scored.items(), key=lambda item: (-item[1], self.entries[item[0]].id))

    def by_kind(self, kind: str) -> list[SoundEntry]:
        """Entries usable for a generator kind: "impact" matches every "impact/..." too."""
        wanted = kind.strip().lower()
        return [e for e in self.entries
                if any(k == wanted or k.startswith(wanted + "/") for k in e.kinds)]

    def kinds(self) -> dict[str, int]:
        """Every kind in the library with how many entries serve it."""
        return dict(Counter(k for e in self.entries for k in e.kinds))

    def load(self, entry_id: str) -> np.ndarray:
        """The sound as read-only float32 (channels, n) at 48 kHz, kept in a small LRU cache."""
        entry = self.get(entry_id)
        with self._lock:
            cached = self._audio.get(entry_id)
            if cached is not None:
                self._audio.move_to_end(entry_id)
                return cached
        audio = load_audio(entry.path)
        audio.flags.writeable = False
        with self._lock:
            self._audio[entry_id] = audio
            while len(self._audio) > self._memory_items:
                self._audio.popitem(last=False)
        return audio


# ---------------------------------------------------------------- indexing
def index_folder(root: Path, *, library_name: str, cache_dir: Path,
                 warn: Callable[[str], None] | None = None,
                 progress: ProgressFn | None = None) -> tuple[list[SoundEntry], IndexStats]:
    """Entries for every audio file under `root`, decoding only files the cache does not know."""
    files = _audio_files(root, warn)
    manifest = _read_manifest(root, warn)
    cache_path = cache_dir / f"{hashlib.sha1(str(root).encode()).hexdigest()[:20]}.json"
    old = _read_cache(cache_path, root)
    new: dict[str, dict[str, object]] = {}
    entries: list[SoundEntry] = []
    decoded = reused = skipped = 0
    for number, path in enumerate(files):
        rel = path.relative_to(root).as_posix()
        try:
            stat = path.stat()
        except OSError as exc:  # vanished or unreadable since the folder was listed
            skipped += 1
            if warn is not None:
                warn(f"skipped unreadable sound {path}: {exc}")
            continue
        record = old.get(rel)
        if record is None or record.get("size") != stat.st_size or record.get("mtime_ns") != stat.st_mtime_ns:
            record = _measure(path, stat)
            decoded += 1
        else:
            reused += 1
        new[rel] = record
        if "error" in record:
            skipped += 1
            if warn is not None:
                warn(f"skipped unreadable sound {path}: {record['error']}")
            continue
        entries.append(_make_entry(library_name, root, rel, record, manifest.get(rel)))
        report(progress, (number + 1) / max(1, len(files)), f"indexing {library_name}")
    if decoded or set(new) != set(old):
        _write_cache(cache_path, root, new, warn)
    return entries, IndexStats(len(files), decoded, reused, skipped)


def _audio_files(root: Path, warn: Callable[[str], None] | None) -> list[Path]:
    """Audio files under `root` (hidden files and folders left out), sorted; unreadable
    sub-folders are reported to `warn` and skipped."""

    def on_error(exc: OSError) -> None:
        if warn is not None:
            warn(f"skipped unreadable folder {exc.filename}: {exc.strerror}")

    found: list[Path] = []
    for folder, subfolders, names in os.walk(root, onerror=on_error):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found.extend(Path(folder) / n for n in names
                     if not n.startswith(".") and Path(n).suffix.lower() in AUDIO_EXTENSIONS)
    return sorted(p for p in found if p.is_file())


def _measure(path: Path, stat: os.stat_result) -> dict[str, object]:
    """Decode a file once: duration, channels, peak and RMS, or the reason it is unusable."""
    base: dict[str, object] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        audio = load_audio(path)
    except InputError as exc:
        return {**base, "error": str(exc)}
    except (MemoryError, OSError) as exc:
        return {**base, "error": f"{type(exc).__name__}: {exc}"}
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return {**base, "duration": audio.shape[1] / SAMPLE_RATE, "channels": int(audio.shape[0]),
            "peak": float(np.max(np.abs(audio))), "rms_db": 20 * math.log10(max(rms, 1e-6))}


def _make_entry(library_name: str, root: Path, rel: str, record: dict[str, object],
                meta: dict[str, object] | None) -> SoundEntry:
    """A SoundEntry from measured facts plus the best metadata available for its name."""
    path = root / rel
    stem_name = path.stem
    folders = tuple(Path(rel).parent.parts)
    catid = category = subcategory = ""
    name = stem_name
    tags: tuple[str, ...] = ()
    licence = ""
    ucs = synonyms.parse_ucs_filename(stem_name)
    if ucs is not None:
        catid, category, subcategory, name = ucs
    if meta is not None:
        catid = str(meta.get("catid", catid))
        category = str(meta.get("category", category))
        subcategory = str(meta.get("subcategory", subcategory))
        name = str(meta.get("fxname", name))
        tags = tuple(str(t) for t in _as_list(meta.get("tags")))
        licence = str(meta.get("license", ""))
    if not category:
        category = _folder_category(folders)
    token_text = " ".join([category, subcategory, name, *tags, *folders])
    return SoundEntry(
        id=f"{library_name}:{rel}", path=str(path), category=category, subcategory=subcategory,
        tags=tags, duration=float(record["duration"]),  # type: ignore[arg-type]
        channels=int(record["channels"]),  # type: ignore[call-overload]
        name=name, catid=catid, kinds=synonyms.kinds_for(synonyms.tokenize(token_text)),
        peak=float(record["peak"]), rms_db=float(record["rms_db"]),  # type: ignore[arg-type]
        license=licence,
    )


def _folder_category(folders: Sequence[str]) -> str:
    """The nearest folder name that says something ("sounds", "sfx", "audio" do not)."""
    for folder in reversed(folders):
        if synonyms.tokenize(folder):
            return folder.upper()
    return ""


def _as_list(value: object) -> list[object]:
    """`value` if it is a list, else []."""
    return value if isinstance(value, list) else []


def _read_manifest(root: Path, warn: Callable[[str], None] | None) -> dict[str, dict[str, object]]:
    """file -> metadata from the folder's manifest.json, if it has a valid one."""
    path = root / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {str(rec["file"]): rec for rec in doc["sounds"] if isinstance(rec, dict)}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if warn is not None:
            warn(f"ignored unreadable sound manifest {path}: {exc}")
        return {}


def _read_cache(path: Path, root: Path) -> dict[str, dict[str, object]]:
    """The cached per-file records for `root`, or {} when absent, stale or damaged."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("schema") != CACHE_SCHEMA or doc.get("folder") != str(root):
        return {}
    files = doc.get("files")
    return {k: v for k, v in files.items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def _write_cache(path: Path, root: Path, files: dict[str, dict[str, object]],
                 warn: Callable[[str], None] | None) -> None:
    """Save the folder's records atomically; a cache that cannot be written is only a warning."""
    text = json.dumps({"schema": CACHE_SCHEMA, "folder": str(root), "files": files})
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        if warn is not None:
            warn(f"could not write sound index cache {path}: {exc}")


def _unique_name(name: str, taken: Sequence[tuple[str, Path]]) -> str:
    """`name`, or `name-2`, `name-3`... if another library already uses it."""
    used = {n for n, _ in taken}
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{name}-{number}", number + 1
    return candidate


def _sub(progress: ProgressFn | None, number: int, count: int) -> ProgressFn | None:
    """Progress callback for folder `number` of `count`."""
    if progress is None:
        return None

    def sub(fraction: float, message: str) -> None:
        progress((number + fraction) / count, message)

    return sub


# ---------------------------------------------------------------- search
class _SearchIndex:
    """BM25F over stemmed tokens (exact) and synonym concepts (prefixed "~", half weight)."""

    def __init__(self, entries: Sequence[SoundEntry]) -> None:
        self._docs = [self._fields(e) for e in entries]
        self._avg = {f: max(1e-9, sum(sum(d[f].values()) for d in self._docs) / max(1, len(self._docs)))
                     for f in FIELD_WEIGHTS}
        self._df: Counter[str] = Counter()
        for doc in self._docs:
            self._df.update({t for counts in doc.values() for t in counts})

    @staticmethod
    def _fields(entry: SoundEntry) -> dict[str, Counter[str]]:
        """Token counts per field, each token followed by its synonym concepts."""
        texts = {
            "category": entry.category, "subcategory": entry.subcategory, "name": entry.name,
            "tags": " ".join(entry.tags),
            "kinds": " ".join(k.split("/")[0] for k in entry.kinds if "/" not in k),
            "folders": " ".join([*Path(entry.id.split(":", 1)[-1]).parent.parts,
                                 entry.id.split(":", 1)[0]]),
        }
        return {f: Counter(_expand(synonyms.tokenize(text))) for f, text in texts.items()}

    def scores(self, query_tokens: Sequence[str]) -> dict[int, float]:
        """Entry index -> score for the query's tokens and their concepts."""
        terms: dict[str, float] = {}
        for token in dict.fromkeys(query_tokens):
            terms[token] = max(terms.get(token, 0.0), 1.0)
            for concept in synonyms.concepts_of(token):
                terms["~" + concept] = max(terms.get("~" + concept, 0.0), SYNONYM_WEIGHT)
        n_docs = len(self._docs)
        result: dict[int, float] = {}
        for term, weight in terms.items():
            df = self._df.get(term, 0)
            if df == 0:
                continue
            idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
            for i, doc in enumerate(self._docs):
                tf = self._weighted_tf(doc, term)
                if tf > 0:
                    result[i] = result.get(i, 0.0) + weight * idf * tf * (BM25_K1 + 1) / (tf + BM25_K1)
        return result

    def _weighted_tf(self, doc: dict[str, Counter[str]], term: str) -> float:
        """Field-weighted, length-normalized term frequency (BM25F)."""
        total = 0.0
        for name, weight in FIELD_WEIGHTS.items():
            count = doc[name].get(term, 0)
            if count:
                length = sum(doc[name].values())
                total += weight * count / (1 - BM25_B + BM25_B * length / self._avg[name])
        return total


def _expand(tokens: Iterable[str]) -> list[str]:
    """Tokens plus "~concept" for each synonym concept they belong to (once per token)."""
    out: list[str] = []
    for token in tokens:
        out.append(token)
        out.extend("~" + c for c in synonyms.concepts_of(token))
    return out
