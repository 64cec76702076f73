/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping results in input
 * order. Used to bound concurrent downloads and decodes (sharp runs on libuv's thread pool,
 * so more in flight than the pool has threads only costs memory).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
