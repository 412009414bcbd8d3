/**
 * Runs `fn` on every item with at most `limit` running at once; results keep the items' order.
 * `fn` should not throw (each VM reports its own failure); if it does, the rest still run and
 * the first error is rethrown at the end.
 */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { e: unknown }).e;
  return out;
}
