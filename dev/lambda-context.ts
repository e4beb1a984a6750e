import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  readonly functionName: string;
  readonly memoryLimitInMB: number;
  readonly timeoutMs: number;
  readonly region: string;
  readonly accountId?: string;
  /** When the invocation started (epoch ms). @default Date.now() */
  readonly startedAt?: number;
  readonly awsRequestId?: string;
}

/**
 * A Lambda `Context` as the Node.js runtime passes it: names and ARN of a `$LATEST` function,
 * memory as a string, a fresh request id, the log group and stream the function would write to,
 * and `getRemainingTimeInMillis()` counting down from the function's timeout.
 */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const startedAt = options.startedAt ?? Date.now();
  const account = options.accountId ?? '123456789012';
  const day = new Date(startedAt).toISOString().slice(0, 10).replace(/-/g, '/');
  const deprecated = (name: string) => () => {
    throw new Error(`context.${name}() is not supported by the Node.js 24 runtime; return a value or throw from an async handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${account}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, startedAt + options.timeoutMs - Date.now()),
    done: deprecated('done'),
    fail: deprecated('fail'),
    succeed: deprecated('succeed'),
  };
}
