#!/usr/bin/env bash
# The browser for the dashboard's test (tests/browser): Debian's chromium, with CJK fonts so zh-CN renders, driven
# by playwright-core (no browser download is possible on these machines; see ARCHITECTURE.md). Installs what is
# missing; as root, or through sudo.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
# And poppler's pdftoppm and pdftotext, which check the PDFs the service renders (the customer dossier).
command -v pdftoppm > /dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -eq 0 ]; then
  echo "[browser] $(/usr/bin/chromium --version 2>/dev/null || echo chromium) with CJK fonts, installed already"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may hold no package lists yet: fetch them when the packages are not found.
$sudo apt-get install -y --no-install-recommends "${missing[@]}" || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends "${missing[@]}"; }
echo "[browser] installed ${missing[*]}: $(/usr/bin/chromium --version)"
