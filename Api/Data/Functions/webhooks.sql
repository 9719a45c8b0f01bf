-- Webhook events: one row per event and endpoint, held while an endpoint is disabled (decisions 0011, 0017).
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

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
