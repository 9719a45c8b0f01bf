-- Usage by day or month: per-message deltas folded into the kept aggregate (decision 0023).
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

create or replace function usage_slot(at timestamptz) returns timestamptz language sql immutable as $$
    select date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00')
$$;

-- What one message contributes to its slot's counts; a change adds (new - old).
create or replace function after_messages_inserted() returns trigger language plpgsql as $$
begin
    insert into usage_deltas (account_id, slot, messages, sent, delivered, failed, credits)
    select n.account_id, usage_slot(n.created_at), count(*),
           count(*) filter (where n.sent_at is not null),
           count(*) filter (where n.status = 'delivered'),
           count(*) filter (where n.status in ('failed', 'rejected')),
           coalesce(sum(n.credits) filter (where n.sent_at is not null), 0)
      from new_rows n
     group by 1, 2;
    return null;
end
$$;

create or replace function after_messages_updated() returns trigger language plpgsql as $$
begin
    insert into usage_deltas (account_id, slot, messages, sent, delivered, failed, credits)
    select c.account_id, c.slot, 0, sum(c.sent), sum(c.delivered), sum(c.failed), sum(c.credits)
      from (select n.account_id, usage_slot(n.created_at) as slot,
                   (n.sent_at is not null)::int - (o.sent_at is not null)::int as sent,
                   (n.status = 'delivered')::int - (o.status = 'delivered')::int as delivered,
                   (n.status in ('failed', 'rejected'))::int - (o.status in ('failed', 'rejected'))::int as failed,
                   (case when n.sent_at is not null then n.credits else 0 end)
                     - (case when o.sent_at is not null then o.credits else 0 end) as credits
              from new_rows n join old_rows o on o.id = n.id) c
     where c.sent <> 0 or c.delivered <> 0 or c.failed <> 0 or c.credits <> 0
     group by 1, 2;
    return null;
end
$$;

-- Folds the deltas into the slots; returns how many deltas it folded. Several Workers may call it at once:
-- each delta is deleted (and so counted) by exactly one of them.
create or replace function fold_usage_deltas() returns integer language plpgsql as $$
declare
    folded integer;
begin
    with moved as (
        delete from usage_deltas returning account_id, slot, messages, sent, delivered, failed, credits
    ), summed as (
        select account_id, slot, sum(messages) m, sum(sent) s, sum(delivered) d, sum(failed) f, sum(credits) c, count(*) n
          from moved group by 1, 2
    ), upserted as (  -- a data-modifying CTE runs whether or not it is read
        insert into usage_slots as u (account_id, slot, messages, sent, delivered, failed, credits)
        select account_id, slot, m, s, d, f, c from summed order by account_id, slot
        on conflict (account_id, slot) do update
           set messages = u.messages + excluded.messages, sent = u.sent + excluded.sent,
               delivered = u.delivered + excluded.delivered, failed = u.failed + excluded.failed,
               credits = u.credits + excluded.credits
    )
    select coalesce(sum(n), 0) into folded from summed;
    return folded;
end
$$;
