/**
 * The daemon's parts as `GET /health` reports them, polled every few seconds: the EMS and
 * market-data FIX sessions, the journal and the kill switch. `/health` answers 503 with the
 * same body when a part is down, so every answer is shown; no answer at all says unreachable.
 */

import { call } from "./api.js";

const POLL_MS = 2000;
const UNREACHABLE = "unreachable";

/** Polls forever, filling the `#health-*` elements; returns a function that polls at once. */
export function watchHealth(root) {
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      const { body } = await call("GET", "/health");
      show(root, body);
    } catch {
      show(root, null);
    }
    timer = setTimeout(poll, POLL_MS);
  }
  poll();
  return poll;
}

function show(root, health) {
  const halted = health ? (health.halted ? "halted" : "trading") : UNREACHABLE;
  set(root.querySelector("#health-ems"), health?.ems_session ?? UNREACHABLE);
  set(root.querySelector("#health-market-data"), health?.market_data_session ?? UNREACHABLE);
  set(root.querySelector("#health-journal"), health?.journal ?? UNREACHABLE);
  set(root.querySelector("#health-halted"), halted);
}

/** The state as text, and as `data-state` for its colour. */
function set(element, state) {
  element.textContent = state;
  element.dataset.state = state;
}
