"""The studio's session logic without a window: the controller every callback calls, its view
state and job plans, the worker thread, the link to the renderer and playback, and the pure
geometry, timecode, envelope and timeline-layout helpers the widgets draw with.

Nothing here imports dearpygui, so a whole editing session runs (and is tested) headless.
"""
