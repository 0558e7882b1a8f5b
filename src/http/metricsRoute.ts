import type { FastifyInstance } from "fastify";
import type { GatewayMetrics } from "../observability/metrics.js";

/** `GET /metrics`: the Prometheus exposition of `metrics` (unauthenticated, like health routes). */
export function registerMetricsRoute(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await metrics.scrape();
    return reply.header("content-type", contentType).header("cache-control", "no-store").send(body);
  });
}
