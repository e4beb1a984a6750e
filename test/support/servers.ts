/**
 * Real cache servers for tests and benchmarks: `redis-server` and `memcached` on free loopback
 * ports, plus a TCP proxy that can cut or stall connections. A missing binary is an error,
 * never a skip: the runtime's guarantees are only proven against the real protocols.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { findBinary, installCommand } from './provision';

export type ServerKind = 'redis' | 'memcached';

export interface CacheServer {
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL: connections drop without goodbye). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, like a replaced node). */
  restart(): Promise<void>;
  /**
   * Freezes / thaws the process (SIGSTOP / SIGCONT): connections stay up but nothing answers.
   * `pause()` returns once the process is stopped, so no request sent after it gets an answer.
   */
  pause(): void;
  resume(): void;
  /** Runs a command on a redis server through redis-cli, blocking the event loop meanwhile. */
  cliSync(...args: string[]): string;
  /** Set when started with TLS: the self-signed certificate to trust (PEM). */
  readonly tls?: { readonly ca: string };
}

export interface StartOptions {
  /** Serve TLS only, with a fresh self-signed certificate for 127.0.0.1 / localhost. */
  readonly tls?: boolean;
}

interface Certificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
}

/** A throwaway self-signed certificate (EC P-256, valid a day) made with the openssl CLI. */
function selfSignedCertificate(): Certificate {
  const openssl = requireBinary('openssl');
  const dir = mkdtempSync(path.join(tmpdir(), 'cca-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
}

const HOST = '127.0.0.1';
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Absolute path of `name` (PATH, then the sbin directories), or a clear error. Jest's
 * globalSetup (provision.ts) has already installed what it could, so a miss here means the
 * binary is still absent.
 */
export function requireBinary(name: string): string {
  const found = findBinary(name);
  if (found) return found;
  throw new Error(
    `"${name}" was not found on PATH. The data-cache runtime tests need a real ${name}: ` +
      `${installCommand([name], findBinary('apt-get') !== undefined)}. Tests are not skipped without it.`,
  );
}

/**
 * Waits (synchronously, a few ms at most) until the kernel reports the process in `state`
 * (`T`: stopped). A signal is delivered asynchronously: without this, a loaded machine lets the
 * "paused" server answer a request or two.
 */
function waitForProcessState(pid: number, state: string): void {
  const statFile = `/proc/${pid}/stat`;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    // Field 3 of /proc/<pid>/stat, after the parenthesised command name.
    const current = readFileSync(statFile, 'utf8').replace(/^.*\) /s, '')[0];
    if (current === state) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
  throw new Error(`process ${pid} did not reach state ${state} in /proc/${pid}/stat`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(options: StartOptions = {}): Promise<CacheServer> {
  const binary = requireBinary('redis-server');
  const cli = requireBinary('redis-cli');
  const port = await freePort();
  const cert = options.tls ? selfSignedCertificate() : undefined;
  const listen = cert
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-ca-cert-file', cert.certFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...listen, '--bind', HOST, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
  const cliTls = cert ? ['--tls', '--cacert', cert.certFile] : [];
  const cliSync = (extra: string[]) => execFileSync(cli, ['-h', HOST, '-p', String(port), ...cliTls, ...extra], { encoding: 'utf8' });
  return startServer('redis', binary, args, port, cliSync, cert);
}

export async function startMemcached(options: StartOptions = {}): Promise<CacheServer> {
  const binary = requireBinary('memcached');
  const port = await freePort();
  const cert = options.tls ? selfSignedCertificate() : undefined;
  // -u root: memcached refuses to run as root otherwise (CI runs as root). -U 0: no UDP.
  const tls = cert ? ['-Z', '-o', `ssl_chain_cert=${cert.certFile},ssl_key=${cert.keyFile}`] : [];
  const args = ['-l', HOST, '-p', String(port), '-U', '0', '-m', '64', '-t', '2', '-u', 'root', ...tls];
  const cliSync = () => {
    throw new Error('cliSync is only for redis');
  };
  return startServer('memcached', binary, args, port, cliSync, cert);
}

async function startServer(
  kind: ServerKind,
  binary: string,
  args: string[],
  port: number,
  cliSync: (args: string[]) => string,
  cert?: Certificate,
): Promise<CacheServer> {
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    child = proc;
    await waitForPort(port, 5000, () => (proc.exitCode !== null ? `${kind} exited with ${proc.exitCode}: ${stderr}` : undefined));
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    kind,
    host: HOST,
    port,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => {
      if (!child?.pid) return;
      child.kill('SIGSTOP');
      waitForProcessState(child.pid, 'T');
    },
    resume: () => void child?.kill('SIGCONT'),
    cliSync: (...extra: string[]) => cliSync(extra),
    tls: cert ? { ca: cert.pem } : undefined,
  };
}

async function waitForPort(port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) throw new Error(problem);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A loopback TCP proxy in front of a server, to cut live connections as a NAT or idle timeout would. */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Destroys every proxied connection (both sides). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: HOST, port: targetPort });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  const dropAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    host: HOST,
    port,
    get connections() {
      return pairs.size;
    },
    dropAll,
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
