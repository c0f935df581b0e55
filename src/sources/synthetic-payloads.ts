/**
 * Realistic, deterministic X API v2 payloads for the synthetic source, the X emulator and benchmarks.
 *
 * Hand-written instead of a faker library because it must be fast (>= 50k tweets/s on two cores, JSON included)
 * and exact about what X guarantees: snowflake ids that grow with time, entity offsets in Unicode code points,
 * replies / quotes / retweets whose referenced tweets really exist in `includes`. Everything is drawn from
 * precomputed pools with a seeded PRNG (mulberry32), so the same seed gives byte-identical output.
 */

/** X's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const SNOWFLAKE_EPOCH_MS = 1288834974657;
const SEQUENCE_BITS = 12n;
const WORKER_BITS = 10n;
const MAX_SEQUENCE = 4095;

/** A snowflake id as X builds them: (ms since the X epoch) << 22 | worker << 12 | sequence, as a decimal string. */
export function snowflakeFromTime(ms: number, seq: number, worker = 0): string {
  const t = BigInt(Math.floor(ms) - SNOWFLAKE_EPOCH_MS);
  return ((t << (SEQUENCE_BITS + WORKER_BITS)) | (BigInt(worker) << SEQUENCE_BITS) | BigInt(seq)).toString();
}

/** The creation time (epoch ms) encoded in a snowflake id. */
export function timeFromSnowflake(id: string): number {
  return Number(BigInt(id) >> (SEQUENCE_BITS + WORKER_BITS)) + SNOWFLAKE_EPOCH_MS;
}

/** Number of Unicode code points, the unit X uses for entity offsets. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

// ---- v2 object shapes (the subset this generator fills; field names as in the 2.159 spec) ----

export interface EntityRange {
  start: number;
  end: number;
}
export interface V2Entities {
  hashtags?: (EntityRange & { tag: string })[];
  cashtags?: (EntityRange & { tag: string })[];
  mentions?: (EntityRange & { username: string; id: string })[];
  urls?: (EntityRange & { url: string; expanded_url: string; display_url: string; media_key?: string })[];
}
export interface V2PublicMetrics {
  retweet_count: number;
  reply_count: number;
  like_count: number;
  quote_count: number;
  bookmark_count: number;
  impression_count: number;
}
export interface V2Tweet {
  id: string;
  text: string;
  created_at: string;
  author_id: string;
  lang: string;
  conversation_id: string;
  edit_history_tweet_ids: string[];
  edit_controls: { is_edit_eligible: boolean; editable_until: string; edits_remaining: number };
  possibly_sensitive: boolean;
  reply_settings: 'everyone' | 'following' | 'mentionedUsers';
  public_metrics: V2PublicMetrics;
  entities?: V2Entities;
  in_reply_to_user_id?: string;
  referenced_tweets?: { type: 'retweeted' | 'quoted' | 'replied_to'; id: string }[];
  attachments?: { media_keys?: string[]; poll_ids?: string[] };
  geo?: { place_id: string; coordinates?: { type: 'Point'; coordinates: [number, number] } };
  /** The full text of a long post (beyond 280 characters); `text` then holds its start. */
  note_tweet?: { text: string; entities?: V2Entities };
}
export interface V2User {
  id: string;
  name: string;
  username: string;
  created_at: string;
  description: string;
  location?: string;
  profile_image_url: string;
  protected: boolean;
  verified: boolean;
  verified_type: 'blue' | 'business' | 'government' | 'none';
  public_metrics: {
    followers_count: number;
    following_count: number;
    tweet_count: number;
    listed_count: number;
    like_count: number;
  };
}
export interface V2Media {
  media_key: string;
  type: 'photo' | 'video' | 'animated_gif';
  width: number;
  height: number;
  url?: string;
  alt_text?: string;
  preview_image_url?: string;
  duration_ms?: number;
  public_metrics?: { view_count: number };
  variants?: { content_type: string; url: string; bit_rate?: number }[];
}
export interface V2Place {
  id: string;
  full_name: string;
  name: string;
  country: string;
  country_code: string;
  place_type: 'city' | 'admin' | 'country' | 'poi';
  geo: { type: 'Feature'; bbox: [number, number, number, number]; properties: Record<string, never> };
}
export interface V2Poll {
  id: string;
  options: { position: number; label: string; votes: number }[];
  voting_status: 'open' | 'closed';
  duration_minutes: number;
  end_datetime: string;
}
export interface V2Includes {
  users?: V2User[];
  tweets?: V2Tweet[];
  media?: V2Media[];
  places?: V2Place[];
  polls?: V2Poll[];
}
/** One tweet with everything it references: the unit the emulator stores and projects per request. */
export interface TweetPayload {
  data: V2Tweet;
  includes: V2Includes;
}
export interface MatchingRule {
  id: string;
  tag?: string;
}
export interface StreamLine extends TweetPayload {
  matching_rules: MatchingRule[];
}
export interface SearchPage {
  data?: V2Tweet[];
  includes?: V2Includes;
  meta: { result_count: number; newest_id?: string; oldest_id?: string; next_token?: string };
}

