import type { ChatOutput } from '../../../lambda/ai/chat';

/** A ChatOutput that keeps what a handler answered (status, headers, JSON body or SSE events). */
export interface CapturedOutput extends ChatOutput {
  status?: number;
  headers?: Record<string, string>;
  body?: any;
  events: string[];
  ended: boolean;
  /** Text of the content deltas of the SSE events. */
  text(): string;
}

export function captureOutput(): CapturedOutput {
  const out: CapturedOutput = {
    events: [],
    ended: false,
    started: false,
    json(status, headers, body) {
      out.status = status;
      out.headers = headers;
      out.body = JSON.parse(JSON.stringify(body));
      out.ended = true;
    },
    begin(headers) {
      out.status = 200;
      out.headers = headers;
      (out as { started: boolean }).started = true;
    },
    write(event) {
      out.events.push(event);
    },
    end() {
      out.ended = true;
    },
    text() {
      return out.events
        .filter((e) => e.startsWith('data: {'))
        .map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> })
        .map((c) => c.choices?.[0]?.delta?.content ?? '')
        .join('');
    },
  };
  return out;
}
