/**
 * Jest globalSetup: before any test, make sure the servers the runtime tests start are
 * installed (see provision.ts). Fails the run with the command to run when it cannot.
 */
import { findBinary, localHost, provisionServerBinaries } from './provision';

/** Python servers the tests start; they come from PyPI, which no apt-get can stand in for. */
const PYPI_SERVERS: Readonly<Record<string, string>> = { moto_server: 'moto[server]' };

export default function globalSetup(): void {
  provisionServerBinaries(localHost());
  const missing = Object.keys(PYPI_SERVERS).filter((binary) => findBinary(binary) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not found on PATH: the DynamoDB-store and model-route tests start it on loopback. ` +
        `Run: pip install ${missing.map((b) => `'${PYPI_SERVERS[b]}'`).join(' ')}. No test is skipped without it.`,
    );
  }
}
