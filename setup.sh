#!/usr/bin/env bash
# Installs everything and runs the main job (scripts/main.sh): the studio on the bundled demo
# video. Without a usable display (none set, or one that cannot be opened) it renders the demo
# headless into demo-render/ and says where the files went; run again, it replaces that render.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
exec bash scripts/main.sh "$@"
