// The lazy index of an R2Z2 raw history day: every member found with exactly the body JSON.parse would
// give, strings holding braces, brackets, commas and escaped quotes do not confuse it, a malformed body
// costs only that kill, a document of the wrong shape is rejected, and handed-in bodies are forgotten.
import { describe, expect, it } from "vitest";
import { indexRawDay, MalformedBody, RawDayFormatError } from "./raw-day.ts";

const tricky = {
  killmail_id: 2,
  victim: { items: [{ flag: 5, note: 'a "quoted" {brace} [bracket], comma \\ backslash' }], ship_type_id: 587 },
  attackers: [],
  nothing: null,
};

describe("indexRawDay", () => {
  it("finds every member, each parsed exactly as JSON.parse parses the whole document", () => {
    const doc = { "1": { killmail_id: 1, attackers: [{ a: 1 }, { b: [2, 3] }] }, "2": tricky, "30000000000": [1, "x"], "4": "text" };
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), `\n  ${JSON.stringify(doc)}  \n`]) {
      const index = indexRawDay(text);
      expect(index.size).toBe(4);
      for (const [key, value] of Object.entries(doc)) {
        expect(index.has(Number(key))).toBe(true);
        expect(index.get(Number(key))).toEqual(value);
      }
      expect(index.get(5)).toBeUndefined();
    }
  });

  it("accepts an empty day", () => {
    expect(indexRawDay("{}").size).toBe(0);
    expect(indexRawDay(" { } ").size).toBe(0);
  });

  it("returns a malformed body as MalformedBody and still serves the others", () => {
    const index = indexRawDay('{"1": {"killmail_id": 1}, "2": {"killmail_id": 2,, }, "3": {"killmail_id": 3}}');
    expect(index.size).toBe(3);
    expect(index.get(1)).toEqual({ killmail_id: 1 });
    expect(index.get(2)).toBeInstanceOf(MalformedBody);
    expect(index.get(3)).toEqual({ killmail_id: 3 });
  });

  it.each([
    ["not an object", "[1, 2]"],
    ["a key that is not a killmail id", '{"abc": {}}'],
    ["a zero-padded key", '{"012": {}}'],
    ["a missing colon", '{"1" {}}'],
    ["a missing value", '{"1": , "2": {}}'],
    ["unbalanced brackets", '{"1": {"a": [1, 2}'],
    ["an unterminated string", '{"1": {"a": "oops}}'],
    ["text after the document", '{"1": {}} trailing'],
    ["a truncated document", '{"1": {"a": 1}, "2": {"b"'],
  ])("rejects %s", (_, text) => {
    expect(() => indexRawDay(text)).toThrow(RawDayFormatError);
  });

  it("forgets bodies that were handed in", () => {
    const index = indexRawDay('{"1": {"a": 1}, "2": {"b": 2}}');
    expect(index.delete(1)).toBe(true);
    expect(index.delete(1)).toBe(false);
    expect(index.get(1)).toBeUndefined();
    expect(index.size).toBe(1);
    expect(index.delete(2)).toBe(true);
    expect(index.size).toBe(0);
    expect(index.get(2)).toBeUndefined();
  });
});
