/**
 * A record naming every key of `T`, in the order the docs list them. Typed this way, the
 * compiler fails when `T` gains a key the record lacks, so the list never drifts from the type.
 */
export type KeysOf<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Rejects keys a props object does not define. A typed object literal catches a misspelt key at
 * compile time, but a spec built elsewhere (a variable, JSON, a spread) is only checked here:
 * without it the key would be ignored silently.
 */
export function rejectUnknownKeys<T>(prop: string, value: unknown, known: KeysOf<T>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const names = Object.keys(known);
  for (const key of Object.keys(value)) {
    if (!names.includes(key)) {
      throw new Error(`${prop}: unknown option "${key}"; known options: ${names.join(', ')}`);
    }
  }
}
