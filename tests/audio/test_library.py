"""audio.library and audio.synonyms: indexing with a cache, search ranking, kinds, the bank."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio import synonyms
from audio.library import SoundLibrary, bundled_sounds_dir
from video.base.errors import Cancelled, InputError
from video.base.timebase import SAMPLE_RATE

RATE = 44_100

# relative path -> (duration s, channels, expected category, expected subcategory)
FILES: dict[str, tuple[float, int, str, str]] = {
    "FOOTGrav_Gravel Crunch 01_test_synth.wav": (0.30, 1, "FOOTSTEPS", "GRAVEL"),
    "FOOTGrav_Gravel Crunch 02_test_synth.flac": (0.35, 1, "FOOTSTEPS", "GRAVEL"),
    "FOOTWood_Heel On Boards_test_synth.ogg": (0.25, 2, "FOOTSTEPS", "WOOD"),
    "METLImpt_Pipe Clang_test_synth.flac": (0.80, 2, "METAL", "IMPACT"),
    "GLASBrk_Bottle Smash_test_synth.wav": (0.60, 1, "GLASS", "BREAK"),
    "plain/dog barking in yard.wav": (1.20, 1, "PLAIN", ""),
    "doors/creaky wooden door open.flac": (1.50, 2, "DOORS", ""),
    "vehicles/car engine idle loop.ogg": (2.00, 2, "VEHICLES", ""),
    "Impacts/sfx/audio/knock knock.wav": (0.40, 1, "IMPACTS", ""),
    "sfx/data/hit 3.wav": (0.20, 1, "", ""),
}


def _write(path: Path, seconds: float, channels: int, seed: int) -> None:
    """A decaying noise burst (a plausible one-shot) of exact length."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * RATE))
    env = np.exp(-np.arange(n) / (0.2 * RATE))
    data = (0.3 * rng.standard_normal((n, channels)) * env[:, None]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, RATE)


@pytest.fixture
def sound_folder(tmp_path: Path) -> Path:
    root = tmp_path / "my sounds"
    for seed, (rel, (seconds, channels, _c, _s)) in enumerate(FILES.items()):
        _write(root / rel, seconds, channels, seed)
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    (root / "readme.txt").write_text("not a sound, not indexed")
    _write(root / ".hidden.wav", 0.1, 1, 50)  # hidden files and folders are not indexed
    _write(root / ".git" / "objects.wav", 0.1, 1, 51)
    return root


def _open(folder: Path, cache: Path, warnings: list[str] | None = None) -> SoundLibrary:
    sink = warnings if warnings is not None else []
    return SoundLibrary.open([folder], include_bundled=False, cache_dir=cache, warn=sink.append)


def test_indexes_ucs_and_plain_names_and_skips_corrupt(sound_folder: Path, tmp_path: Path) -> None:
    warnings: list[str] = []
    lib = _open(sound_folder, tmp_path / "cache", warnings)

    assert len(lib.entries) == len(FILES)
    assert lib.stats.skipped == 1 and lib.stats.decoded == len(FILES) + 1
    assert len(warnings) == 1 and "broken.wav" in warnings[0]
    for rel, (seconds, channels, category, subcategory) in FILES.items():
        entry = lib.get(f"my sounds:{rel}")
        assert entry.path == str(sound_folder / rel)
        assert entry.duration == pytest.approx(seconds, abs=0.03 if rel.endswith(".ogg") else 1e-4)
        assert entry.channels == channels
        assert (entry.category, entry.subcategory) == (category, subcategory)
    assert lib.get("my sounds:FOOTGrav_Gravel Crunch 01_test_synth.wav").name == "Gravel Crunch 01"
    assert lib.get("my sounds:FOOTGrav_Gravel Crunch 01_test_synth.wav").catid == "FOOTGrav"


