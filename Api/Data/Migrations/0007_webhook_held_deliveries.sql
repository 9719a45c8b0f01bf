-- Events for a disabled endpoint are kept, not dropped (decision 0017): a delivery to an endpoint that
-- is disabled (by the account, or after the receiver answered 410 Gone) is 'held' -- not due, no
-- attempt counted -- and re-enabling the endpoint makes its held deliveries due again. Held
-- deliveries older than the retention (72 h) are failed by the Worker's sweeper instead.

alter table webhook_deliveries drop constraint webhook_deliveries_status_check;
alter table webhook_deliveries add constraint webhook_deliveries_status_check
    check (status in ('pending', 'held', 'succeeded', 'failed'));
create index webhook_deliveries_held_idx on webhook_deliveries (created_at) where status = 'held';

-- Every endpoint of the account subscribed to the type gets a delivery: pending if it is enabled,
-- held if not.
create or replace function emit_webhook_event(p_account uuid, p_type text, p_payload jsonb, p_callback_url text, p_at timestamptz)
returns uuid language plpgsql as $$
declare
    event_id uuid := uuid_v7(p_at);
begin
    if not exists (select 1 from webhook_endpoints where account_id = p_account and p_type = any(events))
       and p_callback_url is null then
        return null;
    end if;
    insert into webhook_events (id, account_id, type, payload, created_at)
    values (event_id, p_account, p_type, p_payload || jsonb_build_object('event', p_type, 'id', 'evt_' || replace(event_id::text, '-', '')), p_at);
    insert into webhook_deliveries (id, event_id, account_id, endpoint_id, url, status, next_attempt_at, created_at)
    select uuid_v7(p_at), event_id, p_account, e.id, e.url,
           case when e.enabled then 'pending' else 'held' end, case when e.enabled then p_at end, p_at
      from webhook_endpoints e
     where e.account_id = p_account and p_type = any(e.events)
    union all
    select uuid_v7(p_at), event_id, p_account, null, p_callback_url, 'pending', p_at, p_at
     where p_callback_url is not null;
    return event_id;
end
$$;

-- As in 0004, but an account whose endpoints are all disabled still gets its events (held for them).
create or replace function after_messages_moved(p_moved message_transition[], p_finalized uuid[], p_at timestamptz)
returns void language plpgsql
set plan_cache_mode = force_generic_plan
as $$
declare
    accounts uuid[] := array(select distinct account_id from unnest(p_moved));
    batch_ids uuid[] := array(select distinct batch_id from unnest(p_moved));
    batch record;
begin
    if not exists (select 1 from webhook_endpoints where account_id = any(accounts))
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
