#!/usr/bin/env bash
# Make sure the fonts of the client documents are there (Debian's
# fonts-noto-core: Noto Sans for Latin and Cyrillic, Noto Sans Arabic for
# Arabic and Dari/Farsi, Noto Sans Ethiopic for Tigrinya; all under the SIL
# Open Font License) and poppler-utils, whose pdftoppm renders the documents
# to PNG for the tests' artefacts. As root apt-get runs directly, otherwise
# through sudo without a prompt. In CI (CI set) a missing font that cannot
# be installed fails the run; elsewhere the documents in those languages
# answer with a message naming the package, and `manage.py check` warns.
set -euo pipefail

FONT_DIR="${LOTSE_FONT_DIR:-/usr/share/fonts/truetype/noto}"
missing=0
for name in NotoSans NotoSansArabic NotoSansEthiopic; do
  for weight in Regular Bold; do
    [ -f "$FONT_DIR/$name-$weight.ttf" ] || missing=1
  done
done
command -v pdftoppm >/dev/null 2>&1 || missing=1
[ "$missing" = 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    as_root=(none)
  fi
  if [ "${as_root[0]:-}" != none ]; then
    echo "Installing Debian's fonts-noto-core and poppler-utils for the client documents ..."
    if "${as_root[@]}" apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
        fonts-noto-core poppler-utils >/dev/null; then
      exit 0
    fi
  fi
fi

if [ -n "${CI:-}" ]; then
  echo "FAIL: the client documents need Debian's fonts-noto-core (and the tests poppler-utils), which could not be installed." >&2
  exit 1
fi
echo "Note: fonts-noto-core or poppler-utils is missing (apt-get install fonts-noto-core poppler-utils);"
echo "      documents in Arabic, Dari/Farsi and Tigrinya cannot be printed until it is installed."
