import type { Item } from './item';
import type { ItemPage, ItemRepository } from './item-repository';

/** An in-process table for local runs and tests; same contract as the DynamoDB repository. */
export class MemoryItemRepository implements ItemRepository {
  private readonly items = new Map<string, Item>();

  async get(id: string): Promise<Item | undefined> {
    const item = this.items.get(id);
    return item && structuredClone(item);
  }

  async put(item: Item): Promise<void> {
    this.items.set(item.id, structuredClone(item));
  }

  async delete(id: string): Promise<boolean> {
    return this.items.delete(id);
  }

  async list(limit: number, cursor?: string): Promise<ItemPage> {
    const ids = [...this.items.keys()].sort().filter((id) => cursor === undefined || id > cursor);
    const page = ids.slice(0, limit).map((id) => structuredClone(this.items.get(id)!));
    return { items: page, nextCursor: ids.length > limit ? page[page.length - 1].id : undefined };
  }
}