// ---- PRNG ----

/** mulberry32: tiny, fast, good enough for test data, and reproducible across platforms. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** Heavy-tailed counts (most small, a few huge), like follower and like counts. */
  skewed(max: number): number {
    const r = this.next();
    return Math.floor(r * r * r * r * max);
  }
  token(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += BASE62[Math.floor(this.next() * 62)];
    return s;
  }
}

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

// ---- text pools ----

interface Piece {
  s: string;
  cp: number;
}
const pieces = (words: string): Piece[] =>
  words
    .split('|')
    .filter((w) => w.length > 0)
    .map((s) => ({ s, cp: codePointLength(s) }));

interface LanguagePool {
  lang: string;
  weight: number;
  /** Separator between words (Japanese runs words together). */
  sep: string;
  words: Piece[];
  hashtags: string[];
  names: string[];
  places: string[];
}

const LANGUAGES: LanguagePool[] = [
  {
    lang: 'en',
    weight: 40,
    sep: ' ',
    words: pieces(
      'the|a|new|today|just|really|love|this|that|song|album|show|tonight|weekend|coffee|game|team|city|' +
        'people|never|always|finally|what|why|best|worst|week|morning|night|watching|listening|to|with|' +
        'for|and|is|was|so|great|amazing|can’t|believe|playlist|concert|vibes|friends|time|world|news|' +
        'update|thread|honestly|literally|here|we|go',
    ),
    hashtags: ['NowPlaying', 'music', 'MondayMotivation', 'tech', 'NBA', 'Football', 'AI', 'travel'],
    names: ['Emma Johnson', 'Liam Smith', 'Olivia Brown', 'Noah Davis', 'Ava Wilson', 'Mason Taylor'],
    places: ['Austin, TX', 'London, England', 'Toronto, Ontario', 'Sydney, New South Wales'],
  },
  {
    lang: 'es',
    weight: 12,
    sep: ' ',
    words: pieces(
      'hoy|mañana|música|canción|fiesta|amigos|el|la|los|que|por|qué|nunca|siempre|mejor|peor|noche|' +
        'día|increíble|partido|equipo|ciudad|gente|vamos|aquí|también|está|muy|bueno|café|año|corazón',
    ),
    hashtags: ['música', 'LaLiga', 'Feliz', 'España', 'México', 'fútbol'],
    names: ['María López', 'José García', 'Lucía Martínez', 'Íñigo Fernández', 'Sofía Núñez'],
    places: ['Madrid, España', 'Ciudad de México, México', 'Buenos Aires, Argentina'],
  },
  {
    lang: 'pt',
    weight: 8,
    sep: ' ',
    words: pieces(
      'hoje|amanhã|música|canção|festa|amigos|o|a|os|que|não|nunca|sempre|melhor|pior|noite|dia|' +
        'incrível|jogo|time|cidade|gente|vamos|aqui|também|está|muito|bom|café|ano|coração|saudade',
    ),
    hashtags: ['Brasil', 'futebol', 'música', 'BBB', 'SãoPaulo'],
    names: ['João Silva', 'Ana Souza', 'Gonçalo Pereira', 'Beatriz Lima'],
    places: ['São Paulo, Brasil', 'Lisboa, Portugal', 'Rio de Janeiro, Brasil'],
  },
  {
    lang: 'ja',
    weight: 10,
    sep: '',
    words: pieces(
      '今日は|明日|音楽|新曲|ライブ|最高|本当に|ありがとう|楽しい|ちょっと|友達と|東京で|映画|ゲーム|' +
        'ラーメン|猫|仕事|終わった|眠い|です|ました|かわいい|すごい|やばい|朝から|夜に',
    ),
    hashtags: ['音楽', '今日の一枚', 'アニメ', '拡散希望', '東京'],
    names: ['田中 花子', '佐藤 太郎', '鈴木 さくら', '高橋 蓮'],
    places: ['東京都 渋谷区', '大阪府 大阪市'],
  },
  {
    lang: 'ar',
    weight: 6,
    sep: ' ',
    words: pieces(
      'اليوم|غدا|موسيقى|أغنية|أصدقاء|جميل|جدا|الحمد|لله|صباح|الخير|مساء|مباراة|فريق|مدينة|الناس|' +
        'دائما|أبدا|أفضل|قهوة|سنة|قلب|هنا|نحن|في|من|على',
    ),
    hashtags: ['السعودية', 'مصر', 'موسيقى', 'كرة_القدم'],
    names: ['محمد علي', 'فاطمة الزهراء', 'أحمد حسن', 'نور الهدى'],
    places: ['الرياض, المملكة العربية السعودية', 'القاهرة, مصر'],
  },
  {
    lang: 'hi',
    weight: 4,
    sep: ' ',
    words: pieces(
      'आज|कल|संगीत|गाना|दोस्त|बहुत|अच्छा|सुबह|रात|मैच|टीम|शहर|लोग|हमेशा|कभी|नहीं|सबसे|चाय|साल|दिल|यहाँ|हम|है|था',
    ),
    hashtags: ['भारत', 'क्रिकेट', 'संगीत', 'Bollywood'],
    names: ['प्रिया शर्मा', 'राहुल वर्मा', 'अनन्या सिंह'],
    places: ['मुंबई, भारत', 'नई दिल्ली, भारत'],
  },
  {
    lang: 'fr',
    weight: 6,
    sep: ' ',
    words: pieces(
      'aujourd’hui|demain|musique|chanson|fête|amis|le|la|les|que|pourquoi|jamais|toujours|meilleur|' +
        'pire|soir|journée|incroyable|match|équipe|ville|gens|allez|ici|aussi|très|bien|café|année|cœur|déjà',
    ),
    hashtags: ['musique', 'Paris', 'Ligue1', 'bonjour', 'ÇaVa'],
    names: ['Chloé Dubois', 'Léa Moreau', 'Théo Lefèvre', 'Zoé Girard'],
    places: ['Paris, France', 'Montréal, Québec', 'Lyon, France'],
  },
  {
    lang: 'de',
    weight: 5,
    sep: ' ',
    words: pieces(
      'heute|morgen|Musik|Lied|Party|Freunde|der|die|das|und|warum|niemals|immer|besser|schlechter|' +
        'Abend|Tag|unglaublich|Spiel|Mannschaft|Stadt|Leute|los|hier|auch|sehr|gut|Kaffee|Jahr|Herz|schön|Grüße',
    ),
    hashtags: ['Musik', 'Bundesliga', 'Berlin', 'Fußball'],
    names: ['Jürgen Müller', 'Anna Schäfer', 'Lukas Weiß', 'Mia Groß'],
    places: ['Berlin, Deutschland', 'München, Bayern', 'Wien, Österreich'],
  },
  {
    lang: 'ko',
    weight: 5,
    sep: ' ',
    words: pieces(
      '오늘|내일|음악|노래|콘서트|친구들|정말|너무|좋아요|최고|아침|밤|경기|팀|도시|사람들|항상|절대|커피|올해|마음|여기|우리|진짜|사랑해',
    ),
    hashtags: ['음악', '케이팝', '서울', '오늘의노래'],
    names: ['김민준', '이서연', '박지훈', '최유나'],
    places: ['서울특별시, 대한민국', '부산광역시, 대한민국'],
  },
];

