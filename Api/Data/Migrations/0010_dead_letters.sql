-- Dead letters (decision 0022): work that failed every retry. The Worker drains each work queue's
-- RabbitMQ dead-letter queue into this table (acknowledging only after the insert commits; the id is
-- given when the message is dead-lettered, so draining one twice stores it once). Operators list them
-- and replay one: the body goes back to its queue through the outbox in the same transaction that
-- marks it replayed, so a replay is never lost and never done twice.
create table dead_letters (
    id               uuid primary key,
    queue            text not null,
    body             bytea not null,
    headers          jsonb not null default '{}',
    trace_parent     text,
    attempts         integer not null,
    last_error       text,
    first_failed_at  timestamptz,
    dead_lettered_at timestamptz not null,
    drained_at       timestamptz not null,
    replayed_at      timestamptz,
    replayed_by      text,
    check ((replayed_at is null) = (replayed_by is null))
);

create index dead_letters_waiting_idx on dead_letters (queue, dead_lettered_at desc) where replayed_at is null;
create index dead_letters_time_idx on dead_letters (dead_lettered_at desc);
