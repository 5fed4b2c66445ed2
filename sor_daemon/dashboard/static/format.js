/** How numbers and times read on the page. */

const AMOUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });
const PRICE = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const SMALL_PRICE = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 });
const BPS = new Intl.NumberFormat("en-US", { signDisplay: "exceptZero", maximumFractionDigits: 2 });
const NONE = "—";

export function amount(value) {
  return value == null ? NONE : AMOUNT.format(value);
}

/** Cents for prices of 100 and more, six significant digits below. */
export function price(value) {
  if (value == null) return NONE;
  return (Math.abs(value) >= 100 ? PRICE : SMALL_PRICE).format(value);
}

export function bps(value) {
  return value == null ? NONE : BPS.format(value);
}

/** `HH:MM:SS` in UTC, the zone every time the daemon writes is in. */
export function clock(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}
