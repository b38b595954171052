export { defineFunction, DEFINED_AT } from "./define-function.js";
export type {
  FunctionConfig,
  FunctionDefinition,
  RecordFunctionDefinition,
  BatchFunctionDefinition,
  BatchResult,
  EventSchema,
  TypedEvent,
} from "./define-function.js";
export type { StandardSchemaV1 } from "./standard-schema.js";
export { NonRetriableError, RetryAfterError, BatchItemFailures, SdkErrorCode, ERROR_CODE_PROPERTY } from "./errors.js";
export { createEvent } from "./event.js";
export type { EventRecord } from "./event.js";
export type { EddyEvent, CloudEvent, Context, FunctionState, EmitValue, EmitOptions, FunctionLogger, FetchInit, FetchHeaders, FetchResponse } from "./types.js";
