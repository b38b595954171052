import { SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

/**
 * Runs one control-plane operation (deploy, rollback, replay, redrive) in a span `eddy.<operation>`.
 * Without tracing the API's default tracer records nothing, so this costs a function call.
 */
export function traced<T>(operation: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer("eddy").startActiveSpan(`eddy.${operation}`, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
