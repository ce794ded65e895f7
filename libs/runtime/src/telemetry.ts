import { context, propagation, trace, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export { SpanStatusCode, type Span, type Tracer };

let propagatorSet = false;

/**
 * Starts OpenTelemetry for a process. Without an endpoint nothing is exported (spans are no-ops)
 * but the W3C propagator is still installed, so trace context crosses NATS whenever an upstream
 * caller sent one.
 */
export async function startTelemetry(opts: { serviceName: string; otlpEndpoint: string | undefined }): Promise<{ close(): Promise<void> }> {
  if (!propagatorSet) {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    propagatorSet = true;
  }
  if (!opts.otlpEndpoint) {
    // Without an exporter, still carry context across awaits so traceparent flows through NATS.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    return { close: async () => {} };
  }
  // The SDK and exporter are loaded only when traces are exported: they are most of the
  // proxy's start-up time and idle memory, and a process without an endpoint never uses them.
  const [{ NodeSDK }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }),
    traceExporter: new OTLPTraceExporter({ url: opts.otlpEndpoint }),
    instrumentations: [],
  });
  sdk.start();
  return { close: () => sdk.shutdown() };
}

export function tracer(name = 'srs-proxy'): Tracer {
  return trace.getTracer(name);
}

/** Runs `fn` inside a span; records the error and ends the span whatever happens. */
export async function withSpan<T>(name: string, attrs: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes: attrs }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : new Error(String(err)));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Writes the active trace context (W3C `traceparent`/`tracestate`) into a header carrier. */
export function injectTraceHeaders(carrier: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` with the trace context found in a header carrier as the active context. */
export function withExtractedContext<T>(carrier: Record<string, string>, fn: () => T): T {
  return context.with(propagation.extract(context.active(), carrier), fn);
}
