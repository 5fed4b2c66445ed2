/**
 * A small hand-drawn SVG line chart: a time axis, a value axis, and series drawn as lines,
 * steps, dots or horizontal reference lines, each named in a legend. No library; the page draws
 * only what the daemon gives it.
 */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 28, right: 16, bottom: 28, left: 84 };
const TICKS = 8; // at most; the round steps usually give fewer

/**
 * Draws into `svg`: `x` and `y` are `{ domain: [min, max], format, minStep? }` (`minStep`: the
 * smallest tick step worth labelling, such as one second on a clock); each series is
 * `{ kind: "line" | "step" | "dots" | "hline", points: [[x, y], ...] | value, label, className }`
 * (a series without a label stays out of the legend).
 * `empty` is a sentence shown instead when there is nothing to draw.
 */
export function drawChart(svg, { x, y, series, empty }) {
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.replaceChildren();
  if (empty) {
    svg.append(text(WIDTH / 2, HEIGHT / 2, empty, "empty"));
    return;
  }
  const sx = scale(x.domain, [MARGIN.left, WIDTH - MARGIN.right]);
  const sy = scale(y.domain, [HEIGHT - MARGIN.bottom, MARGIN.top]);
  svg.append(...axes(x, y, sx, sy));
  svg.append(...series.map((one) => draw(one, sx, sy, x.domain)));
  svg.append(...series.filter((one) => one.label).map(legend));
}

/** `[min, max]` around `values`, widened by `margin` of the span (or of the value when flat). */
export function paddedDomain(values, margin = 0.05) {
  const finite = values.filter(Number.isFinite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const pad = (max - min || Math.abs(max) || 1) * margin;
  return [min - pad, max + pad];
}

function draw({ kind, points, className }, sx, sy, xDomain) {
  switch (kind) {
    case "hline":
      return node("line", {
        class: `series ${className}`,
        x1: sx(xDomain[0]),
        x2: sx(xDomain[1]),
        y1: sy(points),
        y2: sy(points),
      });
    case "dots":
      return node(
        "g",
        { class: `series ${className}` },
        ...points.map(([px, py]) => node("circle", { cx: sx(px), cy: sy(py), r: 4 })),
      );
    default: {
      const path = kind === "step" ? stepPath(points) : points;
      const d = path.map(([px, py], i) => `${i ? "L" : "M"}${sx(px)},${sy(py)}`).join(" ");
      return node("path", { class: `series ${className}`, d });
    }
  }
}

/** A step-after path: the value holds until the next point. */
function stepPath(points) {
  return points.flatMap((point, i) => (i === 0 ? [point] : [[point[0], points[i - 1][1]], point]));
}

function legend({ label, className }, index) {
  const x = MARGIN.left + index * 165;
  return node(
    "g",
    { class: `legend ${className}` },
    node("line", { class: "series", x1: x, x2: x + 18, y1: 12, y2: 12 }),
    text(x + 22, 16, label, "legend-label"),
  );
}

function axes(x, y, sx, sy) {
  const [left, right] = sx.range;
  const [bottom, top] = sy.range;
  const parts = [
    node("line", { class: "axis", x1: left, x2: right, y1: bottom, y2: bottom }),
    node("line", { class: "axis", x1: left, x2: left, y1: bottom, y2: top }),
  ];
  for (const value of ticks(x)) {
    parts.push(text(sx(value), bottom + 18, x.format(value), "tick tick-x"));
  }
  for (const value of ticks(y)) {
    parts.push(node("line", { class: "grid", x1: left, x2: right, y1: sy(value), y2: sy(value) }));
    parts.push(text(left - 6, sy(value) + 4, y.format(value), "tick tick-y"));
  }
  return parts;
}

/** Round values inside `[min, max]`, about TICKS of them: multiples of 1, 2 or 5 x 10^n. */
function ticks({ domain: [min, max], minStep = 0 }) {
  const rough = Math.max((max - min) / TICKS, minStep);
  if (!(rough > 0)) return [min];
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((base) => base * magnitude).find((one) => one >= rough);
  const values = [];
  for (let value = Math.ceil(min / step) * step; value <= max; value += step) values.push(value);
  return values;
}

function scale([d0, d1], range) {
  const span = d1 - d0 || 1;
  const [r0, r1] = range;
  const map = (value) => r0 + ((value - d0) / span) * (r1 - r0);
  map.range = range;
  return map;
}

function text(x, y, content, className) {
  const element = node("text", { x, y, class: className });
  element.textContent = content;
  return element;
}

function node(name, attributes, ...children) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  element.append(...children);
  return element;
}