/** English phrases that carry the keyword `music`, so the default rule `music lang:en -is:retweet` matches often. */
const MUSIC_PHRASES = pieces('new music|music|live music|music video|this music|music festival|the music');

/** Astral emoji, skin tones, flags and ZWJ sequences: every case where UTF-16 length != code point length. */
const EMOJI = pieces('😂|❤️|🔥|🎶|🎧|🙏|😍|✨|👍🏽|🇯🇵|🇧🇷|👨‍👩‍👧|🏳️‍🌈|🤖|☕|⚽|🎸|💯|😭|🥳');

const CASHTAGS = ['TSLA', 'AAPL', 'BTC', 'NVDA', 'SPY'];

const URL_TARGETS = [
  'https://www.youtube.com/watch?v=',
  'https://open.spotify.com/track/',
  'https://github.com/nodejs/node/pull/',
  'https://www.bbc.co.uk/news/articles/',
  'https://example.com/blog/post-',
  'https://www.nytimes.com/2026/11/25/arts/music/',
];

/** City places (X's `place_type: city`), each with a small bounding box west/south anchored. */
const PLACE_POOL: V2Place[] = [
  place('01a9a39529b27f36', 'Manhattan, NY', 'Manhattan', 'United States', 'US', -74.026675, 40.683935),
  place('5c62ffb0f0f3479d', 'Phoenix, AZ', 'Phoenix', 'United States', 'US', -112.324056, 33.29026),
  place('206fff8bbe8a6f1b', 'Madrid, España', 'Madrid', 'España', 'ES', -3.888954, 40.312071),
  place('68e019afec7d0ba5', 'São Paulo, Brasil', 'São Paulo', 'Brasil', 'BR', -46.826199, -24.008236),
  place('0c2e6c9e7e8f4b1a', 'Shibuya-ku, Tokyo', 'Shibuya-ku', 'Japan', 'JP', 139.661, 35.6394),
  place('09f6a7707f18e0b1', 'Paris, France', 'Paris', 'France', 'FR', 2.224101, 48.815573),
  place('3078869807f9dd36', 'Berlin, Deutschland', 'Berlin', 'Deutschland', 'DE', 13.088304, 52.338079),
  place('a0e1a2b3c4d5e6f7', 'Seoul, Republic of Korea', 'Seoul', 'Republic of Korea', 'KR', 126.76, 37.41),
];

