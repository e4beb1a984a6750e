#!/usr/bin/env bash
# API.md: the API reference generated from the JSDoc of lib/index.ts's exports (typedoc +
# typedoc-plugin-markdown, settings in typedoc.json). Without arguments it rewrites API.md;
# with --check it fails when the committed API.md differs from what the sources generate.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .api-docs
npx typedoc --logLevel Warn --treatWarningsAsErrors
generated=.api-docs/API.md
if [ "${1:-}" = "--check" ]; then
  if ! diff -u API.md "$generated" >.api-docs/API.md.diff; then
    head -40 .api-docs/API.md.diff
    echo "FAIL: API.md is out of date with the JSDoc; run npm run api-docs and commit API.md" >&2
    rm -rf .api-docs
    exit 1
  fi
  echo "API.md is current"
else
  mv "$generated" API.md
  echo "wrote API.md ($(wc -l <API.md) lines)"
fi
rm -rf .api-docs
