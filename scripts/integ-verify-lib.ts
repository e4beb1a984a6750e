/**
 * The snapshot half of `integ-runner`, for cloud assemblies it cannot read yet (see
 * scripts/integ-verify.ts): how a snapshot directory is cleaned after synth, and how an expected
 * and an actual assembly are compared. Each step names the integ-runner 2.197 code it follows
 * (lib/runner/runner-base.js, snapshot-test-runner.js, private/cloud-assembly.js).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface MetadataEntry { type: string; data?: Json; trace?: string[] }
interface Artifact {
  type: string;
  properties?: { templateFile?: string; file?: string; [key: string]: unknown };
  metadata?: Record<string, MetadataEntry[]>;
  additionalMetadataFile?: string;
  [key: string]: unknown;
}
interface AssemblyManifest { version: string; artifacts?: Record<string, Artifact>; [key: string]: unknown }
interface IntegTestCase { stacks: string[]; diffAssets?: boolean; assertionStackName?: string; [key: string]: unknown }
interface IntegManifest { version: string; testCases: Record<string, IntegTestCase>; [key: string]: unknown }

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
// The layout the cloud-assembly-schema's saveManifest writes.
const writeJson = (file: string, value: unknown): void => fs.writeFileSync(file, JSON.stringify(value, undefined, 2));

export const readManifest = (dir: string): AssemblyManifest => readJson<AssemblyManifest>(path.join(dir, 'manifest.json'));
export const readIntegManifest = (dir: string): IntegManifest => readJson<IntegManifest>(path.join(dir, 'integ.json'));

/**
 * Metadata without what depends on the machine: integ-runner's cleanManifest keeps only
 * `{ type, data }`. Creation stacks are dropped too: their data is absolute source paths (schema 55
 * moved them into `*.metadata.json`, a file integ-runner 2.197 does not know about).
 */
function cleanMetadata(metadata: Record<string, MetadataEntry[]>): Record<string, MetadataEntry[]> {
  const out: Record<string, MetadataEntry[]> = {};
  for (const [id, entries] of Object.entries(metadata)) {
    const kept = entries.filter((e) => e.type !== 'aws:cdk:creationStack').map((e) => ({ type: e.type, data: e.data }));
    if (kept.length > 0) out[id] = kept;
  }
  return out;
}

/**
 * Turn a fresh synth output into a snapshot, as integ-runner's cleanupSnapshot does: bundled
 * asset sources and `.cache` out (integ-runner removes them for test cases with
 * `stackUpdateWorkflow: false`, which every case here sets; the assertion stack's provider bundle
 * goes too), metadata cleaned; and the validation plugins' report, which holds absolute paths.
 */
export function cleanSnapshot(dir: string): void {
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('asset.') || entry === '.cache' || entry === 'validation-report.json') {
      fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
  const manifest = readManifest(dir);
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.metadata) artifact.metadata = cleanMetadata(artifact.metadata);
    if (artifact.additionalMetadataFile) {
      const file = path.join(dir, artifact.additionalMetadataFile);
      if (fs.existsSync(file)) writeJson(file, cleanMetadata(readJson<Record<string, MetadataEntry[]>>(file)));
    }
  }
  writeJson(path.join(dir, 'manifest.json'), manifest);
}

/** Stack artifact id → template, for every CloudFormation stack in the assembly. */
export function readTemplates(dir: string): Record<string, JsonObject> {
  const templates: Record<string, JsonObject> = {};
  for (const [id, artifact] of Object.entries(readManifest(dir).artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      templates[id] = readJson<JsonObject>(path.join(dir, artifact.properties.templateFile));
    }
  }
  return templates;
}

/** An asset a stack's template refers to: its id (the content hash) and a stable name. */
export interface AssetRef { id: string; name: string }

/**
 * The assets a stack's template refers to, as integ-runner's getAssetIdsForStack finds them:
 * file assets staged as `asset.*` (or nested templates) and docker images built from `asset.*`.
 * Each is named by its `displayName` (the construct path) where the manifest has one, else by
 * position as integ-runner does; a name by path keeps an added or removed asset from
 * renumbering all the others in the diff.
 */
export function assetRefs(dir: string, stackId: string): AssetRef[] {
  const file = path.join(dir, `${stackId}.assets.json`);
  if (!fs.existsSync(file)) return [];
  type Entry = { displayName?: string; source: { path?: string; directory?: string } };
  const manifest = readJson<{ files?: Record<string, Entry>; dockerImages?: Record<string, Entry> }>(file);
  const staged = [
    ...Object.entries(manifest.files ?? {}).filter(([, a]) => (a.source.path ?? '').startsWith('asset.') || (a.source.path ?? '').endsWith('nested.template.json')),
    ...Object.entries(manifest.dockerImages ?? {}).filter(([, a]) => (a.source.directory ?? '').startsWith('asset.')),
  ];
  return staged.map(([id, a], i) => ({ id, name: a.displayName ? `Asset[${a.displayName}]` : `Asset${i + 1}` }));
}

/**
 * integ-runner's canonicalizeTemplate: every asset hash is replaced by the asset's name, so a
 * template that differs only in asset hashes compares equal. Unlike integ-runner (one
 * replacement per string) every occurrence is replaced.
 */
export function canonicalizeTemplate(template: Json, assets: AssetRef[]): Json {
  const sub = (s: string): string => assets.reduce((acc, { id, name }) => acc.split(id).join(name), s);
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [sub(k), walk(x)]));
    return typeof v === 'string' ? sub(v) : v;
  };
  return walk(template);
}

