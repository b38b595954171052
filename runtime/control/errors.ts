import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EddyError } from "../eddy-error.js";
import type { FieldProblem } from "../config/field-problems.js";

export const controlErrorCodes = {
  EDDY_UNAUTHORIZED: 401,
  /** A valid token whose scope does not allow the call (scopes.ts). */
  EDDY_FORBIDDEN: 403,
  EDDY_NOT_FOUND: 404,
  EDDY_CONFLICT: 409,
  /** A secret of the function was sealed with another key: it cannot be changed until the key is right. */
  EDDY_SECRET_KEY_MISMATCH: 409,
  EDDY_BAD_REQUEST: 400,
  EDDY_CONFIG_INVALID: 400,
  EDDY_PAYLOAD_TOO_LARGE: 413,
  EDDY_UNSUPPORTED_MEDIA_TYPE: 415,
  EDDY_BUNDLE_FAILED: 422,
  EDDY_SANDBOX_INVALID_FUNCTION: 422,
  EDDY_INTERNAL: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ControlErrorCode = keyof typeof controlErrorCodes;

/** The error body of every API answer (SPEC §6). */
export interface ErrorBody {
  error: { code: string; message: string; details?: FieldProblem[] };
}

export function httpError(code: ControlErrorCode, message: string, details?: FieldProblem[]): EddyError {
  return new EddyError(code, message, { userError: true, context: details ? { details } : {} });
}

/** Maps any error to its status and body; unknown errors are 500s whose details stay in the log. */
export function toErrorResponse(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (error instanceof EddyError && error.code in controlErrorCodes) {
    const status = controlErrorCodes[error.code as ControlErrorCode];
    const details = (error.context.details as FieldProblem[] | undefined) ?? diagnosticsToDetails(error.context.diagnostics);
    return { status, body: { error: { code: error.code, message: error.message, ...(details ? { details } : {}) } } };
  }
  return { status: 500, body: { error: { code: "EDDY_INTERNAL", message: "internal error: see Eddy's log" } } };
}

function diagnosticsToDetails(diagnostics: unknown): FieldProblem[] | undefined {
  if (!Array.isArray(diagnostics)) return undefined;
  return diagnostics.map((d: { file: string; line: number; column: number; message: string }) => ({
    path: `${d.file}:${d.line}:${d.column}`,
    message: d.message,
  }));
}
