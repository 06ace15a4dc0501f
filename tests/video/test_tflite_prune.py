"""Pruning a TFLite model to the outputs that are read: the outputs kept are computed exactly as
by the whole model, with fewer operators; an output the model lacks is refused."""

from __future__ import annotations

import numpy as np
import pytest

from video.pose import MODEL_PATH, USED_OUTPUTS
from video.tflite_prune import PruneError, keep_outputs


def _interpreter(content: bytes):  # type: ignore[no-untyped-def]
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content, num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


def _run(interpreter, x: np.ndarray) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]).copy()
            for d in interpreter.get_output_details()}


def _operators(content: bytes) -> int:
    from ai_edge_litert import schema_py_generated as schema

    return int(schema.Model.GetRootAsModel(content, 0).Subgraphs(0).OperatorsLength())


def _crops() -> list[np.ndarray]:
    """A dark figure on a light ground, and seeded noise: two inputs that give different
    landmarks."""
    figure = np.full((256, 256, 3), 0.8, np.float32)
    figure[40:120, 110:146] = 0.2            # body
    figure[120:220, 112:126] = 0.2           # legs
    figure[120:220, 130:144] = 0.2
    noise = np.random.default_rng(3).random((256, 256, 3), dtype=np.float32)
    return [figure, noise]


def test_the_kept_outputs_are_computed_as_by_the_whole_model() -> None:
    whole_bytes = MODEL_PATH.read_bytes()
    pruned_bytes = keep_outputs(whole_bytes, USED_OUTPUTS)
    whole, pruned = _interpreter(whole_bytes), _interpreter(pruned_bytes)
    assert [d["name"] for d in pruned.get_output_details()] == list(USED_OUTPUTS)
    assert len(whole.get_output_details()) == 5
    # the mask, heatmap and world-landmark heads are gone: 332 -> 249 operators
    assert _operators(pruned_bytes) < 0.8 * _operators(whole_bytes)
    landmarks = []
    for crop in _crops():
        a, b = _run(whole, crop[None]), _run(pruned, crop[None])
        for name in USED_OUTPUTS:
            assert np.array_equal(a[name], b[name]), name
        landmarks.append(b["Identity"])
    assert not np.array_equal(*landmarks)    # the inputs did reach the model


def test_an_output_the_model_lacks_is_refused() -> None:
    with pytest.raises(PruneError, match="no output named mask"):
        keep_outputs(MODEL_PATH.read_bytes(), ["Identity", "mask"])
