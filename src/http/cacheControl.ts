/**
 * Whether an HTTP request asks to skip cached contacts: `Cache-Control: no-cache` (or `max-age=0`),
 * or HTTP/1.0's `Pragma: no-cache`. Such a request reads Connect and refreshes the cache.
 */
export function requestBypassesCache(headers: Record<string, string | string[] | undefined>): boolean {
  // Most requests carry neither header: answered without an allocation.
  if (headers["cache-control"] === undefined && headers["pragma"] === undefined) return false;
  const values = [headers["cache-control"], headers["pragma"]].flat().filter((v): v is string => typeof v === "string");
  return values.some((v) => /(?:^|,)\s*(?:no-cache|max-age\s*=\s*0)\s*(?:,|$)/i.test(v));
}