function place(
  id: string,
  full_name: string,
  name: string,
  country: string,
  country_code: string,
  west: number,
  south: number,
): V2Place {
  const geo: V2Place['geo'] = {
    type: 'Feature',
    bbox: [west, south, west + 0.25, south + 0.2],
    properties: {},
  };
  return { id, full_name, name, country, country_code, place_type: 'city', geo };
}

// ---- the generator ----

export interface SyntheticTweetsOptions {
  seed: number;
  /** Virtual clock start when nextTweet() is called without a time (default 2026-11-25T06:00:00Z). */
  startTimeMs?: number;
  /** Size of the author pool (default 5000). */
  authors?: number;
  /** Mean virtual milliseconds between tweets when no time is given (default 20, i.e. 50 tweets/s). */
  meanGapMs?: number;
}

interface Author {
  user: V2User;
  pool: LanguagePool;
  /** Code point length of `@username`. */
  mentionCp: number;
}

/** A tweet that later tweets can reply to, quote or retweet, with the users its entities mention. */
interface Remembered {
  tweet: V2Tweet;
  author: Author;
  users: V2User[];
}

const DEFAULT_START_MS = Date.UTC(2026, 10, 25, 6, 0, 0);
const RECENT_ORIGINALS = 64;

export class SyntheticTweets {
  private rng: Rng;
  private readonly seed: number;
  private readonly authors: Author[];
  private readonly languageTable: LanguagePool[];
  private worker: number;
  private readonly meanGapMs: number;
  private readonly startMs: number;
  /** In segment mode (startSegment): where the current segment's virtual time starts, and its tweets so far. */
  private segment: { startMs: number; made: number } | undefined;
  private clockMs: number;
  private lastMs = -1;
  private seq = 0;
  private lastSecond = -1;
  private lastSecondTimes: [string, string] = ['', ''];
  /** Recent non-retweets, the pool that replies, quotes and retweets refer to. */
  private readonly recent: Remembered[] = [];
  private recentNext = 0;

  constructor(opts: SyntheticTweetsOptions) {
    this.seed = opts.seed;
    this.rng = new Rng(opts.seed);
    this.worker = opts.seed & 0x3ff;
    this.startMs = opts.startTimeMs ?? DEFAULT_START_MS;
    this.clockMs = this.startMs;
    this.meanGapMs = opts.meanGapMs ?? 20;
    this.languageTable = LANGUAGES.flatMap((l) => Array.from({ length: l.weight }, () => l));
    const count = Math.max(1, opts.authors ?? 5000);
    const taken = new Set<string>();
    this.authors = Array.from({ length: count }, (_, i) => this.makeAuthor(i, taken));
  }

  /**
   * Continues as segment `index` of a stream cut into independent segments of `size` tweets, so that several
   * threads generate one stream (thread t makes segments t, t + threads, ...) and a seed still gives the same
   * tweets whatever their timing. A segment draws from its own PRNG, keeps to its own slice of virtual time
   * (tweet i of segment k at start + (k * size + i) * gap plus less than one gap of jitter, so slices never
   * overlap), and replies to, quotes and retweets only its own tweets. `thread` goes into the snowflake worker
   * bits: tweets that two threads pin to the same real millisecond (the clock never runs ahead of now) still get
   * different ids. Segments of one instance must come in increasing order.
   */
  startSegment(index: number, size: number, thread: number): void {
    this.rng = new Rng(Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + index);
    this.worker = (this.seed + thread) & 0x3ff;
    this.segment = { startMs: this.startMs + index * size * this.meanGapMs, made: 0 };
    this.recent.length = 0;
    this.recentNext = 0;
  }

