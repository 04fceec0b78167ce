/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), as a scraper
 * reads it: `# HELP` and `# TYPE` lines declare a family; each sample line belongs to the
 * family declared before it (a histogram's as name_bucket with `le`, name_sum, name_count);
 * label values are quoted with \\, \" and \n escapes; values are floats, +Inf, -Inf or NaN (in any case, as Prometheus's own parser takes them).
 * Anything else throws, naming the line.
 */
export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; help: string; type: string; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function parseValue(text: string, line: string): number {
  // As Prometheus reads them (Go's ParseFloat): Inf and NaN in any case, prom-client writes "Nan".
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const v = Number(text);
  if (text === "" || Number.isNaN(v)) throw new Error(`not a number in: ${line}`);
  return v;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const name = text.slice(i, eq);
    if (eq < 0 || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || text[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        value += next === "n" ? "\n" : next === "\\" || next === '"' ? next : (() => { throw new Error(`bad escape in: ${line}`); })();
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`bad label list in: ${line}`);
  }
  return labels;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family: Family = families.get(name) ?? { name, help: "", type: "untyped", samples: [] };
      if (kind === "HELP") family.help = rest;
      else if (["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) family.type = rest;
      else throw new Error(`unknown type in: ${line}`);
      families.set(name, family);
      current = family;
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, valueText] = m;
    const allowed = current
      ? current.type === "histogram"
        ? [`${current.name}_bucket`, `${current.name}_sum`, `${current.name}_count`]
        : current.type === "summary"
          ? [current.name, `${current.name}_sum`, `${current.name}_count`]
          : [current.name]
      : [];
    if (!current || !allowed.includes(name)) throw new Error(`sample of no declared family: ${line}`);
    const labels = parseLabels(labelText ?? "", line);
    if (name.endsWith("_bucket") && current.type === "histogram" && !("le" in labels)) throw new Error(`bucket without le: ${line}`);
    current.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  return families;
}

/** A histogram's series per label set (without `le`): bounds with cumulative counts, sum and count. */
export function histogramSeries(family: Family): { labels: Record<string, string>; buckets: [number, number][]; sum: number; count: number }[] {
  const byKey = new Map<string, { labels: Record<string, string>; buckets: [number, number][]; sum: number; count: number }>();
  for (const s of family.samples) {
    const { le, ...labels } = s.labels;
    const key = JSON.stringify(labels);
    const series = byKey.get(key) ?? { labels, buckets: [], sum: NaN, count: NaN };
    byKey.set(key, series);
    if (s.name.endsWith("_bucket")) series.buckets.push([parseValue(le, s.name), s.value]);
    else if (s.name.endsWith("_sum")) series.sum = s.value;
    else series.count = s.value;
  }
  return [...byKey.values()];
}
