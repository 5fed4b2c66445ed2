/**
 * Coalesces refreshes: however often `request()` is called, `load` runs at most once at a time
 * and at most once per `gapMs`, and a request made while it runs gets one more run afterwards,
 * so the last change is never missed and a burst of feed messages costs one or two GETs.
 */
export function coalesced(load, gapMs) {
  let running = false;
  let again = false;
  return async function request() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await load();
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      } while (again);
    } finally {
      running = false;
    }
  };
}
