import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { toProxyEvent } from './apigw-event';

/**
 * Smoke checks of a deployed CatalogStack: the outputs are there, the health function answers
 * when invoked directly, CloudFront reaches the API and serves the cacheable list from its cache,
 * the partner feed refuses a request without an API key, and the API refuses requests that did
 * not come through CloudFront (no origin-verify header).
 */

/** Stack outputs the checks read, matched by key suffix (CDK prefixes and hash suffixes do not matter). */
export const SMOKE_OUTPUTS = {
  apiUrl: 'ApiUrl',
  distributionDomainName: 'DistributionDomainName',
  healthFunctionName: 'HealthFunctionName',
} as const;

export interface SmokeOptions {
  readonly stackName: string;
  /** @default AWS_REGION, else the SDK's resolution */
  readonly region?: string;
  /** @default new CloudFormationClient({ region }) */
  readonly cloudFormation?: CloudFormationClient;
  /** @default new LambdaClient({ region }) */
  readonly lambda?: LambdaClient;
  /** Base URL of the edge (tests: the dev server). @default https://<DistributionDomainName> */
  readonly edgeBaseUrl?: string;
  /** Base URL of the API stage, requested without the origin-verify header. @default the ApiUrl output */
  readonly apiBaseUrl?: string;
  /** A path the edge caches. @default '/items?limit=1' */
  readonly cachedPath?: string;
  /** A route that requires an API key, requested without one. @default '/partner/items?limit=1' */
  readonly apiKeyPath?: string;
  /** The health route's path. @default '/health' */
  readonly healthPath?: string;
  /** Requests after the first one to get a cache hit (CloudFront may route a retry to another cache host). @default 3 */
  readonly hitAttempts?: number;
  /** Pause between those requests. @default 1000 */
  readonly retryDelayMs?: number;
  /** Timeout of each HTTP request. @default 10000 */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export type SmokeStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface SmokeCheck {
  readonly name: string;
  readonly status: SmokeStatus;
  readonly detail: string;
  readonly ms: number;
}

export interface SmokeReport {
  readonly stackName: string;
  readonly checks: SmokeCheck[];
  /** Every check passed. */
  readonly ok: boolean;
}

export const CHECKS = {
  outputs: 'stack outputs (ApiUrl, DistributionDomainName, HealthFunctionName)',
  health: 'health function answers 200 (direct Invoke)',
  edge: 'CloudFront reaches the API (GET /health)',
  hit: 'CloudFront serves the cacheable read from its cache',
  apiKey: 'partner feed refuses requests without an API key (403)',
  origin: 'API refuses requests without the origin-verify header (403)',
} as const;

/**
 * The value of the output whose key is `name`, ends with `name`, or is `name` followed by CDK's
 * 8-character hash; undefined when none does, an error when several do.
 */
export function findOutput(outputs: readonly Output[], name: string): string | undefined {
  const exact = outputs.filter((o) => o.OutputKey === name);
  const candidates = exact.length
    ? exact
    : outputs.filter((o) => o.OutputKey !== undefined && (o.OutputKey.endsWith(name) || new RegExp(`${name}[0-9A-F]{8}$`).test(o.OutputKey)));
  if (candidates.length > 1) {
    throw new Error(`several outputs match ${name}: ${candidates.map((o) => o.OutputKey).join(', ')}`);
  }
  return candidates[0]?.OutputValue;
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const cloudFormation = options.cloudFormation ?? new CloudFormationClient({ region });
  const lambda = options.lambda ?? new LambdaClient({ region });
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cachedPath = options.cachedPath ?? '/items?limit=1';
  const healthPath = options.healthPath ?? '/health';
  const apiKeyPath = options.apiKeyPath ?? '/partner/items?limit=1';
  const checks: SmokeCheck[] = [];

  const check = async (name: string, run: () => Promise<string>) => {
    const started = performance.now();
    try {
      const detail = await run();
      checks.push({ name, status: 'PASS', detail, ms: performance.now() - started });
    } catch (error) {
      checks.push({ name, status: 'FAIL', detail: (error as Error)?.message ?? String(error), ms: performance.now() - started });
    }
  };
  const skip = (name: string, detail: string) => checks.push({ name, status: 'SKIP', detail, ms: 0 });
  const get = (url: string) => doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'cdk-cacheable-api-smoke' } });

  let apiUrl: string | undefined;
  let domain: string | undefined;
  let healthFunction: string | undefined;
  await check(CHECKS.outputs, async () => {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: options.stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) throw new Error(`stack ${options.stackName} not found`);
    const outputs = stack.Outputs ?? [];
    apiUrl = findOutput(outputs, SMOKE_OUTPUTS.apiUrl);
    domain = findOutput(outputs, SMOKE_OUTPUTS.distributionDomainName);
    healthFunction = findOutput(outputs, SMOKE_OUTPUTS.healthFunctionName);
    const missing = Object.values(SMOKE_OUTPUTS).filter((_n, i) => [apiUrl, domain, healthFunction][i] === undefined);
    if (missing.length) {
      throw new Error(`${stack.StackStatus ?? 'stack'} has no output ${missing.join(', ')} (outputs: ${outputs.map((o) => o.OutputKey).join(', ') || 'none'})`);
    }
    return `${stack.StackStatus}; ${domain}, ${healthFunction}`;
  });

  const edgeBase = options.edgeBaseUrl ?? (domain ? `https://${domain}` : undefined);
  const apiBase = options.apiBaseUrl ?? apiUrl;

  if (healthFunction === undefined) skip(CHECKS.health, 'needs the HealthFunctionName output');
  else {
    const functionName = healthFunction;
    await check(CHECKS.health, async () => {
      const event = toProxyEvent(
        { method: 'GET', path: healthPath, headers: [['Host', domain ?? 'smoke.local'], ['User-Agent', 'cdk-cacheable-api-smoke']] },
        { resourcePath: healthPath, pathParameters: {} },
        { stage: 'smoke' },
      );
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
      );
      const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
      if (out.FunctionError) throw new Error(`function error ${out.FunctionError}: ${text.slice(0, 300)}`);
      let result: { statusCode?: unknown; body?: unknown };
      try {
        result = JSON.parse(text) as typeof result;
      } catch {
        throw new Error(`the function returned no JSON: ${text.slice(0, 200)}`);
      }
      if (result?.statusCode !== 200) throw new Error(`statusCode ${String(result?.statusCode)}: ${String(result?.body).slice(0, 200)}`);
      return `statusCode 200 from ${functionName}`;
    });
  }

  if (edgeBase === undefined) {
    skip(CHECKS.edge, 'needs the DistributionDomainName output');
    skip(CHECKS.hit, 'needs the DistributionDomainName output');
    skip(CHECKS.apiKey, 'needs the DistributionDomainName output');
  } else {
    const base = edgeBase.replace(/\/+$/, '');
    await check(CHECKS.edge, async () => {
      const res = await get(base + healthPath);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${healthPath} answered ${res.status} (X-Cache: ${res.headers.get('x-cache') ?? 'none'})`);
      return `GET ${base}${healthPath} 200`;
    });
    await check(CHECKS.hit, async () => {
      const seen: string[] = [];
      const attempts = options.hitAttempts ?? 3;
      for (let i = 0; i <= attempts; i++) {
        if (i > 1) await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 1000));
        const res = await get(base + cachedPath);
        await res.arrayBuffer();
        const xCache = res.headers.get('x-cache') ?? 'no X-Cache';
        seen.push(`${res.status} ${xCache}`);
        if (res.status !== 200) throw new Error(`GET ${cachedPath} answered ${res.status} (${xCache})`);
        if (i > 0 && /^Hit from /i.test(xCache)) return `GET ${cachedPath}: ${seen.join(' → ')} (Age ${res.headers.get('age') ?? '-'})`;
      }
      throw new Error(`GET ${cachedPath} was never a cache hit: ${seen.join(' → ')}`);
    });
    await check(CHECKS.apiKey, async () => {
      const res = await get(base + apiKeyPath);
      const text = await res.text();
      if (res.status !== 403) throw new Error(`GET ${apiKeyPath} without x-api-key answered ${res.status}, not 403: ${text.slice(0, 200)}`);
      let code = '';
      try {
        code = String((JSON.parse(text) as { code?: unknown }).code ?? '');
      } catch {
        // API Gateway's own answer is JSON (CacheableApi's gateway responses); a non-JSON 403 is still a refusal.
      }
      return `GET ${base}${apiKeyPath} 403${code ? ` ${code}` : ''}`;
    });
  }

  if (apiBase === undefined) skip(CHECKS.origin, 'needs the ApiUrl output');
  else {
    const url = apiBase.replace(/\/+$/, '') + cachedPath;
    await check(CHECKS.origin, async () => {
      const res = await get(url);
      await res.arrayBuffer();
      if (res.status !== 403) throw new Error(`GET ${url} without the header answered ${res.status}, not 403: the API is reachable around CloudFront`);
      return `GET ${url} 403`;
    });
  }

  return { stackName: options.stackName, checks, ok: checks.every((c) => c.status === 'PASS') };
}

/** The report as a table, one line per check, and a verdict line. */
export function formatSmokeTable(report: SmokeReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length), 5);
  const lines = [`${'check'.padEnd(width)}  result  time      detail`];
  for (const c of report.checks) {
    lines.push(`${c.name.padEnd(width)}  ${c.status.padEnd(6)}  ${`${Math.round(c.ms)} ms`.padEnd(8)}  ${c.detail}`);
  }
  const failed = report.checks.filter((c) => c.status !== 'PASS').length;
  lines.push(failed === 0 ? `smoke ${report.stackName}: all ${report.checks.length} checks passed` : `smoke ${report.stackName}: ${failed} of ${report.checks.length} checks did not pass`);
  return lines.join('\n');
}

export const SMOKE_USAGE = `Usage: npm run smoke -- --stack <name> [--region <region>] [--path /items?limit=1]

Checks a deployed CatalogStack: its outputs, the health function (direct Invoke), CloudFront
reaching the API, a cache hit at the edge on the second read, and the API refusing requests
that bypass CloudFront. Uses the default AWS credentials; exits 1 when a check fails.

Options:
  --stack <name>     CloudFormation stack name (required)
  --region <region>  AWS region (default: AWS_REGION / the SDK's default)
  --path <path>      cacheable path to read twice (default /items?limit=1)
  --edge-url <url>   base URL instead of https://<DistributionDomainName>
  --api-url <url>    base URL instead of the ApiUrl output
  -h, --help         this help`;

/** `npm run smoke`: runs the checks, prints the table, resolves to the exit code (0 pass, 1 fail, 2 usage). */
export async function smokeCli(
  argv: readonly string[],
  overrides: Partial<SmokeOptions> = {},
  out: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        path: { type: 'string' },
        'edge-url': { type: 'string' },
        'api-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    out(`${(error as Error).message}\n\n${SMOKE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(SMOKE_USAGE);
    return 0;
  }
  if (!values.stack) {
    out(`--stack is required\n\n${SMOKE_USAGE}`);
    return 2;
  }
  if (values.path !== undefined && !values.path.startsWith('/')) {
    out(`--path must start with /, got "${values.path}"`);
    return 2;
  }
  const report = await runSmoke({
    stackName: values.stack,
    region: values.region,
    cachedPath: values.path,
    edgeBaseUrl: values['edge-url'],
    apiBaseUrl: values['api-url'],
    ...overrides,
  });
  out(formatSmokeTable(report));
  return report.ok ? 0 : 1;
}
