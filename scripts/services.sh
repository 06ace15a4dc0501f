#!/usr/bin/env bash
# Source this file: starts a private Xvfb display and a private PulseAudio daemon whose default
# sink is a 48 kHz stereo null sink, exports DISPLAY / XDG_RUNTIME_DIR / PULSE_SERVER for the
# tests, and registers a trap that stops both on exit and removes the private runtime folder
# (/tmp/stereofoley-run.*: sockets and logs), so test.sh leaves no temporary folders behind.
SF_RUNTIME=$(mktemp -d /tmp/stereofoley-run.XXXXXX)
export XDG_RUNTIME_DIR="$SF_RUNTIME"
chmod 700 "$SF_RUNTIME"

if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
  # -displayfd: Xvfb itself claims the first free display number and writes it once it is
  # ready, so two test runs on one machine can never pick (and later kill) the same display.
  # -noreset: an X server resets when its last client leaves, and a client connecting during
  # the reset fails to open the display (a GUI test's process exits, the next one starts)
  Xvfb -displayfd 3 -noreset -screen 0 1600x1000x24 -nolisten tcp 3>"$SF_RUNTIME/display" \
    >"$SF_RUNTIME/xvfb.log" 2>&1 &
  SF_XVFB_PID=$!
  for _ in $(seq 1 100); do [ -s "$SF_RUNTIME/display" ] && break; sleep 0.05; done
  [ -s "$SF_RUNTIME/display" ] && export DISPLAY=":$(head -n 1 "$SF_RUNTIME/display")"
fi

if command -v pulseaudio >/dev/null; then
  pulseaudio --daemonize=yes --exit-idle-time=-1 --system=false --disallow-exit \
    -n --load="module-native-protocol-unix socket=$SF_RUNTIME/pulse.sock auth-anonymous=1" \
    --load="module-null-sink sink_name=sf_null rate=48000 channels=2" \
    --load="module-always-sink" >"$SF_RUNTIME/pulse.log" 2>&1 || true
  export PULSE_SERVER="unix:$SF_RUNTIME/pulse.sock"
  for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl set-default-sink sf_null >/dev/null 2>&1 || true
fi

sf_stop_services() {
  [ -n "${SF_XVFB_PID:-}" ] && kill "$SF_XVFB_PID" 2>/dev/null
  PULSE_SERVER="unix:$SF_RUNTIME/pulse.sock" pactl exit >/dev/null 2>&1 || pkill -f "$SF_RUNTIME/pulse.sock" 2>/dev/null
  case "${SF_RUNTIME:-}" in
    /tmp/stereofoley-run.*) rm -rf -- "$SF_RUNTIME" ;;
  esac
  true
}
trap sf_stop_services EXIT
