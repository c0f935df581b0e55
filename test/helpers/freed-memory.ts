import assert from 'node:assert/strict';

/**
 * Lends 64 buffers of 1 MiB through `take`, gives them all back through `give` while still referencing them, and
 * asserts that their memory was freed there and then: only freeing in `give` lowers the process's array buffers,
 * since a garbage collection could not free memory still referenced.
 */
export function assertFreedWhenGiven(
  take: (bytes: number) => Buffer,
  give: (buffer: Buffer) => void,
): Buffer[] {
  const lent = Array.from({ length: 64 }, () => take(1024 * 1024));
  const before = process.memoryUsage().arrayBuffers;
  for (const buffer of lent) give(buffer);
  const freed = before - process.memoryUsage().arrayBuffers;
  assert.ok(freed >= 64 * 1024 * 1024, `${freed} bytes freed of the 64 MiB given back`);
  return lent;
}
