#!/usr/bin/env bash
# Consumer test: what a team sees when it adopts the package. `npm pack`, then, for the lowest
# aws-cdk-lib the package supports (the floor of its peer range) and for the newest one on the
# registry, a fresh app made by `cdk init` (its tsconfig, with skipLibCheck: false) that installs
# the tarball and builds .ci/consumer-app: a stack with every construct and non-default options.
# Checks: exactly one aws-cdk-lib in the tree, `tsc` clean, `cdk synth` clean (no feature-flag
# warning), cfn-lint clean. Nothing is cached; the registry is the only source.
#
# Usage: .ci/consumer-test.sh [aws-cdk-lib version ...]   (default: lowest and newest)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"

say() { printf '\n--> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

lowest="$(node -p 'require("./package.json").peerDependencies["aws-cdk-lib"].replace(/^[\^~>=]+/, "")')"
newest="$(npm view aws-cdk-lib version)"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("$lowest" "$newest")
constructs_floor="$(node -p 'require("./package.json").peerDependencies.constructs.replace(/^[\^~>=]+/, "")')"
cdk_cli="$(node -p 'require("./package.json").devDependencies["aws-cdk"]')"

work="$(mktemp -d "${TMPDIR:-/tmp}/cca-consumer-XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "npm pack (prepack builds dist/)"
tarball="$work/$(npm pack --loglevel=warn --pack-destination "$work" | tail -1)"
[ -f "$tarball" ] || fail "npm pack wrote no tarball"
contents="$(tar -tzf "$tarball")"
for file in LICENSE README.md API.md docs/quickstart.md lib/data-cache/README.md lib/edge/README.md \
  lib/monitoring/README.md lambda/runtime/cache/README.md dist/lib/index.d.ts dist/lambda/runtime/index.d.ts; do
  grep -qx "package/$file" <<<"$contents" || fail "$file is not in the tarball"
done
echo "tarball: $(wc -l <<<"$contents") files, docs, module READMEs and LICENSE included"

for version in "${versions[@]}"; do
  app="$work/app-$version"
  mkdir -p "$app"
  say "aws-cdk-lib $version: cdk init app (CLI $cdk_cli) in $app"
  (cd "$app" && "$REPO/node_modules/.bin/cdk" init app --language typescript --generate-only >/dev/null 2>&1)
  # cdk init's tsconfig as it is, except skipLibCheck: the package's .d.ts must type-check too.
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const config = JSON.parse(fs.readFileSync(file, "utf8"));
    if (config.compilerOptions.skipLibCheck !== true) throw new Error("cdk init no longer sets skipLibCheck: true; revisit this test");
    config.compilerOptions.skipLibCheck = false;
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
  ' "$app/tsconfig.json"
  rm -rf "$app/bin" "$app/lib" "$app/test"
  cp -R "$REPO/.ci/consumer-app/." "$app/"
  node -e '
    const fs = require("fs");
    const [file, version, constructs, tarball] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    // The app runs bin/app.ts; cdk init named it after the folder.
    const cdk = JSON.parse(fs.readFileSync(file.replace("package.json", "cdk.json"), "utf8"));
    cdk.app = "npx tsc && npx tsx bin/app.ts";
    fs.writeFileSync(file.replace("package.json", "cdk.json"), JSON.stringify(cdk, null, 2));
    pkg.dependencies = { ...pkg.dependencies, "aws-cdk-lib": version, constructs, "cdk-cacheable-api": `file:${tarball}` };
    // Only what tsc and synth need: the test runner cdk init adds is not part of this check.
    for (const name of ["jest", "@swc/core", "@swc/jest"]) delete pkg.devDependencies[name];
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
  ' "$app/package.json" "$version" "$constructs_floor" "$tarball"
  # jest's types stay: cdk init's tsconfig names them in "types".
  (cd "$app" && npm install --no-audit --no-fund --loglevel=error)

  say "aws-cdk-lib $version: exactly one aws-cdk-lib and one constructs in the tree"
  for package in aws-cdk-lib constructs; do
    copies="$(cd "$app" && find . -path "*/node_modules/$package/package.json" | wc -l)"
    installed="$(cd "$app" && node -p "require('$package/package.json').version")"
    echo "$package: $copies copy, version $installed"
    [ "$copies" -eq 1 ] || { (cd "$app" && npm ls "$package" --all) || true; fail "$copies copies of $package"; }
  done
  [ "$(cd "$app" && node -p "require('aws-cdk-lib/package.json').version")" = "$version" ] || fail "aws-cdk-lib is not $version"

  say "aws-cdk-lib $version: tsc (cdk init tsconfig, skipLibCheck false)"
  (cd "$app" && npx tsc --version && npx tsc)

  say "aws-cdk-lib $version: cdk synth"
  (cd "$app" && "$REPO/node_modules/.bin/cdk" synth -q 2>"$app/synth.log") || { cat "$app/synth.log"; fail "cdk synth failed"; }
  cat "$app/synth.log"
  if grep -qi "feature flags are not configured\|context lookup\|\[Warning" "$app/synth.log"; then fail "cdk synth printed a warning"; fi

  say "aws-cdk-lib $version: cfn-lint"
  cfn-lint "$app"/cdk.out/*.template.json
  echo "aws-cdk-lib $version: OK"
done
say "consumer test passed for aws-cdk-lib ${versions[*]}"
