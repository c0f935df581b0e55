/**
 * The X API v2 request surface tweetpipe uses, per API era, derived from X's own OpenAPI documents
 * (spec/x-api/openapi-<era>.json, as X serves them at /2/openapi.json): for each endpoint, the query parameters it
 * takes and the values or limits each one allows. The client and the X API emulator both read this one table, so
 * neither can drift from the spec or from the other. It is derived when first used (the documents are parsed once
 * per process), and the same derivation reads a document a server serves, to tell its era.
 */
import { readFileSync } from 'node:fs';

/** X's OpenAPI versions that renamed things: 2.159 (`tweet.fields`, `includes.tweets`) and 2.167 (`post.fields`). */
export const API_ERAS = ['2.159', '2.167'] as const;
export type ApiEra = (typeof API_ERAS)[number];

export const otherEra = (era: ApiEra): ApiEra => (era === '2.159' ? '2.167' : '2.159');

/** The endpoints tweetpipe calls. */
export const X_ENDPOINTS = {
  stream: { method: 'get', path: '/2/tweets/search/stream' },
  rulesLookup: { method: 'get', path: '/2/tweets/search/stream/rules' },
  rulesUpdate: { method: 'post', path: '/2/tweets/search/stream/rules' },
  search: { method: 'get', path: '/2/tweets/search/recent' },
} as const;
export type XEndpoint = keyof typeof X_ENDPOINTS;

/** One query parameter as the spec describes it (the JSON Schema keywords that constrain a query value). */
export interface QueryParam {
  type: 'string' | 'integer' | 'boolean' | 'array';
  /** The allowed values: of the parameter, or of each item of a comma-separated list. */
  values?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** Most items a comma-separated list may hold. */
  maxItems?: number;
  required?: boolean;
}

/** Query parameters of one endpoint, by name, in the spec's order. */
export type EndpointParams = Readonly<Record<string, QueryParam>>;

export type EraTable = Readonly<Record<XEndpoint, EndpointParams>>;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follows a local `$ref` ("#/components/...") inside `doc`. */
function deref(doc: Json, node: unknown): Json {
  let current = node;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    if (hops > 16) throw new Error(`OpenAPI: $ref cycle at ${current.$ref}`);
    let target: unknown = doc;
    for (const part of current.$ref.replace(/^#\//, '').split('/'))
      target = isObject(target) ? target[part] : {};
    current = target;
  }
  return isObject(current) ? current : {};
}

function toQueryParam(doc: Json, param: Json): QueryParam {
  const schema = deref(doc, param.schema);
  const type = schema.type === 'array' ? 'array' : (schema.type as QueryParam['type'] | undefined);
  const valueSchema = type === 'array' ? deref(doc, schema.items) : schema;
  const out: QueryParam = { type: type ?? 'string' };
  if (Array.isArray(valueSchema.enum)) out.values = valueSchema.enum.map(String);
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength'] as const) {
    if (typeof valueSchema[key] === 'number') out[key] = valueSchema[key];
  }
  if (typeof valueSchema.pattern === 'string') out.pattern = valueSchema.pattern;
  if (typeof schema.maxItems === 'number') out.maxItems = schema.maxItems;
  if (param.required === true) out.required = true;
  return out;
}

/** The query parameters of `endpoint` in an OpenAPI document; undefined when the document lacks the endpoint. */
export function endpointParams(doc: unknown, endpoint: XEndpoint): EndpointParams | undefined {
  if (!isObject(doc) || !isObject(doc.paths)) return undefined;
  const { method, path } = X_ENDPOINTS[endpoint];
  const item = doc.paths[path];
  const operation = isObject(item) ? item[method] : undefined;
  if (!isObject(operation)) return undefined;
  const params: Record<string, QueryParam> = {};
  const declared = [
    ...(Array.isArray(item && (item as Json).parameters) ? ((item as Json).parameters as unknown[]) : []),
    ...(Array.isArray(operation.parameters) ? operation.parameters : []),
  ];
  for (const raw of declared) {
    const param = deref(doc, raw);
    if (param.in === 'query' && typeof param.name === 'string') params[param.name] = toQueryParam(doc, param);
  }
  return params;
}

/** Derives the table of every endpoint tweetpipe calls from one OpenAPI document. */
export function deriveEraTable(doc: unknown): EraTable {
  const table = {} as Record<XEndpoint, EndpointParams>;
  for (const endpoint of Object.keys(X_ENDPOINTS) as XEndpoint[]) {
    const params = endpointParams(doc, endpoint);
    if (!params) throw new Error(`OpenAPI document has no ${X_ENDPOINTS[endpoint].path}`);
    table[endpoint] = params;
  }
  return table;
}

const specs = new Map<ApiEra, Json>();
const tables = new Map<ApiEra, EraTable>();

/** X's OpenAPI document of an era, as shipped in spec/x-api/ (parsed once). */
export function openApiSpec(era: ApiEra): Json {
  let spec = specs.get(era);
  if (!spec) {
    const file = new URL(`../../../spec/x-api/openapi-${era}.json`, import.meta.url);
    spec = JSON.parse(readFileSync(file, 'utf8')) as Json;
    specs.set(era, spec);
  }
  return spec;
}

/** The request table of an era. */
export function eraTable(era: ApiEra): EraTable {
  let table = tables.get(era);
  if (!table) {
    table = deriveEraTable(openApiSpec(era));
    tables.set(era, table);
  }
  return table;
}

/** The parameter that selects post fields on `endpoint` in `era` (`tweet.fields` or `post.fields`). */
export function postFieldsParam(
  era: ApiEra,
  endpoint: XEndpoint,
): 'tweet.fields' | 'post.fields' | undefined {
  const params = eraTable(era)[endpoint];
  if ('post.fields' in params) return 'post.fields';
  if ('tweet.fields' in params) return 'tweet.fields';
  return undefined;
}

const sameParams = (a: EndpointParams, b: EndpointParams): boolean =>
  JSON.stringify(Object.keys(a).sort()) === JSON.stringify(Object.keys(b).sort());

/**
 * The era whose request surface for `endpoint` a served OpenAPI document declares: the known era with the same
 * parameter names, and of several, the one with the same allowed values (else the newest). Undefined when the
 * document does not describe the endpoint like any known era.
 */
export function eraOfDocument(doc: unknown, endpoint: XEndpoint): ApiEra | undefined {
  const served = endpointParams(doc, endpoint);
  if (!served) return undefined;
  const candidates = API_ERAS.filter((era) => sameParams(eraTable(era)[endpoint], served));
  const exact = candidates.find((era) => JSON.stringify(eraTable(era)[endpoint]) === JSON.stringify(served));
  return exact ?? candidates[candidates.length - 1];
}
