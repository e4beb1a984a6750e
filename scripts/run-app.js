#!/usr/bin/env node
// Runs bin/app.ts for the CDK CLI. tsx transpiles TypeScript with esbuild as modules load,
// without type checking (that is `npm run typecheck`), so synth does not pay for tsc.
require('tsx/cjs');
require('../bin/app.ts');
