import { API_NAMES, type ApiName } from "./apiNames.js";

export interface TokenBucketSpec {
  /** Sustained requests per second. */
  rps: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
}

/**
 * Connect's default quotas per API (Service Quotas table; bursts as commonly documented). The
 * emulator keeps its own copy: it imports nothing of the gateway, whose limiter has the same table.
 */
export const CONNECT_DEFAULT_QUOTAS: Readonly<Record<ApiName, TokenBucketSpec>> = {
  DescribeContact: { rps: 10, burst: 15 },
  DescribeQueue: { rps: 10, burst: 15 },
  DescribeUser: { rps: 10, burst: 15 },
  GetContactAttributes: { rps: 10, burst: 15 },
  ListContactReferences: { rps: 10, burst: 15 },
  SearchContacts: { rps: 0.5, burst: 1 },
};

/**
 * Quotas: one token bucket per API and region (the region of the request's SigV4 credential scope),
 * as Connect keeps quotas per account and region. `true` means Connect's defaults (`CONNECT_DEFAULT_QUOTAS`);
 * `{ rps, burst }` applies that bucket to every API (`burst` defaults to `rps`); `perApi`
 * overrides single APIs (an API missing from both takes Connect's default).
 */
export type QuotaOption = boolean | { rps?: number; burst?: number; perApi?: Partial<Record<ApiName, TokenBucketSpec>> };

/** The quota option in force and its buckets, made per region on the region's first call. */
export class RegionalQuotas {
  private buckets = new Map<string, Map<ApiName, TokenBucket> | undefined>();

  constructor(private option: QuotaOption | undefined) {}

  get current(): QuotaOption | undefined {
    return this.option;
  }

  /** Replaces the quota; every bucket starts full again. */
  set(option: QuotaOption | undefined): void {
    this.option = option;
    this.buckets.clear();
  }

  /** Refills every bucket. */
  refill(): void {
    this.buckets.clear();
  }

  /** Takes a token for a call of `api` in `region`; false when over quota. */
  take(region: string, api: ApiName, now: number): boolean {
    if (!this.buckets.has(region)) this.buckets.set(region, bucketsFor(this.option, now));
    const bucket = this.buckets.get(region)?.get(api);
    return bucket ? bucket.take(now) : true;
  }
}

// Private: one bucket, refilled continuously at `rps` up to `burst`.
class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly spec: TokenBucketSpec,
    now: number,
  ) {
    this.tokens = spec.burst;
    this.last = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.last) * this.spec.rps) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

// Private: the buckets of one region for `quota` (none when the quota is off).
function bucketsFor(quota: QuotaOption | undefined, now: number): Map<ApiName, TokenBucket> | undefined {
  if (!quota) return undefined;
  const buckets = new Map<ApiName, TokenBucket>();
  for (const api of API_NAMES) {
    let spec: TokenBucketSpec = CONNECT_DEFAULT_QUOTAS[api];
    if (quota !== true) {
      if (quota.rps !== undefined) spec = { rps: quota.rps, burst: quota.burst ?? Math.max(1, quota.rps) };
      spec = quota.perApi?.[api] ?? spec;
    }
    buckets.set(api, new TokenBucket(spec, now));
  }
  return buckets;
}
