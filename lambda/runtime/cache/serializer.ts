/**
 * How cached values are written as text, and read back identically.
 *
 * The default serializer (`defaultSerializer`):
 * - a plain JSON value (strings, booleans, null, finite numbers other than -0, arrays without
 *   holes, plain objects - none holding undefined) is stored as its JSON, so the hit path is
 *   one `JSON.parse`, and entries stay readable;
 * - anything else it can carry is stored as `~` + a tagged JSON tree: `undefined` (also inside
 *   objects and arrays), NaN, ±Infinity, -0, BigInt, Date (invalid ones too), Map, Set,
 *   Buffer, typed arrays, ArrayBuffer, RegExp, null-prototype objects and sparse arrays, at
 *   any depth. A tag is an object with one key `~<name>`; a plain key starting with `~` is
 *   written with one more `~`;
 * - anything else is refused with a CacheSerializationError naming what and where (a
 *   function, a symbol, an instance of a class, a boxed primitive, a cycle, ...): such a value
 *   would not come back the same, so it is not cached and the call fails with the reason.
 *
 * A custom serializer (`CacheClientOptions.serializer`) must give a non-empty string and read
 * it back; what it cannot carry it should refuse by throwing.
 */
import type { ValueSerializer } from './types';

/** A value the serializer cannot write so that it reads back the same. */
export class CacheSerializationError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'CacheSerializationError';
  }
}

const TAGGED = '~';
const TAGGED_CODE = TAGGED.charCodeAt(0);

export const defaultSerializer: ValueSerializer = {
  serialize(value: unknown): string {
    let plain: boolean;
    try {
      plain = isPlainJson(value, []);
    } catch (err) {
      if (err instanceof RangeError) throw new CacheSerializationError('value is nested too deeply to serialize');
      throw err;
    }
    return plain ? JSON.stringify(value) : TAGGED + JSON.stringify(encode(value, 'value', []));
  },
  deserialize(text: string): unknown {
    return text.charCodeAt(0) === TAGGED_CODE ? decode(JSON.parse(text.slice(1))) : JSON.parse(text);
  },
};

/** True when JSON.stringify then JSON.parse gives back an identical value; throws on a cycle. */
function isPlainJson(value: unknown, parents: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (parents.includes(value)) return false; // encode() names the cycle
  const proto = Object.getPrototypeOf(value);
  parents.push(value);
  try {
    if (Array.isArray(value)) {
      if (proto !== Array.prototype) return false;
      for (let i = 0; i < value.length; i++) {
        if (!(i in value) || value[i] === undefined || !isPlainJson(value[i], parents)) return false;
      }
      return true;
    }
    if (proto !== Object.prototype || 'toJSON' in value || Object.getOwnPropertySymbols(value).length > 0) return false;
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined || !isPlainJson(item, parents)) return false;
    }
    return true;
  } finally {
    parents.pop();
  }
}

type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

function refuse(what: string, path: string): never {
  throw new CacheSerializationError(`${what} at ${path} cannot be cached (see the data cache serializer)`);
}

function tag(name: string, payload: Tree): Tree {
  return { [TAGGED + name]: payload };
}

function bytes(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function encode(value: unknown, path: string, parents: object[]): Tree {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return tag('n', Object.is(value, -0) ? '-0' : String(value));
    case 'bigint':
      return tag('b', value.toString());
    case 'undefined':
      return tag('u', 0);
    case 'function':
      return refuse('a function', path);
    case 'symbol':
      return refuse('a symbol', path);
  }
  if (value === null) return null;
  const object = value as object;
  if (parents.includes(object)) return refuse('a cycle', path);
  parents.push(object);
  try {
    return encodeObject(object, path, parents);
  } finally {
    parents.pop();
  }
}

