/** The HTTP status of an error thrown by @kubernetes/client-node (ApiException.code), if any. */
export function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
}
