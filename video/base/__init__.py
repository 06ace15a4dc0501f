"""The base layer every package stands on: the contract and the plumbing, nothing else.

- `errors`: what "bad user input" and "cancelled" mean (the CLI shows one `error:` line).
- `progress`: the progress callback every long job takes, the CLI bar, warning lines.
- `atomic`: writing files so a reader never sees half of one.
- `timebase`: 48 kHz, Fraction frame rates, the one video-time -> sample-index mapping.
- `fields`: typed readers every `from_dict` uses (a wrong type names the field's path).
- `tracks`: the TRACKS.json contract (`Analysis`, `Track`, `Event`, `VideoInfo`).

It imports nothing from the rest of the program, so app/, model/, audio/ and video/ can all use it.
"""
