// Deployment files for many hosts, checked offline (no cluster, no kubeconform here): the Kubernetes
// manifests in deploy/k8s parse, hang together (selectors, ports, config and secret names, every queue
// run once, the listener's replicas), give every long-running process probes and a grace period that
// covers its shutdown, and carry settings the configuration accepts; docker-compose's workers and
// listener can be scaled (no fixed container name, no published port).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { CONFIG_VARIABLES, parseConfig } from "../server/helpers/config.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { ROOT } from "./support/spawn.ts";

const DIR = join(ROOT, "deploy/k8s");

interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
}
interface Container {
  name: string;
  image: string;
  command: string[];
  envFrom?: ({ configMapRef?: { name: string } } | { secretRef?: { name: string } })[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> } | Record<string, string>;
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    ports?: { name: string; port: number; targetPort: string | number }[];
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
  images?: { name: string }[];
}

const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
const objects = new Map<string, K8sObject[]>(
  files.map((f) => {
    const docs = parseAllDocuments(readFileSync(join(DIR, f), "utf8"), { uniqueKeys: true, strict: true });
    for (const d of docs) if (d.errors.length || d.warnings.length) throw new Error(`${f}: ${[...d.errors, ...d.warnings].join("; ")}`);
    return [f, docs.map((d) => d.toJS() as K8sObject).filter(Boolean)];
  }),
);
const all = [...objects.values()].flat();
const ofKind = (kind: string) => all.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => ofKind(kind).find((o) => o.metadata.name === name);
const kustomization = objects.get("kustomization.yaml")![0]!;
const deployments = ofKind("Deployment");
const pod = (o: K8sObject) => o.spec!.template!.spec;

/** Longest each process takes to stop after SIGTERM (seconds): queue.ts's runner waits 30 s for active jobs and
 * gives closing 15 s more (server/runner/run.ts); listen:r2z2 exits within 20 s (cli/_run.ts stopOnSignals); the
 * server within 10 s (server/index.ts). */
const SHUTDOWN_SECONDS: Record<string, number> = { "queue.ts": 45, "cli.ts": 20, "server/index.ts": 10 };

describe("deploy/k8s", () => {
  it("lists every manifest in its kustomization (the Secret only as an example) and names objects validly", () => {
    expect([...(kustomization.resources ?? [])].sort()).toEqual(
      files.filter((f) => f !== "kustomization.yaml" && !f.includes("example")).sort(),
    );
    for (const o of all.filter((o) => o.kind !== "Kustomization")) {
      expect(o.apiVersion, o.metadata.name).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    // Every container runs the image the kustomization sets.
    const image = kustomization.images![0]!.name;
    for (const o of [...deployments, ...ofKind("Job")]) for (const c of pod(o).containers) expect(c.image, o.metadata.name).toBe(image);
  });

  it("Deployments select their own pods, have probes and a grace period covering their shutdown", () => {
    expect(deployments.length).toBeGreaterThanOrEqual(5);
    for (const d of deployments) {
      const name = d.metadata.name;
      const { matchLabels } = d.spec!.selector as { matchLabels: Record<string, string> };
      expect(d.spec!.template!.metadata.labels, name).toMatchObject(matchLabels);
      // No two Deployments select the same pods.
      expect(
        deployments.filter((o) => JSON.stringify(o.spec!.selector) === JSON.stringify(d.spec!.selector)),
        name,
      ).toHaveLength(1);
      const [container] = pod(d).containers;
      const entry = container!.command[1]!;
      expect(container!.command[0]).toBe("bun");
      expect(SHUTDOWN_SECONDS[entry], `${name} runs ${entry}`).toBeDefined();
      expect(pod(d).terminationGracePeriodSeconds, name).toBeGreaterThan(SHUTDOWN_SECONDS[entry]!);
      for (const probe of [container!.readinessProbe, container!.livenessProbe]) {
        expect(probe, name).toBeDefined();
        if (probe!.httpGet) {
          expect(probe!.httpGet.path).toBe("/health");
          expect(container!.ports?.map((p) => p.name)).toContain(probe!.httpGet.port);
        } else expect(probe!.exec!.command.slice(0, 3), name).toEqual(["bun", "cli.ts", "health"]);
        // A probe may take its time (a bun process starting) but must end before the next one.
        expect(probe!.timeoutSeconds!, name).toBeLessThan(probe!.periodSeconds!);
      }
    }
  });

  it("runs every queue in exactly one workers Deployment, the listener twice, and migrations in a Job", () => {
    const queues = deployments
      .map((d) => pod(d).containers[0]!.command)
      .filter((c) => c[1] === "queue.ts")
      .flatMap((c) => c.slice(2));
    expect(queues.sort()).toEqual([...QUEUE_NAMES].sort());
    const listener = deployments.find((d) => pod(d).containers[0]!.command.includes("listen:r2z2"))!;
    // Two replicas: one active under the lease, one standing by to take over.
    expect(listener.spec!.replicas).toBe(2);
    const [job] = ofKind("Job");
    expect(pod(job!).containers[0]!.command).toEqual(["bun", "run", "db:migrate"]);
    expect(["OnFailure", "Never"]).toContain(pod(job!).restartPolicy);
  });

  it("exposes the server through a Service on its named port", () => {
    const service = named("Service", "killboard-server")!;
    const server = named("Deployment", "killboard-server")!;
    expect(server.spec!.template!.metadata.labels).toMatchObject(service.spec!.selector as Record<string, string>);
    const port = service.spec!.ports![0]!.targetPort;
    const container = pod(server).containers[0]!;
    expect(container.ports!.find((p) => p.name === port)?.containerPort).toBe(Number(container.env!.find((e) => e.name === "PORT")!.value));
  });

  it("reads its settings from the ConfigMap and the Secret, which the configuration accepts", () => {
    const config = named("ConfigMap", "killboard-config")!;
    const secret = named("Secret", "killboard-secrets")!;
    for (const o of [...deployments, ...ofKind("Job")]) {
      const refs = pod(o).containers[0]!.envFrom!.map((r) =>
        "configMapRef" in r ? r.configMapRef!.name : "secretRef" in r ? r.secretRef!.name : "",
      );
      expect(refs.sort(), o.metadata.name).toEqual(["killboard-config", "killboard-secrets"]);
    }
    const env = { ...config.data, ...secret.stringData };
    for (const key of Object.keys(env)) expect(CONFIG_VARIABLES as string[], key).toContain(key);
    expect(() => parseConfig(env)).not.toThrow();
  });
});

describe("docker-compose.yml scales", () => {
  const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, { container_name?: string; ports?: unknown[]; command?: string[] }>;
  };
  it("has no fixed container name anywhere and publishes no port from workers or the listener", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.container_name, name).toBeUndefined();
      if (name.startsWith("workers-") || name === "listener") expect(service.ports, name).toBeUndefined();
    }
  });
});
