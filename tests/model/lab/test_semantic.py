"""aiSFX semantic similarity: features on signals with known spectra, and (when the optional
aisfx package is installed) embeddings of the bundled sound bank against noise and tones."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from model.lab import semantic
from model.lab.semantic import (
    EMBEDDING_SIZE,
    MODEL_RATE,
    cosine,
    embed,
    log_mel_spectrogram,
    mel_band_centres_hz,
    mel_filterbank,
    semantic_available,
    semantic_similarity,
    spectrogram_blocks,
)
from video.base.errors import InputError

SR = 48_000
SOUNDS = Path(__file__).resolve().parents[3] / "assets" / "sounds"

needs_aisfx = pytest.mark.skipif(
    importlib.util.find_spec("aisfx") is None,
    reason=f"optional aisfx not installed ({semantic.INSTALL_COMMAND})")


def _sound(catid: str, index: int) -> np.ndarray:
    """The index-th sound of a UCS category in the bank, (channels, samples) at 48 kHz."""
    manifest = json.loads((SOUNDS / "manifest.json").read_text())
    files = sorted(s["file"] for s in manifest["sounds"] if s["catid"] == catid)
    audio, rate = sf.read(SOUNDS / files[index], dtype="float32", always_2d=True)
    assert rate == SR
    return audio.T


def _sine(freq: float, seconds: float, rate: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# ------------------------------------------------------------------ features (no aisfx needed)


def test_filterbank_rows_sum_to_one_and_peak_at_their_centres() -> None:
    bank = mel_filterbank()
    assert bank.shape == (96, 1025)
    np.testing.assert_allclose(bank.sum(axis=1), 1.0, atol=1e-12)
    centres = mel_band_centres_hz()
    top_mel = 2595.0 * math.log10(1.0 + 22050.0 / 700.0)  # HTK mel of 22050 Hz: 3923.3
    step = top_mel / 97  # 0..22050 Hz in 97 equal mel steps: 98 edges, 96 centres
    for band in (0, 47, 95):
        hz = 700.0 * (10.0 ** ((band + 1) * step / 2595.0) - 1.0)
        assert centres[band] == pytest.approx(hz, rel=1e-12)
    assert centres[0] == pytest.approx(25.58, abs=0.01)
    bin_hz = np.arange(1025) * MODEL_RATE / 2048
    for band in (10, 40, 80):  # wide enough bands: the heaviest bin is the one nearest the centre
        assert abs(bin_hz[np.argmax(bank[band])] - centres[band]) <= MODEL_RATE / 2048 / 2


def test_spectrogram_frames_and_a_tone_lands_in_its_band() -> None:
    tone = _sine(1000.0, 1.0, MODEL_RATE)
    spec = log_mel_spectrogram(tone)
    assert spec.shape == (math.ceil(MODEL_RATE / 1024) + 1, 96)  # first frame centred on sample 0
    middle = spec[10:-10]
    assert np.all(np.argmax(middle, axis=1) == np.argmin(np.abs(mel_band_centres_hz() - 1000.0)))
    assert log_mel_spectrogram(np.zeros(4410)).max() == 0.0  # log10(1e4 * 0 + 1)
    # Power spectrum, log10(1e4 x + 1): twice the amplitude is 4x the power, +log10(4) where loud.
    louder = log_mel_spectrogram(2.0 * tone)[10:-10]
    peak = np.argmax(middle, axis=1)
    rows = np.arange(len(peak))
    np.testing.assert_allclose(louder[rows, peak] - middle[rows, peak], math.log10(4.0),
                               atol=1e-4)


def test_blocks_cover_the_whole_clip_with_padding() -> None:
    short = spectrogram_blocks(np.ones((14, 96)))  # a 0.3 s footstep: one zero-padded block
    assert short.shape == (1, 100, 96) and short.dtype == np.float32
    assert short[0, :14].min() == 1.0 and short[0, 14:].max() == 0.0
    long = spectrogram_blocks(np.arange(183.0)[:, None] * np.ones((1, 96)))  # a 4.2 s clip
    assert long.shape == (3, 100, 96)  # starts 0, 50, 100: the last reaches frame 182
    assert long[2, 82, 0] == 182.0 and long[2, 83:].max() == 0.0
    assert spectrogram_blocks(np.ones((100, 96))).shape == (1, 100, 96)
    assert spectrogram_blocks(np.ones((101, 96))).shape == (2, 100, 96)


def test_missing_package_raises_input_error_with_install_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    failed = semantic._Loaded(None, "ModuleNotFoundError: No module named 'aisfx'")
    monkeypatch.setattr(semantic, "_load", lambda: failed)
    assert not semantic_available()
    with pytest.raises(InputError, match=r"pip install --no-deps aisfx==0\.1\.2 tqdm"):
        embed(_sine(440.0, 0.5))
    with pytest.raises(InputError, match="No module named 'aisfx'"):
        semantic_similarity(_sine(440.0, 0.5), _sine(440.0, 0.5))


# ------------------------------------------------------------------ embeddings (aisfx)


@needs_aisfx
def test_model_loads_and_embeds_a_clip() -> None:
    assert semantic_available()
    e = embed(_sound("FIRECrkl", 0))
    assert e.shape == (EMBEDDING_SIZE,) and e.dtype == np.float32
    assert np.all(np.isfinite(e)) and e.min() >= 0.0 and e.max() > 0.0
    assert semantic_similarity(_sound("FIRECrkl", 0), _sound("FIRECrkl", 0)) == pytest.approx(
        1.0, abs=1e-6)


@needs_aisfx
def test_same_kind_of_sound_is_closer_than_noise_or_a_tone(rng: np.random.Generator) -> None:
    noise = embed((0.3 * rng.standard_normal(3 * SR)).astype(np.float32))
    sine = embed(_sine(440.0, 3.0))
    for catid in ("FIRECrkl", "FOOTGrav"):  # 4 s crackles; 0.3-0.5 s footsteps (padded blocks)
        a, b = embed(_sound(catid, 0)), embed(_sound(catid, 1))
        same = cosine(a, b)
        assert same == pytest.approx(semantic_similarity(_sound(catid, 0), _sound(catid, 1)))
        assert same > 0.85  # measured 0.987 and 0.893
        assert same > cosine(a, noise) + 0.1  # 0.804 and 0.750
        assert same > cosine(a, sine) + 0.2  # 0.699 and 0.635


@needs_aisfx
def test_gain_stereo_and_rate_invariance() -> None:
    crackle = _sound("FIRECrkl", 2)[0]
    quiet = (crackle * 10 ** (-20 / 20)).astype(np.float32)
    assert semantic_similarity(crackle, quiet) > 0.95
    stereo = np.stack([crackle, 0.5 * crackle])  # panned, same content: the mix is the same sound
    np.testing.assert_allclose(embed(stereo), embed(crackle), rtol=1e-4, atol=1e-5)
    # The same recording at 96 kHz is resampled to the model's 44.1 kHz like the 48 kHz one.
    at_96k = resample_poly(crackle, 2, 1).astype(np.float32)
    assert cosine(embed(at_96k, sample_rate=96_000), embed(crackle)) > 0.999


@needs_aisfx
def test_silence_is_nan_and_short_clips_embed() -> None:
    silence = np.zeros((2, SR), dtype=np.float32)
    assert np.all(embed(silence) == 0.0)
    assert math.isnan(semantic_similarity(silence, _sound("FIRECrkl", 0)))
    assert math.isnan(semantic_similarity(np.zeros(0, dtype=np.float32), silence))
    click = np.zeros(480, dtype=np.float32)
    click[10] = 1.0  # 10 ms: one padded block
    e = embed(click)
    assert np.all(np.isfinite(e)) and e.max() > 0.0
    with pytest.raises(InputError, match="NaN"):
        embed(np.full(SR, np.nan, dtype=np.float32))
    with pytest.raises(InputError, match="shape"):
        embed(np.zeros((1, 2, 3), dtype=np.float32))
