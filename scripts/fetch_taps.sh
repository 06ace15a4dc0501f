#!/usr/bin/env bash
# Fetches a real filmed tap clip with its own recorded sound into the clip cache, for the
# audio-truth sync benchmark's tap measure (issue 10):
#
#     scripts/fetch_taps.sh [DEST]      # default ~/.cache/stereofoley/clips/taps
#     stereofoley eval --real ~/.cache/stereofoley/clips/taps
#
# The clip: `motion.mov` from the examples of Debian's `node-opencv` package (the same file as
# in the npm package opencv@7.0.0, examples/files/motion.mov; Expat/MIT, (c) 2018 Peter Braden,
# per the package's copyright file). A hand-held shot of a coin on a desk that a pen flicks
# four times; each strike clicks on the clip's own soundtrack (AAC, 44.1 kHz). H.264 568x320,
# 30 fps, 8.0 s. The soundtrack also clicks where the picture shows no contact (0.3 s, the pen
# touching the desk, 7.1 s and 7.3 s after the pen has left), so the audio-truth file beside it
# lists the four strikes the picture shows, as `taps` (docs/FORMATS.md): found by looking at
# the frames (the pen meets the coin between frames 44-45, 76-77, 101-102 and 138-139).
#
# Writes DEST/motion.mov, DEST/motion.audio-truth.json and DEST/COPYRIGHT. Nothing is written
# into the repository. Idempotent: an existing DEST is refreshed.
set -euo pipefail

DEST=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/stereofoley/clips/taps}
PACKAGE=node-opencv
INNER=usr/share/doc/node-opencv/examples/files/motion.mov
SHA256=56310ef94122124bd798f2fdbb4f3786ec399ca1793faaf6ebc099ed75212ca8

command -v sha256sum >/dev/null || { echo "error: sha256sum not found" >&2; exit 2; }
# shellcheck source=scripts/apt_download.sh
source "$(dirname "$0")/apt_download.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt_download "$PACKAGE"
[ -f "extracted/$INNER" ] || { echo "error: $PACKAGE has no $INNER" >&2; exit 2; }
sum=$(sha256sum "extracted/$INNER" | cut -d' ' -f1)
[ "$sum" = "$SHA256" ] || { echo "error: $INNER in $PACKAGE has SHA-256 $sum, not $SHA256" >&2; exit 2; }
version=$(dpkg-deb -f ./"$PACKAGE"_*.deb Version)

mkdir -p "$DEST"
cp "extracted/$INNER" "$DEST/motion.mov.part" && mv "$DEST/motion.mov.part" "$DEST/motion.mov"
cat > "$DEST/motion.audio-truth.json.part" <<EOF
{"schema": "stereofoley.audio-truth/1", "video": "motion.mov",
 "source": "Debian package $PACKAGE $version (Expat/MIT, (c) 2018 Peter Braden), /$INNER, SHA-256 $SHA256",
 "taps": [1.483, 2.55, 3.383, 4.617],
 "note": "a pen flicks a coin on a desk four times (strikes between frames 44-45, 76-77, 101-102, 138-139 at 30 fps); the soundtrack's other clicks (0.3 s, 0.7 s, 2.8 s, 3.8 s, 7.1 s, 7.3 s) have no visible contact with the coin"}
EOF
mv "$DEST/motion.audio-truth.json.part" "$DEST/motion.audio-truth.json"
cp "extracted/usr/share/doc/$PACKAGE/copyright" "$DEST/COPYRIGHT"
echo "motion.mov ($PACKAGE $version) and its audio-truth file in $DEST"
