import type { SandboxErrorCode } from "../errors.js";

// Errors the harness raises itself (an emit over the limit, a fetch egress denies, …) keep their
// EDDY_ code across the boundary; the same code on an error the function made is dropped, so a
// function cannot pass its own errors off as the platform's. The registry is a WeakMap whose
// methods are captured before the function's code runs, so replacing WeakMap.prototype.get later
// changes nothing here.
const registry = new WeakMap<object, { code: SandboxErrorCode; retriable: boolean }>();
const { apply } = Reflect;
const { get, set } = WeakMap.prototype;

export interface PlatformErrorOptions {
  retriable: boolean;
  /** The error's class, e.g. TypeError for a bad argument. Default Error. */
  type?: new (message: string) => Error;
  /** A web name such as "QuotaExceededError" (the class stays Error). */
  name?: string;
}

/** An error thrown to function code that the host recognises by its code after it crosses the boundary. */
export function platformError(code: SandboxErrorCode, message: string, options: PlatformErrorOptions): Error {
  const error = new (options.type ?? Error)(message);
  if (options.name !== undefined) error.name = options.name;
  // Readable inside too, for code that checks `error.code === "EDDY_SANDBOX_EGRESS_DENIED"`.
  Object.defineProperty(error, "code", { value: code, enumerable: false, configurable: true, writable: true });
  apply(set, registry, [error, { code, retriable: options.retriable }]);
  return error;
}

/** The code and retriability of an error the harness raised, or undefined for anything else. */
export function platformErrorCode(value: unknown): { code: SandboxErrorCode; retriable: boolean } | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  return apply(get, registry, [value]) as { code: SandboxErrorCode; retriable: boolean } | undefined;
}
