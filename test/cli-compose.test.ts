// docker-compose.yml and the Dockerfile, checked offline: the services, their commands, health
// checks, start order and settings (secrets from variables, never written in the file); and
// `docker-compose config -q` when the binary is installed (without it the YAML is validated here).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { ROOT } from "./support/spawn.ts";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  restart?: string;
  profiles?: string[];
  volumes?: string[];
  entrypoint?: string[];
}

const source = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
/** The file as compose reads it: YAML 1.1 merge keys (`<<: *anchor`) resolved, duplicate keys rejected. */
const compose = parse(source, { merge: true, uniqueKeys: true, strict: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const APP = ["migrate", "workers-killmail", "workers-entities", "workers-values", "server", "listener"];
const WORKERS = ["workers-killmail", "workers-entities", "workers-values"];
const MONITORING = ["prometheus", "grafana"];

describe("docker-compose.yml", () => {
  it("has Redis, PostgreSQL 15, migrations, the worker groups, the server and the listener", () => {
    expect(Object.keys(services).sort()).toEqual([...APP, ...MONITORING, "postgres", "redis"].sort());
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    const redisCommand = services.redis!.command!.join(" ");
    expect(redisCommand).toContain("--appendonly yes");
    expect(redisCommand).toContain("--maxmemory-policy noeviction");
    expect(services.migrate!.command).toEqual(["bun", "run", "db:migrate"]);
    expect(services.server!.command).toEqual(["bun", "server/index.ts"]);
    expect(services.listener!.command).toEqual(["bun", "cli.ts", "listen:r2z2"]);
    for (const name of APP) expect(services[name]!.build, name).toBeDefined();
  });

  it("runs every queue in exactly one worker service", () => {
    const run = WORKERS.flatMap((name) => {
      const [bun, entry, ...queues] = services[name]!.command!;
      expect([bun, entry]).toEqual(["bun", "queue.ts"]);
      return queues;
    });
    expect(run.sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it("gives every long-running service a health check and starts it after its dependencies", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "migrate") continue; // one-shot: the others wait for it to complete instead
      expect(service.healthcheck?.test?.[0], name).toMatch(/^CMD/);
    }
    for (const name of WORKERS) {
      const [cmd, ...args] = services[name]!.healthcheck!.test;
      expect([cmd, ...args.slice(0, 4)]).toEqual(["CMD", "bun", "cli.ts", "health", "--workers"]);
      expect(args.slice(4)).toEqual(services[name]!.command!.slice(2));
    }
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(services.migrate!.restart).toBe("no");
    for (const name of APP.filter((n) => n !== "migrate")) {
      expect(services[name]!.depends_on, name).toEqual({
        redis: { condition: "service_healthy" },
        postgres: { condition: "service_healthy" },
        migrate: { condition: "service_completed_successfully" },
      });
    }
    expect(Object.keys(compose.volumes).sort()).toEqual(["grafana-data", "postgres-data", "prometheus-data", "redis-data"]);
  });

  it("configures the app from the documented variables; secrets come from the environment", () => {
    for (const name of APP) {
      const env = services[name]!.environment!;
      expect(env.REDIS_URL, name).toBe("redis://redis:6379");
      expect(env.DATABASE_URL, name).toMatch(/^postgres:\/\/killboard:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/killboard$/);
      expect(env.ESI_USER_AGENT, name).toMatch(/^\$\{ESI_USER_AGENT:\?[^}]+\}$/); // required
      expect(env.ADMIN_TOKEN, name).toBe("${ADMIN_TOKEN:-}");
      for (const v of ["QUEUE_PREFIX", "LOG_LEVEL", "ESI_URL", "ZKB_URL", "R2Z2_URL", "EVEREF_URL"]) {
        expect(env[v], `${name} ${v}`).toBe(`\${${v}:-}`);
      }
    }
    // The workers and the listener serve /metrics on a fixed port inside the network (Prometheus' targets).
    for (const name of [...WORKERS, "listener"]) expect(services[name]!.environment!.METRICS_PORT, name).toBe("9464");
    expect(services.postgres!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(services.server!.environment!.PORT).toBe("${PORT:-3000}");
    expect(services.server!.ports).toEqual(["${PORT:-3000}:${PORT:-3000}"]);
    // Each worker service passes the per-queue overrides of the queues it runs.
    for (const name of WORKERS) {
      for (const queue of services[name]!.command!.slice(2)) {
        for (const suffix of ["CONCURRENCY", "RATE"]) {
          const v = `QUEUE_${queue.toUpperCase()}_${suffix}`;
          expect(services[name]!.environment![v], `${name} ${v}`).toBe(`\${${v}:-}`);
        }
      }
    }
  });

  it("runs Prometheus and Grafana only under the monitoring profile, wired to every process and to the shipped files", () => {
    for (const name of Object.keys(services)) {
      expect(services[name]!.profiles, name).toEqual(MONITORING.includes(name) ? ["monitoring"] : undefined);
    }
    const prometheus = services.prometheus!;
    expect(prometheus.volumes).toContain("./deploy/prometheus:/etc/killboard:ro");
    expect(prometheus.environment).toMatchObject({ ADMIN_TOKEN: "${ADMIN_TOKEN:-}", SERVER_PORT: "${PORT:-3000}" });
    expect(prometheus.ports).toEqual(["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"]);
    const config = parse(readFileSync(join(ROOT, "deploy/prometheus/prometheus.yml"), "utf8")) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
        authorization?: { credentials_file: string };
      }[];
    };
    expect(config.rule_files).toEqual(["/etc/killboard/alerts.yml"]);
    const jobs = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j]));
    expect(Object.keys(jobs).sort()).toEqual(["listener", "server", "workers"]);
    // The entrypoint puts the server's PORT in place of 3000 and the token where every job reads it.
    expect(jobs.server!.static_configs![0]!.targets).toEqual(["server:3000"]);
    expect(prometheus.command!.join(" ")).toContain('sed "s/server:3000/server:$$SERVER_PORT/"');
    for (const job of Object.values(jobs)) expect(job.authorization?.credentials_file, job.job_name).toBe("/tmp/admin-token");
    expect(jobs.workers!.dns_sd_configs![0]).toMatchObject({ names: WORKERS, port: 9464 });
    expect(jobs.listener!.static_configs![0]!.targets).toEqual(["listener:9464"]);

    const grafana = services.grafana!;
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
        "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro",
      ]),
    );
    expect(grafana.ports).toEqual(["127.0.0.1:${GRAFANA_PORT:-3001}:3000"]);
    const datasources = parse(readFileSync(join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yml"), "utf8")) as {
      datasources: { uid: string; url: string }[];
    };
    expect(datasources.datasources[0]).toMatchObject({ uid: "killboard-prometheus", url: "http://prometheus:9090" });
    const providers = parse(readFileSync(join(ROOT, "deploy/grafana/provisioning/dashboards/killboard.yml"), "utf8")) as {
      providers: { options: { path: string } }[];
    };
    expect(providers.providers[0]!.options.path).toBe("/etc/grafana/dashboards");
  });

  it("is accepted by `docker-compose config -q` (or, without the binary, is well-formed YAML with resolvable anchors)", () => {
    const binary = Bun.which("docker-compose");
    if (!binary) {
      // No docker-compose here (e.g. CI): the parse above already rejected bad YAML, duplicate keys and
      // unknown anchors; say so rather than pass silently.
      console.warn("docker-compose not installed: validated docker-compose.yml with the yaml package only");
      expect(services.redis).toBeDefined();
      return;
    }
    const envFile = join(mkdtempSync(join(tmpdir(), "compose-")), "empty.env");
    writeFileSync(envFile, "");
    const compose = (env: Record<string, string>, ...args: string[]) =>
      spawnSync(binary, ["--env-file", envFile, ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      });
    const secrets = { ESI_USER_AGENT: "killboard-test/1.0 (ops@example.com)", POSTGRES_PASSWORD: "s3cret" };

    const ok = compose(secrets, "config", "-q");
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);

    const resolved = parse(compose({ ...secrets, PORT: "8080" }, "config").stdout) as { services: Record<string, Service> };
    expect(resolved.services["workers-killmail"]!.environment).toMatchObject({
      DATABASE_URL: "postgres://killboard:s3cret@postgres:5432/killboard",
      ESI_USER_AGENT: "killboard-test/1.0 (ops@example.com)",
      REDIS_URL: "redis://redis:6379",
    });
    expect(resolved.services.server!.environment!.PORT).toBe("8080");

    const monitoring = parse(
      compose({ ...secrets, ADMIN_TOKEN: "a-token-of-16-chars", PORT: "8080" }, "--profile", "monitoring", "config").stdout,
    ) as {
      services: Record<string, Service>;
    };
    expect(monitoring.services.prometheus!.environment).toMatchObject({ ADMIN_TOKEN: "a-token-of-16-chars", SERVER_PORT: "8080" });
    expect(monitoring.services.grafana).toBeDefined();

    const missing = compose({ ESI_USER_AGENT: secrets.ESI_USER_AGENT }, "config", "-q");
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("POSTGRES_PASSWORD");
  });
});

describe("Dockerfile", () => {
  it("builds on the official Bun image with the locked production dependencies", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) expect(image).toMatch(/^oven\/bun:/);
    expect(dockerfile).toMatch(/^RUN bun install --frozen-lockfile --production$/m);
    expect(dockerfile).toMatch(/^USER bun$/m);
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", ".env", ".git"]));
  });
});
