/** A moto_server on loopback standing in for DynamoDB (real conditional writes, transactions, TTL attribute) and SQS. */
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { freePort, requireBinary } from './servers';

export interface Moto {
  readonly endpoint: string;
  client(): DynamoDBClient;
  /** Creates a table shaped like ModelRoutes' (`pk` string key); resolves to its name. */
  createTable(name: string): Promise<string>;
  /** An SQS client on this server that tries once (a failure shows at once, as the purges expect). */
  sqs(): SQSClient;
  /** Creates a standard queue; resolves to its URL. */
  createQueue(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const binary = requireBinary('moto_server');
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`moto_server did not listen within 20 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const client = () => new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const sqs = () => new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  return {
    endpoint,
    client,
    createTable: async (name) => {
      await client().send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return name;
    },
    sqs,
    createQueue: async (name) => {
      const client = sqs();
      try {
        return (await client.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      } finally {
        client.destroy();
      }
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
