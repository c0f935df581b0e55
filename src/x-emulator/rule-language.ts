/**
 * X's filter language (stream rules and recent-search queries), as far as the X API emulator needs it: a parser that
 * rejects what X rejects (length, unbalanced parentheses and quotes, unknown operators, rules made only of
 * negations or conjunction-required operators) and a matcher over a tweet's facts.
 *
 * Hand-written because no library implements X's rule grammar. Semantics follow X's "build a rule" guide:
 * a space is AND, `OR` (capitals) is OR, AND binds tighter than OR, `-` negates a term or a group, keywords match
 * tokens case-insensitively, "quoted phrases" match in order. Operators X has but the emulator does not model
 * are refused the way X refuses operators outside an access level, so a rule never silently matches wrongly.
 */
import { codePointLength, type TweetPayload } from '../sources/synthetic-payloads.ts';

/** What rules are evaluated against, computed once per tweet. */
export interface TweetFacts {
  text: string;
  tokens: Set<string>;
  lang: string;
  isRetweet: boolean;
  isReply: boolean;
  isQuote: boolean;
  verified: boolean;
  authorId: string;
  authorUsername: string;
  inReplyToUserId: string;
  inReplyToUsername: string;
  retweetedUserId: string;
  retweetedUsername: string;
  repliedToId: string;
  quotedId: string;
  retweetedId: string;
  conversationId: string;
  hashtags: Set<string>;
  cashtags: Set<string>;
  mentions: Set<string>;
  urls: string[];
  mediaTypes: Set<string>;
  hasGeo: boolean;
  placeCountry: string;
  placeName: string;
  /** 0..99, stable per tweet id, for `sample:`. */
  sampleBucket: number;
}

const TOKEN = /[\p{L}\p{N}_]+/gu;
/** Scripts written without spaces: a keyword there matches as a substring. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

export function tweetFacts(payload: TweetPayload): TweetFacts {
  const { data, includes } = payload;
  const text = data.text.toLowerCase();
  const users = includes.users ?? [];
  const userById = (id: string | undefined) => (id ? users.find((u) => u.id === id) : undefined);
  const author = userById(data.author_id);
  const refs = data.referenced_tweets ?? [];
  const refId = (type: string) => refs.find((r) => r.type === type)?.id ?? '';
  const retweetedId = refId('retweeted');
  const retweeted = retweetedId ? includes.tweets?.find((t) => t.id === retweetedId) : undefined;
  const retweetedUser = userById(retweeted?.author_id);
  const entities = data.entities;
  const place = data.geo ? includes.places?.find((p) => p.id === data.geo?.place_id) : undefined;
  const mediaKeys = new Set(data.attachments?.media_keys ?? []);
  return {
    text,
    tokens: new Set(text.match(TOKEN) ?? []),
    lang: data.lang,
    isRetweet: retweetedId !== '',
    isReply: data.in_reply_to_user_id !== undefined || refId('replied_to') !== '',
    isQuote: refId('quoted') !== '',
    verified: author?.verified ?? false,
    authorId: data.author_id,
    authorUsername: author?.username.toLowerCase() ?? '',
    inReplyToUserId: data.in_reply_to_user_id ?? '',
    inReplyToUsername: userById(data.in_reply_to_user_id)?.username.toLowerCase() ?? '',
    retweetedUserId: retweeted?.author_id ?? '',
    retweetedUsername: retweetedUser?.username.toLowerCase() ?? '',
    repliedToId: refId('replied_to'),
    quotedId: refId('quoted'),
    retweetedId,
    conversationId: data.conversation_id,
    hashtags: new Set((entities?.hashtags ?? []).map((h) => h.tag.toLowerCase())),
    cashtags: new Set((entities?.cashtags ?? []).map((c) => c.tag.toLowerCase())),
    mentions: new Set((entities?.mentions ?? []).map((m) => m.username.toLowerCase())),
    urls: (entities?.urls ?? []).flatMap((u) => [u.url.toLowerCase(), u.expanded_url.toLowerCase()]),
    mediaTypes: new Set((includes.media ?? []).filter((m) => mediaKeys.has(m.media_key)).map((m) => m.type)),
    hasGeo: data.geo !== undefined,
    placeCountry: place?.country_code.toLowerCase() ?? '',
    placeName: place ? `${place.full_name} ${place.name}`.toLowerCase() : '',
    sampleBucket: Number(BigInt(data.id) % 100n),
  };
}

export type Matcher = (facts: TweetFacts) => boolean;

export type CompileResult = { ok: true; match: Matcher } | { ok: false; details: string[] };

// ---- operators ----

interface Operator {
  /** Can the operator make up a rule alone? (`lang:`, `is:`, `has:`, `sample:` cannot.) */
  standalone: boolean;
  /** An error message for a bad value, or undefined. */
  check(value: string): string | undefined;
  build(value: string): Matcher;
}

