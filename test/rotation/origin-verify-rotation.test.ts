/**
 * The origin-verify rotation function against moto_server's Secrets Manager, WAFv2 and
 * CloudFront on loopback. The test plays Secrets Manager's part: it calls the four steps with
 * one token, as the service does. What must hold at every moment: the web ACL accepts every
 * value a CloudFront edge may still send (edges take minutes to get a new configuration, so any
 * value the distribution was configured with since the rotation began).
 */
import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { newHeaderValue, rotate, RotationDeps, RotationEvent } from '../../lambda/rotation/origin-verify-rotation';
import { Moto, startMoto } from '../support/moto';
import { originWorld, OriginWorld, RULE } from './origin-moto';

jest.setTimeout(60_000);

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const STEPS: RotationEvent['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

async function value(world: OriginWorld, stage: string): Promise<string> {
  const answer = await world.secrets.send(new GetSecretValueCommand({ SecretId: world.secretId, VersionStage: stage }));
  return JSON.parse(answer.SecretString!).headerValue;
}

/**
 * Deps that record every value CloudFront was configured with and check, whenever the
 * distribution changes or the function waits for WAF, that the web ACL accepts all of them.
 */
function watched(world: OriginWorld): { deps: RotationDeps; sent: string[]; checks: number } {
  const state = { sent: [] as string[], checks: 0 };
  const mustAcceptAll = async (also: string[] = []) => {
    const accepted = await world.webAcl.acceptedValues();
    for (const v of [...state.sent, ...also]) expect(accepted).toContain(v);
    state.checks++;
  };
  const deps = world.deps({
    distribution: {
      sentValue: () => world.distribution.sentValue(),
      send: async (v: string) => {
        const before = await world.distribution.sentValue();
        if (before !== undefined && !state.sent.includes(before)) state.sent.push(before);
        // CloudFront may start sending v the moment it is configured: WAF must accept it already.
        await mustAcceptAll([v]);
        await world.distribution.send(v);
        if (!state.sent.includes(v)) state.sent.push(v);
      },
    },
    settle: () => mustAcceptAll(),
  });
  return {
    deps,
    get sent() {
      return state.sent;
    },
    get checks() {
      return state.checks;
    },
  };
}

async function rotation(world: OriginWorld, deps: RotationDeps, token = randomUUID()): Promise<string> {
  for (const Step of STEPS) await rotate({ Step, SecretId: world.secretId, ClientRequestToken: token }, deps);
  return token;
}

test('a rotation moves AWSCURRENT to a new value, and the web ACL accepts old and new while CloudFront switches', async () => {
  const v0 = newHeaderValue(48);
  const world = await originWorld(moto.endpoint, v0);
  const watch = watched(world);
  await rotation(world, watch.deps);

  const v1 = await value(world, 'AWSCURRENT');
  expect(v1).not.toBe(v0);
  expect(v1).toMatch(/^[A-Za-z0-9]{48}$/);
  expect(await value(world, 'AWSPREVIOUS')).toBe(v0);
  expect(await world.distribution.sentValue()).toBe(v1);
  expect((await world.webAcl.acceptedValues()).sort()).toEqual([v0, v1].sort());
  expect(watch.sent).toEqual([v0, v1]);
  expect(watch.checks).toBeGreaterThanOrEqual(2); // at the WAF wait and when CloudFront changed
});

test('the rest of the web ACL survives the rule update (default action, other rules, response bodies)', async () => {
  const world = await originWorld(moto.endpoint, newHeaderValue(48));
  const before = await world.waf.call<{ WebACL: Record<string, unknown> }>('GetWebACL', world.webAclRef);
  await rotation(world, world.deps());
  const after = await world.waf.call<{ WebACL: Record<string, unknown> }>('GetWebACL', world.webAclRef);
  for (const field of ['DefaultAction', 'CustomResponseBodies', 'VisibilityConfig', 'Description']) {
    expect(after.WebACL[field]).toEqual(before.WebACL[field]);
  }
  const rules = (r: unknown) => (r as { Name: string }[]).map((x) => x.Name);
  expect(rules(after.WebACL.Rules)).toEqual(rules(before.WebACL.Rules));
  const managed = (r: unknown) => (r as { Name: string }[]).find((x) => x.Name !== RULE);
  expect(managed(after.WebACL.Rules)).toEqual(managed(before.WebACL.Rules));
});

test('a second rotation drops the value of two rotations ago: accepted = {current, previous}', async () => {
  const v0 = newHeaderValue(48);
  const world = await originWorld(moto.endpoint, v0);
  await rotation(world, world.deps());
  const v1 = await value(world, 'AWSCURRENT');
  const watch = watched(world);
  await rotation(world, watch.deps);
  const v2 = await value(world, 'AWSCURRENT');
  expect((await world.webAcl.acceptedValues()).sort()).toEqual([v1, v2].sort());
  expect(await world.distribution.sentValue()).toBe(v2);
  expect(watch.sent).toEqual([v1, v2]);
});

test('every step may be invoked again (Secrets Manager retries): same end state, one new version', async () => {
  const v0 = newHeaderValue(48);
  const world = await originWorld(moto.endpoint, v0);
  const token = randomUUID();
  for (const Step of STEPS) {
    await rotate({ Step, SecretId: world.secretId, ClientRequestToken: token }, world.deps());
    await rotate({ Step, SecretId: world.secretId, ClientRequestToken: token }, world.deps());
  }
  const v1 = await value(world, 'AWSCURRENT');
  const versions = (await world.secrets.send(new DescribeSecretCommand({ SecretId: world.secretId }))).VersionIdsToStages!;
  expect(Object.keys(versions)).toHaveLength(2);
  expect(versions[token]).toContain('AWSCURRENT');
  expect((await world.webAcl.acceptedValues()).sort()).toEqual([v0, v1].sort());
  expect(await world.distribution.sentValue()).toBe(v1);
});

test('an abandoned rotation: the value CloudFront was given stays accepted through the next rotation', async () => {
  const v0 = newHeaderValue(48);
  const world = await originWorld(moto.endpoint, v0);
  const abandoned = randomUUID();
  for (const Step of ['createSecret', 'setSecret'] as const) {
    await rotate({ Step, SecretId: world.secretId, ClientRequestToken: abandoned }, world.deps());
  }
  const stranded = await world.distribution.sentValue();
  expect(stranded).not.toBe(v0);
  // A new rotation (new token) while some edges still send the abandoned value and others v0.
  const watch = watched(world);
  const token = randomUUID();
  await rotation(world, watch.deps, token);
  const accepted = await world.webAcl.acceptedValues();
  expect(accepted).toEqual(expect.arrayContaining([stranded!, v0, await value(world, 'AWSCURRENT')]));
});

test('testSecret fails when CloudFront does not send the pending value (e.g. a deploy wrote the old one back)', async () => {
  const v0 = newHeaderValue(48);
  const world = await originWorld(moto.endpoint, v0);
  const token = randomUUID();
  for (const Step of ['createSecret', 'setSecret'] as const) {
    await rotate({ Step, SecretId: world.secretId, ClientRequestToken: token }, world.deps());
  }
  await world.distribution.send(v0);
  await expect(rotate({ Step: 'testSecret', SecretId: world.secretId, ClientRequestToken: token }, world.deps())).rejects.toThrow(
    /CloudFront is not configured to send the pending value/,
  );
  expect(await value(world, 'AWSCURRENT')).toBe(v0);
});

test('createSecret keeps the secret\'s other JSON fields and never overwrites an existing pending value', async () => {
  const world = await originWorld(moto.endpoint, 'first');
  await world.secrets.send(new PutSecretValueCommand({ SecretId: world.secretId, SecretString: JSON.stringify({ headerValue: 'x', note: 'kept' }) }));
  const token = randomUUID();
  await rotate({ Step: 'createSecret', SecretId: world.secretId, ClientRequestToken: token }, world.deps());
  const first = await world.secrets.send(new GetSecretValueCommand({ SecretId: world.secretId, VersionId: token }));
  await rotate({ Step: 'createSecret', SecretId: world.secretId, ClientRequestToken: token }, world.deps());
  const again = await world.secrets.send(new GetSecretValueCommand({ SecretId: world.secretId, VersionId: token }));
  expect(again.SecretString).toBe(first.SecretString);
  expect(JSON.parse(first.SecretString!).note).toBe('kept');
});
