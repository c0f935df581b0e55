/**
 * The filtered stream's rule set in the X API emulator: `GET` and `POST /2/tweets/search/stream/rules` with X's
 * answers (meta.sent, summary counts, per-rule problems, dry_run, delete_all), and the rules each tweet matches.
 *
 * Adding is all-or-nothing, as on X: one invalid or duplicate rule in a request leaves the rule set unchanged and
 * every rule of the request counts as not created.
 */
import type { MatchingRule } from '../sources/synthetic-payloads.ts';
import type { ReadParams } from './fields.ts';
import {
  duplicateRule,
  invalidRequest,
  invalidRule,
  type JsonAnswer,
  type Problem,
  ruleCap,
  ruleNotFound,
} from './problems.ts';
import { compileRule, type Matcher, type TweetFacts } from './rule-language.ts';

export interface RuleView {
  id: string;
  value: string;
  tag?: string;
}

interface StoredRule extends RuleView {
  match: Matcher;
}

export interface RuleStoreOptions {
  maxRules: number;
  maxRuleLength: number;
  newId: () => string;
  now: () => number;
}

const PAGE_TOKEN_LENGTH = 16;

export class RuleStore {
  private readonly opts: RuleStoreOptions;
  private readonly rules = new Map<string, StoredRule>();

  constructor(opts: RuleStoreOptions) {
    this.opts = opts;
  }

  list(): RuleView[] {
    return [...this.rules.values()].map(view);
  }

  /** The rules a tweet matches, as stream lines carry them. */
  matching(facts: TweetFacts): MatchingRule[] {
    const out: MatchingRule[] = [];
    for (const r of this.rules.values()) {
      if (r.match(facts)) out.push(r.tag === undefined ? { id: r.id } : { id: r.id, tag: r.tag });
    }
    return out;
  }

