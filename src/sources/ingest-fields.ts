/** The `_ingest` object every record carries (docs/record-schema.md). */
import { RECORD_SCHEMA_VERSION } from '../types.ts';

/**
 * The `_ingest` object, shared by the payloads mapped with the same source and time: a replay or a synthetic batch
 * maps hundreds of one-tweet payloads at one ingestedAtMs, and formatting the date was a visible share of each.
 * Records only serialise it, never change it. Shared by tweet-record.ts and the synthetic source's record
 * writer, which must write the same object (a module of its own, so the generator threads need not load the
 * whole mapping and its HTTP client).
 */
let lastIngest: { source: string; ms: number; fields: Record<string, unknown> } | undefined;
export function ingestFields(source: string, ms: number): Record<string, unknown> {
  if (lastIngest?.source !== source || lastIngest.ms !== ms)
    lastIngest = {
      source,
      ms,
      fields: { source, ingested_at: new Date(ms).toISOString(), schema_version: RECORD_SCHEMA_VERSION },
    };
  return lastIngest.fields;
}
