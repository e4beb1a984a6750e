import { corsHeaders, corsSettings, withCors } from '../../lambda/runtime/http/cors';

const env = (vars: Record<string, string>) => ({ ...vars }) as NodeJS.ProcessEnv;
const TWO = corsSettings(env({ ROUTE_CORS_ALLOW_ORIGINS: 'https://a.example,https://b.example', ROUTE_CORS_ALLOW_CREDENTIALS: 'true', ROUTE_CORS_EXPOSE_HEADERS: 'ETag,X-Data-Cache' }));
const ANY = corsSettings(env({ ROUTE_CORS_ALLOW_ORIGINS: '*' }));
const NONE = corsSettings(env({}));

test('an allowed origin is echoed with credentials and exposed headers; another gets only Vary', () => {
  expect(corsHeaders('https://b.example', TWO)).toEqual({
    Vary: 'Origin',
    'Access-Control-Allow-Origin': 'https://b.example',
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'ETag,X-Data-Cache',
  });
  expect(corsHeaders('https://evil.example', TWO)).toEqual({ Vary: 'Origin' });
  expect(corsHeaders(undefined, TWO)).toEqual({ Vary: 'Origin' });
});

test('"*" needs no Vary; a route without CORS gets nothing', () => {
  expect(corsHeaders('https://x.example', ANY)).toEqual({ 'Access-Control-Allow-Origin': '*' });
  expect(corsHeaders('https://x.example', NONE)).toEqual({});
});

test('withCors merges Vary with what the response varies on, whatever the header case', () => {
  const event = { headers: { origin: 'https://a.example' } };
  const merged = withCors(event, { statusCode: 200, headers: { vary: 'Accept-Language' }, body: '' }, TWO);
  expect(merged.headers).toMatchObject({ vary: 'Accept-Language, Origin', 'Access-Control-Allow-Origin': 'https://a.example' });
  const already = withCors(event, { statusCode: 200, headers: { Vary: 'origin' }, body: '' }, TWO);
  expect(already.headers!.Vary).toBe('origin');
  const untouched = { statusCode: 200, headers: { Vary: 'Accept' }, body: '' };
  expect(withCors(event, untouched, NONE)).toBe(untouched);
});
