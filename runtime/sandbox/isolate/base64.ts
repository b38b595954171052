// atob/btoa as in the HTML standard (Latin-1 "binary strings"), for a context that has neither.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

function invalidCharacter(message: string): Error {
  const error = new Error(message);
  error.name = "InvalidCharacterError";
  return error;
}

export function btoa(input: unknown): string {
  const text = String(input);
  let out = "";
  for (let i = 0; i < text.length; i += 3) {
    const a = byteAt(text, i);
    const b = i + 1 < text.length ? byteAt(text, i + 1) : -1;
    const c = i + 2 < text.length ? byteAt(text, i + 2) : -1;
    out += ALPHABET[a >> 2];
    out += ALPHABET[((a & 3) << 4) | (b < 0 ? 0 : b >> 4)];
    out += b < 0 ? "=" : ALPHABET[((b & 15) << 2) | (c < 0 ? 0 : c >> 6)];
    out += c < 0 ? "=" : ALPHABET[c & 63];
  }
  return out;
}

function byteAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code > 0xff) throw invalidCharacter("btoa: the string has characters outside Latin-1 (encode it to UTF-8 bytes first)");
  return code;
}

export function atob(input: unknown): string {
  let text = String(input).replace(/[\t\n\f\r ]/g, "");
  if (text.length % 4 === 0) text = text.replace(/==?$/, "");
  if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
    throw invalidCharacter("atob: the string is not correctly encoded base64");
  }
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    buffer = (buffer << 6) | LOOKUP.get(char)!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}
