-- A webhook delivery continues the trace of the change that caused it (issue 10, item 7), so one
-- send's trace runs from the gateway to the webhooks it causes. The transaction that makes the
-- change names its trace first -- set_config('ujumbe.trace_parent', <W3C traceparent>, true), see
-- Shared/Webhooks/WebhookTrace.cs -- and every delivery inserted later in that transaction (by
-- emit_webhook_event, from whatever function calls it) keeps it through this default, without each
-- caller passing it down. The Worker starts "webhook deliver" as a child of it. A transaction that
-- names none stores null (a session that named one earlier reads '' afterwards): a trace of its own.
alter table webhook_deliveries add column trace_parent text
    default nullif(current_setting('ujumbe.trace_parent', true), '');
