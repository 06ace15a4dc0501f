#!/usr/bin/env bash
# Installs everything and runs the main job: the studio on the bundled demo video. Without a
# display it renders the demo headless (stems + mix) and says where the files went.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/stereofoley studio "$@"
else
  exec .venv/bin/stereofoley studio --headless-out demo-render "$@"
fi
