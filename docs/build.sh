#!/usr/bin/env bash
# Build the documentation site into site/: draw the gallery pictures, then
# build with warnings as errors. Offline; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
python docs/gallery/make_gallery.py
NO_MKDOCS_2_WARNING=1 mkdocs build --strict "$@"
