/**
 * The dev server's origin check during a rotation of the origin-verify secret: a moto_server
 * holds the secret (and the web ACL and distribution the rotation function updates), the real
 * rotation function rotates it, and the dev server must accept the current and the previous
 * value throughout, refuse others, and honour its documented caching bound (a manual clock:
 * no sleeps).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { newHeaderValue, rotate, RotationEvent } from '../lambda/rotation/origin-verify-rotation';
import { secretOriginVerification } from '../dev/origin-verification';
import { parseDevArgs } from '../dev/main';
import { createDevServer, DevServer } from '../dev/server';
import { Moto, startMoto } from './support/moto';
import { originWorld, OriginWorld } from './rotation/origin-moto';

jest.setTimeout(60_000);

let moto: Moto;
let dir: string;
let server: DevServer;
let world: OriginWorld;
let clock = 1_000_000;
const MAX_AGE = 5000;
const MIN_REFRESH = 1000;
let v0: string;

beforeAll(async () => {
  moto = await startMoto();
  v0 = newHeaderValue(48);
  world = await originWorld(moto.endpoint, v0);
  dir = mkdtempSync(path.join(tmpdir(), 'cca-origin-'));
  writeFileSync(path.join(dir, 'hello.js'), `exports.handler = async () => ({ statusCode: 200, body: 'hello' });\n`);
  server = await createDevServer({
    routes: { 'GET /hello': { entry: path.join(dir, 'hello.js') } },
    port: 0,
    log: () => undefined,
    edgeCache: false,
    originVerification: secretOriginVerification({
      secrets: world.secrets,
      secretId: world.secretId,
      maxAgeMs: MAX_AGE,
      minRefreshMs: MIN_REFRESH,
      now: () => clock,
    }),
  });
});
afterAll(async () => {
  await server?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function status(value?: string): Promise<number> {
  const res = await fetch(`${server.url}/hello`, { headers: value === undefined ? {} : { 'x-origin-verify': value } });
  await res.text();
  return res.status;
}

async function stage(name: string): Promise<string> {
  const answer = await world.secrets.send(new GetSecretValueCommand({ SecretId: world.secretId, VersionStage: name }));
  return JSON.parse(answer.SecretString!).headerValue;
}

const step = (Step: RotationEvent['Step'], token: string) => rotate({ Step, SecretId: world.secretId, ClientRequestToken: token }, world.deps());

test('without the header, or with a wrong value, the web ACL answers 403 no-store before any route', async () => {
  expect(await status()).toBe(403);
  expect(await status('not-the-value')).toBe(403);
  const res = await fetch(`${server.url}/nowhere`);
  expect(res.status).toBe(403);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ code: 'FORBIDDEN', message: 'Forbidden' });
  expect(await status(v0)).toBe(200);
});

test('during and after a rotation both the value CloudFront sent before and the new one are accepted', async () => {
  const token = randomUUID();
  await step('createSecret', token);
  clock += MIN_REFRESH; // the new value is read on its first miss once the last read is this old
  const v1 = await stage('AWSPENDING');
  // From the moment the value exists, either may arrive (edges switch over minutes).
  for (const s of ['setSecret', 'testSecret', 'finishSecret'] as const) {
    expect(await status(v0)).toBe(200);
    expect(await status(v1)).toBe(200);
    await step(s, token);
  }
  expect(await stage('AWSCURRENT')).toBe(v1);
  expect(await stage('AWSPREVIOUS')).toBe(v0);
  clock += MAX_AGE;
  expect(await status(v0)).toBe(200);
  expect(await status(v1)).toBe(200);
});

test('after the next rotation the value of two rotations ago is refused once the cache bound has passed', async () => {
  const v1 = await stage('AWSCURRENT');
  const token = randomUUID();
  for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await step(s, token);
  const v2 = await stage('AWSCURRENT');
  // Still cached: v0 may be accepted for at most MAX_AGE after it left the secret's stages.
  clock += MAX_AGE - 1;
  expect(await status(v0)).toBe(200);
  clock += 1;
  expect(await status(v0)).toBe(403);
  expect(await status(v1)).toBe(200);
  expect(await status(v2)).toBe(200);
});

test('npm run dev: --origin-secret turns the check on, --secrets-endpoint points it at a local Secrets Manager', () => {
  expect(parseDevArgs(['--origin-secret', 'origin-verify', '--secrets-endpoint', 'http://127.0.0.1:5000'])).toMatchObject({
    originSecret: 'origin-verify',
    secretsEndpoint: 'http://127.0.0.1:5000',
  });
  expect(parseDevArgs([]).originSecret).toBeUndefined();
  expect(() => parseDevArgs(['--secrets-endpoint', 'http://127.0.0.1:5000'])).toThrow('--secrets-endpoint needs --origin-secret');
});
