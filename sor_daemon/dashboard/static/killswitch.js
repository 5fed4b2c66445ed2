/**
 * The kill switch: `POST /v1/sor/halt` and `POST /v1/sor/resume`. The buttons are there for
 * everyone; the daemon decides (only an admin key may), and its answer, a refusal included, is
 * shown as it came.
 */

import { call, describeFailure } from "./api.js";

const HALT_REASON = "halted from the dashboard";

/** Wires the buttons; `changed()` runs after every answer (to refresh the health at once). */
export function wireKillSwitch({ halt, resume, output, changed }) {
  async function send(path, body) {
    output.textContent = "…";
    try {
      const result = await call("POST", path, body);
      output.textContent = result.ok ? describeHalt(result.body) : describeFailure(result);
      output.dataset.state = result.ok ? "ok" : "refused";
    } catch {
      output.textContent = "the daemon cannot be reached";
      output.dataset.state = "refused";
    }
    changed();
  }

  halt.addEventListener("click", () => {
    const question = "Halt all trading? Every algorithm stops and every venue gets a mass cancel.";
    if (window.confirm(question)) send("/v1/sor/halt", { reason: HALT_REASON });
  });
  resume.addEventListener("click", () => send("/v1/sor/resume"));
}

/** `halted since ...: reason; mass cancel DERIBIT sent, ...` or `trading resumed`. */
function describeHalt(state) {
  if (!state.halted) return "trading resumed";
  const sent = Object.entries(state.massCancel ?? {}).map(([venue, how]) => `${venue} ${how}`);
  const massCancel = sent.length ? `; mass cancel: ${sent.join(", ")}` : "";
  return `halted since ${state.since}: ${state.reason}${massCancel}`;
}
