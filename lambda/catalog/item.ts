import * as v from 'valibot';
import { badRequest } from '../runtime/http/errors';

/** A catalog item as stored and returned. */
export interface Item {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly description?: string;
  readonly tags?: string[];
  /** ISO-8601 time of the last write. */
  readonly updatedAt: string;
}

export type ItemInput = Omit<Item, 'id' | 'updatedAt'>;

const ITEM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The fields a PUT may carry; unknown fields are refused rather than silently dropped. */
const ItemInputSchema = v.strictObject({
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200)),
  price: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1_000_000_000)),
  description: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  tags: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(50))), v.maxLength(20))),
});


/** Validates an item id from the path; a 400 names the field. */
export function parseItemId(id: string): string {
  if (!ITEM_ID.test(id)) throw badRequest('id must be 1 to 64 letters, digits, _ or -', 'id');
  return id;
}

/** Validates a PUT body; the first problem becomes a 400 naming its field. */
export function parseItemInput(body: unknown): ItemInput {
  const result = v.safeParse(ItemInputSchema, body);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? (issue.kind === 'schema' && issue.type === 'strict_object' ? String(issue.input) : undefined);
  const message = issue.type === 'strict_object' ? `unknown field ${String(field)}` : issue.message;
  throw badRequest(field ? `${field}: ${message}` : message, field ?? undefined);
}
