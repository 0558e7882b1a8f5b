/**
 * Reading the gateway's `GET /metrics` as Prometheus does: one sample by metric name and its exact
 * label set.
 */

/** The value of one sample in Prometheus's exposition `text`; `undefined` when the series does not exist. */
export function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(/,(?=[a-zA-Z_]+=")/) : [];
    if (wanted.length === have.length && wanted.every((l) => have.includes(l))) return Number(match[3]);
  }
  return undefined;
}

/** The exposition text of the gateway whose GraphQL endpoint is `graphqlUrl` (`…/graphql`). */
export async function scrapeMetrics(graphqlUrl: string): Promise<string> {
  return (await fetch(graphqlUrl.replace(/\/graphql$/, "/metrics"))).text();
}

/** One sample's value in the gateway's `GET /metrics` now; 0 when the series does not exist. */
export async function scrapedSample(graphqlUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleOf(await scrapeMetrics(graphqlUrl), name, labels) ?? 0;
}
