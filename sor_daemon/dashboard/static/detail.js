/**
 * The selected order's two charts. Prices: its fills over time against the market's mid as each
 * slice saw it (`market` on GET /requests: one sample per slice, the mid across the order's
 * venues) and two single figures of `executionQuality` drawn as flat lines (the market VWAP over
 * the order's life, the order's average price).
 * Progress: the cumulative filled amount against the schedule, a straight line from 0 at the
 * start to the amount at start + duration.
 */

import { drawChart, paddedDomain } from "./chart.js";
import * as format from "./format.js";
import { endTime, fillTime, scheduleEnd, startTime } from "./orders.js";

const TICK_PRICE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/** Shows `order` in `section` (hidden when there is none). */
export function renderDetail(section, order) {
  section.hidden = order === undefined;
  if (order === undefined) return;
  section.querySelector("#detail-title").textContent =
    `${order.algorithm} ${order.side} ${format.amount(order.amount)} ${order.symbol} ` +
    `over ${order.duration} every ${order.interval}: ${order.id}`;
  const start = startTime(order);
  const fills = order.fills.map((fill) => ({ ...fill, at: fillTime(fill) }));
  fills.sort((a, b) => a.at - b.at);
  const end = Math.max(scheduleEnd(order), endTime(order) ?? 0, ...fills.map((fill) => fill.at));
  const time = { domain: [start, end], format: format.clock, minStep: 1000 };
  drawChart(section.querySelector("#price-chart"), priceChart(order, fills, time));
  drawChart(section.querySelector("#progress-chart"), progressChart(order, fills, time));
}

function priceChart(order, fills, time) {
  if (fills.length === 0) return { empty: "no fills yet" };
  const quality = order.executionQuality ?? {};
  const points = fills.map((fill) => [fill.at, fill.price]);
  const mids = (order.market ?? [])
    .filter((sample) => sample.mid != null)
    .map((sample) => [Date.parse(sample.timeStamp), sample.mid]);
  const references = [
    ["marketVwap", "market VWAP", "market-vwap"],
    ["averagePrice", "order average", "average"],
  ].filter(([key]) => quality[key] != null);
  const series = [
    { kind: "line", points: mids, label: "market mid", className: "market-mid" },
    { kind: "line", points, label: "fill prices", className: "fills" },
    { kind: "dots", points, className: "fills" },
    ...references.map(([key, label, className]) => ({
      kind: "hline",
      points: quality[key],
      label,
      className,
    })),
  ];
  const values = [
    ...points.map(([, price]) => price),
    ...mids.map(([, mid]) => mid),
    ...references.map(([key]) => quality[key]),
  ];
  return {
    x: time,
    y: { domain: paddedDomain(values), format: (value) => TICK_PRICE.format(value) },
    series,
  };
}

function progressChart(order, fills, time) {
  const [start, scheduleEnds] = [time.domain[0], scheduleEnd(order)];
  let total = 0;
  const cumulative = [[start, 0]];
  for (const fill of fills) {
    total += fill.amountFilled;
    cumulative.push([fill.at, total]);
  }
  const ended = endTime(order);
  if (ended !== undefined) cumulative.push([Math.max(ended, cumulative.at(-1)[0]), total]);
  return {
    x: time,
    y: { domain: [0, Math.max(order.amount, total) * 1.05], format: format.amount },
    series: [
      {
        kind: "line",
        points: [
          [start, 0],
          [scheduleEnds, order.amount],
        ],
        label: "schedule",
        className: "schedule",
      },
      { kind: "step", points: cumulative, label: "filled", className: "filled" },
    ],
  };
}
