-- Partners and tenants (decision 0023): accounts already have is_partner and parent_account_id (0001).
-- An account's time zone: the days and months its usage is counted in.
alter table accounts add column time_zone text not null default 'Africa/Dar_es_Salaam';
-- A tenant's owner is listed and searched by the partner; the parent index serves the list.
create index accounts_parent_created_idx on accounts (parent_account_id, created_at desc, id desc) where parent_account_id is not null;
drop index accounts_parent_idx;

-- Usage kept up to date, so GET /v1/usage never scans messages. Counts are kept per account per
-- 15-minute UTC slot of the messages' acceptance time: any time zone's day or month (every zone's
-- offset is a multiple of 15 minutes) is a sum of whole slots, and changing an account's zone needs no
-- rebuild. Triggers on messages only append deltas (no row locks taken on the send path, so no
-- contention or deadlocks between concurrent sends); the Worker folds them into usage_slots every
-- second, and a reader adds the few not folded yet.
create table usage_slots (
    account_id uuid not null,
    slot       timestamptz not null,
    messages   bigint not null default 0,
    sent       bigint not null default 0,   -- reached the provider (delivered ones included)
    delivered  bigint not null default 0,
    failed     bigint not null default 0,   -- failed or rejected
    credits    bigint not null default 0,   -- of messages that reached the provider
    primary key (account_id, slot)
);

create table usage_deltas (
    id         bigint generated always as identity primary key,
    account_id uuid not null,
    slot       timestamptz not null,
    messages   bigint not null,
    sent       bigint not null,
    delivered  bigint not null,
    failed     bigint not null,
    credits    bigint not null
);
create index usage_deltas_account_idx on usage_deltas (account_id, slot);

create function usage_slot(at timestamptz) returns timestamptz language sql immutable as $$
    select date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00')
$$;

-- What one message contributes to its slot's counts; a change adds (new - old).
create function after_messages_inserted() returns trigger language plpgsql as $$
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

create function after_messages_updated() returns trigger language plpgsql as $$
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

create trigger messages_usage_inserted after insert on messages
    referencing new table as new_rows for each statement execute function after_messages_inserted();
create trigger messages_usage_updated after update on messages
    referencing new table as new_rows old table as old_rows for each statement execute function after_messages_updated();

-- Folds the deltas into the slots; returns how many deltas it folded. Several Workers may call it at once:
-- each delta is deleted (and so counted) by exactly one of them.
create function fold_usage_deltas() returns integer language plpgsql as $$
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

-- The messages sent before this migration.
insert into usage_slots (account_id, slot, messages, sent, delivered, failed, credits)
select account_id, usage_slot(created_at), count(*),
       count(*) filter (where sent_at is not null),
       count(*) filter (where status = 'delivered'),
       count(*) filter (where status in ('failed', 'rejected')),
       coalesce(sum(credits) filter (where sent_at is not null), 0)
  from messages group by 1, 2;
