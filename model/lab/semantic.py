"""Semantic similarity of two sounds from aiSFX sound-effects embeddings (optional metric).

aiSFX 0.1.2 (PyPI `aisfx`, Ma & Lerch, ISMIR 2022; model licence CC-BY-4.0) is a 9-layer CNN
trained to classify sound-effects libraries by their UCS categories. Its bundled checkpoint
(`aisfx/models/checkpoint.pth`, 25 MB) maps a log-mel spectrogram block of 100 frames (~2.3 s)
to a 512-d non-negative embedding: conv features averaged over frequency, max over time.

The package is optional: its declared pins (numpy==1.23, librosa==0.9.2) would downgrade the
project, so it is installed without them, together with the one other module it imports::

    pip install --no-deps aisfx==0.1.2 tqdm

What is used from aisfx and what is done here instead (checked against aisfx 0.1.2 on numpy 2 and
torch 2.13):

- The model class and weights are aisfx's own (`aisfx.inference.load_bestModel`,
  `get_path_modelWeights`, `CrossNet.get_embedding`). The checkpoint is read here, not by
  `aisfx.inference.load_weights`, because that calls `torch.load` without `weights_only` and
  torch >= 2.6 refuses the numpy scalars in the pickled dataset table. It is loaded with
  `weights_only=True` and exactly those numpy globals allowed.
- aisfx's `inference.main` reads files from a folder; its spectrograms come either from essentia
  (the ISMIR configuration; essentia is AGPL and not installed here) or from its librosa path,
  which returns (mels, frames) where the blocking expects (frames, mels), so it embeds a transposed
  spectrogram without any error. The essentia features are therefore computed here in numpy from
  the parameters in aisfx's `inference.py` and `spectrogram_essentia.py`: mono at 44.1 kHz, frames
  of 2048 with hop 1024, the first centred on sample 0 (zero padding, one frame more than
  ceil(n / hop)), symmetric Hann window, |rfft|^2, 96 HTK-mel triangles from 0 to 22050 Hz shaped
  in the mel domain and normalized to unit sum, log10(1e4 * x + 1), divided by 9.4578 (aisfx's
  "original" normalization). Checked against aisfx 0.1.2 with essentia 2.1b6 in a scratch
  environment: the features matched essentia's to 6e-5 and the block embeddings matched
  `aisfx.inference.model_get_embedding` on essentia's features to 5e-7 (relative).
- Blocks are 100 frames with a hop of 50 (the paper's 1 s embedding hop). aisfx's
  `compute_hopSize` asserts that a spectrogram is longer than half a block, so it rejects sounds
  under ~1.2 s (most foley hits); here a short clip is zero-padded to one block, as aisfx's
  `blocking` pads, and the last partial block is kept so that the end of a clip counts too.
  The clip embedding is the mean of the block embeddings.
- Level: essentia's EasyLoader applies no gain (replayGain -6 dB plus its 6 dB preamp), so the
  model sees the file's level. Clips here come at any gain, so each clip is peak-normalized to
  1.0 first (as aisfx's librosa path does); the embedding is then independent of gain.

The features are log10(1e4 * power + 1), so near-empty bands still count: a synthetic pure tone
whose spectrum is otherwise -70 dB leakage or resampling error can move by a few percent of
similarity; recorded sounds, whose noise floor fills every band, do not (a recording at 96 kHz
and at 48 kHz embed alike, cosine > 0.999).

Silent clips (peak below `silence_db` dBFS, or no samples) embed to the zero vector and give a
NaN similarity. torch and aisfx are imported on first use only; the model is loaded once per
process. torch's thread count is left as the caller set it.
"""

from __future__ import annotations

import functools
import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from video.base.errors import InputError
from video.base.timebase import SAMPLE_RATE

INSTALL_COMMAND = "pip install --no-deps aisfx==0.1.2 tqdm"

