/**
 * How cached values are written as text, and read back identically.
 *
 * The default serializer (`defaultSerializer`):
 * - a plain JSON value (strings, booleans, null, finite numbers other than -0, arrays, plain
 *   objects - none holding undefined) is stored as its JSON, so the hit path is one
 *   `JSON.parse`, and entries stay readable;
 * - anything else it can carry is stored as `~` + a tagged JSON tree: `undefined` (also inside
 *   objects and arrays), NaN, ±Infinity, -0, BigInt, Date (invalid ones too), Map, Set, Buffer
 *   and null-prototype objects, at any depth. A tag is an object with one key `~<name>`; a
 *   plain key starting with `~` is written with one more `~`;
 * - anything else is refused with a CacheSerializationError naming what and where (a
 *   function, a symbol, an instance of any other class - typed arrays other than Buffer,
 *   RegExp, boxed primitives, ... -, an array with holes, an object with toJSON or symbol
 *   keys, a cycle): such a value would not come back the same, so it is not cached and the
 *   call fails with the reason. (The list is kept short so the runtime stays small: the
 *   bundle-size budget of bench/data-cache.bench.ts.)
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

const TAG = '~';

type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

export const defaultSerializer: ValueSerializer = {
  serialize(value: unknown): string {
    const walk = new Encoder();
    let tree: Tree;
    try {
      tree = walk.encode(value, 'value');
    } catch (err) {
      // JSON.stringify would overflow the stack at the same depth.
      if (err instanceof RangeError) throw new CacheSerializationError('value is nested too deeply');
      throw err;
    }
    return (walk.tagged ? TAG : '') + JSON.stringify(tree);
  },
  deserialize(text: string): unknown {
    return text.charCodeAt(0) === 126 /* ~ */ ? decode(JSON.parse(text.slice(1))) : JSON.parse(text);
  },
};

/** Builds the JSON tree of a value; `tagged` tells whether it differs from the value's own JSON. */
class Encoder {
  tagged = false;
  private readonly parents: object[] = [];

  encode(value: unknown, path: string): Tree {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) && !Object.is(value, -0) ? value : this.tag('n', Object.is(value, -0) ? '-0' : String(value));
      case 'bigint':
        return this.tag('b', String(value));
      case 'undefined':
        return this.tag('u', 0);
      case 'object':
        if (value === null) return null;
        if (this.parents.includes(value)) refuse('a cycle', path);
        this.parents.push(value);
        try {
          return this.object(value, path);
        } finally {
          this.parents.pop();
        }
      default:
        return refuse(`a ${typeof value}`, path);
    }
  }

  private object(value: object, path: string): Tree {
    const proto = Object.getPrototypeOf(value);
    switch (proto === Buffer.prototype ? 'Buffer' : builtin(proto)) {
      case 'Array': {
        const array = value as unknown[];
        if (Object.keys(array).length !== array.length) refuse('an array with holes', path);
        return array.map((item, i) => this.encode(item, `${path}[${i}]`));
      }
      case 'Date':
        return this.tag('d', String(Date.prototype.getTime.call(value)));
      case 'Map':
        return this.tag('m', [...(value as Map<unknown, unknown>)].map(([k, v], i) => [this.encode(k, `${path}<key ${i}>`), this.encode(v, `${path}.get(${i})`)]));
      case 'Set':
        return this.tag('s', [...(value as Set<unknown>)].map((v, i) => this.encode(v, `${path}<item ${i}>`)));
      case 'Buffer':
        return this.tag('buf', (value as Buffer).toString('base64'));
      case 'Object':
      case null:
        break;
      default:
        refuse(`an instance of ${proto.constructor?.name}`, path);
    }
    if (Object.getOwnPropertySymbols(value).length > 0 || 'toJSON' in value) refuse('an object with symbol keys or toJSON', path);
    const fields: Record<string, Tree> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith(TAG)) this.tagged = true;
      define(fields, key.startsWith(TAG) ? TAG + key : key, this.encode(item, `${path}.${key}`));
    }
    return proto === null ? this.tag('o0', fields) : fields;
  }

  private tag(name: string, payload: Tree): Tree {
    this.tagged = true;
    return { [TAG + name]: payload };
  }
}

/**
 * The built-in a prototype belongs to (`Object`, `Array`, `Date`, `Map`, `Set`; null for no
 * prototype), from any realm (values made in a vm context or by structuredClone in a test
 * runner have another realm's prototypes); undefined for anything else, subclasses included.
 */
function builtin(proto: { constructor?: { name?: string } } | null): string | null | undefined {
  if (proto === null) return null;
  const name = proto.constructor?.name;
  const parent = Object.getPrototypeOf(proto) as { constructor?: { name?: string } } | null;
  if (name === 'Object') return parent === null ? name : undefined;
  return parent !== null && Object.getPrototypeOf(parent) === null && parent.constructor?.name === 'Object' ? name : undefined;
}

function refuse(what: string, path: string): never {
  throw new CacheSerializationError(`${what} at ${path} cannot be cached (see the data cache serializer)`);
}

/** Sets an own property, even `__proto__`, without touching the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function decode(tree: unknown): unknown {
  if (tree === null || typeof tree !== 'object') return tree;
  if (Array.isArray(tree)) return tree.map(decode);
  const keys = Object.keys(tree);
  const payload = (tree as Record<string, any>)[keys[0]];
  if (keys.length !== 1 || keys[0][0] !== TAG || keys[0][1] === TAG) return fields(tree, {});
  switch (keys[0].slice(1)) {
    case 'u':
      return undefined;
    case 'n':
      return payload === '-0' ? -0 : Number(payload);
    case 'b':
      return BigInt(payload);
    case 'd':
      return new Date(Number(payload));
    case 'm':
      return new Map(payload.map(([k, v]: unknown[]) => [decode(k), decode(v)]));
    case 's':
      return new Set(payload.map(decode));
    case 'buf':
      return Buffer.from(payload, 'base64');
    case 'o0':
      return fields(payload, Object.create(null));
  }
  throw new CacheSerializationError(`unknown tag ${keys[0]} in a cached value`);
}

function fields(source: object, target: Record<string, unknown>): Record<string, unknown> {
  for (const [key, item] of Object.entries(source)) define(target, key[0] === TAG ? key.slice(1) : key, decode(item));
  return target;
}
