import { createHash } from 'node:crypto';
import { ChatRequest, CompletionResult, usageOf } from '../format';
import { estimateTokens, Provider } from './types';

/**
 * The built-in local model: deterministic, offline, instant unless `delayMs` is set. The same
 * messages always give the same answer, so caching and streaming can be tried without any
 * provider account. It answers by restating the last user message with a short digest.
 */
export const localModel: Provider = async ({ request, target, onDelta, signal }) => {
  const delayMs = target.provider === 'local' ? target.delayMs ?? 0 : 0;
  if (delayMs > 0) await sleep(delayMs, signal);
  const words = localAnswer(request).split(/(?<= )/);
  const limit = request.max_tokens ?? Infinity;
  let content = '';
  let finish: CompletionResult['finish_reason'] = 'stop';
  for (const word of words) {
    if (estimateTokens(content + word) > limit) {
      finish = 'length';
      break;
    }
    const stopAt = firstStop(content + word, request.stop);
    if (stopAt !== undefined) {
      const piece = (content + word).slice(content.length, stopAt);
      if (piece) onDelta?.(piece);
      content = (content + word).slice(0, stopAt);
      break;
    }
    content += word;
    onDelta?.(word);
  }
  const prompt = request.messages.reduce((n, m) => n + estimateTokens(m.content ?? '') + 3, 0);
  return { content, finish_reason: finish, usage: usageOf(prompt, estimateTokens(content)), served_by: `local:${target.model ?? 'echo'}` };
};

export function localAnswer(request: ChatRequest): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const digest = createHash('sha256').update(JSON.stringify(request.messages)).digest('hex').slice(0, 8);
  const said = lastUser.trim().replace(/\s+/g, ' ');
  const quoted = said.length > 200 ? `${said.slice(0, 200)}…` : said;
  return `Local model (deterministic, offline) received ${request.messages.length} message(s). You said: "${quoted}". Digest ${digest}.`;
}

function firstStop(text: string, stop: readonly string[] | undefined): number | undefined {
  let first: number | undefined;
  for (const s of stop ?? []) {
    const at = text.indexOf(s);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