MODEL_RATE = 44100  # aisfx inference.SAMPLE_RATE
FRAME_LENGTH = 2048  # SPEC_BLOCK_LENGTH
HOP_LENGTH = 1024  # SPEC_HOP_LENGTH
MEL_BANDS = 96  # MEL_BINS
F_MIN, F_MAX = 0.0, 22050.0
SPEC_MAX = 9.457798957824707  # preprocessing.spectrogram_normalize, spec_norm="original"
BLOCK_FRAMES = 100  # EMB_BLOCK_LENGTH
BLOCK_HOP = 50  # BLOCK_FRAMES * emb_hop_size 0.5
EMBEDDING_SIZE = 512
BATCH_BLOCKS = 32  # blocks per forward pass: bounds memory on long clips

# ------------------------------------------------------------------ features (numpy only)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@functools.cache
def mel_filterbank() -> np.ndarray:
    """(96, 1025) weights: HTK-mel triangles, linear in mel, each row summing to 1."""
    bin_mel = _hz_to_mel(np.arange(FRAME_LENGTH // 2 + 1) * MODEL_RATE / FRAME_LENGTH)
    edges = _hz_to_mel(np.array([F_MIN, F_MAX]))
    points = np.linspace(edges[0], edges[1], MEL_BANDS + 2)
    low, centre, high = points[:-2, None], points[1:-1, None], points[2:, None]
    rising = (bin_mel[None, :] - low) / (centre - low)
    falling = (high - bin_mel[None, :]) / (high - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total > 0.0, total, 1.0)
    weights.setflags(write=False)
    return weights


def mel_band_centres_hz() -> np.ndarray:
    """Centre frequency of each of the 96 mel bands, Hz."""
    edges = _hz_to_mel(np.array([F_MIN, F_MAX]))
    return _mel_to_hz(np.linspace(edges[0], edges[1], MEL_BANDS + 2)[1:-1])


def log_mel_spectrogram(mono: np.ndarray) -> np.ndarray:
    """(frames, 96) aiSFX input features of a mono 44.1 kHz signal, before normalization.

    frames = ceil(n / 1024) + 1: frame k starts at 1024 k - 1024 (zero padded), like essentia's
    FrameCutter with startFromZero=False.
    """
    y = np.asarray(mono, dtype=np.float64).reshape(-1)
    n = y.shape[0]
    frames = -(-n // HOP_LENGTH) + 1
    padded = np.zeros((frames - 1) * HOP_LENGTH + FRAME_LENGTH)
    padded[FRAME_LENGTH // 2: FRAME_LENGTH // 2 + n] = y
    index = np.arange(frames)[:, None] * HOP_LENGTH + np.arange(FRAME_LENGTH)[None, :]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))
    spectrum = np.fft.rfft(padded[index] * window, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    return np.log10(1e4 * (power @ mel_filterbank().T) + 1.0)


def spectrogram_blocks(spec: np.ndarray) -> np.ndarray:
    """(blocks, 100, 96) float32: 100-frame blocks every 50 frames, the last one zero-padded.

    A clip shorter than one block gives one padded block; a longer one gets blocks until one
    reaches its last frame.
    """
    frames = spec.shape[0]
    count = 1 if frames <= BLOCK_FRAMES else 1 + -(-(frames - BLOCK_FRAMES) // BLOCK_HOP)
    padded = np.zeros(((count - 1) * BLOCK_HOP + BLOCK_FRAMES, spec.shape[1]), dtype=np.float32)
    padded[:frames] = spec
    index = np.arange(count)[:, None] * BLOCK_HOP + np.arange(BLOCK_FRAMES)[None, :]
    return padded[index]


def _to_mono(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] == 0:
        raise InputError(
            f"audio must be mono (samples,) or (channels, samples), got shape {np.shape(audio)}")
    mono = np.mean(x.astype(np.float64, copy=False), axis=0)
    if not np.all(np.isfinite(mono)):
        raise InputError("audio contains NaN or infinite samples")
    return mono


def _resample(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate <= 0:
        raise InputError(f"sample_rate must be positive, got {sample_rate}")
    if sample_rate == MODEL_RATE or mono.size == 0:
        return mono
    g = math.gcd(MODEL_RATE, int(sample_rate))
    return np.asarray(resample_poly(mono, MODEL_RATE // g, int(sample_rate) // g))


# ------------------------------------------------------------------ model (torch, aisfx)


@dataclass(frozen=True)
class _Loaded:
    model: Any  # aisfx CrossNet in eval mode, or None
    problem: str  # why it is not available ("" when it is)


@functools.lru_cache(maxsize=1)
def _load() -> _Loaded:
    try:
        import torch
        from aisfx import inference
    except ImportError as exc:
        return _Loaded(None, f"{exc.__class__.__name__}: {exc}")
    expected = {"SAMPLE_RATE": MODEL_RATE, "SPEC_BLOCK_LENGTH": FRAME_LENGTH,
                "SPEC_HOP_LENGTH": HOP_LENGTH, "MEL_BINS": MEL_BANDS, "F_MIN": F_MIN,
                "F_MAX": F_MAX, "EMB_BLOCK_LENGTH": BLOCK_FRAMES}
    found = {name: getattr(inference, name, None) for name in expected}
    if found != expected:
        return _Loaded(None, f"unsupported aisfx version: feature settings {found}, "
                             f"expected those of aisfx 0.1.2 {expected}")
    # The checkpoint is (state_dict, {dataset: (np.int64 index, classes)}), pickled with numpy 1.
    try:
        multiarray = importlib.import_module("numpy._core.multiarray")  # numpy 2
    except ImportError:  # numpy 1.x
        multiarray = importlib.import_module("numpy.core.multiarray")
    allowed: list[Any] = [(multiarray.scalar, "numpy.core.multiarray.scalar"), np.dtype,
                          type(np.dtype(np.int64))]
    try:
        with torch.serialization.safe_globals(allowed):
            weights, datasets = torch.load(inference.get_path_modelWeights(),
                                           map_location="cpu", weights_only=True)
        model = inference.load_bestModel(weights, datasets, "cpu")
    except Exception as exc:  # a corrupt or changed checkpoint, or a torch too old for it
        return _Loaded(None, f"cannot load the aisfx checkpoint: {exc.__class__.__name__}: {exc}")
    return _Loaded(model, "")


def semantic_available() -> bool:
    """True when aisfx is installed and its bundled checkpoint loads (checked once per process)."""
    return _load().model is not None


def _require_model() -> Any:
    loaded = _load()
    if loaded.model is None:
        raise InputError(
            "semantic similarity needs the optional aiSFX model; install it into this "
            f"environment with `{INSTALL_COMMAND}` (--no-deps keeps its numpy 1.23 and "
            f"librosa pins out) ({loaded.problem})")
    return loaded.model


def embed(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE,
          silence_db: float = -100.0) -> np.ndarray:
    """The aiSFX embedding (512 float32 values, all >= 0) of a mono or (channels, samples) clip.

    Channels are averaged, the clip resampled to 44.1 kHz and peak-normalized; the mean of the
    embeddings of its 2.3 s blocks is returned. A clip shorter than a block is padded with silence.
    A clip whose peak is below `silence_db` dBFS (or that has no samples) gives all zeros.
    Raises InputError when aisfx is not installed or the audio is malformed.
    """
    model = _require_model()
    mono = _resample(_to_mono(audio), sample_rate)
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak <= 10.0 ** (silence_db / 20.0):
        return np.zeros(EMBEDDING_SIZE, dtype=np.float32)
    blocks = spectrogram_blocks(log_mel_spectrogram(mono / peak) / SPEC_MAX)
    import torch

    parts = []
    with torch.inference_mode():
        for start in range(0, blocks.shape[0], BATCH_BLOCKS):
            batch = torch.from_numpy(blocks[start:start + BATCH_BLOCKS])
            parts.append(model.get_embedding(batch).numpy())
    return np.concatenate(parts).mean(axis=0).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors; NaN when either is all zeros."""
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(np.dot(x, y) / norm) if norm > 0.0 else math.nan


def semantic_similarity(a: np.ndarray, b: np.ndarray, *, sample_rate: int = SAMPLE_RATE,
                        silence_db: float = -100.0) -> float:
    """Cosine similarity of the aiSFX embeddings of two clips (same rate), NaN if either is silent.

    aiSFX embeddings are non-negative, so the value lies in 0..1; unrelated sounds still score
    well above 0, so compare values with each other rather than against an absolute threshold.
    """
    return cosine(embed(a, sample_rate=sample_rate, silence_db=silence_db),
                  embed(b, sample_rate=sample_rate, silence_db=silence_db))
