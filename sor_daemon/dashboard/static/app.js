/**
 * The dashboard's wiring. On every (re)connect of the feed the page catches up from
 * `GET /v1/sor/requests` (the newest SHOWN_ORDERS of them); between fetches the feed's messages
 * update the orders at once, and each one also asks for a (coalesced) fetch, since only
 * `/requests` has `executionQuality` and a new order's algorithm, side and symbol.
 */

import { getJson } from "./api.js";
import { renderDetail } from "./detail.js";
import { Feed } from "./feed.js";
import { watchHealth } from "./health.js";
import { wireKillSwitch } from "./killswitch.js";
import { Orders } from "./orders.js";
import { coalesced } from "./refresh.js";
import { apiKey, saveApiKey } from "./settings.js";
import { renderTable } from "./table.js";

const REFRESH_GAP_MS = 500;
const SHOWN_ORDERS = 200; // a long history stays in the journal: the daemon lists it in pages
const REQUESTS = `/v1/sor/requests?newest=${SHOWN_ORDERS}`;
const ORDER_MESSAGES = new Set(["StatusChange", "TradeFill"]); // what changes the page

const orders = new Orders();
const tbody = document.querySelector("#orders tbody");
const detail = document.querySelector("#detail");
const error = document.querySelector("#error");
let selectedId = null;
let renderPending = false;

/** Draws the table and the selected order once per frame, however many changes came. */
function render() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderTable(tbody, orders.list(), selectedId);
    renderDetail(detail, orders.get(selectedId));
  });
}

function showError(message) {
  error.hidden = message === null;
  error.textContent = message ?? "";
}

const refresh = coalesced(async () => {
  try {
    orders.replaceAll(await getJson(REQUESTS));
    showError(null);
  } catch (failure) {
    showError(`GET ${REQUESTS}: ${failure.message}`);
  }
  render();
}, REFRESH_GAP_MS);

const feed = new Feed({
  onOpen: refresh,
  onMessage(message) {
    if (!ORDER_MESSAGES.has(message.Type)) return;
    orders.apply(message);
    render();
    refresh();
  },
  onState(state) {
    const element = document.querySelector("#feed-state");
    element.textContent = state;
    element.dataset.state = state === "live" ? "up" : "down";
  },
});

tbody.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-order-id]");
  if (row === null) return;
  selectedId = row.dataset.orderId;
  render();
});
tbody.addEventListener("keydown", (event) => {
  if (event.key === "Enter") event.target.closest("tr[data-order-id]")?.click();
});

const keyInput = document.querySelector("#api-key");
keyInput.value = apiKey();
document.querySelector("#settings").addEventListener("submit", (event) => {
  event.preventDefault();
  saveApiKey(keyInput.value);
  feed.restart(); // reconnects with the new key, then catches up
});

const pollHealth = watchHealth(document);
wireKillSwitch({
  halt: document.querySelector("#halt"),
  resume: document.querySelector("#resume"),
  output: document.querySelector("#kill-switch-message"),
  changed: pollHealth,
});
feed.restart();
