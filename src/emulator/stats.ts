import { API_NAMES, perApi, type ApiName } from "./apiNames.js";

/** Call accounting. API requests are counted once routed and authenticated, whatever the answer. */
export interface EmulatorStats {
  /** All Connect API requests (admin requests excluded). */
  total: number;
  byApi: Record<ApiName, number>;
  /** Per API, per resource key: `instanceId/id` (SearchContacts: `instanceId`), ids as sent. */
  byKey: Record<ApiName, Record<string, number>>;
  /** DescribeContact calls per `instanceId/contactId` (the same as `byKey.DescribeContact`). */
  byContact: Record<string, number>;
  /**
   * Per region (the SigV4 credential scope's, else the data set's), per API. Quotas are kept per
   * region too, as Connect keeps them per account and region.
   */
  byRegion: Record<string, Partial<Record<ApiName, number>>>;
  /** 429 ThrottlingException answers sent because of the quota (injected 429s not included). */
  throttled: number;
  throttledByApi: Record<ApiName, number>;
  /** Answers replaced by an injected failure (rate or `failNext`). */
  injectedFailures: number;
  injectedByApi: Record<ApiName, number>;
  /** Requests refused for a missing or malformed SigV4 header. */
  unauthenticated: number;
  /** Most API requests received in any sliding 1-second window (all APIs together). */
  maxPerSecond: number;
  maxPerSecondByApi: Record<ApiName, number>;
  /** Same, counting only requests that were not throttled (what the quota let through). */
  maxAcceptedPerSecond: number;
  maxAcceptedPerSecondByApi: Record<ApiName, number>;
}

/** Keys remembered per API before further ones are counted together as `(other)`, so memory stays bounded. */
const MAX_KEYS_PER_API = 100_000;

/** The running accounting behind `EmulatorStats`; `reset` zeroes it. */
export class Stats {
  total = 0;
  byApi = perApi(() => 0);
  byKey = perApi(() => new Map<string, number>());
  throttledByApi = perApi(() => 0);
  injectedByApi = perApi(() => 0);
  unauthenticated = 0;
  private window = new SlidingWindow();
  private windowByApi = perApi(() => new SlidingWindow());
  private accepted = new SlidingWindow();
  private acceptedByApi = perApi(() => new SlidingWindow());
  private byRegion = new Map<string, Partial<Record<ApiName, number>>>();

  /** Counts a routed, authenticated call. */
  call(api: ApiName, key: string, now: number, region: string): void {
    this.total++;
    this.byApi[api]++;
    let regional = this.byRegion.get(region);
    if (!regional) this.byRegion.set(region, (regional = {}));
    regional[api] = (regional[api] ?? 0) + 1;
    const keys = this.byKey[api];
    const k = keys.has(key) || keys.size < MAX_KEYS_PER_API ? key : "(other)";
    keys.set(k, (keys.get(k) ?? 0) + 1);
    this.window.add(now);
    this.windowByApi[api].add(now);
  }

  /** Counts a call the quota let through. */
  accept(api: ApiName, now: number): void {
    this.accepted.add(now);
    this.acceptedByApi[api].add(now);
  }

  reset(): void {
    Object.assign(this, new Stats());
  }

  snapshot(): EmulatorStats {
    const sum = (r: Record<ApiName, number>) => API_NAMES.reduce((n, api) => n + r[api], 0);
    const byKey = perApi((api) => Object.fromEntries(this.byKey[api]));
    return {
      total: this.total,
      byApi: { ...this.byApi },
      byKey,
      byContact: byKey.DescribeContact,
      byRegion: Object.fromEntries([...this.byRegion].map(([region, apis]) => [region, { ...apis }])),
      throttled: sum(this.throttledByApi),
      throttledByApi: { ...this.throttledByApi },
      injectedFailures: sum(this.injectedByApi),
      injectedByApi: { ...this.injectedByApi },
      unauthenticated: this.unauthenticated,
      maxPerSecond: this.window.max,
      maxPerSecondByApi: perApi((api) => this.windowByApi[api].max),
      maxAcceptedPerSecond: this.accepted.max,
      maxAcceptedPerSecondByApi: perApi((api) => this.acceptedByApi[api].max),
    };
  }
}

// Private: counts events in a sliding 1-second window and remembers the most ever seen.
class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  max = 0;
  add(now: number): void {
    this.times.push(now);
    while (this.times[this.head]! <= now - 1000) this.head++;
    const count = this.times.length - this.head;
    if (count > this.max) this.max = count;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
