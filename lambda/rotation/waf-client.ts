/**
 * The two WAFv2 calls the rotation needs (GetWebACL, UpdateWebACL), as SigV4-signed JSON
 * requests made with node:crypto and fetch: the Lambda runtime's AWS SDK has a WAFv2 client,
 * but the kit does not depend on it, and these two calls need no more than this.
 */
import { AwsCredentials, credentialsFromEnv, sha256Hex, sigV4Signature } from '../runtime/cache/iam-auth-token';

export interface WafClientOptions {
  readonly region: string;
  /** @default `https://wafv2.<region>.amazonaws.com` */
  readonly endpoint?: string;
  /** @default credentials from the environment (what Lambda provides) */
  readonly credentials?: () => AwsCredentials;
  /** Signing time (tests). @default now */
  readonly now?: () => Date;
}

/** An error answered by WAF, with its `__type` (e.g. `WAFOptimisticLockException`). */
export class WafError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(`${type}: ${message}`);
    this.name = 'WafError';
  }
}

const TARGET_PREFIX = 'AWSWAF_20190729';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export class WafClient {
  private readonly endpoint: URL;

  constructor(private readonly options: WafClientOptions) {
    this.endpoint = new URL(options.endpoint ?? `https://wafv2.${options.region}.amazonaws.com`);
  }

  /** Calls `operation` (e.g. `GetWebACL`) with `input`; resolves to the parsed JSON answer. */
  async call<T = Record<string, unknown>>(operation: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    const headers = signedHeaders({
      host: this.endpoint.host,
      target: `${TARGET_PREFIX}.${operation}`,
      body,
      region: this.options.region,
      credentials: (this.options.credentials ?? credentialsFromEnv)(),
      date: this.options.now?.() ?? new Date(),
    });
    const response = await fetch(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      const type = String(parsed.__type ?? `HTTP ${response.status}`).replace(/^.*#/, '');
      throw new WafError(type, String(parsed.message ?? parsed.Message ?? text), response.status);
    }
    return parsed as T;
  }
}

export interface SignInput {
  readonly host: string;
  readonly target: string;
  readonly body: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly date: Date;
}

/** The headers of a SigV4-signed `POST /` JSON request to WAFv2 (service `wafv2`). */
export function signedHeaders(input: SignInput): Record<string, string> {
  const longDate = input.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${input.region}/wafv2/aws4_request`;
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPE,
    host: input.host,
    'x-amz-date': longDate,
    'x-amz-target': input.target,
  };
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name].trim()}\n`).join('');
  const signedNames = names.join(';');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedNames, sha256Hex(input.body)].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', longDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = sigV4Signature(input.credentials.secretAccessKey, shortDate, input.region, 'wafv2', stringToSign);
  const { host: _host, ...sent } = headers; // fetch sets Host itself
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
  };
}
