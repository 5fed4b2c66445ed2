/**
 * The WebSocket feed, kept open: when it closes (the daemon restarted, the network dropped, the
 * key was refused) it reconnects after a delay that doubles up to a ceiling and starts over once
 * a connection opens. `onOpen` runs on every (re)connect, which is where the page catches up on
 * what it missed while it was away.
 */

import { feedUrl } from "./api.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

export class Feed {
  #handlers;
  #socket = null;
  #timer = null;
  #delay = FIRST_DELAY_MS;

  /** `onOpen()`, `onMessage(message)` with the decoded message, `onState(sentence)`. */
  constructor({ onOpen, onMessage, onState }) {
    this.#handlers = { onOpen, onMessage, onState };
  }

  /** Connects now, dropping any connection or pending retry (after a new key is saved). */
  restart() {
    clearTimeout(this.#timer);
    const old = this.#socket;
    this.#socket = null; // its close event must not schedule a retry
    old?.close();
    this.#delay = FIRST_DELAY_MS;
    this.#connect();
  }

  #connect() {
    const { onOpen, onMessage, onState } = this.#handlers;
    onState("connecting");
    const socket = new WebSocket(feedUrl());
    this.#socket = socket;
    socket.addEventListener("open", () => {
      this.#delay = FIRST_DELAY_MS;
      onState("live");
      onOpen();
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (this.#socket !== socket) return;
      const delay = this.#delay;
      this.#delay = Math.min(delay * 2, MAX_DELAY_MS);
      onState(`reconnecting in ${(delay / 1000).toFixed(1)} s`);
      this.#timer = setTimeout(() => this.#connect(), delay);
    });
  }
}
