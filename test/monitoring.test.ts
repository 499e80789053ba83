// The shipped monitoring files: Prometheus alert rules (`promtool check rules`, and their unit tests
// `promtool test rules`), the scrape configuration (`promtool check config`), and the Grafana dashboard
// (every query parses as PromQL). Every killboard_* metric they name is one the code defines. Without
// promtool (Debian's `prometheus` package; .ci/run installs it) only the YAML and the names are checked.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { registry } from "../server/metrics/registry.ts";
import { sharedRegistry } from "../server/metrics/shared.ts";
import { ROOT } from "./support/spawn.ts";

const PROM = join(ROOT, "deploy/prometheus");
const promtool = Bun.which("promtool");
const alertsText = readFileSync(join(PROM, "alerts.yml"), "utf8");
const alerts = parse(alertsText) as { groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string } }[] }[] };
const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/dashboards/killboard.json"), "utf8")) as {
  uid: string;
  panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

function tool(...args: string[]) {
  return spawnSync(promtool!, args, { cwd: PROM, encoding: "utf8" });
}

describe("Prometheus alert rules", () => {
  it("cover backlog, failures, workers, the listener, the ESI guard, SSO refreshes and partitions", () => {
    const names = alerts.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names).toEqual(
      expect.arrayContaining([
        "KillboardLiveBacklogOld",
        "KillboardBacklogOld",
        "KillboardJobFailureRate",
        "KillboardNoWorker",
        "KillboardListenerLag",
        "KillboardListenerStalled",
        "KillboardEsiGuardLong",
        "KillboardSsoRefreshFailures",
        "KillboardPartitionsRunningOut",
      ]),
    );
    for (const rule of alerts.groups.flatMap((g) => g.rules))
      expect(["critical", "warning", "info"], rule.alert).toContain(rule.labels.severity);
  });

  it("pass `promtool check rules` and their unit tests", () => {
    if (!promtool) {
      console.warn("promtool not installed (Debian package prometheus): alert rules checked as YAML only");
      return;
    }
    const check = tool("check", "rules", "alerts.yml");
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const unit = tool("test", "rules", "alerts.test.yml");
    expect(unit.stdout + unit.stderr).toContain("SUCCESS");
    expect(unit.status).toBe(0);
  });

  it("scrape configuration passes `promtool check config`", () => {
    if (!promtool) return;
    // Paths inside the container → this checkout's files.
    const dir = mkdtempSync(join(tmpdir(), "prometheus-"));
    copyFileSync(join(PROM, "alerts.yml"), join(dir, "alerts.yml"));
    writeFileSync(join(dir, "admin-token"), "token");
    const config = readFileSync(join(PROM, "prometheus.yml"), "utf8")
      .replaceAll("/etc/killboard/alerts.yml", join(dir, "alerts.yml"))
      .replaceAll("/tmp/admin-token", join(dir, "admin-token"));
    writeFileSync(join(dir, "prometheus.yml"), config);
    const check = spawnSync(promtool, ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("Grafana dashboard", () => {
  it("queries the provisioned Prometheus data source in every panel", () => {
    expect(dashboard.uid).toBe("killboard-core");
    expect(queries.length).toBeGreaterThan(20);
    for (const p of dashboard.panels.filter((p) => p.type !== "row")) expect(p.datasource?.uid, p.title).toBe("killboard-prometheus");
  });

  it("has queries that parse as PromQL", () => {
    if (!promtool) return;
    // Each query as a recording rule (Grafana's variables replaced as Grafana would): promtool parses them.
    const rules = {
      groups: [
        {
          name: "dashboard",
          rules: queries.map((q, i) => ({
            record: `dashboard:query_${i}`,
            expr: q.expr.replaceAll("$__rate_interval", "1m").replaceAll("$queue", ".*"),
          })),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), "dashboard-"));
    writeFileSync(join(dir, "queries.yml"), stringify(rules));
    const check = spawnSync(promtool, ["check", "rules", join(dir, "queries.yml")], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toContain(`SUCCESS: ${queries.length} rules found`);
  });
});

describe("metric names in alerts and dashboard", () => {
  it("are all defined by the code", async () => {
    const defined = new Set([...(await registry.getMetricsAsJSON()), ...(await sharedRegistry.getMetricsAsJSON())].map((m) => m.name));
    const used = new Set(
      [...`${alertsText}\n${queries.map((q) => q.expr).join("\n")}`.matchAll(/\b(killboard_[a-z0-9_]+)/g)].map((m) =>
        m[1]!.replace(/_(bucket|count|sum)$/, ""),
      ),
    );
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect(defined, name).toContain(name);
    // Every metric the code defines has a panel.
    const inDashboard = queries.map((q) => q.expr).join("\n");
    for (const name of defined) if (name.startsWith("killboard_")) expect(inDashboard, name).toContain(name);
  });
});