const userRef = (value: string) => value.replace(/^@/, '').toLowerCase();
const isUserRef = (value: string) =>
  /^@?[A-Za-z0-9_]{1,15}$/.test(value) || /^[0-9]{1,19}$/.test(value) ? undefined : 'is not a valid user';
const isId = (value: string) => (/^[0-9]{1,19}$/.test(value) ? undefined : 'is not a valid id');
const unquote = (value: string) => value.replace(/^"(.*)"$/, '$1').toLowerCase();

const IS_VALUES: Record<string, Matcher> = {
  retweet: (f) => f.isRetweet,
  reply: (f) => f.isReply,
  quote: (f) => f.isQuote,
  verified: (f) => f.verified,
};
const HAS_VALUES: Record<string, Matcher> = {
  hashtags: (f) => f.hashtags.size > 0,
  cashtags: (f) => f.cashtags.size > 0,
  links: (f) => f.urls.length > 0,
  mentions: (f) => f.mentions.size > 0,
  media: (f) => f.mediaTypes.size > 0,
  images: (f) => f.mediaTypes.has('photo'),
  videos: (f) => f.mediaTypes.has('video') || f.mediaTypes.has('animated_gif'),
  geo: (f) => f.hasGeo,
};

/** An operator naming a user by @username or id, matched against the username and id that `user` reads. */
function userOperator(user: (facts: TweetFacts) => readonly [unknown, unknown]): Operator {
  return {
    standalone: true,
    check: isUserRef,
    build: (v) => {
      const u = userRef(v);
      return (f) => user(f).includes(u);
    },
  };
}

