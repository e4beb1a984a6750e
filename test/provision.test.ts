import { findBinary, installCommand, ProvisionHost, provisionServerBinaries, REQUIRED_BINARIES } from './support/provision';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A machine on which `installed` binaries exist and installing packages adds `provides`. */
function machine(options: { installed: string[]; isRoot: boolean; hasAptGet: boolean; provides?: Record<string, string[]> }) {
  const installed = new Set(options.installed);
  const installs: string[][] = [];
  const host: ProvisionHost = {
    find: (name) => (installed.has(name) ? `/usr/bin/${name}` : undefined),
    isRoot: options.isRoot,
    hasAptGet: options.hasAptGet,
    installPackages(packages) {
      installs.push(packages);
      for (const pkg of packages) for (const binary of options.provides?.[pkg] ?? []) installed.add(binary);
    },
    log: () => undefined,
  };
  return { host, installs };
}

const everything = Object.keys(REQUIRED_BINARIES);
const debian = { 'redis-server': ['redis-server'], 'redis-tools': ['redis-cli'], memcached: ['memcached'], openssl: ['openssl'] };

test('with every binary installed, nothing is installed and the paths are returned', () => {
  const { host, installs } = machine({ installed: everything, isRoot: true, hasAptGet: true });
  expect(provisionServerBinaries(host)).toEqual(Object.fromEntries(everything.map((b) => [b, `/usr/bin/${b}`])));
  expect(installs).toEqual([]);
});

test('as root with apt-get, installs exactly the packages of the missing binaries, once', () => {
  const { host, installs } = machine({ installed: ['openssl'], isRoot: true, hasAptGet: true, provides: debian });
  const paths = provisionServerBinaries(host);
  expect(installs).toEqual([['memcached', 'redis-server', 'redis-tools']]);
  expect(paths.memcached).toBe('/usr/bin/memcached');
});

test('without root, stops with the one apt-get command to run and installs nothing', () => {
  const { host, installs } = machine({ installed: ['openssl', 'redis-cli'], isRoot: false, hasAptGet: true });
  expect(() => provisionServerBinaries(host)).toThrow(
    /redis-server, memcached are not installed[^]*sudo apt-get install -y memcached redis-server\n[^]*No test is skipped/,
  );
  expect(installs).toEqual([]);
});

test('a binary still missing after the install is an error naming it', () => {
  const { host } = machine({ installed: ['openssl', 'redis-cli', 'redis-server'], isRoot: true, hasAptGet: true, provides: {} });
  expect(() => provisionServerBinaries(host)).toThrow(/apt-get installed memcached, but memcached is still not found/);
});

test('installCommand names Debian packages, not binaries', () => {
  expect(installCommand(['redis-cli', 'redis-server'], true)).toBe('sudo apt-get install -y redis-server redis-tools');
});

test('findBinary finds only executables, in the directories given', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cca-bin-'));
  writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n');
  writeFileSync(path.join(dir, 'notes'), 'text');
  chmodSync(path.join(dir, 'tool'), 0o755);
  chmodSync(path.join(dir, 'notes'), 0o644);
  expect(findBinary('tool', [dir])).toBe(path.join(dir, 'tool'));
  expect(findBinary('notes', ['/nonexistent', dir])).toBeUndefined();
});
