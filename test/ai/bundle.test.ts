/**
 * The model handlers as Lambda runs them: bundled by the stack's esbuild step, loaded in a
 * separate Node process with only the AWS SDK beside them (as the Node.js runtime provides).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiGatewayStack } from '../../lib/sample/ai-gateway-stack';
import { testApp } from '../support/nag';

const app = testApp({ bundle: true });
const stack = new AiGatewayStack(app, 'AiGatewayStack');
const assembly = app.synth();
const resources = Template.fromStack(stack).toJSON().Resources;
const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'AiGatewayStack.assets.json'), 'utf8'));

function bundleOf(routeKey: string): string {
  const fn = stack.api.functions[routeKey];
  const props = resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)].Properties;
  return path.join(assembly.directory, manifest.files[props.Code.S3Key.replace(/\.zip$/, '')].source.path, 'index.js');
}

const chatBundle = bundleOf('POST /v1/chat/completions');

test('the chat bundle leaves out both cache client libraries (the DynamoDB store needs neither) and the AWS SDK', () => {
  const code = fs.readFileSync(chatBundle, 'utf8');
  expect(code).not.toMatch(/iovalkey|memjs/i);
  expect(code).toContain('@aws-sdk/client-dynamodb'); // required at run time, provided by the runtime
  expect(fs.statSync(chatBundle).size).toBeLessThan(80 * 1024);
});

test('the bundled chat handler streams an answer from the local model with the Lambda prelude', () => {
  const script = `
    const { handler } = require(${JSON.stringify(chatBundle)});
    const parts = [];
    const stream = { write: (c) => parts.push(Buffer.from(c)), end: (c) => { if (c) parts.push(Buffer.from(c)); }, setContentType: () => {} };
    const event = { httpMethod: 'POST', headers: {}, requestContext: { requestId: 'r1', identity: { apiKeyId: 'key-1' } },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'bundled hello' }], stream: true }) };
    handler(event, stream, {}).then(() => process.stdout.write(Buffer.concat(parts).toString('base64')));
  `;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH,
      NODE_PATH: path.join(__dirname, '..', '..', 'node_modules'),
      AI_MODELS: JSON.stringify({ m: { provider: 'local', defaults: { temperature: 0 } } }),
      AI_CACHE_STORE: 'memory',
    },
    encoding: 'utf8',
  });
  const bytes = Buffer.from(out, 'base64');
  const delimiter = bytes.indexOf(Buffer.alloc(8));
  expect(JSON.parse(bytes.subarray(0, delimiter).toString())).toMatchObject({ statusCode: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-AI-Cache': 'miss' } });
  const body = bytes.subarray(delimiter + 8).toString();
  const text = body
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
    .join('');
  expect(text).toContain('You said: "bundled hello"');
  expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
});
