/** The last hour's charts (uPlot), from `GET …/history`; scaling decisions are drawn as dashed vertical lines on the replicas chart. */
import uPlot from "uplot";
import { el, fill } from "./dom.js";
import { clock } from "./format.js";
import type { History, HistorySample, ScalingDecision } from "./types.js";

const HEIGHT = 170;
const DECISIONS_LISTED = 10;

interface ChartSpec {
  title: string;
  series: { label: string; value: (s: HistorySample) => number; color: string }[];
  stepped?: boolean;
  decisions?: boolean;
}

const SPECS: ChartSpec[] = [
  { title: "Lag (records)", series: [{ label: "lag", value: (s) => s.lag, color: "--chart-1" }] },
  {
    title: "Records per second",
    series: [
      { label: "arriving", value: (s) => s.arrivalPerSec, color: "--chart-2" },
      { label: "processed", value: (s) => s.processedPerSec, color: "--chart-1" },
    ],
  },
  {
    title: "Replicas",
    stepped: true,
    decisions: true,
    series: [
      { label: "desired", value: (s) => s.replicasDesired, color: "--chart-2" },
      { label: "ready", value: (s) => s.replicasReady, color: "--chart-1" },
    ],
  },
  {
    title: "Failures per second",
    series: [
      { label: "failed", value: (s) => s.failedPerSec, color: "--chart-3" },
      { label: "dead-lettered", value: (s) => s.deadLetteredPerSec, color: "--chart-4" },
    ],
  },
];

export function historyCharts(signal: AbortSignal): { element: HTMLElement; update(history: History): void } {
  const empty = el("p", { class: "muted" }, "No samples yet: Eddy samples every function every 5 s.");
  const decisionList = el("ol", { class: "decisions" });
  const plots = SPECS.map(() => el("div", { class: "plot" }));
  const element = el(
    "div",
    { class: "charts" },
    empty,
    ...SPECS.map((spec, i) => el("figure", { class: "chart" }, el("figcaption", {}, spec.title), plots[i], spec.decisions === true && decisionList)),
  );
  const charts: (uPlot | undefined)[] = SPECS.map(() => undefined);
  let decisions: ScalingDecision[] = [];

  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = charts[plots.indexOf(entry.target as HTMLDivElement)];
      const width = Math.floor(entry.contentRect.width);
      if (chart !== undefined && width > 0 && width !== chart.width) chart.setSize({ width, height: HEIGHT });
    }
  });
  plots.forEach((plot) => resizer.observe(plot));
  signal.addEventListener("abort", () => {
    resizer.disconnect();
    charts.forEach((chart) => chart?.destroy());
  });

  const drawDecisions = (u: uPlot) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = cssColor("--chart-marker");
    ctx.lineWidth = devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const decision of decisions) {
      const x = Math.round(u.valToPos(Date.parse(decision.at) / 1000, "x", true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  };

  return {
    element,
    update(history) {
      empty.hidden = history.samples.length > 0;
      decisions = history.decisions;
      showDecisions(decisionList, decisions);
      if (history.samples.length === 0) return;
      const xs = history.samples.map((s) => Date.parse(s.at) / 1000);
      SPECS.forEach((spec, i) => {
        const data: uPlot.AlignedData = [xs, ...spec.series.map((series) => history.samples.map(series.value))];
        const chart = charts[i];
        if (chart === undefined) charts[i] = new uPlot(options(spec, plots[i]!.clientWidth, spec.decisions === true ? drawDecisions : undefined), data, plots[i]!);
        else chart.setData(data);
      });
    },
  };
}

function options(spec: ChartSpec, width: number, draw: ((u: uPlot) => void) | undefined): uPlot.Options {
  const axis: uPlot.Axis = { stroke: cssColor("--muted"), grid: { stroke: cssColor("--grid"), width: 1 }, ticks: { stroke: cssColor("--grid"), width: 1 } };
  return {
    width: Math.max(width, 200),
    height: HEIGHT,
    // Counts and rates start at zero, so that a small wobble does not look like a cliff.
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [axis, { ...axis, size: 48 }],
    series: [
      {},
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: cssColor(s.color),
        width: 2,
        paths: spec.stepped === true ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
      })),
    ],
    hooks: draw === undefined ? {} : { draw: [draw] },
  };
}

function showDecisions(list: HTMLOListElement, decisions: ScalingDecision[]): void {
  const newest = decisions.slice(-DECISIONS_LISTED).reverse();
  // Rebuilt only when it changed, so that a tooltip being read does not vanish at the next poll.
  const shown = newest.map((d) => d.at).join() || "none";
  if (list.dataset.shown === shown) return;
  list.dataset.shown = shown;
  if (newest.length === 0) return fill(list, el("li", { class: "muted" }, "No scaling decisions in the last hour."));
  fill(
    list,
    ...newest.map((d) => el("li", { title: d.reason }, el("time", { datetime: d.at }, clock(d.at)), ` ${d.from} → ${d.to} replicas: `, el("span", { class: "muted" }, d.reason))),
  );
}

/** Canvas cannot read CSS variables, so the scheme's colours are looked up when a chart is made. */
function cssColor(variable: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(variable).trim() || "#888";
}
