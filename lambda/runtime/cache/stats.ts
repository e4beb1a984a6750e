import { CacheClientStats } from './types';

export function emptyStats(): CacheClientStats {
  return {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    stale: 0,
    staleIfError: 0,
    bypass: 0,
    errors: 0,
    timeouts: 0,
    coalesced: 0,
    leaseWaits: 0,
    loads: 0,
    loadErrors: 0,
    loadTimeouts: 0,
    fills: 0,
    fillsRejected: 0,
    oversize: 0,
    invalidations: 0,
    invalidationsDeferred: 0,
    repairs: 0,
    reconnections: 0,
    breakerOpened: 0,
  };
}
