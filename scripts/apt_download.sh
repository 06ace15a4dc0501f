# Sourced by the clip fetch scripts: `apt_download PACKAGE` downloads PACKAGE's .deb into the
# current folder (apt-get download needs no root; the package lists are refreshed once, with
# sudo when not root, if the first try fails) and extracts it into ./extracted.
# Exits with status 2 and one error line when the tools or the package cannot be had.

apt_download() {
  local package=$1 tool sudo=""
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (a Debian/Ubuntu system is needed)" >&2; exit 2; }
  done
  if ! apt-get download "$package" >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    apt-get download "$package" >/dev/null 2>&1 \
      || { echo "error: cannot download $package (is Debian main in the apt sources?)" >&2; exit 2; }
  fi
  dpkg-deb -x ./"$package"_*.deb extracted
}