const OPERATORS: Record<string, Operator> = {
  from: userOperator((f) => [f.authorUsername, f.authorId]),
  to: userOperator((f) => [f.inReplyToUsername, f.inReplyToUserId]),
  retweets_of: userOperator((f) => [f.retweetedUsername, f.retweetedUserId]),
  url: {
    standalone: true,
    check: (v) => (unquote(v).length > 0 ? undefined : 'is empty'),
    build: (v) => {
      const part = unquote(v);
      return (f) => f.urls.some((u) => u.includes(part));
    },
  },
  conversation_id: { standalone: true, check: isId, build: (v) => (f) => f.conversationId === v },
  in_reply_to_tweet_id: { standalone: true, check: isId, build: (v) => (f) => f.repliedToId === v },
  retweets_of_tweet_id: { standalone: true, check: isId, build: (v) => (f) => f.retweetedId === v },
  quotes_of_tweet_id: { standalone: true, check: isId, build: (v) => (f) => f.quotedId === v },
  place: {
    standalone: true,
    check: (v) => (unquote(v).length > 0 ? undefined : 'is empty'),
    build: (v) => {
      const part = unquote(v);
      return (f) => f.placeName.includes(part);
    },
  },
  place_country: {
    standalone: true,
    check: (v) => (/^[A-Za-z]{2}$/.test(v) ? undefined : 'is not an ISO alpha-2 country code'),
    build: (v) => {
      const code = v.toLowerCase();
      return (f) => f.placeCountry === code;
    },
  },
  lang: {
    standalone: false,
    check: (v) => (/^[a-z]{2,3}$/.test(v) ? undefined : 'is not a supported language code'),
    build: (v) => (f) => f.lang === v,
  },
  is: {
    standalone: false,
    check: (v) => (v in IS_VALUES ? undefined : 'is not a valid is: operator value'),
    build: (v) => IS_VALUES[v] as Matcher,
  },
  has: {
    standalone: false,
    check: (v) => (v in HAS_VALUES ? undefined : 'is not a valid has: operator value'),
    build: (v) => HAS_VALUES[v] as Matcher,
  },
  sample: {
    standalone: false,
    check: (v) =>
      /^[0-9]{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100 ? undefined : 'must be 1..100',
    build: (v) => {
      const pct = Number(v);
      return (f) => f.sampleBucket < pct;
    },
  },
};

// ---- lexer ----

interface Token {
  kind: 'open' | 'close' | 'or' | 'term';
  text: string;
  /** 1-based position, as in X's messages. */
  pos: number;
  negated: boolean;
  quoted: boolean;
}

class RuleSyntaxError extends Error {}

const at = (message: string, pos: number) => new RuleSyntaxError(`${message} (at position ${pos})`);

function lex(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = value.length;
  const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  while (i < n) {
    if (isSpace(value[i])) {
      i++;
      continue;
    }
    const pos = i + 1;
    let negated = false;
    if (value[i] === '-') {
      negated = true;
      i++;
      if (i >= n || isSpace(value[i])) throw at('A negation must be followed by a term or a group', pos);
    }
    const c = value[i];
    if (c === '(') {
      tokens.push({ kind: 'open', text: '(', pos, negated, quoted: false });
      i++;
    } else if (c === ')') {
      if (negated) throw at('A negation must be followed by a term or a group', pos);
      tokens.push({ kind: 'close', text: ')', pos, negated, quoted: false });
      i++;
    } else if (c === '"') {
      const end = value.indexOf('"', i + 1);
      if (end < 0) throw at('There is an unterminated quoted phrase', i + 1);
      const phrase = value.slice(i + 1, end).trim();
      if (!phrase) throw at('Quoted phrases must not be empty', i + 1);
      tokens.push({ kind: 'term', text: phrase, pos, negated, quoted: true });
      i = end + 1;
    } else {
      const start = i;
      while (i < n && !isSpace(value[i]) && value[i] !== '(' && value[i] !== ')') {
        if (value[i] === '"') {
          // A quoted operator value such as place:"new york city".
          const end = value.indexOf('"', i + 1);
          if (end < 0) throw at('There is an unterminated quoted phrase', i + 1);
          i = end + 1;
        } else {
          i++;
        }
      }
      const text = value.slice(start, i);
      const kind = text === 'OR' && !negated ? 'or' : 'term';
      tokens.push({ kind, text, pos, negated, quoted: false });
    }
  }
  return tokens;
}

// ---- parser ----

type Node =
  | { kind: 'and' | 'or'; items: Node[] }
  | { kind: 'not'; item: Node }
  | { kind: 'leaf'; standalone: boolean; match: Matcher };

class Parser {
  private i = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): Node {
    const node = this.or();
    const extra = this.tokens[this.i];
    if (extra) throw at('There is an unmatched closing parenthesis', extra.pos);
    return node;
  }

  private or(): Node {
    const items = [this.and()];
    while (this.tokens[this.i]?.kind === 'or') {
      const or = this.tokens[this.i++]!;
      const next = this.tokens[this.i];
      if (!next || next.kind === 'close' || next.kind === 'or')
        throw at('OR must stand between two clauses', or.pos);
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private and(): Node {
    const items: Node[] = [];
    for (let t = this.tokens[this.i]; t && t.kind !== 'close' && t.kind !== 'or'; t = this.tokens[this.i]) {
      items.push(this.unary());
    }
    if (items.length === 0) {
      const t = this.tokens[this.i];
      throw at(
        t?.kind === 'or' ? 'OR must stand between two clauses' : 'Empty groups are not allowed',
        t?.pos ?? 1,
      );
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private unary(): Node {
    const t = this.tokens[this.i++]!;
    let node: Node;
    if (t.kind === 'open') {
      node = this.or();
      if (this.tokens[this.i]?.kind !== 'close') throw at('There is an unmatched opening parenthesis', t.pos);
      this.i++;
    } else {
      node = leaf(t);
    }
    return t.negated ? { kind: 'not', item: node } : node;
  }
}

function leaf(t: Token): Node {
  const text = t.text;
  if (t.quoted) return phrase(text.toLowerCase());
  const sigil = text[0];
  if ((sigil === '#' || sigil === '@' || sigil === '$') && text.length > 1) {
    const name = text.slice(1).toLowerCase();
    const set = sigil === '#' ? 'hashtags' : sigil === '@' ? 'mentions' : 'cashtags';
    return { kind: 'leaf', standalone: true, match: (f) => f[set].has(name) };
  }
  const op = /^([a-z_]+):(.*)$/.exec(text);
  if (op) {
    const [, name = '', value = ''] = op;
    const operator = OPERATORS[name];
    if (!operator) {
      throw at(
        `Reference to invalid operator '${name}'. Operator is not available in current product or product packaging. Please refer to complete available operator list at https://developer.x.com/en/docs/twitter-api/tweets/filtered-stream/integrate/build-a-rule.`,
        t.pos,
      );
    }
    const problem = value ? operator.check(value) : 'is empty';
    if (problem) throw at(`The value '${value}' of operator '${name}:' ${problem}`, t.pos);
    return { kind: 'leaf', standalone: operator.standalone, match: operator.build(value) };
  }
  return keyword(text.toLowerCase());
}

function keyword(word: string): Node {
  const parts = word.match(TOKEN) ?? [];
  if (parts.length === 1 && parts[0] === word && !UNSPACED.test(word)) {
    return { kind: 'leaf', standalone: true, match: (f) => f.tokens.has(word) };
  }
  return phrase(word);
}

function phrase(text: string): Node {
  return { kind: 'leaf', standalone: true, match: (f) => f.text.includes(text) };
}

/** A rule needs a positive clause that can stand alone in every OR branch. */
function hasPositiveClause(node: Node): boolean {
  switch (node.kind) {
    case 'leaf':
      return node.standalone;
    case 'not':
      return false;
    case 'and':
      return node.items.some(hasPositiveClause);
    case 'or':
      return node.items.every(hasPositiveClause);
  }
}

function onlyNegations(node: Node): boolean {
  if (node.kind === 'not') return true;
  if (node.kind === 'leaf') return false;
  return node.items.every(onlyNegations);
}

function toMatcher(node: Node): Matcher {
  switch (node.kind) {
    case 'leaf':
      return node.match;
    case 'not': {
      const inner = toMatcher(node.item);
      return (f) => !inner(f);
    }
    case 'and': {
      const items = node.items.map(toMatcher);
      return (f) => items.every((m) => m(f));
    }
    case 'or': {
      const items = node.items.map(toMatcher);
      return (f) => items.some((m) => m(f));
    }
  }
}

/** Validates a rule or query the way X does and compiles it to a matcher. `maxLength` is in characters. */
export function compileRule(value: string, maxLength: number): CompileResult {
  const length = codePointLength(value);
  if (length === 0 || value.trim() === '') return { ok: false, details: ['Rules must not be empty'] };
  if (length > maxLength) {
    return { ok: false, details: [`Rule is too long: ${length} characters, the maximum is ${maxLength}`] };
  }
  try {
    const ast = new Parser(lex(value)).parse();
    if (!hasPositiveClause(ast)) {
      throw at(
        onlyNegations(ast)
          ? 'Rules must contain a non-negation term'
          : 'Rules must contain at least one positive, non-stand-alone clause',
        1,
      );
    }
    return { ok: true, match: toMatcher(ast) };
  } catch (err) {
    if (err instanceof RuleSyntaxError) return { ok: false, details: [err.message] };
    throw err;
  }
}
