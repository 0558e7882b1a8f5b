/** The Connect APIs besides DescribeContact that the gateway calls. */
export const RELATED_APIS = ["DescribeQueue", "DescribeUser", "GetContactAttributes", "ListContactReferences", "SearchContacts"] as const;
export type RelatedApi = (typeof RELATED_APIS)[number];

/** A token bucket: sustained calls per second and the burst allowed after a quiet period. */
export interface ApiQuota {
  readonly rps: number;
  readonly burst: number;
}

/**
 * Connect's default quotas of the related APIs, per account and region: the rates are those of the
 * API throttling table in Amazon Connect's service quotas
 * (https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-service-limits.html), which
 * gives no bursts; the bursts are the values commonly reported, unconfirmed by AWS, and accounts
 * may have other quotas (older ones had 2/s, burst 5). `CONNECT_API_QUOTAS` overrides any of them.
 * The emulator keeps its own copy (`CONNECT_DEFAULT_QUOTAS`) on purpose: it models Connect, not the
 * gateway, so a wrong value here shows up as 429s in the tests instead of agreeing with itself.
 */
export const DEFAULT_API_QUOTAS: Readonly<Record<RelatedApi, ApiQuota>> = {
  DescribeQueue: { rps: 10, burst: 15 },
  DescribeUser: { rps: 10, burst: 15 },
  GetContactAttributes: { rps: 10, burst: 15 },
  ListContactReferences: { rps: 10, burst: 15 },
  SearchContacts: { rps: 0.5, burst: 1 },
};

/**
 * Parses `CONNECT_API_QUOTAS`: comma-separated `Api=rps/burst` pairs (`SearchContacts=2/5`); the
 * burst may be left out (`DescribeQueue=20` means 20/20). Returns the problem as a string for the
 * configuration's error message, or the overrides.
 */
export function parseApiQuotas(text: string): Partial<Record<RelatedApi, ApiQuota>> | string {
  const quotas: Partial<Record<RelatedApi, ApiQuota>> = {};
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]+)\s*=\s*([0-9]*\.?[0-9]+)\s*(?:\/\s*([0-9]+))?$/.exec(item);
    if (!match) return `"${item}" is not Api=rps/burst`;
    const api = match[1] as RelatedApi;
    if (!RELATED_APIS.includes(api)) return `unknown API "${match[1]}" (known: ${RELATED_APIS.join(", ")})`;
    const rps = Number(match[2]);
    const burst = match[3] === undefined ? Math.max(1, Math.floor(rps)) : Number(match[3]);
    if (!(rps > 0) || !(burst >= 1)) return `"${item}" needs rps > 0 and burst >= 1`;
    quotas[api] = { rps, burst };
  }
  return quotas;
}
