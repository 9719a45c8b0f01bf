-- Webhooks: endpoints, the events status changes cause, and their deliveries with every attempt.

create table webhook_endpoints (
    id                uuid primary key,
    account_id        uuid not null references accounts (id),
    url               text not null,
    events            text[] not null,
    secret_ciphertext bytea not null,   -- AES-GCM under the platform's webhook key; shown once at creation
    enabled           boolean not null default true,
    disabled_reason   text,
    created_at        timestamptz not null,
    updated_at        timestamptz not null
);
create index webhook_endpoints_account_idx on webhook_endpoints (account_id) where enabled;

-- Signs deliveries to per-message callback URLs (an account may have none or several endpoints).
alter table accounts add column callback_secret_ciphertext bytea;

create table webhook_events (
    id         uuid primary key,
    account_id uuid not null,
    type       text not null,
    payload    jsonb not null,
    created_at timestamptz not null
);
create index webhook_events_account_idx on webhook_events (account_id, id desc);

-- One per event and target (an endpoint, or a send's callback URL). Pending ones wait for
-- next_attempt_at; a Worker taking one pushes next_attempt_at a lease ahead, so a crashed Worker's
-- deliveries become due again by themselves.
create table webhook_deliveries (
    id               uuid primary key,
    event_id         uuid not null,
    account_id       uuid not null,
    endpoint_id      uuid,             -- null: a per-message callback_url
    url              text not null,
    status           text not null check (status in ('pending', 'succeeded', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz not null,
    completed_at     timestamptz
) with (fillfactor = 80);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc);

create table webhook_attempts (
    id              bigint generated always as identity primary key,
    delivery_id     uuid not null,
    attempted_at    timestamptz not null,
    status_code     integer,
    latency_ms      integer,
    error           text,
    next_attempt_at timestamptz
);
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, id);

-- Records an event and a delivery for every enabled endpoint of the account that subscribes to its
-- type, plus one to p_callback_url if given. In the caller's transaction: an event exists exactly when
-- the change that caused it was committed.
create function emit_webhook_event(p_account uuid, p_type text, p_payload jsonb, p_callback_url text, p_at timestamptz)
returns uuid language plpgsql as $$
declare
    event_id uuid := uuid_v7(p_at);
begin
    if not exists (select 1 from webhook_endpoints where account_id = p_account and enabled and p_type = any(events))
       and p_callback_url is null then
        return null;
    end if;
    insert into webhook_events (id, account_id, type, payload, created_at)
    values (event_id, p_account, p_type, p_payload || jsonb_build_object('event', p_type, 'id', 'evt_' || replace(event_id::text, '-', '')), p_at);
    insert into webhook_deliveries (id, event_id, account_id, endpoint_id, url, status, next_attempt_at, created_at)
    select uuid_v7(p_at), event_id, p_account, e.id, e.url, 'pending', p_at, p_at
      from webhook_endpoints e
     where e.account_id = p_account and e.enabled and p_type = any(e.events)
    union all
    select uuid_v7(p_at), event_id, p_account, null, p_callback_url, 'pending', p_at, p_at
     where p_callback_url is not null;
    return event_id;
end
$$;

-- Message and batch events for the moves transition_messages made (see 0002). Most sends have no
-- listener: that case costs two index lookups and returns.
create or replace function after_messages_moved(p_moved message_transition[], p_finalized uuid[], p_at timestamptz)
returns void language plpgsql
set plan_cache_mode = force_generic_plan
as $$
declare
    accounts uuid[] := array(select distinct account_id from unnest(p_moved));
    batch_ids uuid[] := array(select distinct batch_id from unnest(p_moved));
    batch record;
begin
    if not exists (select 1 from webhook_endpoints where account_id = any(accounts) and enabled)
       and not exists (select 1 from batches where id = any(batch_ids) and callback_url is not null) then
        return;
    end if;

    -- message.sent, message.delivered, message.failed (rejected by the provider counts as failed)
    perform emit_webhook_event(
                m.account_id,
                'message.' || case when m.status = 'rejected' then 'failed' else m.status end,
                jsonb_build_object('created_at', p_at, 'message', jsonb_build_object(
                    'id', 'msg_' || replace(m.id::text, '-', ''),
                    'batch_id', 'bat_' || replace(m.batch_id::text, '-', ''),
                    'to', m.recipient, 'status', m.status, 'error_code', m.error_code,
                    'sent_at', m.sent_at, 'delivered_at', m.delivered_at, 'failed_at', m.failed_at,
                    'reference', b.reference)),
                b.callback_url, p_at)
      from messages m
      join batches b on b.id = m.batch_id
     where m.id = any(array(select id from unnest(p_moved) where to_status in ('sent', 'delivered', 'failed', 'rejected')))
     order by m.id;

    -- batch.finalized, once per batch (the batch became final in this very transaction)
    for batch in
        select b.* from batches b where b.id = any(p_finalized) order by b.id
    loop
        perform emit_webhook_event(
            batch.account_id, 'batch.finalized',
            jsonb_build_object(
                'created_at', p_at,
                'batch_id', 'bat_' || replace(batch.id::text, '-', ''),
                'reference', batch.reference,
                'summary', jsonb_build_object(
                    'total', batch.recipients, 'queued', batch.queued_count, 'sent', batch.sent_count,
                    'delivered', batch.delivered_count, 'failed', batch.failed_count,
                    'rejected', batch.rejected_count, 'canceled', batch.canceled_count),
                'messages', (select coalesce(jsonb_agg(jsonb_build_object('to', m.recipient, 'status', m.status, 'delivered_at', m.delivered_at) order by m.id), '[]')
                               from messages m where m.batch_id = batch.id)),
            batch.callback_url, p_at);
    end loop;
end
$$;
