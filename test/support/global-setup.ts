/**
 * Jest globalSetup: before any test, make sure the servers the runtime tests start are
 * installed (see provision.ts). Fails the run with the command to run when it cannot.
 */
import { localHost, provisionServerBinaries } from './provision';

export default function globalSetup(): void {
  provisionServerBinaries(localHost());
}
