/**
 * `npm run dev` as a user runs it (tsx scripts/dev.ts in its own process), with the official
 * `openai` client: a plain completion, a streamed one answered from the cache, and a models list.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import OpenAI from 'openai';

const REPO = path.join(__dirname, '..', '..');
let child: ChildProcess;
let url = '';
let output = '';

beforeAll(async () => {
  child = spawn(path.join(REPO, 'node_modules', '.bin', 'tsx'), ['scripts/dev.ts', '--port', '0', '--no-watch'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev server did not start within 40 s:\n${output}`)), 40_000);
    child.stdout!.on('data', () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`dev server exited with ${code}:\n${output}`)));
  });
}, 45_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

test('the openai client: plain completion, then the same question streamed from the cache', async () => {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'dev-key', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: `Is npm run dev an AI gateway? ${Date.now()}` }];
  const plain = await client.chat.completions.create({ model: 'local', messages });
  expect(plain.choices[0].message.content).toContain('Is npm run dev an AI gateway?');
  const { data: stream, response } = await client.chat.completions.create({ model: 'local', messages, stream: true }).withResponse();
  expect(response.headers.get('x-ai-cache')).toBe('hit');
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe(plain.choices[0].message.content);
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  expect(models).toEqual(['local']);
  expect(output).toMatch(/POST\s+\/v1\/chat\/completions 200 .* streamed/);
});
