"""The foley model: analysis + per-object sound prompt -> per-object dry source audio.

The only package that imports torch, and only lazily (inside functions), so the studio opens fast.
By role: `model.foley` (runtime foley and the scene render), `model.detector` (the learned visual
event detector), `model.lab` (training and evaluation only; the runtime never imports it).
"""
