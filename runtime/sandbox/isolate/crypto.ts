// crypto.getRandomValues and crypto.randomUUID for the isolate, fed by the host's CSPRNG (V8's
// Math.random is not one). Bytes come over in blocks and are used once each.
import type { HostFunctions } from "../wire.js";

const POOL_BYTES = 4_096;
/** The Web Crypto quota for one getRandomValues call. */
const MAX_RANDOM_BYTES = 65_536;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export interface EddyCrypto {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  randomUUID(): string;
}

export function createCrypto(host: Pick<HostFunctions, "randomBytes">): EddyCrypto {
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;

  function take(length: number): Uint8Array {
    if (length > POOL_BYTES) return host.randomBytes(length);
    if (used + length > pool.length) {
      pool = host.randomBytes(POOL_BYTES);
      used = 0;
    }
    const bytes = pool.slice(used, used + length);
    // Spent bytes are zeroed, so nothing reads them twice.
    pool.fill(0, used, used + length);
    used += length;
    return bytes;
  }

  function getRandomValues<T extends ArrayBufferView>(array: T): T {
    if (!isIntegerTypedArray(array)) {
      const error = new TypeError("crypto.getRandomValues: expected an integer typed array (Uint8Array, Int32Array, …)");
      error.name = "TypeMismatchError";
      throw error;
    }
    if (array.byteLength > MAX_RANDOM_BYTES) {
      const error = new RangeError(`crypto.getRandomValues: ${array.byteLength} bytes asked; at most ${MAX_RANDOM_BYTES} per call`);
      error.name = "QuotaExceededError";
      throw error;
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(take(array.byteLength));
    return array;
  }

  function randomUUID(): string {
    const b = take(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = (i: number) => HEX[b[i]!]!;
    return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
  }

  return { getRandomValues, randomUUID };
}

function isIntegerTypedArray(value: unknown): value is ArrayBufferView {
  return (
    value instanceof Uint8Array ||
    value instanceof Int8Array ||
    value instanceof Uint8ClampedArray ||
    value instanceof Uint16Array ||
    value instanceof Int16Array ||
    value instanceof Uint32Array ||
    value instanceof Int32Array ||
    value instanceof BigUint64Array ||
    value instanceof BigInt64Array
  );
}
