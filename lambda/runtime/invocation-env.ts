/**
 * The environment of the current invocation. In Lambda that is `process.env`: one function,
 * one route. A local host that serves many routes in one process (the dev server) installs
 * an AsyncLocalStorage under this symbol and runs each request with its route's variables;
 * the runtime only looks it up, so a Lambda bundle carries none of that machinery.
 */
export const INVOCATION_ENV = Symbol.for('cdk-cacheable-api.invocation-env');

interface EnvStore {
  getStore(): NodeJS.ProcessEnv | undefined;
}

export function invocationEnv(): NodeJS.ProcessEnv {
  const store = (globalThis as { [INVOCATION_ENV]?: EnvStore })[INVOCATION_ENV];
  return store?.getStore() ?? process.env;
}
