import { context, trace, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { tracer } from '@srs-proxy/runtime';

/**
 * Looked up once: `getTracer` builds a new proxy tracer per call. The proxy still delegates to a
 * tracer provider registered later (OpenTelemetry's ProxyTracer looks its delegate up per span).
 */
let edgeTracer: Tracer | undefined;

/**
 * Runs a request's setup inside a span. A span that records (an exporter is configured and the
 * sampler kept it) becomes the active context, so the registry round trips made inside carry its
 * trace; a non-recording one does not, because entering a context costs every request an
 * AsyncLocalStorage scope for nothing to propagate (the edge does not read incoming trace headers).
 */
export async function requestSpan<T>(name: string, attrs: Record<string, string>, fn: (span: Span) => Promise<T>): Promise<T> {
  edgeTracer ??= tracer();
  const span = edgeTracer.startSpan(name, { attributes: attrs });
  try {
    return await (span.isRecording() ? context.with(trace.setSpan(context.active(), span), fn, undefined, span) : fn(span));
  } catch (err) {
    span.recordException(err instanceof Error ? err : new Error(String(err)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