  /**
   * The next tweet. `atMs` pins its creation time (never earlier than the previous tweet); without it the virtual
   * clock decides, held at `notAfterMs` when it would pass it (the same random draws either way). Ids always grow
   * within one instance.
   */
  nextTweet(atMs?: number, notAfterMs?: number): TweetPayload {
    const ms = this.tick(atMs, notAfterMs);
    const id = snowflakeFromTime(ms, this.seq, this.worker);
    const author = this.rng.pick(this.authors);
    const kind = this.recent.length === 0 ? 1 : this.rng.next();
    let payload: TweetPayload;
    if (kind < 0.2) payload = this.retweet(id, ms, author);
    else if (kind < 0.35) payload = this.reply(id, ms, author);
    else if (kind < 0.45) payload = this.quote(id, ms, author);
    else payload = this.original(id, ms, author);
    if (payload.data.referenced_tweets?.[0]?.type !== 'retweeted') {
      this.remember({ tweet: payload.data, author, users: payload.includes.users ?? [] });
    }
    return payload;
  }

  /** A filtered-stream line: the tweet with the rules it matched. */
  nextStreamLine(matchingRules: MatchingRule[]): StreamLine {
    const { data, includes } = this.nextTweet();
    return { data, includes, matching_rules: matchingRules };
  }

  /** A recent-search page of `n` new tweets, newest first, includes merged without duplicates. */
  nextSearchPage(n: number): SearchPage {
    const payloads: TweetPayload[] = [];
    for (let i = 0; i < n; i++) payloads.push(this.nextTweet());
    payloads.reverse();
    return searchPage(payloads);
  }

  // ---- clock and ids ----

  private tick(atMs: number | undefined, notAfterMs: number | undefined): number {
    const seg = this.segment;
    let ms =
      atMs ??
      (seg
        ? seg.startMs + seg.made++ * this.meanGapMs + this.rng.int(this.meanGapMs)
        : this.clockMs + this.rng.int(2 * this.meanGapMs + 1));
    if (notAfterMs !== undefined && ms > notAfterMs) ms = notAfterMs;
    if (ms < this.lastMs) ms = this.lastMs;
    if (ms === this.lastMs) {
      this.seq++;
      if (this.seq > MAX_SEQUENCE) {
        // Like a real snowflake worker, wait for the next millisecond when the sequence is exhausted.
        ms++;
        this.seq = 0;
      }
    } else {
      this.seq = 0;
    }
    this.lastMs = ms;
    this.clockMs = ms;
    return ms;
  }

  /**
   * created_at and edit_controls.editable_until (an hour later). X reports them with second precision
   * ('…:03.000Z'); cached because many tweets share a second.
   */
  private times(ms: number): [created: string, editableUntil: string] {
    const second = Math.floor(ms / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.lastSecondTimes = [
        new Date(second * 1000).toISOString(),
        new Date((second + 3600) * 1000).toISOString(),
      ];
    }
    return this.lastSecondTimes;
  }

  // ---- tweet kinds ----

  private original(id: string, ms: number, author: Author): TweetPayload {
    const text = new TextBuilder();
    const users: V2User[] = [author.user];
    this.body(text, author.pool, users);
    const data = this.baseTweet(id, ms, author, author.pool.lang, id);
    const includes: V2Includes = { users };
    this.decorate(data, includes, text, author);
    finishText(data, text);
    return { data, includes };
  }

  private reply(id: string, ms: number, author: Author): TweetPayload {
    const parent = this.rng.pick(this.recent);
    const text = new TextBuilder();
    const users: V2User[] = [author.user];
    text.mention(parent.author.user, parent.author.mentionCp);
    addUser(users, parent.author.user);
    text.word(' ', 1);
    this.body(text, author.pool, users);
    const data = this.baseTweet(id, ms, author, author.pool.lang, parent.tweet.conversation_id);
    data.in_reply_to_user_id = parent.author.user.id;
    data.referenced_tweets = [{ type: 'replied_to', id: parent.tweet.id }];
    const includes: V2Includes = { users, tweets: [parent.tweet] };
    this.decorate(data, includes, text, author);
    finishText(data, text);
    return { data, includes };
  }

  private quote(id: string, ms: number, author: Author): TweetPayload {
    const quoted = this.rng.pick(this.recent);
    const text = new TextBuilder();
    const users: V2User[] = [author.user];
    this.body(text, author.pool, users);
    text.word(' ', 1);
    const permalink = `https://x.com/${quoted.author.user.username}/status/${quoted.tweet.id}`;
    text.url(`https://t.co/${this.rng.token(10)}`, permalink, displayUrl(permalink.slice(8)));
    addUser(users, quoted.author.user);
    const data = this.baseTweet(id, ms, author, author.pool.lang, id);
    data.referenced_tweets = [{ type: 'quoted', id: quoted.tweet.id }];
    const includes: V2Includes = { users, tweets: [quoted.tweet] };
    this.decorate(data, includes, text, author);
    finishText(data, text);
    return { data, includes };
  }