def test_second_open_reuses_cache_and_redecodes_only_changed_files(sound_folder: Path,
                                                                   tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _open(sound_folder, cache)
    assert first.stats.decoded == len(FILES) + 1
    assert len(list(cache.glob("*.json"))) == 1

    warnings: list[str] = []
    second = _open(sound_folder, cache, warnings)
    assert second.stats.decoded == 0 and second.stats.cached == len(FILES) + 1
    assert [e.id for e in second.entries] == [e.id for e in first.entries]
    assert len(warnings) == 1  # the corrupt file is still reported, without decoding it again

    changed = "plain/dog barking in yard.wav"
    _write(sound_folder / changed, 2.5, 1, 99)
    third = _open(sound_folder, cache)
    assert third.stats.decoded == 1
    assert third.get(f"my sounds:{changed}").duration == pytest.approx(2.5, abs=1e-4)


def test_damaged_cache_file_is_rebuilt(sound_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _open(sound_folder, cache)
    for path in cache.glob("*.json"):
        path.write_text("{ not json")
    lib = _open(sound_folder, cache)
    assert lib.stats.decoded == len(FILES) + 1 and len(lib.entries) == len(FILES)


@pytest.mark.parametrize(("query", "top_name"), [
    ("footsteps on gravel", "Gravel Crunch"),
    ("walking on pebbles", "Gravel Crunch"),
    ("wood floor steps", "Heel On Boards"),
    ("metal clang", "Pipe Clang"),
    ("glass breaking", "Bottle Smash"),
    ("shattered bottle", "Bottle Smash"),
    ("dogs", "dog barking in yard"),
    ("door", "creaky wooden door open"),
    ("gate creak", "creaky wooden door open"),
    ("vehicle", "car engine idle loop"),
    ("knocking", "knock knock"),
])
def test_search_ranking_on_a_user_folder(sound_folder: Path, tmp_path: Path, query: str,
                                         top_name: str) -> None:
    hits = _open(sound_folder, tmp_path / "cache").search(query)
    assert hits, query
    assert hits[0][0].name.startswith(top_name)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0


@pytest.mark.parametrize("query", ["qwertyuiop", "zxcv blorf", "", "   ", "the of and"])
def test_nonsense_query_returns_nothing(sound_folder: Path, tmp_path: Path, query: str) -> None:
    assert _open(sound_folder, tmp_path / "cache").search(query) == []


def test_load_is_48k_float_cached_and_read_only(sound_folder: Path, tmp_path: Path) -> None:
    lib = _open(sound_folder, tmp_path / "cache")
    entry_id = "my sounds:METLImpt_Pipe Clang_test_synth.flac"
    audio = lib.load(entry_id)
    assert audio.dtype == np.float32 and audio.shape == (2, round(0.8 * SAMPLE_RATE))
    assert lib.load(entry_id) is audio
    with pytest.raises(ValueError):
        audio[0, 0] = 1.0
    with pytest.raises(InputError, match="no sound"):
        lib.load("my sounds:missing.wav")
    with pytest.raises(InputError, match="no sound"):
        lib.get("elsewhere:x.wav")


def test_progress_reaches_one_and_cancel_propagates(sound_folder: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    lib = SoundLibrary.open([sound_folder, sound_folder], include_bundled=False,
                            cache_dir=tmp_path / "cache", progress=lambda f, m: seen.append(f))
    assert len(lib.entries) == len(FILES)  # a folder given twice is indexed once
    assert seen == sorted(seen) and seen[-1] == 1.0

    def cancel(fraction: float, message: str) -> None:
        if fraction > 0.3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        SoundLibrary.open([sound_folder], include_bundled=False, cache_dir=tmp_path / "c2",
                          progress=cancel)


def test_missing_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        SoundLibrary.open([tmp_path / "absent"], include_bundled=False, cache_dir=tmp_path)


def test_two_folders_with_one_name_get_distinct_ids(tmp_path: Path) -> None:
    for parent in ("a", "b"):
        _write(tmp_path / parent / "sfx" / "hit.wav", 0.1, 1, 1)
    lib = SoundLibrary.open([tmp_path / "a" / "sfx", tmp_path / "b" / "sfx"],
                            include_bundled=False, cache_dir=tmp_path / "cache")
    assert sorted(e.id for e in lib.entries) == ["sfx-2:hit.wav", "sfx:hit.wav"]


# ---------------------------------------------------------------- the bundled bank
@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> SoundLibrary:
    warnings: list[str] = []
    lib = SoundLibrary.open(cache_dir=tmp_path_factory.mktemp("bankcache"), warn=warnings.append)
    assert warnings == []
    return lib


@pytest.mark.parametrize(("query", "category", "subcategory"), [
    ("footsteps on gravel", "FOOTSTEPS", "GRAVEL"),
    ("walking on snow", "FOOTSTEPS", "SNOW"),
    ("feet on wooden floor", "FOOTSTEPS", "WOOD"),
    ("glass breaking", "GLASS", "BREAK"),
    ("window smash", "GLASS", "BREAK"),
    ("metal clang", "METAL", "IMPACT"),
    ("knock on wood", "WOOD", "IMPACT"),
    ("door slam", "DOORS", None),
    ("steel door", "DOORS", "METAL"),
    ("dog barking", "ANIMALS", "DOG"),
    ("cows", "ANIMALS", "FARM"),
    ("helicopter", "AIRCRAFT", "HELICOPTER"),
    ("jet plane", "AIRCRAFT", "JET"),
    ("steam train", "TRAINS", "STEAM"),
    ("explosion", "EXPLOSIONS", None),
    ("water splash", "WATER", "SPLASH"),
    ("wind", "WIND", "GUST"),
    ("crackling fire", "FIRE", "CRACKLE"),
    ("chainsaw", "TOOLS", "SAW"),
    ("whoosh", None, None),
])
def test_bank_search_ranking(bank: SoundLibrary, query: str, category: str | None,
                             subcategory: str | None) -> None:
    hits = bank.search(query, limit=5)
    assert hits, query
    top = hits[0][0]
    if category is not None:
        assert top.category == category, (query, top.id)
    if subcategory is not None:
        assert top.subcategory == subcategory, (query, top.id)
    if query == "whoosh":
        assert "whoosh" in top.kinds


@pytest.mark.parametrize("query", ["qwertyuiop", "blorfing zxcvb", "lorem ipsum"])
def test_bank_nonsense_query_returns_nothing(bank: SoundLibrary, query: str) -> None:
    assert bank.search(query) == []


GENERATOR_KINDS = ("impact", "step", "scrape", "whoosh", "engine", "ambience", "door", "splash",
                   "animal", "step/gravel", "step/hard", "step/soft", "step/snow", "step/metal",
                   "step/stone", "impact/metal", "impact/wood", "impact/glass", "impact/stone",
                   "impact/body", "scrape/metal", "engine/aircraft", "engine/train")


@pytest.mark.parametrize("kind", GENERATOR_KINDS)
def test_bank_covers_every_generator_kind(bank: SoundLibrary, kind: str) -> None:
    entries = bank.by_kind(kind)
    assert len(entries) >= 3, (kind, [e.id for e in entries])
    head = kind.split("/")[0]
    assert all(any(k == kind or k.startswith(kind + "/") for k in e.kinds) for e in entries)
    assert all(head in e.kinds for e in entries)


@pytest.mark.parametrize("kind", ["step/lava", "nonsense", "impact/unobtainium"])
def test_by_kind_unknown_returns_empty(bank: SoundLibrary, kind: str) -> None:
    assert bank.by_kind(kind) == []


def test_bank_sounds_load_at_48k_and_are_normalized(bank: SoundLibrary) -> None:
    for entry in bank.entries[::5]:
        audio = bank.load(entry.id)
        assert audio.dtype == np.float32 and audio.shape[0] == entry.channels
        assert audio.shape[1] == pytest.approx(entry.duration * SAMPLE_RATE, abs=2)
        # normalized: active-part RMS at -20 dBFS, unless the -1 dBFS peak ceiling held it lower
        env = np.abs(audio).max(axis=0)
        peak = float(env.max())
        active_rms_db = 10 * np.log10(np.mean(audio[:, env > 0.01 * peak] ** 2))
        assert peak <= 10 ** (-1 / 20) + 1e-3
        assert abs(active_rms_db + 20) < 0.5 or abs(peak - 10 ** (-1 / 20)) < 1e-2, entry.id
    assert all(-45 < e.rms_db < -10 for e in bank.entries)


ALLOWED_LICENCES = {"CC0-1.0", "CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-4.0", "CC-BY-SA-4.0",
                    "public-domain"}
AUDIO_SUFFIXES = {".flac", ".ogg", ".wav", ".mp3"}


def test_every_bank_file_is_listed_in_licenses_with_an_allowed_licence() -> None:
    root = bundled_sounds_dir()
    text = (root / "LICENSES.md").read_text(encoding="utf-8")
    rows = {m.group(1): [c.strip() for c in m.group(2).split("|")]
            for m in re.finditer(r"^\| `([^`]+)` \|(.*)\|$", text, flags=re.MULTILINE)}
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.suffix.lower() in AUDIO_SUFFIXES)
    assert len(files) >= 100
    for rel in files:
        assert rel in rows, f"{rel} missing from LICENSES.md"
        package, original, author, licence = rows[rel]
        assert licence in ALLOWED_LICENCES, (rel, licence)
        assert package and original and author, rel
    assert set(rows) == set(files), "LICENSES.md lists files that are not in the bank"


def test_manifest_matches_bank_and_size_budget() -> None:
    root = bundled_sounds_dir()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    listed = {rec["file"] for rec in manifest["sounds"]}
    assert listed == {p.relative_to(root).as_posix() for p in root.rglob("*.flac")}
    assert sum((root / f).stat().st_size for f in listed) < 25_000_000
    for rec in manifest["sounds"]:
        assert synonyms.parse_ucs_filename(Path(rec["file"]).stem)[:3] == (  # type: ignore[index]
            rec["catid"], rec["category"], rec["subcategory"])
        assert sf.info(str(root / rec["file"])).samplerate == SAMPLE_RATE


# ---------------------------------------------------------------- vocabulary
@pytest.mark.parametrize(("word", "stemmed"), [
    ("footsteps", "footstep"), ("steps", "step"), ("breaking", "break"), ("running", "run"),
    ("bubbles", "bubble"), ("pebbles", "pebble"), ("glass", "glass"), ("bus", "bus"),
    ("boxes", "box"), ("berries", "berry"), ("dragged", "drag"), ("ring", "ring"),
])
def test_stem(word: str, stemmed: str) -> None:
    assert synonyms.stem(word) == stemmed


@pytest.mark.parametrize(("a", "b"), [
    ("footsteps", "walking"), ("steps", "feet"), ("gravel", "pebbles"), ("gravel", "stones"),
    ("car", "vehicle"), ("car", "engine"), ("door", "gate"), ("smash", "shatter"),
    ("break", "smash"), ("hit", "impact"), ("knock", "thud"),
])
def test_synonyms_share_a_concept(a: str, b: str) -> None:
    ca = set(synonyms.concepts_of(synonyms.stem(a)))
    cb = set(synonyms.concepts_of(synonyms.stem(b)))
    assert ca & cb, (a, b)


@pytest.mark.parametrize(("catid", "expected"), [
    ("FOOTGrav", ("FOOTSTEPS", "GRAVEL")), ("METLImpt", ("METAL", "IMPACT")),
    ("FEETHmn", ("FOOTSTEPS", "HUMAN")), ("DOORSqk", ("DOORS", "SQK")),
    ("GLASShrd", ("GLASS", "SHRD")), ("Footsteps", None), ("DSC", None), ("XYZAbc", None),
    ("footGrav", None), ("", None),
])
def test_parse_ucs_catid(catid: str, expected: tuple[str, str] | None) -> None:
    assert synonyms.parse_ucs_catid(catid) == expected


@pytest.mark.parametrize(("text", "must_have", "must_not"), [
    ("FOOTSTEPS GRAVEL Gravel Step", {"step", "step/gravel"}, {"impact"}),
    ("METAL IMPACT Pipe Clang", {"impact", "impact/metal"}, {"engine"}),
    ("VEHICLES HORN Car Horn", set(), {"engine"}),
    ("DOORS METAL Steel Door Slam", {"door", "door/metal"}, {"impact"}),
    ("WIND GUST whoosh", {"whoosh", "ambience/wind"}, {"step"}),
])
def test_kinds_for(text: str, must_have: set[str], must_not: set[str]) -> None:
    kinds = set(synonyms.kinds_for(synonyms.tokenize(text)))
    assert must_have <= kinds
    assert not (must_not & kinds)
