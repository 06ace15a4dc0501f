"""DSP that needs no learning: spatializer, mixer, loudness, sample library, WAV/BWF export, playback.

numpy/scipy/soundfile/sounddevice only; imports neither app nor model.
"""
