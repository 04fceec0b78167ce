/** The strict exposition reader the metrics test relies on: it refuses what Prometheus would refuse. */
import { describe, expect, it } from "vitest";
import { histogramSeries, parsePrometheusText } from "../helpers/prometheus-text";

const good = [
  "# HELP portal_orders Orders by status",
  "# TYPE portal_orders gauge",
  'portal_orders{status="ready"} 3',
  'portal_orders{status="a \\"quoted\\" one\\\\"} 1',
  "# TYPE nodejs_eventloop_lag_seconds gauge",
  "nodejs_eventloop_lag_seconds Nan",
  "# HELP portal_delivery_seconds Delivery",
  "# TYPE portal_delivery_seconds histogram",
  'portal_delivery_seconds_bucket{image="x",le="60"} 1',
  'portal_delivery_seconds_bucket{image="x",le="+Inf"} 2',
  'portal_delivery_seconds_sum{image="x"} 130.5',
  'portal_delivery_seconds_count{image="x"} 2',
  "",
].join("\n");

describe("parsePrometheusText", () => {
  it("reads families, escaped label values and histograms", () => {
    const f = parsePrometheusText(good);
    expect(f.get("portal_orders")?.samples.map((s) => [s.labels.status, s.value])).toEqual([["ready", 3], ['a "quoted" one\\', 1]]);
    expect(f.get("nodejs_eventloop_lag_seconds")?.samples[0].value).toBeNaN();
    expect(histogramSeries(f.get("portal_delivery_seconds")!)).toEqual([{ labels: { image: "x" }, buckets: [[60, 1], [Infinity, 2]], sum: 130.5, count: 2 }]);
  });

  it.each([
    ["a sample before its family", 'portal_orders{status="ready"} 3'],
    ["a sample of another family", "# TYPE a gauge\nb 1"],
    ["a value that is no number", "# TYPE a gauge\na one"],
    ["an unquoted label value", "# TYPE a gauge\na{x=1} 1"],
    ["a bucket without le", "# TYPE h histogram\nh_bucket{x=\"1\"} 1"],
    ["an unknown type", "# TYPE a thing"],
  ])("refuses %s", (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