  /** "RT @user: <original text>", the original's entities shifted behind the prefix, like X renders retweets. */
  private retweet(id: string, ms: number, author: Author): TweetPayload {
    const original = this.rng.pick(this.recent);
    const text = new TextBuilder();
    text.word('RT ', 3);
    text.mention(original.author.user, original.author.mentionCp);
    text.word(': ', 2);
    const shift = text.cp;
    const users: V2User[] = [author.user];
    addUser(users, original.author.user);
    for (const u of original.users) addUser(users, u);
    const source = original.tweet.entities;
    text.word(original.tweet.text, codePointLength(original.tweet.text));
    if (source) {
      const shifted = <T extends EntityRange>(list: T[] | undefined, into: T[]) => {
        for (const e of list ?? []) into.push({ ...e, start: e.start + shift, end: e.end + shift });
      };
      shifted(source.hashtags, text.hashtags);
      shifted(source.cashtags, text.cashtags);
      shifted(source.mentions, text.mentions);
      shifted(source.urls, text.urls);
    }
    const data = this.baseTweet(id, ms, author, original.tweet.lang, id);
    data.referenced_tweets = [{ type: 'retweeted', id: original.tweet.id }];
    data.public_metrics = { ...ZERO_METRICS };
    finishText(data, text);
    return { data, includes: { users, tweets: [original.tweet] } };
  }

  // ---- pieces of a tweet ----

  private baseTweet(id: string, ms: number, author: Author, lang: string, conversationId: string): V2Tweet {
    const [created, editableUntil] = this.times(ms);
    const rng = this.rng;
    return {
      id,
      text: '',
      created_at: created,
      author_id: author.user.id,
      lang,
      conversation_id: conversationId,
      edit_history_tweet_ids: [id],
      edit_controls: {
        is_edit_eligible: true,
        editable_until: editableUntil,
        edits_remaining: 5,
      },
      possibly_sensitive: rng.chance(0.02),
      reply_settings: rng.chance(0.95) ? 'everyone' : 'following',
      public_metrics: {
        retweet_count: rng.skewed(500),
        reply_count: rng.skewed(100),
        like_count: rng.skewed(5000),
        quote_count: rng.skewed(50),
        bookmark_count: rng.skewed(200),
        impression_count: rng.skewed(100_000),
      },
    };
  }

  /** Words in the author's language with emoji, hashtags, mentions, cashtags and links mixed in. */
  private body(text: TextBuilder, pool: LanguagePool, users: V2User[]): void {
    const rng = this.rng;
    const count = 4 + rng.int(11);
    const music = pool.lang === 'en' && rng.chance(0.5) ? rng.int(count) : -1;
    for (let i = 0; i < count; i++) {
      if (i > 0) text.word(pool.sep, pool.sep.length);
      const w = i === music ? rng.pick(MUSIC_PHRASES) : rng.pick(pool.words);
      text.word(w.s, w.cp);
      if (rng.chance(0.06)) {
        const e = rng.pick(EMOJI);
        text.word(' ', 1);
        text.word(e.s, e.cp);
      } else if (rng.chance(0.04)) {
        const mentioned = rng.pick(this.authors);
        text.word(' ', 1);
        text.mention(mentioned.user, mentioned.mentionCp);
        addUser(users, mentioned.user);
      }
    }
    if (pool.lang === 'en' && rng.chance(0.03)) {
      text.word(' ', 1);
      text.cashtag(rng.pick(CASHTAGS));
    }
    if (rng.chance(0.15)) {
      const target = rng.pick(URL_TARGETS) + rng.token(11);
      text.word(' ', 1);
      text.url(
        `https://t.co/${rng.token(10)}`,
        target,
        displayUrl(target.replace(/^https:\/\/(www\.)?/, '')),
      );
    }
    if (rng.chance(0.35)) {
      const tags = 1 + rng.int(3);
      for (let i = 0; i < tags; i++) {
        text.word(' ', 1);
        text.hashtag(rng.pick(pool.hashtags));
      }
    }
    if (rng.chance(0.25)) {
      const e = rng.pick(EMOJI);
      text.word(' ', 1);
      text.word(e.s, e.cp);
    }
  }

