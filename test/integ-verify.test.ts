/**
 * The snapshot comparison that stands in for integ-runner's (scripts/integ-verify-lib.ts), on
 * small hand-written assemblies: what must pass (asset hashes, assertion salts) and what must fail.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanSnapshot, diffAssemblies } from '../scripts/integ-verify-lib';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

interface AssemblyOptions {
  memorySize?: number;
  assetHash?: string;
  salt?: string;
  expectedStatus?: number;
  withStack?: boolean;
}

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-verify-test-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A cloud assembly as aws-cdk-lib writes it for one IntegTest: a test stack and its assertion stack. */
function assembly(name: string, o: AssemblyOptions = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const write = (file: string, value: unknown) => fs.writeFileSync(path.join(dir, file), JSON.stringify(value, undefined, 2));
  const hash = o.assetHash ?? HASH_A;
  const withStack = o.withStack ?? true;
  write('integ.json', {
    version: '55.0.0',
    testCases: { 'Case/DefaultTest': { stacks: withStack ? ['Test'] : [], diffAssets: false, assertionStackName: 'Assert' } },
  });
  write('manifest.json', {
    version: '55.0.0',
    artifacts: {
      ...(withStack ? {
        Test: {
          type: 'aws:cloudformation:stack',
          properties: { templateFile: 'Test.template.json' },
          metadata: { '/Test/Fn': [{ type: 'aws:cdk:logicalId', data: 'Fn', trace: ['at /home/someone/lib/x.ts:1'] }] },
          additionalMetadataFile: 'Test.metadata.json',
        },
      } : {}),
      Assert: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Assert.template.json' } },
    },
  });
  if (withStack) {
    write('Test.template.json', {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: o.memorySize ?? 512, Code: { S3Key: `${hash}.zip` } } },
      },
    });
    write('Test.assets.json', { version: '55.0.0', files: { [hash]: { displayName: 'Fn/Code', source: { path: `asset.${hash}`, packaging: 'zip' } } } });
    write('Test.metadata.json', {
      '/Test': [{ type: 'aws:cdk:creationStack', data: ['/home/someone/integ/integ.x.ts:3'] }, { type: 'aws:cdk:logicalId', data: 'Test', trace: ['x'] }],
    });
    fs.mkdirSync(path.join(dir, `asset.${hash}`));
    fs.writeFileSync(path.join(dir, `asset.${hash}`, 'index.js'), 'exports.handler = 1;');
  }
  write('Assert.template.json', {
    Resources: {
      Call: { Type: 'Custom::DeployAssert@HttpCall', Properties: { expected: `{"status":${o.expectedStatus ?? 200}}`, salt: o.salt ?? '1' } },
    },
  });
  write('validation-report.json', { pluginReports: [{ path: '/home/someone/lib/x.ts' }] });
  return dir;
}

describe('diffAssemblies', () => {
  test('equal when only asset hashes and assertion salts differ', () => {
    expect(diffAssemblies(assembly('expected'), assembly('actual', { assetHash: HASH_B, salt: '2' }))).toEqual([]);
  });

  test('a changed property fails with its path and both values', () => {
    const failures = diffAssemblies(assembly('expected'), assembly('actual', { memorySize: 1024 }));
    expect(failures).toHaveLength(1);
    expect(failures[0].stack).toBe('Test');
    expect(failures[0].message).toContain('AWS::Lambda::Function Resources.Fn.Properties.MemorySize');
    expect(failures[0].message).toMatch(/- 512\n\s+\+ 1024/);
  });

  test('a changed assertion fails (integ-runner itself skips the assertion stack)', () => {
    const failures = diffAssemblies(assembly('expected'), assembly('actual', { expectedStatus: 403 }));
    expect(failures.map((f) => f.stack)).toEqual(['Assert']);
  });

  test('a stack only in the snapshot fails', () => {
    const failures = diffAssemblies(assembly('expected'), assembly('actual', { withStack: false }));
    expect(failures.map((f) => f.message)).toContain('Test exists in snapshot, but not in actual');
  });
});

describe('cleanSnapshot', () => {
  test('drops bundled assets, the validation report, traces and creation stacks', () => {
    const dir = assembly('snap');
    cleanSnapshot(dir);
    expect(fs.readdirSync(dir).sort()).toEqual(['Assert.template.json', 'Test.assets.json', 'Test.metadata.json', 'Test.template.json', 'integ.json', 'manifest.json']);
    const text = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8') + fs.readFileSync(path.join(dir, 'Test.metadata.json'), 'utf8');
    expect(text).not.toContain('/home/someone');
    expect(text).not.toContain('"trace"');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'Test.metadata.json'), 'utf8'))).toEqual({ '/Test': [{ type: 'aws:cdk:logicalId', data: 'Test' }] });
  });
});
