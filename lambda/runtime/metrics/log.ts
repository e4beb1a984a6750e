import { currentRequest } from './request-metrics';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * Writes one structured JSON log line carrying the current request's ids:
 * `log('WARN', 'slow origin', { ms: 812 })`. Written raw to stdout (stderr for ERROR), so it stays
 * one JSON object whatever the function's log format.
 */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  const request = currentRequest();
  const line = JSON.stringify({
    timestamp: new Date().toISOString(),
    level,
    message,
    requestId: request?.requestId,
    awsRequestId: request?.awsRequestId,
    ...fields,
  });
  (level === 'ERROR' ? process.stderr : process.stdout).write(line + '\n');
}
