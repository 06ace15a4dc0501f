#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts Xvfb and a PulseAudio null sink,
# then pytest (GUI tests on the virtual display, playback tests through the null sink).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
source scripts/services.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
