// An R2Z2 raw history day file ({"<killID>": <ESI body>, …}, tens of thousands of bodies, hundreds of
// MB) kept as the text it arrived as, each body parsed only when it is asked for. Parsing the whole
// document at once costs several times the file in objects; this index costs the file plus one offset
// pair per kill, and a body handed in (and deleted from the index) can be collected at once.
// indexRawDay() checks the document's outer shape (an object of numeric keys whose values are balanced
// JSON values); each body is JSON-parsed on get(), and a body that does not parse comes back as a
// MalformedBody so that one bad body costs that kill its body, not the whole day.

/** A member of the day whose text is not valid JSON. */
export class MalformedBody {
  constructor(readonly message: string) {}
}

export class RawDayFormatError extends Error {
  override name = "RawDayFormatError";
}

export interface RawDayIndex {
  readonly size: number;
  has(killmailId: number): boolean;
  /** The parsed body (unchecked), a MalformedBody, or undefined when the day has no body for this id. */
  get(killmailId: number): unknown;
  /** Forgets a body (after it was handed in), so its text is no longer referenced by the index. */
  delete(killmailId: number): boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Indexes the members of a raw day document; throws RawDayFormatError when its outer shape is wrong. */
export function indexRawDay(text: string): RawDayIndex {
  const spans = new Map<number, [number, number]>();
  const n = text.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new RawDayFormatError(`raw history day: ${what} at offset ${i} of ${n}`);
  };
  const skipSpace = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  /** From an opening quote, returns the index after the closing one. */
  const endOfString = (from: number): number => {
    let j = from + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === BACKSLASH) j += 2;
      else if (c === QUOTE) return j + 1;
      else j++;
    }
    i = from;
    return fail("unterminated string");
  };

  skipSpace();
  if (text.charCodeAt(i) !== OPEN_BRACE) fail("expected '{'");
  i++;
  skipSpace();
  if (text.charCodeAt(i) === CLOSE_BRACE) {
    i++;
  } else {
    for (;;) {
      skipSpace();
      if (text.charCodeAt(i) !== QUOTE) fail("expected a quoted killmail id");
      const keyEnd = endOfString(i);
      const key = text.slice(i + 1, keyEnd - 1);
      if (!/^[1-9][0-9]{0,15}$/.test(key)) fail(`key '${key.slice(0, 20)}' is not a killmail id`);
      i = keyEnd;
      skipSpace();
      if (text.charCodeAt(i) !== COLON) fail("expected ':'");
      i++;
      skipSpace();
      const start = i;
      // The value: a string, or anything up to the next top-level ',' or '}' with brackets balanced.
      let depth = 0;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === QUOTE) i = endOfString(i);
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          depth++;
          i++;
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (depth === 0) break;
          depth--;
          i++;
        } else if (c === COMMA && depth === 0) break;
        else i++;
      }
      let end = i;
      while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
      if (end === start) fail("missing value");
      if (depth !== 0) fail("unbalanced brackets");
      spans.set(Number(key), [start, end]);
      if (text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      if (text.charCodeAt(i) !== CLOSE_BRACE) fail("expected ',' or '}'");
      i++;
      break;
    }
  }
  skipSpace();
  if (i !== n) fail("text after the document");

  let source: string | undefined = text;
  return {
    get size() {
      return spans.size;
    },
    has: (id) => spans.has(id),
    get(id) {
      const span = spans.get(id);
      if (!span || source === undefined) return undefined;
      try {
        return JSON.parse(source.slice(span[0], span[1]));
      } catch (err) {
        return new MalformedBody((err as Error).message);
      }
    },
    delete(id) {
      const had = spans.delete(id);
      if (spans.size === 0) source = undefined; // every body handed in: let the text go
      return had;
    },
  };
}
