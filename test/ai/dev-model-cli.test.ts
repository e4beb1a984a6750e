/** `npm run dev` model options. */
import { parseDevArgs } from '../../dev/main';
import { withDevModelRoutes } from '../../dev/model-cli';
import { devModelTable } from '../../dev/model-routes';

const CATALOG = { 'GET /health': { entry: 'lambda/catalog/health.ts' } };

test('defaults: model routes on, local model only, no budget', () => {
  const { models } = parseDevArgs([]);
  expect(models).toEqual({ enabled: true, upstream: undefined, upstreamModel: undefined, dailyTokens: undefined });
  expect(Object.keys(withDevModelRoutes(CATALOG, models, false))).toEqual(['GET /health', 'POST /v1/chat/completions', 'GET /v1/models']);
  // A --routes table gets them only when a model option asks for them.
  expect(Object.keys(withDevModelRoutes(CATALOG, models, true))).toEqual(['GET /health']);
});

test('--model-upstream, --model-name and --model-budget reach the chat route environment; the key comes from a variable, never a flag', () => {
  const { models } = parseDevArgs(['--model-upstream', 'http://127.0.0.1:11434/v1/', '--model-name', 'llama3', '--model-budget', '5000']);
  const routes = withDevModelRoutes(CATALOG, models, true);
  const env = routes['POST /v1/chat/completions'].function!.environment!;
  expect(JSON.parse(env.AI_MODELS).upstream).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3', apiKeyEnv: 'MODEL_UPSTREAM_API_KEY' });
  expect(JSON.parse(env.AI_BUDGETS)).toEqual({ default: { tokens: 5000, period: 'day' } });
  expect(env).toMatchObject({ AI_CACHE_STORE: 'memory', AI_CONSUMER_SOURCE: 'header' });
  expect(routes['POST /v1/chat/completions'].responseTransferMode).toBe('STREAM');
});

test.each([
  [['--model-upstream', 'ftp://x'], '--model-upstream must be an http(s) URL, got "ftp://x"'],
  [['--model-budget', '1.5'], '--model-budget must be a positive integer, got "1.5"'],
  [['--no-models', '--model-upstream', 'http://x'], '--no-models cannot be combined with --model-upstream or --model-budget'],
])('%j is refused', (args, message) => {
  expect(() => parseDevArgs(args)).toThrow(message);
});

test('--no-models leaves the routes out; the local alias is deterministic by default', () => {
  expect(Object.keys(withDevModelRoutes(CATALOG, parseDevArgs(['--no-models']).models, false))).toEqual(['GET /health']);
  expect(devModelTable({}).local).toMatchObject({ provider: 'local', defaults: { temperature: 0 } });
});
