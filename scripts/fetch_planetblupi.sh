#!/usr/bin/env bash
# Fetches the animated cut-scene movies of Debian's `planetblupi-common` package (GPL-3+, 12 fps,
# 320x240, with their own recorded sound) into the clip cache, for cut detection and the
# audio-truth sync benchmark:
#
#     scripts/fetch_planetblupi.sh [DEST]      # default ~/.cache/stereofoley/clips/planetblupi
#     stereofoley eval --real ~/.cache/stereofoley/clips/planetblupi
#
# Each movie is written as DEST/<name>.mkv with DEST/<name>.audio-truth.json beside it (the
# clip-folder convention of docs/FORMATS.md: its own audio is the timing truth). The package's
# copyright file goes to DEST/COPYRIGHT. Nothing is written into the repository (the movies are
# GPL and stay out of assets/). Idempotent: an existing DEST is refreshed.
set -euo pipefail

DEST=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/stereofoley/clips/planetblupi}
PACKAGE=planetblupi-common

# shellcheck source=scripts/apt_download.sh
source "$(dirname "$0")/apt_download.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt_download "$PACKAGE"
movies=extracted/usr/share/planetblupi/movie
[ -d "$movies" ] || { echo "error: $PACKAGE has no movie folder" >&2; exit 2; }

mkdir -p "$DEST"
count=0
for movie in "$movies"/*.mkv; do
  name=$(basename "$movie" .mkv)
  cp "$movie" "$DEST/$name.mkv.part" && mv "$DEST/$name.mkv.part" "$DEST/$name.mkv"
  printf '{"schema": "stereofoley.audio-truth/1", "video": "%s.mkv",\n "source": "Debian package %s (GPL-3+), usr/share/planetblupi/movie"}\n' \
    "$name" "$PACKAGE" > "$DEST/$name.audio-truth.json"
  count=$((count + 1))
done
cp extracted/usr/share/doc/"$PACKAGE"/copyright "$DEST/COPYRIGHT"
echo "$count movies in $DEST"
