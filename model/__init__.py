"""The foley model: analysis + per-object sound prompt -> per-object dry source audio.

The only package that imports torch, and only lazily (inside functions), so the studio opens fast.
"""
