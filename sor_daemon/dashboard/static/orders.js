/**
 * The smart orders the page shows: the views of `GET /v1/sor/requests`, kept current between
 * fetches by the feed's StatusChange and TradeFill messages. A fetch replaces everything (the
 * daemon is the truth); the feed only brings changes forward until the next one.
 */

const PERIOD_SECONDS = { SEC: 1, MIN: 60, HRS: 3600, DAY: 86_400, MTH: 2_592_000, YRS: 31_536_000 };

export class Orders {
  #byId = new Map();

  /** Replaces every order with the views of a `GET /requests` answer. */
  replaceAll(views) {
    this.#byId = new Map(views.map((view) => [view.id, view]));
  }

  get(id) {
    return this.#byId.get(id);
  }

  /** Every order, the latest started first. */
  list() {
    return [...this.#byId.values()].sort((a, b) => (startTime(b) ?? 0) - (startTime(a) ?? 0));
  }

  /**
   * Applies a StatusChange or TradeFill. One about an order the page does not know yet (a new
   * one) is left to the next fetch: only `/requests` has its algorithm, side and symbol.
   */
  apply(message) {
    const order = this.#byId.get(message.CompositeId);
    if (order === undefined) return;
    const data = message.Data;
    if (message.Type === "StatusChange") {
      order.status = data.Status;
      order.statusInfo = data.StatusInfo ?? null;
      order.fills = data.Fills.map(fillView);
    } else if (message.Type === "TradeFill") {
      const fill = fillView(data);
      if (!order.fills.some((known) => sameFill(known, fill))) order.fills.push(fill);
    }
  }
}

/** What is filled: the sum of the fills, rounded off binary floating point's dust. */
export function filled(order) {
  const sum = order.fills.reduce((total, fill) => total + fill.amountFilled, 0);
  return Math.round(sum * 1e10) / 1e10;
}

/** Filled over amount in percent (0-100, one decimal). */
export function percentFilled(order) {
  if (!(order.amount > 0)) return 0;
  return Math.min(100, Math.round((filled(order) / order.amount) * 1000) / 10);
}

/** When the order started (ms since the epoch; `statusHistory` is to the second, in UTC). */
export function startTime(order) {
  const running = order.statusHistory?.Running;
  return running === undefined ? undefined : historyTime(running);
}

/** When the schedule ends: the start plus the duration now in force. */
export function scheduleEnd(order) {
  const start = startTime(order);
  return start === undefined ? undefined : start + periodSeconds(order.duration) * 1000;
}

/** When the order ended, for an order that did. */
export function endTime(order) {
  const ended = order.status === "Running" ? undefined : order.statusHistory?.[order.status];
  return ended === undefined ? undefined : historyTime(ended);
}

/** A fill's time in ms since the epoch (the daemon writes seven fraction digits). */
export function fillTime(fill) {
  return Date.parse(fill.timeStamp.replace(/(\.\d{3})\d*/, "$1"));
}

function fillView(report) {
  return {
    exchange: report.Exchange,
    amountFilled: report.AmountFilled,
    price: report.Price,
    timeStamp: report.TimeStamp,
  };
}

function sameFill(a, b) {
  return a.timeStamp === b.timeStamp && a.price === b.price && a.amountFilled === b.amountFilled;
}

/** `MM/DD/YYYY HH:MM:SS` in UTC to ms since the epoch. */
function historyTime(text) {
  const [month, day, year, hour, minute, second] = text.split(/[/ :]/).map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** `5SEC`, `1MIN`, `2HRS`... in seconds (months as 30 days, years as 365, as the daemon does). */
function periodSeconds(period) {
  const [, count, unit] = /^(\d+)([A-Z]+)$/i.exec(period) ?? [];
  return Number(count) * (PERIOD_SECONDS[unit?.toUpperCase()] ?? Number.NaN);
}