/** One difference between two JSON values, at a path of keys/indexes. */
export interface JsonChange { path: (string | number)[]; expected?: Json; actual?: Json }

/** Every leaf difference between two JSON values (an added or removed key is one change). */
export function diffJson(expected: Json | undefined, actual: Json | undefined, at: (string | number)[] = []): JsonChange[] {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  const isObj = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(expected) && isObj(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    return keys.flatMap((k) => diffJson(expected[k], actual[k], [...at, k]));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((e, i) => diffJson(e, actual[i], [...at, i]));
  }
  return [{ path: at, expected, actual }];
}

const show = (v: Json | undefined): string => {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s;
};

/**
 * A readable template diff: resources added or removed by logical id and type, then every
 * changed property with its path, expected (-) and actual (+) value.
 */
export function formatTemplateDiff(changes: JsonChange[], expected: JsonObject, actual: JsonObject): string {
  const lines: string[] = [];
  const resType = (t: JsonObject, id: string): string => String(((t.Resources as JsonObject | undefined)?.[id] as JsonObject | undefined)?.Type ?? '?');
  for (const c of changes) {
    if (c.path[0] === 'Resources' && c.path.length === 2) {
      const id = String(c.path[1]);
      if (c.expected === undefined) { lines.push(`  [+] ${resType(actual, id)} ${id} (added)`); continue; }
      if (c.actual === undefined) { lines.push(`  [-] ${resType(expected, id)} ${id} (removed)`); continue; }
    }
    const where = c.path[0] === 'Resources' ? `${resType(actual, String(c.path[1]))} ` : '';
    lines.push(`  [~] ${where}${c.path.join('.')}`, `      - ${show(c.expected)}`, `      + ${show(c.actual)}`);
  }
  return lines.join('\n');
}

/**
 * The assertion stack without each assertion's `salt`: integ-tests-alpha sets it to the synth
 * time so that every deployment reruns the assertions; it differs on every synth.
 */
export function withoutSalt(template: JsonObject): JsonObject {
  const resources = (template.Resources ?? {}) as Record<string, JsonObject>;
  const cleaned = Object.fromEntries(Object.entries(resources).map(([id, r]) => {
    if (!String(r.Type).startsWith('Custom::DeployAssert@') || !r.Properties) return [id, r];
    const { salt: _salt, ...rest } = r.Properties as JsonObject;
    return [id, { ...r, Properties: rest }];
  }));
  return { ...template, Resources: cleaned };
}

/** One stack whose template differs (or exists on one side only). */
export interface StackFailure { stack: string; message: string }

/**
 * integ-runner's diffAssembly: templates of the test cases' stacks, missing on either side or
 * different, asset hashes canonicalized unless the test case sets `diffAssets`. The assertion
 * stacks are compared too, salts aside (integ-runner skips them): a changed assertion fails too.
 */
export function diffAssemblies(expectedDir: string, actualDir: string): StackFailure[] {
  const failures: StackFailure[] = [];
  const expectedCases = readIntegManifest(expectedDir).testCases;
  const actualCases = readIntegManifest(actualDir).testCases;
  const caseNames = [...new Set([...Object.keys(expectedCases), ...Object.keys(actualCases)])];
  for (const name of caseNames) {
    if (!expectedCases[name]) failures.push({ stack: name, message: 'test case added (not in the snapshot)' });
    else if (!actualCases[name]) failures.push({ stack: name, message: 'test case removed (only in the snapshot)' });
  }
  const stackOptions = (cases: Record<string, IntegTestCase>): Map<string, { diffAssets: boolean; assertions: boolean }> => {
    const m = new Map<string, { diffAssets: boolean; assertions: boolean }>();
    for (const tc of Object.values(cases)) {
      for (const s of tc.stacks) m.set(s, { diffAssets: tc.diffAssets ?? false, assertions: false });
      if (tc.assertionStackName) m.set(tc.assertionStackName, { diffAssets: tc.diffAssets ?? false, assertions: true });
    }
    return m;
  };
  const expectedStacks = stackOptions(expectedCases);
  const actualStacks = stackOptions(actualCases);
  const expectedTemplates = readTemplates(expectedDir);
  const actualTemplates = readTemplates(actualDir);
  for (const stack of expectedStacks.keys()) {
    if (!actualStacks.has(stack) || !actualTemplates[stack]) failures.push({ stack, message: `${stack} exists in snapshot, but not in actual` });
  }
  for (const [stack, { diffAssets, assertions }] of actualStacks) {
    if (!expectedStacks.has(stack) || !expectedTemplates[stack]) {
      failures.push({ stack, message: `${stack} does not exist in snapshot, but does in actual` });
      continue;
    }
    let exp: Json = expectedTemplates[stack];
    let act: Json = actualTemplates[stack];
    if (!diffAssets) {
      exp = canonicalizeTemplate(exp, assetRefs(expectedDir, stack));
      act = canonicalizeTemplate(act, assetRefs(actualDir, stack));
    }
    if (assertions) {
      exp = withoutSalt(exp as JsonObject);
      act = withoutSalt(act as JsonObject);
    }
    const changes = diffJson(exp, act);
    if (changes.length > 0) {
      failures.push({ stack, message: `${changes.length} change(s):\n${formatTemplateDiff(changes, exp as JsonObject, act as JsonObject)}` });
    }
  }
  return failures;
}
