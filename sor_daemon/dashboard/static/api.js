/**
 * The daemon's public API as this page uses it: same-origin REST calls carrying the key as
 * `Authorization: Bearer`, and the feed's URL carrying it as `?api_key=` (a browser cannot set
 * headers on a WebSocket).
 */

import { apiKey } from "./settings.js";

/** A call the daemon refused (or could not be reached for), with its sentence. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls `method path` with an optional JSON body; resolves to `{ status, ok, body }` whatever the
 * status (the daemon's errors are `{error, message}` bodies), rejects only when nothing answered.
 */
export async function call(method, path, body) {
  const headers = {};
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const document = await response.json().catch(() => null);
  return { status: response.status, ok: response.ok, body: document };
}

/** GET `path` and its JSON; throws ApiError with the daemon's sentence unless it answered 2xx. */
export async function getJson(path) {
  let result;
  try {
    result = await call("GET", path);
  } catch {
    throw new ApiError(0, "the daemon cannot be reached");
  }
  if (!result.ok) throw new ApiError(result.status, describeFailure(result));
  return result.body;
}

/** One line for a refused call: `403 FORBIDDEN: the key 'desk-1' is a trader; ...`. */
export function describeFailure({ status, body }) {
  if (body?.message) return `${status} ${body.error}: ${body.message}`;
  return `the daemon answered ${status}`;
}

/** The feed's ws:// or wss:// URL on this page's host, with the key when one is set. */
export function feedUrl() {
  const url = new URL("/v1/sor/ws", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const key = apiKey();
  if (key) url.searchParams.set("api_key", key);
  return url.href;
}
