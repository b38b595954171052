import { describe, expect, it } from "vitest";
import { atob, btoa } from "./base64.js";
import { EddyTextDecoder, EddyTextEncoder } from "./text-codec.js";

// The isolate's pure-JS codecs must agree with Node's native ones byte for byte.
const samples = ["", "ascii only", `{"long":"${"x".repeat(20_000)}"}`, "héllo wörld", "日本語テキスト", "emoji 🎉🚀 and 𝄞", "lone \uD800 surrogate", "trailing \uDBFF", "\uFEFFbom first"];

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    bytes[i] = state % 256;
  }
  return bytes;
}

describe("TextEncoder", () => {
  it.each(samples)("encodes %j like Node", (text) => {
    expect(new EddyTextEncoder().encode(text)).toEqual(new TextEncoder().encode(text));
  });

  it("encodeInto stops before a character that does not fit", () => {
    const target = new Uint8Array(4);
    expect(new EddyTextEncoder().encodeInto("ab🎉", target)).toEqual(new TextEncoder().encodeInto("ab🎉", new Uint8Array(4)));
  });
});

describe("TextDecoder", () => {
  it.each(samples)("decodes %j like Node", (text) => {
    const bytes = new TextEncoder().encode(text);
    expect(new EddyTextDecoder().decode(bytes)).toBe(new TextDecoder().decode(bytes));
    expect(new EddyTextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)).toBe(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes));
  });

  it("replaces invalid sequences exactly as Node does", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = randomBytes(64, seed);
      expect(new EddyTextDecoder().decode(bytes)).toBe(new TextDecoder().decode(bytes));
    }
  });

  it("decodes ASCII that follows a character split across stream chunks", () => {
    const bytes = new TextEncoder().encode("é plain");
    const decoder = new EddyTextDecoder();
    expect(decoder.decode(bytes.subarray(0, 1), { stream: true }) + decoder.decode(bytes.subarray(1))).toBe("é plain");
  });

  it("decodes a stream split inside a character", () => {
    const bytes = new TextEncoder().encode("a🎉b日");
    const decoder = new EddyTextDecoder();
    const parts = [bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5)].map((part, i, all) =>
      decoder.decode(part, { stream: i < all.length - 1 }),
    );
    expect(parts.join("")).toBe("a🎉b日");
  });

  it("throws on invalid input when fatal", () => {
    expect(() => new EddyTextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff]))).toThrow(TypeError);
  });

  it("refuses encodings other than UTF-8, naming the label", () => {
    expect(() => new EddyTextDecoder("latin1")).toThrow(/"latin1" is not supported/);
  });
});

describe("atob and btoa", () => {
  it.each(["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u0000\u00ff binary"])("round-trip %j like Node", (text) => {
    expect(btoa(text)).toBe(globalThis.btoa(text));
    expect(atob(btoa(text))).toBe(text);
  });

  it("accepts whitespace and missing padding, and rejects what is not base64", () => {
    expect(atob(" Zm9v\nYg ")).toBe("foob");
    expect(() => atob("Zm9v*")).toThrow(/not correctly encoded/);
    expect(() => btoa("日本")).toThrow(/outside Latin-1/);
  });
});
