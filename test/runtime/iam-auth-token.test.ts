import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createIamAuthToken, IamAuthTokenProvider } from '../../lambda/runtime/cache/iam-auth-token';

const signingDate = new Date('2025-03-04T05:06:07.891Z');

/** The token AWS's own SDK-based generators produce: smithy presign of the connect request, minus "http://". */
async function smithyToken(cacheName: string, userId: string, region: string, serverless: boolean, sessionToken?: string): Promise<string> {
  const signer = new SignatureV4({
    service: 'elasticache',
    region,
    sha256: Sha256,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken },
  });
  const query: Record<string, string> = { Action: 'connect', User: userId };
  if (serverless) query.ResourceType = 'ServerlessCache';
  const signed = await signer.presign(
    { method: 'GET', protocol: 'http:', hostname: cacheName, path: '/', query, headers: { host: cacheName } },
    { expiresIn: 900, signingDate },
  );
  const params = new URLSearchParams(signed.query as Record<string, string>);
  return `${signed.hostname}${signed.path}?${params.toString()}`;
}

function parse(token: string): { host: string; params: Record<string, string> } {
  const url = new URL(`http://${token}`);
  return { host: url.host + url.pathname, params: Object.fromEntries(url.searchParams) };
}

describe('ElastiCache IAM auth token', () => {
  test.each([
    ['replication group, long-term keys', 'my-rg', 'app-user', 'eu-west-1', false, undefined],
    ['serverless cache, session credentials', 'my-cache', 'iam-user-01', 'us-east-1', true, 'IQoJb3JpZ2luX2VjE/+token=with&odd*chars!'],
    ['user id with characters that need encoding', 'cache', "user name(1)'*", 'ap-southeast-2', true, undefined],
  ])('%s: same signature and parameters as @smithy/signature-v4', async (_label, cacheName, userId, region, serverless, sessionToken) => {
    const expected = parse(await smithyToken(cacheName, userId, region, serverless, sessionToken));
    const token = createIamAuthToken({
      cacheName,
      userId,
      region,
      serverless,
      signingDate,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken },
    });
    expect(token.startsWith('http')).toBe(false);
    const actual = parse(token);
    expect(actual).toEqual(expected);
    expect(actual.params['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(actual.params['X-Amz-Expires']).toBe('900');
    expect(actual.params['X-Amz-Date']).toBe('20250304T050607Z');
    expect('ResourceType' in actual.params).toBe(serverless);
  });

  test('credentials come from the Lambda environment by default', () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'AKIDENV';
      process.env.AWS_SECRET_ACCESS_KEY = 'secret';
      process.env.AWS_SESSION_TOKEN = 'session';
      const token = createIamAuthToken({ cacheName: 'c', userId: 'u', region: 'eu-west-1', serverless: false, signingDate });
      expect(parse(token).params).toMatchObject({ 'X-Amz-Credential': 'AKIDENV/20250304/eu-west-1/elasticache/aws4_request', 'X-Amz-Security-Token': 'session' });
      delete process.env.AWS_ACCESS_KEY_ID;
      expect(() => createIamAuthToken({ cacheName: 'c', userId: 'u', region: 'eu-west-1', serverless: false })).toThrow('AWS_ACCESS_KEY_ID');
    } finally {
      process.env = saved;
    }
  });

  test('the provider reuses a token, and signs a new one before the 15-minute expiry', () => {
    let now = Date.parse('2025-03-04T05:00:00Z');
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const provider = new IamAuthTokenProvider(
        { cacheName: 'c', userId: 'u', region: 'eu-west-1', serverless: true, credentials: () => ({ accessKeyId: 'AK', secretAccessKey: 'SK' }) },
        10 * 60 * 1000,
      );
      const first = provider.get();
      now += 9 * 60 * 1000;
      expect(provider.get()).toBe(first);
      now += 60 * 1000;
      const second = provider.get();
      expect(second).not.toBe(first);
      expect(parse(second).params['X-Amz-Date']).toBe('20250304T051000Z');
    } finally {
      spy.mockRestore();
    }
  });
});
