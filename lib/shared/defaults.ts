/**
 * Merges user props over a construct's defaults. Props left `undefined` keep the default,
 * so `{ memorySize: undefined }` does not erase it as a plain spread would.
 */
export function withDefaults<D extends object, P extends object>(defaults: D, props: P): D & P {
  const defined = Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined } as D & P;
}
