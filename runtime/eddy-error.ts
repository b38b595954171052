/**
 * The base of every error Eddy raises on purpose. Each part declares its codes in its own
 * `errors.ts`; callers check `code`, never `instanceof` (errors cross process and isolate boundaries).
 */
export class EddyError extends Error {
  readonly code: string;
  /** True when trying the same operation again may succeed. */
  readonly retriable: boolean;
  /** True when the user caused it (bad config, bad request, missing tool): print without a stack. */
  readonly userError: boolean;
  readonly context: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { retriable?: boolean; userError?: boolean; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "EddyError";
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.userError = options.userError ?? false;
    this.context = options.context ?? {};
  }
}

export function isEddyError(error: unknown): error is EddyError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" && "userError" in error;
}
