"""model.lab.semantic_real: the true-classes file reader (with its error cases), the recipe match
and the YAMNet agreement against a clip's TRUE classes, and the report tables, on hand-built
stems and class scores with known answers."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from model.lab import semantic_agreement as sa
from model.lab import semantic_real as sr
from model.lab.yamnet import ClassScores
from video.base.errors import InputError
from video.base.tracks import Analysis, Track, VideoInfo

SR = 48_000
REPO = Path(__file__).resolve().parents[3]


def _truth(folder: Path, stem: str, doc: object, *, video: str | None = "clip.mp4") -> Path:
    if video is not None:
        (folder / video).write_bytes(b"not really a video")
    path = folder / f"{stem}{sr.SUFFIX}"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _doc(**changes: object) -> dict[str, object]:
    return {"schema": sr.SCHEMA, "video": "clip.mp4", "classes": ["person"], **changes}


def test_reads_a_file_beside_its_video(tmp_path: Path) -> None:
    path = _truth(tmp_path, "clip", _doc(classes=["Walker", "cup", "person"], note="hands"))
    got = sr.load_true_classes(path)
    # shape labels resolve to their class, case is forgiven, repeats are dropped, order kept
    assert got.classes == ("person", "cup") and got.video == tmp_path / "clip.mp4"
    assert got.name == "clip.mp4" and got.note == "hands" and got.source == ""


def test_the_video_is_looked_for_in_the_search_folders_in_order(tmp_path: Path) -> None:
    truth, first, second = (tmp_path / n for n in ("truth", "a", "b"))
    for folder in (truth, first, second):
        folder.mkdir()
    (second / "clip.mp4").write_bytes(b"x")
    path = _truth(truth, "clip", _doc(), video=None)
    assert sr.load_true_classes(path, search=[first, second]).video == second / "clip.mp4"
    (first / "clip.mp4").write_bytes(b"x")
    assert sr.load_true_classes(path, search=[first, second]).video == first / "clip.mp4"


@pytest.mark.parametrize(("doc", "message"), [
    ("{broken", "is not valid JSON"),
    ([1, 2], "is not a true-classes file"),
    (_doc(schema="stereofoley.marked-events/1"), "is not a true-classes file"),
    (_doc(video=""), "'video' must be a file name"),
    (_doc(video="../clip.mp4"), "'video' must be a file name"),
    (_doc(video=3), "'video' must be a file name"),
    (_doc(classes=[]), "non-empty list"),
    (_doc(classes="person"), "non-empty list"),
    (_doc(classes=["person", 2]), "non-empty list"),
    (_doc(classes=["person", "tree"]), "no expected sounds are known for class(es) ['tree']"),
    (_doc(classes=["unknown"]), "no expected sounds"),
    (_doc(video="elsewhere.mp4"), "its video elsewhere.mp4 is not in"),
])
def test_bad_files_are_one_input_error_naming_the_file(tmp_path: Path, doc: object,
                                                      message: str) -> None:
    path = _truth(tmp_path, "clip", doc)
    with pytest.raises(InputError, match=None) as err:
        sr.load_true_classes(path, search=[tmp_path / "nowhere"])
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unreadable_file_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        sr.load_true_classes(tmp_path / "absent.classes.json")
    with pytest.raises(InputError, match="is not a folder"):
        sr.find_true_classes([tmp_path / "absent"])


def test_find_reads_every_file_in_name_order(tmp_path: Path) -> None:
    _truth(tmp_path, "b", _doc(video="b.mp4", classes=["car"]), video="b.mp4")
    _truth(tmp_path, "a", _doc(video="a.mp4", classes=["sports ball"]), video="a.mp4")
    (tmp_path / "notes.json").write_text("{}")  # not a *.classes.json: ignored
    got = sr.find_true_classes([tmp_path])
    assert [(c.name, c.classes) for c in got] == [("a.mp4", ("sports ball",)), ("b.mp4", ("car",))]
    assert sr.find_true_classes([]) == []


def test_the_bundled_truth_files_are_valid() -> None:
    """assets/truth: every file parses and names known classes (the clips from the cache may be
    absent here, so the video check is given the file's own name as a stand-in)."""
    files = sorted((REPO / "assets" / "truth").glob(f"*{sr.SUFFIX}"))
    assert len(files) >= 6
    for path in files:
        doc = json.loads(path.read_text())
        assert doc["schema"] == sr.SCHEMA and Path(doc["video"]).stem == path.name[:-len(sr.SUFFIX)]
        assert all(sa.expected_classes(c) for c in doc["classes"]), path.name


@pytest.mark.parametrize(("classes", "recipes"), [
    (("person",), {"person"}),
    (("cup", "person"), {"tableware", "person"}),
    (("car", "person", "bicycle"), {"car", "person", "bicycle"}),
    (("walker",), {"person"}),
    (("box", "book"), {"box"}),  # cardboard and paper handling share one recipe
    (("umbrella",), set()),     # no recipe for an umbrella: no render can match it
])
def test_true_recipes(classes: tuple[str, ...], recipes: set[str]) -> None:
    assert sr.true_recipes(classes) == recipes


# ---------------------------------------------------------------------- scoring hand-built stems

CLASSES = tuple(sorted(set(sa.EXPECTED_CLASSES["person"]) | set(sa.EXPECTED_CLASSES["car"])
                       | set(sa.EXPECTED_CLASSES["sports ball"]) | {"Speech", "Music"}))


def _scores(rows: list[dict[str, float]], levels: list[float]) -> ClassScores:
    table = np.zeros((len(rows), len(CLASSES)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            table[i, CLASSES.index(name)] = value
    return ClassScores(scores=table, starts=np.arange(len(rows)) * 0.48,
                       level_db=np.array(levels, dtype=np.float64), classes=CLASSES)


def test_agreement_is_against_the_best_fitting_true_class() -> None:
    steps = {"Walk, footsteps": 0.9, "Speech": 0.2}
    engine = {"Engine": 0.8, "Vehicle": 0.7}
    scores = _scores([steps, steps, engine, steps], levels=[-10.0] * 4)
    assert sr.true_agreement(scores, ("person",)) == pytest.approx(0.75)
    assert sr.true_agreement(scores, ("car",)) == pytest.approx(0.25)
    assert sr.true_agreement(scores, ("car", "person")) == pytest.approx(0.75)
    silent = _scores([steps], levels=[-math.inf])
    assert math.isnan(sr.true_agreement(silent, ("person",)))


def _analysis(labels: list[str]) -> Analysis:
    info = VideoInfo(path="c.mp4", width=320, height=180, fps=Fraction(25), duration=2.0,
                     frames=50)
    frames = np.arange(50)
    boxes = np.tile([10.0, 10.0, 50.0, 50.0], (50, 1))
    return Analysis(video=info, objects=tuple(
        Track(id=i + 1, label=label, frames=frames, boxes=boxes) for i, label in enumerate(labels)))


def test_score_stems_matches_recipes_and_skips_silent_stems_and_beds() -> None:
    rng = np.random.default_rng(3)
    loud = (0.1 * rng.standard_normal((2, SR))).astype(np.float32)
    analysis = _analysis(["person", "vehicle", "unknown", "ambience", "person"])
    stems = {1: loud, 2: loud, 3: loud, 4: loud, 5: np.full((2, SR), 1e-5, np.float32)}
    chosen = {1: {"recipe": "person"}, 2: {"recipe": "car"}, 3: {"recipe": "motion"},
              4: {"recipe": "ambience"}, 5: {"recipe": "person"}}
    got = sr.score_stems(analysis, stems, chosen, ("person",), sample_rate=SR, model=False)
    # object 4 is an ambience bed, object 5 peaks at -100 dBFS: neither is scored
    assert [(s.object_id, s.label, s.recipe, s.matches) for s in got] == [
        (1, "person", "person", True), (2, "vehicle", "car", False),
        (3, "unknown", "motion", False)]
    assert all(math.isnan(s.agreement) for s in got)
    result = sr.ConditionResult(condition=sr.CONDITIONS[0], stems=tuple(got), ambience=1)
    assert result.match_share == pytest.approx(1 / 3) and math.isnan(result.agreement)
    assert result.labels() == "person x1, unknown x1, vehicle x1"


def _result(condition: str, matches: list[bool], agreements: list[float],
            labels: list[str]) -> sr.ConditionResult:
    stems = tuple(sr.StemScore(object_id=i + 1, label=lab, recipe="x", matches=m, agreement=a)
                  for i, (m, a, lab) in enumerate(zip(matches, agreements, labels, strict=True)))
    return sr.ConditionResult(condition=condition, stems=stems, ambience=0)


def test_tables_pool_every_stem_of_a_condition(tmp_path: Path) -> None:
    clip_a = sr.TrueClasses(video=tmp_path / "a.mp4", classes=("person",), note="walkers")
    clip_b = sr.TrueClasses(video=tmp_path / "b.mp4", classes=("sports ball",))
    rec, shape = sr.CONDITIONS
    results = [
        sr.ClipResult(clip_a, (_result(rec, [True, True, False], [0.5, 0.7, math.nan],
                                       ["person", "person", "unknown"]),
                               _result(shape, [True], [0.4], ["walker"]))),
        sr.ClipResult(clip_b, (_result(rec, [True], [0.9], ["sports ball"]),
                               _result(shape, [False, False], [0.1, 0.3], ["vehicle", "object"]))),
    ]
    pooled = sr.pooled(results, rec)
    assert len(pooled.stems) == 4 and pooled.match_share == pytest.approx(0.75)
    assert pooled.agreement == pytest.approx((0.5 + 0.7 + 0.9) / 3)
    assert sr.pooled(results, shape).match_share == pytest.approx(1 / 3)
    text = sr.semantic_document(results, "stereofoley eval --semantic x")
    assert "| a.mp4 | person | recognized classes | 3 | 0 | 0.67 | 0.60 | person x2, unknown x1 |" \
        in text
    # pooled over stems, then the clips' means: recognized (0.67 + 1) / 2, (0.6 + 0.9) / 2
    assert f"| {rec} | 4 | 0.75 | 0.70 | 0.83 | 0.75 |" in text
    assert f"| {shape} | 3 | 0.33 | 0.27 | 0.50 | 0.30 |" in text
    assert "- `a.mp4`: person (walkers)" in text and "stereofoley eval --semantic x" in text
    without = sr.semantic_document(results, "cmd", note="(YAMNet agreement column left out: x.)")
    assert "YAMNet agreement with" not in without and "left out" in without
    assert f"| {rec} | 4 | 0.75 | 0.83 |\n" in without


def test_default_search_looks_in_the_clip_cache_and_its_torchvision_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Videos named by truth files are found in the bundled clips, the clip cache, and the
    folder scripts/fetch_torchvision_clips.sh fills inside it, in that order."""
    monkeypatch.setenv("STEREOFOLEY_CLIPS", str(tmp_path))
    assert sr.default_search() == (REPO / "assets" / "clips", tmp_path, tmp_path / "torchvision")
    (tmp_path / "torchvision").mkdir()
    (tmp_path / "torchvision" / "clip.avi").write_bytes(b"")
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / f"clip{sr.SUFFIX}").write_text(json.dumps(
        {"schema": sr.SCHEMA, "video": "clip.avi", "classes": ["person"]}))
    (found,) = sr.find_true_classes([truth], search=sr.default_search())
    assert found.video == tmp_path / "torchvision" / "clip.avi"
