/** Wrap an async factory so that it runs at most once per process; every caller shares the same promise. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= make());
}