function encodeObject(value: object, path: string, parents: object[]): Tree {
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value) && proto === Array.prototype) {
    const dense = Object.keys(value).length === value.length;
    if (dense) return value.map((item, i) => encode(item, `${path}[${i}]`, parents));
    const items: Record<string, Tree> = {};
    for (const index of Object.keys(value)) items[index] = encode(value[Number(index)], `${path}[${index}]`, parents);
    return tag('h', [value.length, items]);
  }
  if (value instanceof Date && proto === Date.prototype) return tag('d', String(value.getTime()));
  if (value instanceof Map && proto === Map.prototype) {
    return tag('m', [...value].map(([k, v], i) => [encode(k, `${path}<key ${i}>`, parents), encode(v, `${path}.get(${i})`, parents)]));
  }
  if (value instanceof Set && proto === Set.prototype) return tag('s', [...value].map((v, i) => encode(v, `${path}<item ${i}>`, parents)));
  if (Buffer.isBuffer(value)) return tag('buf', bytes(value));
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? '';
    if (TYPED_ARRAYS[name]?.prototype === proto) return tag('ta', [name, bytes(value)]);
  }
  if (value instanceof ArrayBuffer && proto === ArrayBuffer.prototype) return tag('ab', Buffer.from(value).toString('base64'));
  if (value instanceof RegExp && proto === RegExp.prototype) return tag('re', [value.source, value.flags]);
  if (proto === Object.prototype || proto === null) {
    if (Object.getOwnPropertySymbols(value).length > 0) return refuse('a symbol-keyed property', path);
    if (proto === Object.prototype && 'toJSON' in value) return refuse('an object with toJSON', path);
    const fields: Record<string, Tree> = {};
    for (const [key, item] of Object.entries(value)) {
      define(fields, key.startsWith(TAGGED) ? TAGGED + key : key, encode(item, `${path}.${key}`, parents));
    }
    return proto === null ? tag('o0', fields) : fields;
  }
  const name = (proto as { constructor?: { name?: string } } | null)?.constructor?.name;
  return refuse(name ? `an instance of ${name}` : 'an object of unknown type', path);
}

/** Sets an own property, even `__proto__`, without touching the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function decode(tree: unknown): unknown {
  if (tree === null || typeof tree !== 'object') return tree;
  if (Array.isArray(tree)) return tree.map(decode);
  const keys = Object.keys(tree);
  if (keys.length === 1 && keys[0].startsWith(TAGGED) && keys[0][1] !== TAGGED) return decodeTag(keys[0].slice(1), (tree as Record<string, unknown>)[keys[0]]);
  return decodeFields(tree as Record<string, unknown>, {});
}

function decodeFields(fields: Record<string, unknown>, target: Record<string, unknown>): Record<string, unknown> {
  for (const [key, item] of Object.entries(fields)) define(target, key.startsWith(TAGGED) ? key.slice(1) : key, decode(item));
  return target;
}

function decodeTag(name: string, payload: unknown): unknown {
  switch (name) {
    case 'u':
      return undefined;
    case 'n':
      return payload === '-0' ? -0 : Number(payload);
    case 'b':
      return BigInt(payload as string);
    case 'd':
      return new Date(Number(payload));
    case 'm':
      return new Map((payload as [unknown, unknown][]).map(([k, v]) => [decode(k), decode(v)]));
    case 's':
      return new Set((payload as unknown[]).map(decode));
    case 'buf':
      return Buffer.from(payload as string, 'base64');
    case 'ta': {
      const [type, base64] = payload as [string, string];
      const data = Buffer.from(base64, 'base64');
      // Copied into a fresh, aligned ArrayBuffer: a Buffer's pool offset may not suit the type.
      const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      return new TYPED_ARRAYS[type](copy as ArrayBuffer);
    }
    case 'ab': {
      const data = Buffer.from(payload as string, 'base64');
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    }
    case 're': {
      const [source, flags] = payload as [string, string];
      return new RegExp(source, flags);
    }
    case 'o0':
      return decodeFields(payload as Record<string, unknown>, Object.create(null) as Record<string, unknown>);
    case 'h': {
      const [length, items] = payload as [number, Record<string, unknown>];
      const array: unknown[] = new Array(length);
      for (const [index, item] of Object.entries(items)) array[Number(index)] = decode(item);
      return array;
    }
    default:
      throw new CacheSerializationError(`unknown tag ~${name} in a cached value`);
  }
}
