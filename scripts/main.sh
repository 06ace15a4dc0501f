#!/usr/bin/env bash
# The main job, once everything is installed (setup.sh runs it): the studio on the bundled demo
# video, or on the video / project given as an argument. Where no window can be opened (no
# DISPLAY, or a DISPLAY that cannot be reached: python -m app.display says which) it renders
# headless into demo-render/ instead and says where the files went. Re-runnable: a second run
# replaces its own previous render there (--force replaces only a folder that is recognizably a
# previous render; a demo-render/ holding anything else is refused with exit 2).
# STEREOFOLEY_PYTHON (default .venv/bin/python) and STEREOFOLEY_DEMO_OUT (default demo-render)
# let the tests run it against a clip and a folder of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${STEREOFOLEY_PYTHON:-.venv/bin/python}
OUT=${STEREOFOLEY_DEMO_OUT:-demo-render}
if reason=$("$PY" -m app.display 2>&1); then
  exec "$PY" -m app studio "$@"
fi
echo "${reason:-no display}: rendering without a window into $OUT" >&2
exec "$PY" -m app studio --headless-out "$OUT" --force "$@"