  /** Media (with the trailing pic link X appends) and geo, on some tweets. */
  private decorate(data: V2Tweet, includes: V2Includes, text: TextBuilder, author: Author): void {
    const rng = this.rng;
    if (rng.chance(0.1)) {
      const media = this.media(data.id);
      data.attachments = { media_keys: media.map((m) => m.media_key) };
      includes.media = media;
      const expanded = `https://x.com/${author.user.username}/status/${data.id}/${media[0]?.type === 'photo' ? 'photo' : 'video'}/1`;
      text.word(' ', 1);
      text.url(`https://t.co/${rng.token(10)}`, expanded, `pic.x.com/${rng.token(10)}`, media[0]?.media_key);
    }
    if (rng.chance(0.03)) {
      const place = rng.pick(PLACE_POOL);
      data.geo = { place_id: place.id };
      if (rng.chance(0.3)) {
        const [west, south, east, north] = place.geo.bbox;
        data.geo.coordinates = {
          type: 'Point',
          coordinates: [west + (east - west) * rng.next(), south + (north - south) * rng.next()],
        };
      }
      includes.places = [place];
    }
  }

  private media(tweetId: string): V2Media[] {
    const rng = this.rng;
    const stem = tweetId.slice(0, -1);
    if (rng.chance(0.85)) {
      const count = 1 + (rng.chance(0.7) ? 0 : rng.int(4));
      const photos: V2Media[] = [];
      for (let i = 0; i < count; i++) {
        const photo: V2Media = {
          media_key: `3_${stem}${i}`,
          type: 'photo',
          url: `https://pbs.twimg.com/media/${rng.token(15)}.jpg`,
          width: rng.pick([1080, 1200, 2048, 4096]),
          height: rng.pick([720, 1080, 1350, 1536]),
        };
        if (rng.chance(0.3)) photo.alt_text = 'A photo shared from the synthetic feed';
        photos.push(photo);
      }
      return photos;
    }
    const gif = rng.chance(0.3);
    const key = `${gif ? 16 : 7}_${stem}0`;
    const file = rng.token(16);
    return [
      {
        media_key: key,
        type: gif ? 'animated_gif' : 'video',
        width: 1280,
        height: 720,
        preview_image_url: `https://pbs.twimg.com/ext_tw_video_thumb/${stem}0/pu/img/${file}.jpg`,
        ...(gif
          ? {}
          : { duration_ms: 3000 + rng.int(120_000), public_metrics: { view_count: rng.skewed(1e6) } }),
        variants: [
          {
            content_type: 'video/mp4',
            bit_rate: gif ? 0 : 2176000,
            url: `https://video.twimg.com/ext_tw_video/${stem}0/pu/vid/1280x720/${file}.mp4`,
          },
        ],
      },
    ];
  }

  private remember(entry: Remembered): void {
    if (this.recent.length < RECENT_ORIGINALS) this.recent.push(entry);
    else this.recent[this.recentNext] = entry;
    this.recentNext = (this.recentNext + 1) % RECENT_ORIGINALS;
  }

  private makeAuthor(index: number, taken: Set<string>): Author {
    const rng = this.rng;
    const pool = rng.pick(this.languageTable);
    const name = rng.pick(pool.names);
    const handleBase = rng.pick(HANDLE_STEMS) + (rng.chance(0.5) ? '_' : '') + rng.pick(HANDLE_STEMS);
    let username = (handleBase + (rng.chance(0.6) ? String(rng.int(1000)) : '')).slice(0, 15);
    if (taken.has(username)) username = (username.slice(0, 9) + '_' + index.toString(36)).slice(0, 15);
    taken.add(username);
    const createdMs = Date.UTC(2008, 0, 1) + rng.int(17 * 365) * 86_400_000 + rng.int(86_400) * 1000;
    // Accounts from before 2016 have short sequential ids; newer ones are snowflakes.
    const id =
      createdMs < Date.UTC(2016, 0, 1)
        ? String(10_000_000 + rng.int(4_000_000_000))
        : snowflakeFromTime(createdMs, rng.int(4096), rng.int(1024));
    const verified = rng.chance(0.1);
    const user: V2User = {
      id,
      name: rng.chance(0.1) ? `${name} ${rng.pick(EMOJI).s}` : name,
      username,
      created_at: new Date(createdMs).toISOString(),
      description: rng.pick(pool.words).s + pool.sep + rng.pick(pool.words).s,
      profile_image_url: `https://pbs.twimg.com/profile_images/${id}/${rng.token(8)}_normal.jpg`,
      protected: false,
      verified,
      verified_type: verified ? (rng.chance(0.9) ? 'blue' : 'business') : 'none',
      public_metrics: {
        followers_count: rng.skewed(2_000_000),
        following_count: rng.skewed(5000),
        tweet_count: rng.skewed(200_000),
        listed_count: rng.skewed(2000),
        like_count: rng.skewed(300_000),
      },
    };
    if (rng.chance(0.6)) user.location = rng.pick(pool.places);
    return { user, pool, mentionCp: 1 + username.length };
  }
}

