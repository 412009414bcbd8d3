// Counts in words ("1 VM", "2 VMs", "1 CPU"): one rule for every place that shows a number of
// things, so no view says "1 VMs" or "2 CPU".

/** `n` followed by the singular or the plural (by default the singular plus "s"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
