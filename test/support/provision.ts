/**
 * Provisioning of the server binaries the runtime tests start (`redis-server`, `redis-cli`,
 * `memcached`, `openssl`). Jest's globalSetup runs it before any test, so the README's
 * `npm test` works on a fresh Debian machine with only Node.js and npm: as root it installs
 * the missing Debian packages itself; otherwise it stops with the one command to run.
 * Nothing is ever skipped for a missing binary.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';

/** Each binary the tests run, and the Debian package that ships it. */
export const REQUIRED_BINARIES: Readonly<Record<string, string>> = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  memcached: 'memcached',
  openssl: 'openssl',
};

/**
 * Where binaries are looked up: PATH, then the sbin directories a non-login shell may leave
 * off PATH. The same lookup serves the provisioning and the test helpers, so what the setup
 * found is what the tests run.
 */
export function binarySearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromPath = (env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  return [...new Set([...fromPath, '/usr/local/sbin', '/usr/sbin', '/sbin'])];
}

/** Absolute path of an executable `name` in `dirs`, or undefined. */
export function findBinary(name: string, dirs: string[] = binarySearchPath()): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** What provisioning needs from the machine; the real one is `localHost()`. */
export interface ProvisionHost {
  /** Absolute path of the binary, or undefined when it is not installed. */
  find(name: string): string | undefined;
  /** Running as root, so packages can be installed without asking anyone. */
  readonly isRoot: boolean;
  /** `apt-get` is available (Debian, Ubuntu). */
  readonly hasAptGet: boolean;
  /** Installs Debian packages (apt-get update + install); throws when apt-get fails. */
  installPackages(packages: string[]): void;
  /** Progress for the person running the tests. */
  log(message: string): void;
}

/** The packages that provide the missing binaries, in a stable order and without repeats. */
export function packagesFor(missing: string[]): string[] {
  return [...new Set(missing.map((binary) => REQUIRED_BINARIES[binary]))].sort();
}

/** The one command a user without root runs to get the missing binaries. */
export function installCommand(missing: string[], hasAptGet: boolean): string {
  const packages = packagesFor(missing);
  if (hasAptGet) return `sudo apt-get install -y ${packages.join(' ')}`;
  if (process.platform === 'darwin') return 'brew install redis memcached openssl';
  return `install the packages that provide ${missing.join(', ')} (Debian names: ${packages.join(' ')})`;
}

/**
 * Makes sure every required binary is installed: returns their paths, installs the missing
 * Debian packages when running as root with apt-get, and otherwise throws an error whose
 * message carries the one command to run.
 */
export function provisionServerBinaries(host: ProvisionHost): Record<string, string> {
  const missingNow = () => Object.keys(REQUIRED_BINARIES).filter((binary) => host.find(binary) === undefined);
  const missing = missingNow();
  if (missing.length > 0) {
    const packages = packagesFor(missing);
    if (!host.isRoot || !host.hasAptGet) {
      throw new Error(
        `The runtime tests start real servers, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed ` +
          `(looked on PATH and in the sbin directories). Run:\n\n    ${installCommand(missing, host.hasAptGet)}\n\n` +
          'then run the tests again. No test is skipped for a missing binary.',
      );
    }
    host.log(`[test setup] ${missing.join(', ')} not found: installing Debian packages ${packages.join(' ')} (running as root)`);
    host.installPackages(packages);
    const stillMissing = missingNow();
    if (stillMissing.length > 0) {
      throw new Error(
        `apt-get installed ${packages.join(' ')}, but ${stillMissing.join(', ')} ${stillMissing.length === 1 ? 'is' : 'are'} still not ` +
          `found in ${binarySearchPath().join(':')}. Add the package's bin directory to PATH.`,
      );
    }
  }
  return Object.fromEntries(Object.keys(REQUIRED_BINARIES).map((binary) => [binary, host.find(binary)!]));
}

/** This machine. */
export function localHost(): ProvisionHost {
  return {
    find: (name) => findBinary(name),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: findBinary('apt-get') !== undefined,
    installPackages(packages) {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      // stdout to stderr: jest keeps its own stdout for results.
      const stdio: ['ignore', 2, 2] = ['ignore', 2, 2];
      execFileSync('apt-get', ['update', '-qq'], { env, stdio });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio });
    },
    log: (message) => process.stderr.write(`${message}\n`),
  };
}
