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

# What each movie's soundtrack onsets are, found by looking at the frames around each onset
# (docs/EVALUATION.md, "which of these clips show a contact"); `taps` lists the contacts the
# picture shows (docs/FORMATS.md), so `eval --real` reports how many of them the mix times.
declare -A NOTE=(
  [history2]="machine noises at picture changes and static flashes; no contact shown"
  [play101]="a spider's clicks as it stands over apples; no leg is seen striking"
  [play103]="Blupi falls off the bridge into the river: the splash (frame 102) and its drops; the last onset is after the picture"
  [play107]="one onset, on black after the picture"
  [play108]="Blupi slips and tumbles, the camera following (the landing is not seen); then onsets over a still sky"
  [play110]="a bulldozer's engine revving; no contact shown"
  [play113]="Blupi in a car: an engine or horn onset; no contact shown"
  [play118]="a robot arm's whirrs as it sets off; motion, no contact"
  [play119]="Blupi shivering in falling snow; no contact shown"
  [play124]="one onset, on black after the picture"
  [win005]="a music beat every half second"
  [win129]="one onset, after the picture"
)
declare -A TAPS=([play103]="8.47")

mkdir -p "$DEST"
count=0
for movie in "$movies"/*.mkv; do
  name=$(basename "$movie" .mkv)
  cp "$movie" "$DEST/$name.mkv.part" && mv "$DEST/$name.mkv.part" "$DEST/$name.mkv"
  extra=""
  [ -n "${TAPS[$name]:-}" ] && extra+=$(printf ',\n "taps": [%s]' "${TAPS[$name]}")
  [ -n "${NOTE[$name]:-}" ] && extra+=$(printf ',\n "note": "%s"' "${NOTE[$name]}")
  printf '{"schema": "stereofoley.audio-truth/1", "video": "%s.mkv",\n "source": "Debian package %s (GPL-3+), usr/share/planetblupi/movie"%s}\n' \
    "$name" "$PACKAGE" "$extra" > "$DEST/$name.audio-truth.json.part"
  mv "$DEST/$name.audio-truth.json.part" "$DEST/$name.audio-truth.json"
  count=$((count + 1))
done
cp extracted/usr/share/doc/"$PACKAGE"/copyright "$DEST/COPYRIGHT"
echo "$count movies in $DEST"
