import { API_NAMES, SQS_ACTIONS, perApi, type ApiName, type SqsAction } from "./apiNames.js";

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
  /** Requests refused for a missing or malformed SigV4 header (Connect's APIs and SQS). */
  unauthenticated: number;
  /** Most API requests received in any sliding 1-second window (all APIs together). */
  maxPerSecond: number;
  maxPerSecondByApi: Record<ApiName, number>;
  /** Same, counting only requests that were not throttled (what the quota let through). */
  maxAcceptedPerSecond: number;
  maxAcceptedPerSecondByApi: Record<ApiName, number>;
  /** The SQS API (the contact events' queue), counted apart: none of it is in `total` or `byApi`. */
  sqs: SqsStats;
  /** Contact events emitted (by `events.emit`, `POST /_emulator/events` or live traffic), per `eventType`. */
  events: { emitted: number; byType: Record<string, number> };
}

/** What the SQS API served and what happened to messages, over every queue (dead-letter queue included). */
export interface SqsStats {
  /** SQS requests routed and authenticated, unknown actions included. */
  total: number;
  byAction: Record<SqsAction, number>;
  /** Messages put on a queue: contact events, raw bodies and SendMessage. */
  messagesSent: number;
  /** Messages handed out by ReceiveMessage; a redelivery counts again. */
  messagesReceived: number;
  /** Messages deleted (DeleteMessage and DeleteMessageBatch with a message's latest receipt handle). */
  messagesDeleted: number;
  /** Messages moved to the dead-letter queue after maxReceiveCount receives. */
  movedToDeadLetterQueue: number;
  /** ReceiveMessage calls answered with no message (a long poll that timed out or was closed). */
  emptyReceives: number;
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
  readonly sqs: SqsStats = {
    total: 0,
    byAction: Object.fromEntries(SQS_ACTIONS.map((a) => [a, 0])) as Record<SqsAction, number>,
    messagesSent: 0,
    messagesReceived: 0,
    messagesDeleted: 0,
    movedToDeadLetterQueue: 0,
    emptyReceives: 0,
  };
  private eventsByType = new Map<string, number>();

  /** Counts a routed, authenticated SQS request (`action` as the X-Amz-Target names it). */
  sqsCall(action: string): void {
    this.sqs.total++;
    if ((SQS_ACTIONS as readonly string[]).includes(action)) this.sqs.byAction[action as SqsAction]++;
  }

  /** Counts an emitted contact event. */
  event(eventType: string): void {
    this.eventsByType.set(eventType, (this.eventsByType.get(eventType) ?? 0) + 1);
  }

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
      sqs: { ...this.sqs, byAction: { ...this.sqs.byAction } },
      events: { emitted: [...this.eventsByType.values()].reduce((a, b) => a + b, 0), byType: Object.fromEntries(this.eventsByType) },
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
