"""Video reading and analysis: decoding, seeking, motion, tracking, visual events, shot cuts.

numpy + OpenCV + PyAV only; imports neither app nor model. Nothing heavy runs at import.
"""
