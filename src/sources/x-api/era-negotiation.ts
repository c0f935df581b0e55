/**
 * Which API era each endpoint of one server speaks, decided once per endpoint and process.
 *
 * `x.apiEra` set to an era decides it outright. In `auto`, the OpenAPI document the server serves at
 * /2/openapi.json (X serves its own) is read once and tells each endpoint's era; a server without one is first
 * asked in the newest era, and a 400 naming one of the field-selection parameters or values is taken as the
 * server speaking the other era: the request is retried once in that era, and the endpoint's era is then settled,
 * so each endpoint costs at most one 400 per process. A request that succeeds settles its endpoint too.
 */
import type { Logger } from '../../log.ts';
import { API_ERAS, type ApiEra, eraOfDocument, otherEra, X_ENDPOINTS, type XEndpoint } from './eras.ts';
import { SELECTION_PARAMS } from './selection.ts';

export type ApiEraSetting = 'auto' | ApiEra;

/** The era tried first when nothing tells: X's production era. */
const FIRST_GUESS: ApiEra = API_ERAS[API_ERAS.length - 1]!;

interface EndpointEra {
  era: ApiEra;
  settled: boolean;
}

export class EraNegotiation {
  readonly #setting: ApiEraSetting;
  readonly #fetchServedSpec: () => Promise<unknown>;
  readonly #logger: Logger;
  readonly #eras = new Map<XEndpoint, EndpointEra>();
  #served: Promise<unknown> | undefined;

  /** `fetchServedSpec` resolves to the server's /2/openapi.json, or undefined when it serves none. */
  constructor(setting: ApiEraSetting, fetchServedSpec: () => Promise<unknown>, logger: Logger) {
    this.#setting = setting;
    this.#fetchServedSpec = fetchServedSpec;
    this.#logger = logger;
  }

  async eraFor(endpoint: XEndpoint): Promise<ApiEra> {
    if (this.#setting !== 'auto') return this.#setting;
    const known = this.#eras.get(endpoint);
    if (known) return known.era;
    this.#served ??= this.#fetchServedSpec().catch(() => undefined);
    const doc = await this.#served;
    const fromDoc = doc === undefined ? undefined : eraOfDocument(doc, endpoint);
    const entry = this.#eras.get(endpoint) ?? { era: fromDoc ?? FIRST_GUESS, settled: fromDoc !== undefined };
    if (!this.#eras.has(endpoint)) {
      this.#eras.set(endpoint, entry);
      if (fromDoc)
        this.#logger.info(
          { endpoint: X_ENDPOINTS[endpoint].path, apiEra: fromDoc },
          `X API era ${fromDoc} from the server's /2/openapi.json`,
        );
    }
    return entry.era;
  }

  /** A request in the endpoint's era succeeded: its era is settled. */
  succeeded(endpoint: XEndpoint): void {
    const entry = this.#eras.get(endpoint);
    if (entry) entry.settled = true;
  }

  /**
   * A 400 answered a request in the endpoint's era. Returns the era to retry in when the answer names a
   * field-selection parameter or value and the era was a guess; undefined when the 400 stands.
   */
  rejected(endpoint: XEndpoint, problems: readonly Record<string, unknown>[]): ApiEra | undefined {
    const entry = this.#eras.get(endpoint);
    if (this.#setting !== 'auto' || !entry || entry.settled) return undefined;
    if (!problems.some(namesSelectionParam)) return undefined;
    const from = entry.era;
    entry.era = otherEra(from);
    entry.settled = true;
    this.#logger.info(
      { endpoint: X_ENDPOINTS[endpoint].path, rejectedEra: from, apiEra: entry.era },
      `X API ${X_ENDPOINTS[endpoint].path} refused the field selection of API ${from}; using API ${entry.era}`,
    );
    return entry.era;
  }
}

/**
 * True when an error object is about a field-selection parameter: by X's `parameters` map (2.159
 * InvalidRequestProblem), its `parameter` field (2.167), or its message ("The query parameter [post.fields] is not
 * one of [...]", "The `tweet.fields` query parameter value [x] is not one of [...]").
 */
function namesSelectionParam(problem: Record<string, unknown>): boolean {
  const { parameters, parameter } = problem;
  if (typeof parameter === 'string' && SELECTION_PARAMS.includes(parameter)) return true;
  if (typeof parameters === 'object' && parameters !== null) {
    if (Object.keys(parameters).some((name) => SELECTION_PARAMS.includes(name))) return true;
  }
  const text = `${problem.message ?? ''} ${problem.detail ?? ''}`;
  return SELECTION_PARAMS.some((name) => text.includes(`[${name}]`) || text.includes(`\`${name}\``));
}
