/**
 * Model-route benchmark: `npm run bench:ai` (tsx bench/ai.bench.ts).
 *
 * Starts the OpenAI-compatible fake upstream (test/ai/support/fake-upstream.ts) answering after
 * 500 ms and the dev server with the model routes in front of it, then measures in one run,
 * over keep-alive HTTP on loopback:
 * 1. a cache hit against a cache miss (p50, p99 and their ratio);
 * 2. the gateway's overhead on a miss: a miss through the dev server against the same request
 *    sent straight to the upstream, interleaved pair by pair (p50 difference);
 * 3. upstream calls made for 50 concurrent identical deterministic requests.
 * Prints the figures, writes bench/results/ai.json and docs/bench-ai.svg.
 */
import * as http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { devModelRoutes } from '../dev/model-routes';
import { createDevServer } from '../dev/server';
import { startFakeUpstream } from '../test/ai/support/fake-upstream';
import { aiChart } from './ai-report';
import { LatencySummary, measureInterleaved, round } from './data-cache/stats';

const UPSTREAM_DELAY_MS = 500;
const HIT_OPS = 2000;
const HIT_WARM_UP = 200;
const MISS_PAIRS = 30;
const CONCURRENT = 50;
const TARGETS = { hitSpeedup: 100, upstreamCallsFor50: 1, missOverheadP50Ms: 5 };

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `body` as JSON; resolves to the status, a header and the body text once fully read. */
function post(url: string, body: string): Promise<{ status: number; cache?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-ai-cache'] as string | undefined, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const request = (content: string, model: string) => JSON.stringify({ model, messages: [{ role: 'user', content }], temperature: 0, max_tokens: 64 });

function summary(l: LatencySummary) {
  return { p50Ms: round(l.p50Us / 1000, 3), p90Ms: round(l.p90Us / 1000, 3), p99Ms: round(l.p99Us / 1000, 3), ops: l.ops };
}

async function main(): Promise<void> {
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  const upstream = await startFakeUpstream({ delayMs: UPSTREAM_DELAY_MS, content: 'A fixed answer from the fake upstream after half a second.' });
  const server = await createDevServer({ routes: devModelRoutes({ upstream: upstream.baseUrl, upstreamModel: 'fake' }), port: 0, log: () => undefined, watch: false });
  const chat = `${server.url}/v1/chat/completions`;
  const direct = `${upstream.baseUrl}/chat/completions`;
  const loadBefore = loadavg()[0];
  try {
    const check = async (url: string, body: string, expectCache?: string) => {
      const r = await post(url, body);
      if (r.status !== 200 || (expectCache !== undefined && r.cache !== expectCache)) throw new Error(`unexpected answer ${r.status} ${r.cache}: ${r.text}`);
    };

    // 1 + 2. Miss through the gateway vs the same call straight to the upstream, interleaved.
    let unique = 0;
    const missAndDirect = await measureInterleaved(
      {
        direct: () => check(direct, request(`direct ${++unique}`, 'fake')),
        miss: () => check(chat, request(`miss ${++unique}`, 'upstream'), 'miss'),
      },
      MISS_PAIRS,
      2,
    );

    // 1. Hits: one answer cached, then the same request again and again.
    const hitBody = request('the cached question', 'upstream');
    await check(chat, hitBody, 'miss');
    const hits = await measureInterleaved({ hit: () => check(chat, hitBody, 'hit') }, HIT_OPS, HIT_WARM_UP);

    // 3. 50 concurrent identical requests.
    upstream.calls.length = 0;
    const same = request('fifty callers, one question', 'upstream');
    const outcomes = await Promise.all(Array.from({ length: CONCURRENT }, () => post(chat, same)));
    const upstreamCalls = upstream.calls.length;
    if (outcomes.some((o) => o.status !== 200)) throw new Error('a concurrent request failed');

    const hit = summary(hits.hit);
    const miss = summary(missAndDirect.miss);
    const directS = summary(missAndDirect.direct);
    const speedupP50 = round(miss.p50Ms / hit.p50Ms, 0);
    const speedupP99 = round(miss.p99Ms / hit.p99Ms, 0);
    const overheadP50 = round(miss.p50Ms - directS.p50Ms, 2);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      loadAverage: [round(loadBefore, 2), round(loadavg()[0], 2)],
      upstreamDelayMs: UPSTREAM_DELAY_MS,
      hit,
      miss,
      direct: directS,
      hitSpeedupP50: speedupP50,
      hitSpeedupP99: speedupP99,
      missOverheadP50Ms: overheadP50,
      concurrentIdentical: { callers: CONCURRENT, upstreamCalls, outcomes: count(outcomes.map((o) => o.cache ?? '?')) },
      targets: TARGETS,
    };

    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    console.log(`\nModel routes through the dev server, fake upstream answering after ${UPSTREAM_DELAY_MS} ms (node ${process.version}, load ${results.loadAverage.join(' -> ')})\n`);
    console.log('| path | p50 ms | p90 ms | p99 ms | samples |');
    console.log('|:--|--:|--:|--:|--:|');
    for (const [name, s] of [['cache hit', hit], ['cache miss (gateway)', miss], ['direct upstream call', directS]] as const) {
      console.log(`| ${name} | ${s.p50Ms} | ${s.p90Ms} | ${s.p99Ms} | ${s.ops} |`);
    }
    console.log('');
    console.log(`hit vs miss: ${speedupP50}x faster at p50, ${speedupP99}x at p99 (target >= ${TARGETS.hitSpeedup}x at p50): ${verdict(speedupP50 >= TARGETS.hitSpeedup)}`);
    console.log(`gateway overhead of a miss over a direct call at p50: ${overheadP50} ms (target <= ${TARGETS.missOverheadP50Ms} ms): ${verdict(overheadP50 <= TARGETS.missOverheadP50Ms)}`);
    console.log(`${CONCURRENT} concurrent identical requests: ${upstreamCalls} upstream call(s) (target ${TARGETS.upstreamCallsFor50}): ${verdict(upstreamCalls === TARGETS.upstreamCallsFor50)}; answers ${JSON.stringify(results.concurrentIdentical.outcomes)}`);

    const root = path.join(__dirname, '..');
    mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(root, 'bench', 'results', 'ai.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(path.join(root, 'docs', 'bench-ai.svg'), aiChart(results));
    console.log('\nwrote bench/results/ai.json and docs/bench-ai.svg');
  } finally {
    await server.close();
    await upstream.close();
    agent.destroy();
  }
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
