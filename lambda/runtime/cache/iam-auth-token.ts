import { createHash, createHmac } from 'node:crypto';

/**
 * ElastiCache IAM authentication token: a SigV4-presigned
 * `GET http://<cacheName>/?Action=connect&User=<userId>[&ResourceType=ServerlessCache]`
 * for service `elasticache`, sent as the AUTH password without its `http://`. Signed here
 * with node:crypto so no AWS SDK goes into the function bundle.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface IamAuthTokenOptions {
  /** Serverless cache name or replication group id (lower case, as ElastiCache reports it). */
  readonly cacheName: string;
  /** ElastiCache user id. */
  readonly userId: string;
  readonly region: string;
  /** True for serverless caches (adds `ResourceType=ServerlessCache`). */
  readonly serverless: boolean;
  /** @default credentials from the environment (what Lambda provides) */
  readonly credentials?: AwsCredentials;
  /** Signing time (tests). @default now */
  readonly signingDate?: Date;
}

/** Tokens are valid for 15 minutes. */
export const IAM_TOKEN_EXPIRES_SECONDS = 900;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'elasticache';
const EMPTY_PAYLOAD_SHA256 = sha256Hex('');

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('IAM auth to the data cache needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment');
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

export function createIamAuthToken(options: IamAuthTokenOptions): string {
  const credentials = options.credentials ?? credentialsFromEnv();
  const date = options.signingDate ?? new Date();
  const longDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20240101T000000Z
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${options.region}/${SERVICE}/aws4_request`;
  const host = options.cacheName;

  const query: Record<string, string> = {
    Action: 'connect',
    User: options.userId,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': longDate,
    'X-Amz-Expires': `${IAM_TOKEN_EXPIRES_SECONDS}`,
    'X-Amz-SignedHeaders': 'host',
  };
  if (options.serverless) query.ResourceType = 'ServerlessCache';
  if (credentials.sessionToken) query['X-Amz-Security-Token'] = credentials.sessionToken;

  const canonicalQuery = Object.keys(query)
    .sort()
    .map((name) => `${uriEncode(name)}=${uriEncode(query[name])}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, '', 'host', EMPTY_PAYLOAD_SHA256].join('\n');
  const stringToSign = [ALGORITHM, longDate, scope, sha256Hex(canonicalRequest)].join('\n');

  const signature = sigV4Signature(credentials.secretAccessKey, shortDate, options.region, SERVICE, stringToSign);

  return `${host}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/**
 * Hands out a token, signing a new one when the last is older than `refreshAfterMs` (before
 * the 15-minute expiry). A token is only checked when a connection authenticates, so this is
 * called at each (re)connection, never per command.
 */
export class IamAuthTokenProvider {
  private token: string | undefined;
  private signedAt = 0;

  constructor(
    private readonly options: Omit<IamAuthTokenOptions, 'signingDate' | 'credentials'> & { readonly credentials?: () => AwsCredentials },
    private readonly refreshAfterMs = 10 * 60 * 1000,
  ) {}

  get(): string {
    const now = Date.now();
    if (this.token === undefined || now - this.signedAt >= this.refreshAfterMs) {
      const credentials = this.options.credentials?.() ?? credentialsFromEnv();
      this.token = createIamAuthToken({ ...this.options, credentials, signingDate: new Date(now) });
      this.signedAt = now;
    }
    return this.token;
  }
}

/** The SigV4 signature (hex) of `stringToSign` with the key derived for date, region and service. */
export function sigV4Signature(secretAccessKey: string, shortDate: string, region: string, service: string, stringToSign: string): string {
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, shortDate), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