  /** GET /2/tweets/search/stream/rules (params already checked against the allowed names). */
  lookup(params: ReadParams): JsonAnswer {
    const ids = params.get('ids')?.split(',').filter(Boolean);
    const maxRaw = params.get('max_results');
    const max = maxRaw === undefined ? 1000 : Number(maxRaw);
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      return invalidRequest([
        {
          parameters: { max_results: [maxRaw ?? ''] },
          message: `The \`max_results\` query parameter value [${maxRaw}] is not between 1 and 1000`,
        },
      ]);
    }
    const token = params.get('pagination_token');
    const offset = token === undefined ? 0 : Number.parseInt(token, 36);
    if (token !== undefined && (token.length !== PAGE_TOKEN_LENGTH || !Number.isInteger(offset))) {
      return invalidRequest([
        {
          parameters: { pagination_token: [token] },
          message: `The \`pagination_token\` query parameter value [${token}] is not valid`,
        },
      ]);
    }
    const all = this.list().filter((r) => !ids || ids.includes(r.id));
    const page = all.slice(offset, offset + max);
    const meta: Record<string, unknown> = { sent: this.sent(), result_count: page.length };
    if (offset + max < all.length)
      meta.next_token = (offset + max).toString(36).padStart(PAGE_TOKEN_LENGTH, '0');
    return { status: 200, body: page.length > 0 ? { data: page, meta } : { meta } };
  }

  /** POST /2/tweets/search/stream/rules. */
  update(body: unknown, params: ReadParams): JsonAnswer {
    for (const name of ['dry_run', 'delete_all']) {
      const flag = params.get(name);
      if (flag !== undefined && flag !== 'true' && flag !== 'false') {
        return invalidRequest([
          {
            parameters: { [name]: [flag] },
            message: `The \`${name}\` query parameter value [${flag}] is not one of [true,false]`,
          },
        ]);
      }
    }
    const dryRun = params.get('dry_run') === 'true';
    if (params.get('delete_all') === 'true') return this.deleteAll(dryRun);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return invalidRequest([
        { message: 'The request body must be a JSON object with either add or delete' },
      ]);
    }
    const { add, delete: del, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) {
      return invalidRequest([
        {
          message: `$.${unknown[0]}: is not defined in the schema and the schema does not allow additional properties`,
        },
      ]);
    }
    if ((add === undefined) === (del === undefined)) {
      return invalidRequest([{ message: 'The request body must contain exactly one of add or delete' }]);
    }
    return add !== undefined ? this.add(add, dryRun) : this.delete(del, dryRun);
  }

  /** Adds rules given at startup; throws on an invalid one so a misconfigured emulator fails loudly. */
  seed(rules: readonly { value: string; tag?: string }[]): void {
    const answer = this.add(rules, false);
    const errors = answer.body.errors;
    if (Array.isArray(errors) && errors.length > 0)
      throw new Error(`invalid initial rules: ${JSON.stringify(errors)}`);
  }

  private add(add: unknown, dryRun: boolean): JsonAnswer {
    if (!Array.isArray(add))
      return invalidRequest([{ message: `$.add: ${typeof add} found, array expected` }]);
    const candidates: { value: string; tag?: string }[] = [];
    for (const [i, item] of add.entries()) {
      const value = (item as { value?: unknown } | null)?.value;
      const tag = (item as { tag?: unknown } | null)?.tag;
      if (typeof value !== 'string') {
        return invalidRequest([{ message: `$.add[${i}].value: is missing but it is required` }]);
      }
      if (tag !== undefined && typeof tag !== 'string') {
        return invalidRequest([{ message: `$.add[${i}].tag: ${typeof tag} found, string expected` }]);
      }
      candidates.push(tag === undefined ? { value } : { value, tag });
    }
    const errors: Problem[] = [];
    const accepted: StoredRule[] = [];
    const seen = new Set<string>();
    for (const c of candidates) {
      const existing = [...this.rules.values()].find((r) => r.value === c.value);
      if (existing) {
        errors.push(duplicateRule(c.value, existing.id));
        continue;
      }
      if (seen.has(c.value)) {
        errors.push(invalidRule(c.value, ['Duplicate rule value in this request']));
        continue;
      }
      seen.add(c.value);
      const compiled = compileRule(c.value, this.opts.maxRuleLength);
      if (!compiled.ok) {
        errors.push(invalidRule(c.value, compiled.details));
        continue;
      }
      accepted.push({ id: this.opts.newId(), ...c, match: compiled.match });
    }
    const total = candidates.length;
    if (errors.length === 0 && this.rules.size + accepted.length > this.opts.maxRules) {
      errors.push(ruleCap(this.opts.maxRules));
    }
    const summary = {
      created: errors.length === 0 ? total : 0,
      not_created: errors.length === 0 ? 0 : total,
      valid: accepted.length,
      invalid: total - accepted.length,
    };
    if (errors.length > 0) return { status: 200, body: { meta: { sent: this.sent(), summary }, errors } };
    if (!dryRun) for (const r of accepted) this.rules.set(r.id, r);
    const meta = { sent: this.sent(), summary };
    return { status: 200, body: accepted.length > 0 ? { data: accepted.map(view), meta } : { meta } };
  }

  private delete(del: unknown, dryRun: boolean): JsonAnswer {
    const { ids, values } = (del ?? {}) as { ids?: unknown; values?: unknown };
    const strings = (x: unknown) =>
      x === undefined || (Array.isArray(x) && x.every((v) => typeof v === 'string'));
    if (!strings(ids) || !strings(values) || (ids === undefined && values === undefined)) {
      return invalidRequest([{ message: '$.delete: must contain ids or values, each an array of strings' }]);
    }
    const targets = new Set<string>();
    const errors: Problem[] = [];
    for (const id of (ids as string[] | undefined) ?? []) {
      if (this.rules.has(id)) targets.add(id);
      else errors.push(ruleNotFound(id));
    }
    for (const value of (values as string[] | undefined) ?? []) {
      const rule = [...this.rules.values()].find((r) => r.value === value);
      if (rule) targets.add(rule.id);
      else errors.push(ruleNotFound(value));
    }
    if (!dryRun) for (const id of targets) this.rules.delete(id);
    const meta = { sent: this.sent(), summary: { deleted: targets.size, not_deleted: errors.length } };
    return { status: 200, body: errors.length > 0 ? { meta, errors } : { meta } };
  }

  private deleteAll(dryRun: boolean): JsonAnswer {
    const deleted = this.rules.size;
    if (!dryRun) this.rules.clear();
    return { status: 200, body: { meta: { sent: this.sent(), summary: { deleted, not_deleted: 0 } } } };
  }

  private sent(): string {
    return new Date(this.opts.now()).toISOString();
  }
}

function view(r: RuleView): RuleView {
  return r.tag === undefined ? { id: r.id, value: r.value } : { id: r.id, value: r.value, tag: r.tag };
}