const HANDLE_STEMS = (
  'music daily the real its nova pixel tokyo rio luna sol beat indie coffee dev kpop fan news retro wave jazz ' +
  'lofi sam ana kim max leo mia'
).split(' ');

const ZERO_METRICS: V2PublicMetrics = {
  retweet_count: 0,
  reply_count: 0,
  like_count: 0,
  quote_count: 0,
  bookmark_count: 0,
  impression_count: 0,
};

/** X shortens long display URLs with an ellipsis. */
function displayUrl(withoutScheme: string): string {
  return withoutScheme.length > 26 ? `${withoutScheme.slice(0, 25)}…` : withoutScheme;
}

function addUser(users: V2User[], user: V2User): void {
  for (const u of users) if (u.id === user.id) return;
  users.push(user);
}

/** Accumulates text and entities together so offsets (in code points) are right by construction. */
class TextBuilder {
  parts: string[] = [];
  cp = 0;
  hashtags: (EntityRange & { tag: string })[] = [];
  cashtags: (EntityRange & { tag: string })[] = [];
  mentions: (EntityRange & { username: string; id: string })[] = [];
  urls: (EntityRange & { url: string; expanded_url: string; display_url: string; media_key?: string })[] = [];

  word(s: string, cp: number): void {
    this.parts.push(s);
    this.cp += cp;
  }
  hashtag(tag: string): void {
    const cp = 1 + codePointLength(tag);
    this.hashtags.push({ start: this.cp, end: this.cp + cp, tag });
    this.word(`#${tag}`, cp);
  }
  cashtag(tag: string): void {
    this.cashtags.push({ start: this.cp, end: this.cp + 1 + tag.length, tag });
    this.word(`$${tag}`, 1 + tag.length);
  }
  mention(user: V2User, cp: number): void {
    this.mentions.push({ start: this.cp, end: this.cp + cp, username: user.username, id: user.id });
    this.word(`@${user.username}`, cp);
  }
  url(url: string, expanded: string, display: string, mediaKey?: string): void {
    const entity = {
      start: this.cp,
      end: this.cp + url.length,
      url,
      expanded_url: expanded,
      display_url: display,
    };
    this.urls.push(mediaKey ? { ...entity, media_key: mediaKey } : entity);
    this.word(url, url.length);
  }
}

function finishText(data: V2Tweet, text: TextBuilder): void {
  data.text = text.parts.join('');
  const entities: V2Entities = {};
  if (text.hashtags.length) entities.hashtags = text.hashtags;
  if (text.cashtags.length) entities.cashtags = text.cashtags;
  if (text.mentions.length) entities.mentions = text.mentions;
  if (text.urls.length) entities.urls = text.urls;
  if (text.hashtags.length || text.cashtags.length || text.mentions.length || text.urls.length) {
    data.entities = entities;
  }
}

/** Builds a recent-search page from payloads already ordered newest first. */
export function searchPage(payloads: TweetPayload[], nextToken?: string): SearchPage {
  if (payloads.length === 0) return { meta: { result_count: 0 } };
  const includes = mergeIncludes(payloads.map((p) => p.includes));
  const page: SearchPage = {
    data: payloads.map((p) => p.data),
    meta: {
      newest_id: payloads[0]!.data.id,
      oldest_id: payloads[payloads.length - 1]!.data.id,
      result_count: payloads.length,
    },
  };
  if (Object.keys(includes).length > 0) page.includes = includes;
  if (nextToken !== undefined) page.meta.next_token = nextToken;
  return page;
}

/** Concatenates includes, each object once (X never repeats an included object within one response). */
export function mergeIncludes(all: V2Includes[]): V2Includes {
  const users = new Map<string, V2User>();
  const tweets = new Map<string, V2Tweet>();
  const media = new Map<string, V2Media>();
  const places = new Map<string, V2Place>();
  const polls = new Map<string, V2Poll>();
  for (const inc of all) {
    for (const u of inc.users ?? []) users.set(u.id, u);
    for (const t of inc.tweets ?? []) tweets.set(t.id, t);
    for (const m of inc.media ?? []) media.set(m.media_key, m);
    for (const p of inc.places ?? []) places.set(p.id, p);
    for (const p of inc.polls ?? []) polls.set(p.id, p);
  }
  const out: V2Includes = {};
  if (users.size) out.users = [...users.values()];
  if (tweets.size) out.tweets = [...tweets.values()];
  if (media.size) out.media = [...media.values()];
  if (places.size) out.places = [...places.values()];
  if (polls.size) out.polls = [...polls.values()];
  return out;
}
