// The Grafana dashboard (ops/grafana/dashboards/discord-gpt.json) queries only metrics the bot
// exports, with labels those metrics have, from the datasource and scrape job the monitoring profile
// provisions: a renamed metric or label fails here instead of leaving a panel empty.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/ops/metrics.js';

interface Target {
  expr: string;
  legendFormat?: string;
}
const dashboard = JSON.parse(readFileSync('ops/grafana/dashboards/discord-gpt.json', 'utf8')) as {
  panels: { title: string; datasource: { uid: string }; targets: (Target & { datasource: { uid: string } })[] }[];
};
const targets = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, ...target })));

// Prometheus's own series for every target, and the labels it adds to every series it scrapes.
const PROMETHEUS_SERIES = new Set(['up']);
const TARGET_LABELS = ['job', 'instance'];
const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** Every series name the bot exports, with the label names it can carry (a histogram's parts included). */
async function exportedSeries(): Promise<Map<string, string[]>> {
  const metrics = new Metrics({ outboxDepth: () => Promise.resolve(0), queueDepth: () => Promise.resolve(0), inHand: () => 0 });
  const series = new Map<string, string[]>();
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    // prom-client keeps the declared label names on the metric (not in its typings).
    const labels = (metrics.registry.getSingleMetric(name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    if (String(type) !== 'histogram') series.set(name, labels);
    else for (const [part, extra] of [['_bucket', ['le']], ['_sum', []], ['_count', []]] as const) series.set(`${name}${part}`, [...labels, ...extra]);
  }
  return series;
}

/** The series a PromQL expression selects (with the labels its matchers name), and the labels it groups by. */
function parse(expr: string): { selectors: { name: string; labels: string[] }[]; grouping: string[] } {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\[[^\]]*\]/g, '') // ranges such as [$__rate_interval]
    .replace(/\$\w+/g, '');
  const grouping = [...text.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
  const selectors = [...text.replace(/\b(?:by|without)\s*\([^)]*\)/g, '').matchAll(/([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?\s*(\()?/g)]
    .filter((m) => !m[3] && !PROMQL_KEYWORDS.has(m[1]!)) // a name followed by "(" is a function
    .map((m) => ({ name: m[1]!, labels: [...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!) }));
  return { selectors, grouping };
}

describe('the Grafana dashboard', () => {
  it('queries only series the bot exports, and only labels they carry', async () => {
    const series = await exportedSeries();
    expect(targets.length).toBeGreaterThan(10);
    for (const { panel, expr, legendFormat } of targets) {
      const { selectors, grouping } = parse(expr);
      expect(selectors.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const available = new Set(TARGET_LABELS);
      for (const { name, labels } of selectors) {
        if (PROMETHEUS_SERIES.has(name)) continue;
        expect(series.has(name), `${panel}: ${name} is not exported by the bot`).toBe(true);
        for (const label of series.get(name)!) available.add(label);
        for (const label of labels) expect(available.has(label), `${panel}: ${name} has no label ${label}`).toBe(true);
      }
      for (const label of grouping) expect(available.has(label), `${panel}: grouping by ${label}, which ${expr} does not carry`).toBe(true);
      for (const [, label] of (legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        expect(grouping.includes(label!) || (grouping.length === 0 && available.has(label!)), `${panel}: legend uses ${label}, which the query drops`).toBe(true);
      }
    }
  });

  it('covers what an operator watches: outcomes, model latency and tokens, queue, outbox, errors, Discord rate limits', () => {
    const queried = new Set(targets.flatMap((t) => parse(t.expr).selectors.map((s) => s.name)));
    for (const name of [
      'bot_messages_total',
      'bot_model_request_seconds_bucket',
      'bot_model_tokens_total',
      'bot_queue_depth',
      'bot_messages_in_hand',
      'bot_outbox_depth',
      'bot_errors_total',
      'bot_discord_rate_limited_total',
    ]) {
      expect(queried.has(name), name).toBe(true);
    }
  });

  it('reads from the datasource and scrape job the monitoring profile provisions', () => {
    const datasource = readFileSync('ops/grafana/provisioning/datasources/prometheus.yml', 'utf8');
    const uid = /^\s*uid:\s*(\S+)/m.exec(datasource)?.[1];
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(uid);
      for (const target of panel.targets) expect(target.datasource.uid, panel.title).toBe(uid);
    }
    const job = /job_name:\s*(\S+)/.exec(readFileSync('ops/prometheus/prometheus.yml', 'utf8'))?.[1];
    for (const { expr } of targets) for (const [, name] of expr.matchAll(/job="([^"]*)"/g)) expect(name).toBe(job);
  });

  it('scrapes, and health-checks, the port docker-compose.yml pins for the bot', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    const pinned = /^\s*HTTP_PORT:\s*"?(\d+)"?\s*$/m.exec(compose)?.[1];
    expect(pinned).toBeDefined();
    expect(/^\s*HTTP_HOST:\s*0\.0\.0\.0\s*$/m.test(compose)).toBe(true); // reachable from the Prometheus container
    expect(/127\.0\.0\.1:(\d+)\/readyz/.exec(compose)?.[1]).toBe(pinned);
    expect(/^\s*port:\s*(\d+)/m.exec(readFileSync('ops/prometheus/prometheus.yml', 'utf8'))?.[1]).toBe(pinned);
  });
});
