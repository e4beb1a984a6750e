import type { AttributeValue, Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** A stream handler as the purges implement it (assignable to `DynamoDBStreamHandler`). */
export type StreamPurgeHandler = (
  event: DynamoDBStreamEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<DynamoDBBatchResponse>;

/**
 * Templates such as `/items/{id}` or `item:{id}` whose `{name}` (or greedy `{name+}`) parameters
 * are filled from a DynamoDB stream record's attributes of the same name.
 */
export interface Template {
  readonly source: string;
  /** Literal text and parameters, in order. */
  readonly parts: ReadonlyArray<string | { readonly name: string; readonly greedy: boolean }>;
  readonly hasParams: boolean;
}

const PARAM = /\{([A-Za-z_][A-Za-z0-9_.-]*)(\+?)\}/g;
/** Above this many combinations (several multi-valued parameters), a template is not expanded. */
const MAX_COMBINATIONS = 16;

export function parseTemplate(source: string): Template {
  const parts: Array<string | { name: string; greedy: boolean }> = [];
  let last = 0;
  for (const match of source.matchAll(PARAM)) {
    if (match.index > last) parts.push(source.slice(last, match.index));
    parts.push({ name: match[1], greedy: match[2] === '+' });
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return { source, parts, hasParams: parts.some((p) => typeof p !== 'string') };
}

/** A comma-separated list of templates from the environment; blanks are dropped, duplicates kept once. */
export function parseTemplateList(value: string | undefined): Template[] {
  const sources = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return [...new Set(sources)].map(parseTemplate);
}

/**
 * The values of attribute `name` that the record's change concerns: the key's value, else the
 * distinct values in the new and the old image (a MODIFY that moves an item from one value to
 * another concerns both). Strings and numbers only; anything else counts as missing.
 */
export function attributeValues(record: DynamoDBRecord, name: string): string[] {
  const change = record.dynamodb;
  const key = scalar(change?.Keys?.[name]);
  if (key !== undefined) return [key];
  const values = new Set<string>();
  for (const image of [change?.NewImage, change?.OldImage]) {
    const value = scalar(image?.[name]);
    if (value !== undefined) values.add(value);
  }
  return [...values];
}

/**
 * Why the record cannot be purged by these templates, or undefined when it can: no change data
 * or keys (a malformed record), or a template parameter that is a key attribute of a type that
 * cannot name a path or cache key (B, NULL, BOOL, M, L, sets): treating it as missing would
 * report success without purging. (A non-key attribute of such a type in an image stays "absent":
 * an item whose `category` became NULL has no category key to purge.)
 */
export function recordProblem(record: DynamoDBRecord | undefined, templates: readonly Template[]): string | undefined {
  const change = record?.dynamodb;
  if (!change || !change.Keys || Object.keys(change.Keys).length === 0) return 'the record carries no change data or keys';
  for (const template of templates) {
    for (const part of template.parts) {
      if (typeof part === 'string') continue;
      const value = change.Keys[part.name];
      if (value !== undefined && scalar(value) === undefined) {
        return `key attribute ${part.name} is of type ${Object.keys(value)[0] ?? 'unknown'}; only S and N can fill ${template.source}`;
      }
    }
  }
  return undefined;
}

function scalar(value: AttributeValue | undefined): string | undefined {
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return value.N;
  return undefined;
}

/**
 * Every string the template yields for the record, each parameter value passed through
 * `encode`; undefined when a parameter has no value in the record (or too many combinations).
 */
export function fillTemplate(
  template: Template,
  record: DynamoDBRecord,
  encode: (value: string, greedy: boolean) => string = (value) => value,
): string[] | undefined {
  let results = [''];
  for (const part of template.parts) {
    if (typeof part === 'string') {
      results = results.map((r) => r + part);
      continue;
    }
    const values = attributeValues(record, part.name);
    if (values.length === 0 || results.length * values.length > MAX_COMBINATIONS) return undefined;
    results = results.flatMap((r) => values.map((v) => r + encode(v, part.greedy)));
  }
  return results;
}

/** The template's literal text before its first parameter. */
export function literalPrefix(template: Template): string {
  let prefix = '';
  for (const part of template.parts) {
    if (typeof part !== 'string') break;
    prefix += part;
  }
  return prefix;
}
