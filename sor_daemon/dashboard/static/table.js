/** The live table of smart orders: one row per order, the selected one highlighted. */

import { h } from "./dom.js";
import * as format from "./format.js";
import { filled, percentFilled } from "./orders.js";

/** Redraws `tbody` with one row per order (`orders` in display order). */
export function renderTable(tbody, orders, selectedId) {
  tbody.replaceChildren(...orders.map((order) => row(order, order.id === selectedId)));
}

function row(order, selected) {
  const quality = order.executionQuality ?? {};
  return h(
    "tr",
    { "data-order-id": order.id, class: selected ? "selected" : null, tabindex: "0" },
    h("td", { class: "id", title: order.id }, order.id),
    h("td", {}, order.algorithm),
    h("td", { class: `side side-${order.side.toLowerCase()}` }, order.side),
    h("td", {}, `${order.symbol} ${order.exchanges.join(", ")}`),
    h("td", {}, status(order)),
    h("td", {}, progressBar(percentFilled(order))),
    h("td", { class: "number" }, `${format.amount(filled(order))} / ${format.amount(order.amount)}`),
    h("td", { class: "number" }, format.price(quality.averagePrice)),
    h("td", { class: "number slippage" }, format.bps(quality.slippageBps)),
  );
}

function status(order) {
  return h(
    "span",
    {},
    h("span", { class: `status status-${order.status.toLowerCase()}` }, order.status),
    order.statusInfo ? h("small", { class: "status-info" }, order.statusInfo) : null,
  );
}

function progressBar(percent) {
  return h(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(percent),
    },
    h("div", { class: "bar", style: `width: ${percent}%` }),
    h("span", { class: "label" }, `${percent} %`),
  );
}
