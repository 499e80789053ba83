// The metrics endpoint of a process that has no HTTP server of its own (`bun queue`, `bun cli
// listen:r2z2`): GET /metrics (this process's registry) and GET /health, on METRICS_PORT (0: off) and
// HOST. With ADMIN_TOKEN set, /metrics asks for it as the server's does (Bearer, or Basic with the token
// as password); /health never does.
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { authorizationCarries } from "../routes/admin-token.ts";
import { registry } from "./registry.ts";

export interface MetricsServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts the endpoint when METRICS_PORT is set; undefined when it is 0. */
export function serveMetrics(processName: string, port: number = config().metricsPort): MetricsServer | undefined {
  if (port === 0) return undefined;
  const server = Bun.serve({
    port,
    hostname: config().host,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
      if (path === "/health") return Response.json({ status: "ok", process: processName });
      if (path !== "/metrics") return new Response("not found\n", { status: 404 });
      const token = config().adminToken;
      if (token && !authorizationCarries(req.headers.get("authorization"), token)) {
        return new Response("admin token required\n", { status: 401, headers: { "www-authenticate": 'Basic realm="killboard metrics"' } });
      }
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    },
  });
  log("metrics").info({ url: `http://${server.hostname}:${server.port}/metrics`, process: processName }, "metrics endpoint listening");
  return {
    port: server.port ?? port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
