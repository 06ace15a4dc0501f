#!/usr/bin/env bash
# Fetches the sample videos of torchvision's source tree from Debian's `pytorch-vision` source
# package (the .orig tarball in the Debian archive's pool, checked by its SHA-256 from the
# package's .dsc) into the clip cache: real footage with a moving camera and a ball in play.
#
#     scripts/fetch_torchvision_clips.sh [DEST]   # default ~/.cache/stereofoley/clips/torchvision
#     stereofoley analyze ~/.cache/stereofoley/clips/torchvision/basketball.mp4 -o bb.tracks.json
#
# The clips' own licences do not clearly allow redistribution (the basketball shot is a
# pexels.com video by Pavel Danilyuk, "free to use" under Pexels' terms; the juggling clips
# are from the UCF101 research dataset, drawn from YouTube), so they stay out of the
# repository; DEST/README.md names each one's source, licence and SHA-256. Idempotent.
set -euo pipefail

DEST=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/stereofoley/clips/torchvision}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TARBALL=pytorch-vision_0.14.1.orig.tar.gz
SHA256=ced67e1cf1f97e168cdf271851a4d0b6d382ab7936e7bcbb39aaa87239c324b6
URL=$MIRROR/pool/main/p/pytorch-vision/$TARBALL
# path in the tarball | clip name | what it shows | licence
CLIPS=(
  "vision-0.14.1/gallery/assets/basketball.mp4|basketball.mp4|a player runs at a hoop, dunks and walks off while the camera travels round him (640x360, 29.97 fps, 11.1 s, slow motion, no sound)|Pexels licence (free to use; by Pavel Danilyuk, pexels.com video 5192157, per torchvision's gallery/plot_optical_flow.py)"
  "vision-0.14.1/test/assets/videos/v_SoccerJuggling_g23_c01.avi|v_SoccerJuggling_g23_c01.avi|a child juggles a football on a lawn (320x240, 29.97 fps, 8.0 s, no sound)|UCF101 research dataset (YouTube); licence not stated"
  "vision-0.14.1/test/assets/videos/v_SoccerJuggling_g24_c01.avi|v_SoccerJuggling_g24_c01.avi|a child juggles a football on a lawn, another shot (320x240, 29.97 fps, 8.4 s, no sound)|UCF101 research dataset (YouTube); licence not stated"
)

for tool in curl sha256sum tar; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/$TARBALL" "$URL" \
  || { echo "error: cannot download $URL (is the Debian archive reachable?)" >&2; exit 2; }
[ "$(sha256sum "$work/$TARBALL" | cut -d' ' -f1)" = "$SHA256" ] \
  || { echo "error: $TARBALL does not have the SHA-256 of Debian's pytorch-vision 0.14.1-2" >&2; exit 2; }

mkdir -p "$DEST"
{
  echo "# Real clips from torchvision's source (fetched by scripts/fetch_torchvision_clips.sh; not part of the repository)"
  echo
  echo "From \`$TARBALL\` (Debian source package pytorch-vision 0.14.1-2; torchvision itself is BSD-3-Clause), SHA-256 \`$SHA256\`."
  echo
  echo "| clip | what | licence | SHA-256 |"
  echo "|---|---|---|---|"
} > "$work/README.md"
for entry in "${CLIPS[@]}"; do
  IFS='|' read -r inner name what licence <<< "$entry"
  tar -xzf "$work/$TARBALL" -C "$work" "$inner" \
    || { echo "error: $inner not found in $TARBALL" >&2; exit 2; }
  sum=$(sha256sum "$work/$inner" | cut -d' ' -f1)
  cp "$work/$inner" "$DEST/$name.part" && mv "$DEST/$name.part" "$DEST/$name"
  echo "| \`$name\` | $what | $licence | \`$sum\` |" >> "$work/README.md"
  echo "$name"
done
mv "$work/README.md" "$DEST/README.md"
echo "${#CLIPS[@]} clips and README.md in $DEST"
