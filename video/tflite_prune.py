"""Drop the parts of a TFLite model that compute outputs nobody reads.

A TFLite interpreter runs every operator of the graph, whatever outputs the caller reads.
MediaPipe's BlazePose landmark model computes, besides the 39 landmarks and the "pose present"
score that video.pose uses, a 256x256 segmentation mask, 64x64 heatmaps of the 39 points and
world landmarks: 83 of its 332 operators, 42% of its run time (14.4 against 8.4 ms a crop on one
core of the dev box; BENCHMARKS.md). `keep_outputs` rewrites the model's flatbuffer with only the
operators the named outputs depend on, so the outputs that remain are computed exactly as before
(same operators, same weights, same order). The shipped file stays as it came from its package
(its SHA-256 is checked before this runs); the pruned copy lives only in memory.

It reads and writes the flatbuffer with the schema module that ai-edge-litert ships
(`ai_edge_litert.schema_py_generated`) and the `flatbuffers` package it depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class PruneError(ValueError):
    """The model cannot be pruned as asked (an output name it does not have)."""


def _needed_operators(graph: Any, outputs: Sequence[int]) -> set[int]:
    """Indices of the operators that the tensors `outputs` depend on, directly or not."""
    producer = {t: k for k, op in enumerate(graph.operators) for t in op.outputs}
    needed: set[int] = set()
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        k = producer.get(tensor)
        if k is None:   # a graph input or a constant
            continue
        needed.add(k)
        stack.extend(int(i) for i in graph.operators[k].inputs if i >= 0)
    return needed


def keep_outputs(model: bytes, names: Sequence[str]) -> bytes:
    """The model (TFLite flatbuffer bytes) computing only its outputs named `names` (first
    subgraph), in the order given. PruneError when the model has no output of one of the names.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    graph = tree.subgraphs[0]
    by_name = {graph.tensors[i].name.decode(): int(i) for i in graph.outputs}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise PruneError(f"the model has no output named {', '.join(missing)} "
                         f"(it has {', '.join(sorted(by_name))})")
    kept = [by_name[n] for n in names]
    needed = _needed_operators(graph, kept)
    graph.operators = [op for k, op in enumerate(graph.operators) if k in needed]
    graph.outputs = kept
    tree.signatureDefs = None   # signatures name the dropped outputs too
    builder = flatbuffers.Builder(len(model) + (1 << 16))
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
