"""Train the learned event detector on a synthetic dataset (model/lab/dataset.py).

Inputs are the ANALYSED tracks (real tracker noise); labels come from the true events of the true
track each one was matched to (spurious tracks are all-negative), aligned to the nearest frame
with the +-1 frame neighbours left out of the loss. The last `val_fraction` of clips is held out to
pick the epoch and the decision threshold (best F1 within one frame).

    python -m model.lab.train_events --data DIR --out assets/models/event_net.pt --seed 0

writes the checkpoint and, next to it, a JSON training log (data seed, sizes, per-epoch losses,
validation scores, wall time). Reproducible: seeded, deterministic algorithms, one torch thread by
default: the network is small, and on a CPU shared with other jobs two OpenMP threads waiting on
each other made training ~8x slower in wall time than one (same result either way).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from model.detector.event_features import (
    FEATURE_NAMES,
    box_features,
    decode_events,
    frame_targets,
    observed_boxes,
)
from model.detector.event_net import build_event_net, parameter_count, save_checkpoint
from model.detector.learned_events import predict
from model.detector.net_layout import EventModel, EventNetConfig, Normalizer
from model.lab.command import run_with_bar
from model.lab.dataset import write_json_atomic
from model.lab.metrics import pool_scores, score_events
from video.base.errors import InputError
from video.base.progress import ProgressFn, report
from video.base.tracks import Analysis, Track, VideoInfo

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.95, 0.05))
# each reflection of the picture negates some features and exchanges some pairs
_MIRROR = (("x", "vx", "ax"), (("edge_left", "edge_right"),))
_FLIP = (("y", "vy", "ay"), (("edge_top", "edge_bottom"),))
_TRANSPOSE = ((), (("x", "y"), ("vx", "vy"), ("ax", "ay"), ("dlog_w", "dlog_h"),
                   ("edge_left", "edge_top"), ("edge_right", "edge_bottom")))


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule. `epochs` full passes; batches of `batch` sequences."""

    seed: int = 0
    epochs: int = 40
    batch: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    with_truth: bool = False
    max_pos_weight: float = 20.0
    threads: int = 1
    # real trackers' boxes breathe (motion blur, shadows, ghosts): each sequence's boxes get
    # per-frame log-size noise of a standard deviation drawn up to this (and half of it, in box
    # sizes, on the centre) before its features are computed. Off by default: at 0.2 it cost
    # 0.03 validation F1 (docs/TRAINING.md)
    box_jitter: float = 0.0
    # share of training sequences shown in a turned orientation (transposed and/or upside down):
    # a phone held sideways, a ball bouncing off a wall rather than a floor; the rest are shown
    # upright, half of them mirrored left-right (both kinds of augmentation keep the labels).
    # Off by default: at 0.25-0.5 it cost 0.03-0.04 validation F1 (docs/TRAINING.md)
    turn_fraction: float = 0.0
    net: EventNetConfig = field(default_factory=EventNetConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.turn_fraction <= 1.0:
            raise InputError(f"turn fraction must be between 0 and 1, got {self.turn_fraction}")
        if not 0.0 <= self.box_jitter <= 1.0:
            raise InputError(f"box jitter must be between 0 and 1, got {self.box_jitter}")


@dataclass(frozen=True)
class TrackSequence:
    """One training sequence: a track's features, targets and where its true events are."""

    values: np.ndarray
    onset: np.ndarray
    mask: np.ndarray
    strength: np.ndarray
    kind: np.ndarray
    offset: np.ndarray
    frames: np.ndarray
    info: VideoInfo
    true_times: np.ndarray
    clip: str
    clean: bool = False
    boxes: np.ndarray | None = None     # dense (T, 4) boxes the features came from
    observed: np.ndarray | None = None  # (T,) 1 where the tracker saw the object


@dataclass(frozen=True)
class TrainResult:
    """What training produced: the model (with tuned threshold) and its log."""

    model: EventModel
    log: dict[str, Any]


def load_manifest(data_dir: str | Path) -> dict[str, Any]:
    """The dataset's manifest.json, with a clear InputError when it is missing or wrong."""
    path = Path(data_dir) / "manifest.json"
    if not path.is_file():
        raise InputError(f"no dataset manifest at {path}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc.msg}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("clips"), list):
        raise InputError(f"{path} is not a dataset manifest")
    return manifest


def clip_sequences(clip: dict[str, Any], *, with_truth: bool = False) -> list[TrackSequence]:
    """Training sequences of one manifest clip: every analysed track with its matched truth,
    and with `with_truth` also the true tracks themselves (clean, marked so they only train)."""
    truth = Analysis.from_dict(clip["truth"])
    analysed = Analysis.from_dict(clip["analysed"])
    matches = {int(a): int(t) for a, t, *_ in clip.get("matches", [])}
    out = []
    for track in analysed.objects:
        if len(track) < 3:
            continue
        true_track = truth.object(matches[track.id]) if track.id in matches else None
        out.append(make_sequence(track, true_track, analysed.video, str(clip.get("name", ""))))
    if with_truth:
        out += [replace(make_sequence(t, t, truth.video, str(clip.get("name", ""))), clean=True)
                for t in truth.objects if len(t) >= 3]
    return out


def make_sequence(track: Track, true_track: Track | None, info: VideoInfo,
                  clip: str = "") -> TrackSequence:
    """Features of `track`, labelled with the events of `true_track` (none: all negative)."""
    frames, boxes, observed = observed_boxes(track)  # kept: augmentation jitters the boxes
    events = true_track.events if true_track is not None else ()
    targets = frame_targets(events, frames, info)
    lo = info.time_of_frame(int(frames[0])) - 0.5 / float(info.fps)
    hi = info.time_of_frame(int(frames[-1])) + 0.5 / float(info.fps)
    times = np.array([e.time for e in events if lo <= e.time <= hi])
    return TrackSequence(values=box_features(boxes, observed, info), onset=targets.onset,
                     mask=targets.mask, strength=targets.strength, kind=targets.kind,
                     offset=targets.offset, frames=frames,
                     info=info, true_times=times, clip=clip, boxes=boxes, observed=observed)


def _reflect(values: np.ndarray, change: tuple[tuple[str, ...], tuple[tuple[str, str], ...]]
             ) -> np.ndarray:
    """`values` with the named features negated and the named pairs exchanged."""
    negated, pairs = change
    out = values.copy()
    for name in negated:
        out[FEATURE_NAMES.index(name)] *= -1
    for first, second in pairs:
        a, b = FEATURE_NAMES.index(first), FEATURE_NAMES.index(second)
        out[[a, b]] = values[[b, a]]
    return out


def mirror(values: np.ndarray) -> np.ndarray:
    """The features of the left-right mirrored motion (a free, label-preserving augmentation)."""
    return _reflect(values, _MIRROR)


def flip_vertical(values: np.ndarray) -> np.ndarray:
    """The features of the upside-down motion."""
    return _reflect(values, _FLIP)


def transpose(values: np.ndarray) -> np.ndarray:
    """The features of the motion seen in the transposed picture (x and y exchanged)."""
    return _reflect(values, _TRANSPOSE)


def orient(values: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 orientations of a picture (the dihedral group of the square): bit 0 mirrors
    left-right, bit 1 turns upside down, bit 2 transposes (applied in that order)."""
    out = mirror(values) if code & 1 else values
    out = flip_vertical(out) if code & 2 else out
    return transpose(out) if code & 4 else out


def orientation_codes(rng: np.random.Generator, n: int, turn_fraction: float) -> np.ndarray:
    """Random orientation codes for `n` sequences: upright (0 or 1, mirrored half the time) with
    probability 1 - turn_fraction, otherwise one of the six turned orientations."""
    upright = rng.integers(0, 2, size=n)
    turned = rng.integers(2, 8, size=n)
    return np.where(rng.random(n) < turn_fraction, turned, upright)


def jitter_boxes(boxes: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """`boxes` (T, 4) with independent per-frame noise: log width and height scaled by
    N(0, sigma), the centre moved by N(0, sigma / 2) box sizes."""
    if sigma <= 0 or len(boxes) == 0:
        return boxes
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    size = np.sqrt(np.maximum(w * h, 1.0))
    cx = cx + rng.normal(0.0, sigma / 2, len(boxes)) * size
    cy = cy + rng.normal(0.0, sigma / 2, len(boxes)) * size
    w = w * np.exp(rng.normal(0.0, sigma, len(boxes)))
    h = h * np.exp(rng.normal(0.0, sigma, len(boxes)))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _augmented(s: TrackSequence, rng: np.random.Generator | None, box_jitter: float) -> np.ndarray:
    """The sequence's features, from freshly jittered boxes when augmenting."""
    if rng is None or box_jitter <= 0 or s.boxes is None or s.observed is None:
        return s.values
    sigma = float(rng.uniform(0.0, box_jitter))
    return box_features(jitter_boxes(s.boxes, rng, sigma), s.observed, s.info)


def _batch(seqs: Sequence[TrackSequence], normalizer: Normalizer, codes: np.ndarray, *,
           rng: np.random.Generator | None = None, box_jitter: float = 0.0) -> dict[str, Any]:
    import torch

    length = max(s.values.shape[1] for s in seqs)
    n = len(seqs)
    x = np.zeros((n, seqs[0].values.shape[0], length), dtype=np.float32)
    y = {k: np.zeros((n, length), dtype=np.float32) for k in ("onset", "mask", "strength", "offset")}
    kind = np.zeros((n, length), dtype=np.int64)
    for i, s in enumerate(seqs):
        t = s.values.shape[1]
        x[i, :, :t] = normalizer.apply(orient(_augmented(s, rng, box_jitter), int(codes[i])))
        for k in y:
            y[k][i, :t] = getattr(s, k)
        kind[i, :t] = s.kind
    return {"x": torch.from_numpy(x), "kind": torch.from_numpy(kind),
            **{k: torch.from_numpy(v) for k, v in y.items()}}


def _loss(net: Any, b: dict[str, Any], pos_weight: float) -> Any:
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits as bce
    from torch.nn.functional import cross_entropy

    out = net(b["x"])
    mask, onset = b["mask"], b["onset"]
    weight = mask * torch.where(onset > 0, torch.tensor(pos_weight), torch.tensor(1.0))
    onset_loss = (bce(out[:, 0], onset, reduction="none") * weight).sum() / weight.sum()
    pos = onset.sum().clamp(min=1.0)
    strength_loss = (bce(out[:, 1], b["strength"], reduction="none") * onset).sum() / pos
    offset = 0.5 * torch.tanh(out[:, 2])
    offset_loss = (((offset - b["offset"]) ** 2) * onset).sum() / pos * 4.0  # 4: unit scale
    kind_loss = (cross_entropy(out[:, 3:], b["kind"], reduction="none") * onset).sum() / pos
    return onset_loss + 0.5 * strength_loss + 0.5 * kind_loss + 0.5 * offset_loss


def evaluate_sequences(model: EventModel, seqs: Sequence[TrackSequence]) -> dict[float, dict[str, float]]:
    """Precision/recall/F1/median ms within one frame at each candidate threshold."""
    preds = [predict(model, s.values) for s in seqs]
    table: dict[float, dict[str, float]] = {}
    for thr in THRESHOLDS:
        parts = []
        for s, p in zip(seqs, preds, strict=True):
            times = np.array([e.time for e in decode_events(p, s.frames, s.info, threshold=thr)])
            parts.append(score_events(s.true_times, times, tolerance_s=1.0 / float(s.info.fps)))
        pooled = pool_scores(parts)
        table[thr] = {"precision": pooled.precision, "recall": pooled.recall, "f1": pooled.f1,
                      "median_abs_ms": pooled.median_abs_ms}
    return table


def split_clips(names: Sequence[str], val_fraction: float) -> tuple[set[str], set[str]]:
    """Train/validation split by clip (never by track: tracks of one clip share a scene)."""
    n_val = max(1, int(round(len(names) * val_fraction))) if len(names) > 1 else 0
    return set(names[: len(names) - n_val]), set(names[len(names) - n_val:])


def train(sequences: Sequence[TrackSequence], *, config: TrainConfig = TrainConfig(),
          progress: ProgressFn | None = None) -> TrainResult:
    """Train on `sequences`; the last clips (by order) validate. Returns the best-F1 epoch."""
    import torch

    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    clips = list(dict.fromkeys(s.clip for s in sequences))
    train_clips, val_clips = split_clips(clips, config.val_fraction)
    train_set = [s for s in sequences if s.clip in train_clips]
    val_set = [s for s in sequences if s.clip in val_clips and not s.clean] or train_set
    if not train_set:
        raise InputError("no training sequences (the dataset has no usable tracks)")
    # turned sequences put y statistics on x features and back: fit the scales on every
    # orientation so each feature pair shares one scale
    codes = range(8) if config.turn_fraction > 0 else range(1)
    normalizer = Normalizer.fit([orient(s.values, c) for s in train_set for c in codes])
    positives = sum(float(s.onset.sum()) for s in train_set)
    negatives = sum(float((s.mask * (1 - s.onset)).sum()) for s in train_set)
    pos_weight = float(min(config.max_pos_weight, negatives / max(positives, 1.0)))
    net = build_event_net(config.net, seed=config.seed)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(train_set) / config.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=max(steps, 1))
    rng = np.random.default_rng(config.seed)
    start = time.monotonic()
    history: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], float] | None = None
    for epoch in range(config.epochs):
        net.train()
        order = rng.permutation(len(train_set))
        losses = []
        for k in range(0, len(order), config.batch):
            chunk = [train_set[i] for i in order[k: k + config.batch]]
            b = _batch(chunk, normalizer, orientation_codes(rng, len(chunk), config.turn_fraction),
                       rng=rng, box_jitter=config.box_jitter)
            loss = _loss(net, b, pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        model = EventModel(net=net, config=config.net, normalizer=normalizer)
        table = evaluate_sequences(model, val_set)
        thr = max(table, key=lambda t: (table[t]["f1"], -abs(t - 0.5)))
        history.append({"epoch": epoch + 1, "train_loss": round(float(np.mean(losses)), 5),
                        "val_f1": round(table[thr]["f1"], 4), "threshold": thr,
                        "seconds": round(time.monotonic() - start, 1)})
        if best is None or table[thr]["f1"] > best[0]:
            state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            best = (table[thr]["f1"], {"state": state, "scores": table[thr], "epoch": epoch + 1},
                    thr)
        report(progress, (epoch + 1) / config.epochs,
               f"epoch {epoch + 1} loss {np.mean(losses):.3f} val F1 {table[thr]['f1']:.3f}")
    assert best is not None
    net.load_state_dict(best[1]["state"])
    net.eval()
    log = {"train_sequences": len(train_set), "val_sequences": len(val_set),
           "train_clips": len(train_clips), "val_clips": len(val_clips),
           "train_positives": int(positives), "pos_weight": round(pos_weight, 3),
           "parameters": parameter_count(net), "best_epoch": best[1]["epoch"],
           "threshold": best[2], "val_scores": best[1]["scores"], "history": history,
           "train_seconds": round(time.monotonic() - start, 1),
           "config": asdict(config)}
    model = EventModel(net=net, config=config.net, normalizer=normalizer, threshold=best[2],
                       meta={"best_epoch": best[1]["epoch"], "val_f1": round(best[0], 4)})
    return TrainResult(model=model, log=log)


def train_from_dataset(data_dir: str | Path, out: str | Path, *, config: TrainConfig = TrainConfig(),
                       progress: ProgressFn | None = None) -> TrainResult:
    """Load a dataset folder, train, and write the checkpoint plus its JSON log next to it."""
    import torch

    manifest = load_manifest(data_dir)
    sequences = [s for clip in manifest["clips"]
                 for s in clip_sequences(clip, with_truth=config.with_truth)]
    result = train(sequences, config=config, progress=progress)
    meta = {**result.model.meta, "data_seed": manifest.get("seed"), "train_seed": config.seed}
    model = replace(result.model, meta=meta)
    log = {"data": str(data_dir), "data_seed": manifest.get("seed"),
           "clips": len(manifest["clips"]), "torch": torch.__version__, **result.log}
    out_path = Path(out)
    save_checkpoint(model, out_path)
    write_json_atomic(out_path.with_suffix(".json"), log)
    return TrainResult(model=model, log=log)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.lab.train_events", description=__doc__)
    parser.add_argument("--data", required=True, help="dataset folder (model/lab/dataset.py)")
    parser.add_argument("--out", required=True, help="checkpoint path (.pt)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--with-truth", action="store_true",
                        help="also train on the clean true tracks (validation stays analysed)")
    parser.add_argument("--threads", type=int, default=TrainConfig.threads,
                        help="torch CPU threads (default 1)")
    parser.add_argument("--box-jitter", type=float, default=TrainConfig.box_jitter,
                        help="largest per-frame box noise (log size) added in training (default "
                             f"{TrainConfig.box_jitter}); 0 = none")
    parser.add_argument("--channels", type=int, default=EventNetConfig.channels,
                        help=f"network width (default {EventNetConfig.channels})")
    parser.add_argument("--turn-fraction", type=float, default=TrainConfig.turn_fraction,
                        help="share of sequences shown turned (transposed/upside down; default "
                             f"{TrainConfig.turn_fraction}); 0 = upright only")
    args = parser.parse_args(argv)
    def work(progress: ProgressFn) -> str:
        config = TrainConfig(seed=args.seed, epochs=args.epochs, threads=args.threads,
                             with_truth=args.with_truth, turn_fraction=args.turn_fraction,
                             box_jitter=args.box_jitter,
                             net=EventNetConfig(channels=args.channels))
        result = train_from_dataset(args.data, args.out, config=config, progress=progress)
        scores = result.log["val_scores"]
        return (f"val F1 {scores['f1']:.3f} (P {scores['precision']:.3f} "
                f"R {scores['recall']:.3f}) threshold {result.log['threshold']} -> {args.out}")

    return run_with_bar("train", work)


if __name__ == "__main__":
    sys.exit(main())
