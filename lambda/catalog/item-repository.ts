import type { Item } from './item';

/** One page of a listing; `nextCursor` is absent on the last page. */
export interface ItemPage {
  readonly items: Item[];
  readonly nextCursor?: string;
}

/** The primary store of catalog items, as the handlers see it. */
export interface ItemRepository {
  get(id: string): Promise<Item | undefined>;
  put(item: Item): Promise<void>;
  /** Returns whether an item was deleted. */
  delete(id: string): Promise<boolean>;
  /** Items in id order, `limit` at a time, continuing after `cursor` (an item id). */
  list(limit: number, cursor?: string): Promise<ItemPage>;
}
