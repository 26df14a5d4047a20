// Numbers and dates as the dashboard shows them.

const numbers = new Intl.NumberFormat("en-US");

export function fmt(value) {
  return numbers.format(value || 0);
}

export function date(iso) {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, " UTC");
}

export function isoDay(when) {
  return when.toISOString().slice(0, 10);
}

export function messageOf(error) {
  return error && error.message ? error.message : String(error);
}
