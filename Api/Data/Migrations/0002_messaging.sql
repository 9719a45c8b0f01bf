-- Sending: batches and messages, the outbox, idempotency keys, and the one function through which
-- message statuses (and the credits that follow them) change.

-- A time-ordered UUID (version 7: 48-bit Unix milliseconds, then random), for rows created in SQL.
create function uuid_v7(at timestamptz default clock_timestamp()) returns uuid language sql volatile as $$
    select encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send(floor(extract(epoch from at) * 1000)::bigint) from 3)
                    from 1 for 6),
            52, 1), 53, 1),   -- version nibble 0100 (v4) becomes 0111 (v7); the variant bits stay
        'hex')::uuid
$$;

-- Ledger order within one account must follow the balance row's lock order, finer than ids give.
alter table ledger_entries add column seq bigint generated always as identity;
drop index ledger_entries_account_idx;
create index ledger_entries_account_seq_idx on ledger_entries (account_id, seq desc);

-- The one way credits move (also used by the Api through CreditLedger): update the balance row and
-- append the entry with the figures after the change. Check constraints refuse an overdraft.
create function post_credits(
    p_account uuid, p_kind text, p_amount bigint, p_reserved_change bigint, p_reference text, p_at timestamptz,
    p_id uuid default null)
returns ledger_entries language plpgsql as $$
declare
    entry ledger_entries;
begin
    update balances
       set balance = balance + p_amount, reserved = reserved + p_reserved_change
     where account_id = p_account
    returning balance, reserved into entry.balance_after, entry.reserved_after;
    if not found then
        raise exception 'account % has no balance row', p_account;
    end if;
    insert into ledger_entries (id, account_id, kind, amount, reserved_change, balance_after, reserved_after, reference, created_at)
    values (coalesce(p_id, uuid_v7(p_at)), p_account, p_kind, p_amount, p_reserved_change,
            entry.balance_after, entry.reserved_after, p_reference, p_at)
    returning * into entry;
    return entry;
end
$$;

create table batches (
    id              uuid primary key,
    account_id      uuid not null references accounts (id),
    sender_id       text not null,
    text            text not null,
    encoding        text not null check (encoding in ('GSM-7', 'UCS-2')),
    segments        integer not null check (segments > 0),      -- per message
    recipients      integer not null check (recipients > 0),
    credits         bigint not null check (credits > 0),        -- reserved at accept: segments × recipients
    status          text not null check (status in ('scheduled', 'processing', 'finalized')),
    scheduled_at    timestamptz,
    callback_url    text,
    reference       text,
    trace_parent    text,                                        -- W3C traceparent of the request that made it
    created_at      timestamptz not null,
    finalized_at    timestamptz,
    -- Live counts by message status, kept by transition_messages, so a report is one row.
    -- queued_count includes messages being submitted to a provider.
    scheduled_count integer not null default 0,
    queued_count    integer not null default 0,
    sent_count      integer not null default 0,
    delivered_count integer not null default 0,
    failed_count    integer not null default 0,
    rejected_count  integer not null default 0,
    canceled_count  integer not null default 0
) with (fillfactor = 70);  -- counters change with every status move: leave room for HOT updates (no index churn)
create index batches_account_idx on batches (account_id, id desc);
create index batches_due_idx on batches (scheduled_at) where status = 'scheduled';

-- The hottest table: no foreign keys (each would be a lookup per inserted row on 10,000-row COPYs);
-- rows are only ever written together with their batch, in one transaction.
create table messages (
    id                  uuid primary key,
    batch_id            uuid not null,
    account_id          uuid not null,
    recipient           text not null,
    status              text not null check (status in
                            ('scheduled', 'queued', 'submitting', 'sent', 'delivered', 'failed', 'rejected', 'canceled')),
    segments            integer not null,
    credits             integer not null,
    text                text,            -- null: the batch's text (campaigns personalise per message)
    provider            text,
    provider_message_id text,
    error_code          text,
    created_at          timestamptz not null,
    sent_at             timestamptz,
    delivered_at        timestamptz,
    failed_at           timestamptz,
    canceled_at         timestamptz
) with (fillfactor = 80);  -- each message is updated about three times (none of them indexed columns): keep them HOT
create index messages_batch_idx on messages (batch_id, id);
create index messages_account_created_idx on messages (account_id, created_at desc, id desc);
create index messages_account_recipient_idx on messages (account_id, recipient, created_at desc);

-- Written in the same transaction as the state change; a relay publishes rows to RabbitMQ
-- (publisher confirms) and deletes them.
create table outbox (
    id           bigint generated always as identity primary key,
    routing_key  text not null,
    payload      bytea not null,
    trace_parent text,
    created_at   timestamptz not null default now()
);

create table idempotency_keys (
    account_id      uuid not null,
    key             text not null,
    request_hash    bytea not null,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz not null,
    primary key (account_id, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- Credit moves decided by status changes, waiting to be posted. Status changes happen per chunk of
-- messages all day long; posting each one to the account's balance row at once would make every
-- Worker transaction contend with the send path for that one hot row. Instead the change records
-- what it owes here (a plain insert, no hot row), and post_pending_credits moves it to the ledger
-- and the balance a few times a second, consuming the rows in the same transaction: each credit
-- is posted exactly once, a fraction of a second after its status changed.
create table pending_credits (
    id         bigint generated always as identity primary key,
    account_id uuid not null,
    batch_id   uuid not null,
    captured   bigint not null check (captured >= 0),   -- the provider accepted: spend the reservation
    released   bigint not null check (released >= 0)    -- never sent: free the reservation
);

-- Posts pending credit moves (of one account, or all): one capture and/or release entry per account
-- and batch, with running figures, and one update per balance row, taken in account order.
-- Returns the number of ledger entries written.
create function post_pending_credits(p_at timestamptz, p_account uuid default null)
returns integer language plpgsql
-- Its statements are index lookups by "= any(array)": one generic plan serves every call, and
-- re-planning them on each call (what plpgsql does while custom plans look cheaper) costs more
-- than running them.
set plan_cache_mode = force_generic_plan
as $$
declare
    taken pending_credits[];
    written integer;
begin
    with consumed as (
        delete from pending_credits where p_account is null or account_id = p_account returning *
    )
    select array_agg(consumed) into taken from consumed;
    if taken is null then
        return 0;
    end if;

    perform 1 from balances where account_id in (select account_id from unnest(taken)) order by account_id for update;

    with moves as (
        select t.account_id, t.batch_id, sum(t.captured) as captured, sum(t.released) as released
          from unnest(taken) t
         group by t.account_id, t.batch_id
    ), entries as (
        select account_id, batch_id, 1 as position, 'capture' as kind, -captured as amount, -captured as reserved_change
          from moves where captured > 0
        union all
        select account_id, batch_id, 2, 'release', 0, -released
          from moves where released > 0
    ), totals as (
        select account_id, sum(amount) as amount, sum(reserved_change) as reserved_change from entries group by account_id
    ), changed as (
        update balances b
           set balance = b.balance + t.amount, reserved = b.reserved + t.reserved_change
          from totals t
         where b.account_id = t.account_id
        returning b.account_id, b.balance - t.amount as balance_before, b.reserved - t.reserved_change as reserved_before
    )
    insert into ledger_entries (id, account_id, kind, amount, reserved_change, balance_after, reserved_after, reference, created_at)
    select uuid_v7(p_at), e.account_id, e.kind, e.amount, e.reserved_change,
           c.balance_before + sum(e.amount) over running,
           c.reserved_before + sum(e.reserved_change) over running,
           'bat_' || replace(e.batch_id::text, '-', ''), p_at
      from entries e join changed c on c.account_id = e.account_id
    window running as (partition by e.account_id order by e.batch_id, e.position rows unbounded preceding)
     order by e.account_id, e.batch_id, e.position;
    get diagnostics written = row_count;
    return written;
end
$$;

create type message_transition as (
    id uuid, batch_id uuid, account_id uuid, credits integer, from_status text, to_status text, applied boolean);

-- Called by transition_messages in the same transaction, with the moves it made and the batches it
-- finalized: the place for whatever must follow a status change atomically (webhook events, 0004).
create function after_messages_moved(p_moved message_transition[], p_finalized uuid[], p_at timestamptz)
returns void language plpgsql as $$
begin
end
$$;

-- Moves messages to new statuses, if the move is allowed from where each one is, and keeps
-- everything that follows in step, in the caller's transaction:
--   * the batch's live counts, and the batch is finalized when every message is final;
--   * credits: a message the provider accepted is to be captured; one that will never be sent
--     (rejected, canceled, failed before the provider took it) is to have its reservation
--     released. Both are recorded in pending_credits and posted by post_pending_credits.
-- Returns one row per input id: where it was, where it was asked to go, and whether it moved.
-- Safe to call twice with the same input: a move already made is not allowed again.
-- p_only_from narrows the allowed moves to those starting from these statuses (delivery reports
-- only ever apply to sent messages, never to one still being submitted).
create function transition_messages(
    p_ids uuid[], p_to text[], p_at timestamptz,
    p_provider text default null, p_provider_ids text[] default null, p_errors text[] default null,
    p_only_from text[] default null)
returns setof message_transition language plpgsql
set plan_cache_mode = force_generic_plan  -- as post_pending_credits: plan once, not on every call
as $$
declare
    current message_transition[];   -- every input message as it is now (locked), with the move asked for
    moved message_transition[];     -- the moves actually made
    moved_ids uuid[];
    batch_ids uuid[];
    finalized uuid[];               -- batches this call finalized
begin
    -- Every statement below is keyed by "= any(array)" so it is an index lookup whatever the
    -- table's size or statistics (a fresh table must not be scanned on every call).
    select array_agg(row(m.id, m.batch_id, m.account_id, m.credits, m.status, i.to_status, false)::message_transition order by m.id)
      into current
      from (select m.* from messages m where m.id = any(p_ids) order by m.id for update) m
      join unnest(p_ids, p_to) as i(id, to_status) on i.id = m.id;

    select array_agg(row(c.id, c.batch_id, c.account_id, c.credits, c.from_status, c.to_status, true)::message_transition)
      into moved
      from unnest(current) c
     where (c.from_status, c.to_status) in (
           ('scheduled', 'queued'), ('scheduled', 'canceled'),
           ('queued', 'sent'), ('queued', 'rejected'), ('queued', 'canceled'), ('queued', 'failed'),
           ('queued', 'submitting'), ('submitting', 'submitting'),   -- a claim, for providers slow enough to want one
           ('submitting', 'sent'), ('submitting', 'rejected'), ('submitting', 'failed'),
           ('sent', 'delivered'), ('sent', 'failed'))
       and (p_only_from is null or c.from_status = any(p_only_from));

    if moved is not null then
        moved_ids := array(select id from unnest(moved));
        update messages m
           set status = i.to_status,
               provider = case when i.to_status = 'sent' then coalesce(p_provider, m.provider) else m.provider end,
               provider_message_id = coalesce(i.provider_id, m.provider_message_id),
               error_code = coalesce(i.error_code, m.error_code),
               sent_at = case when i.to_status = 'sent' then p_at else m.sent_at end,
               delivered_at = case when i.to_status = 'delivered' then p_at else m.delivered_at end,
               failed_at = case when i.to_status in ('failed', 'rejected') then p_at else m.failed_at end,
               canceled_at = case when i.to_status = 'canceled' then p_at else m.canceled_at end
          from unnest(p_ids, p_to,
                      coalesce(p_provider_ids, array_fill(null::text, array[cardinality(p_ids)])),
                      coalesce(p_errors, array_fill(null::text, array[cardinality(p_ids)])))
               as i(id, to_status, provider_id, error_code)
         where m.id = any(moved_ids) and m.id = i.id;

        -- Batches whose counts change, locked in id order so concurrent callers never deadlock.
        -- (A claim, queued -> submitting, changes no count and touches no batch.)
        batch_ids := array(select distinct batch_id from unnest(moved)
                            where not (from_status in ('queued', 'submitting') and to_status = 'submitting')
                            order by batch_id);
        if cardinality(batch_ids) > 0 then
            perform 1 from batches where id = any(batch_ids) order by id for update;

            with updated as (
            update batches b
               set scheduled_count = b.scheduled_count + d.scheduled,
                   queued_count    = b.queued_count + d.queued,
                   sent_count      = b.sent_count + d.sent,
                   delivered_count = b.delivered_count + d.delivered,
                   failed_count    = b.failed_count + d.failed,
                   rejected_count  = b.rejected_count + d.rejected,
                   canceled_count  = b.canceled_count + d.canceled,
                   status = case
                       when b.delivered_count + d.delivered + b.failed_count + d.failed
                            + b.rejected_count + d.rejected + b.canceled_count + d.canceled >= b.recipients then 'finalized'
                       when b.status = 'scheduled' and b.scheduled_count + d.scheduled = 0 then 'processing'
                       else b.status end,
                   finalized_at = case
                       when b.finalized_at is null and b.delivered_count + d.delivered + b.failed_count + d.failed
                            + b.rejected_count + d.rejected + b.canceled_count + d.canceled >= b.recipients then p_at
                       else b.finalized_at end
              from (select t.batch_id,
                           sum((t.to_status = 'scheduled')::int - (t.from_status = 'scheduled')::int) as scheduled,
                           sum((t.to_status in ('queued', 'submitting'))::int - (t.from_status in ('queued', 'submitting'))::int) as queued,
                           sum((t.to_status = 'sent')::int - (t.from_status = 'sent')::int) as sent,
                           sum((t.to_status = 'delivered')::int) as delivered,
                           sum((t.to_status = 'failed')::int) as failed,
                           sum((t.to_status = 'rejected')::int) as rejected,
                           sum((t.to_status = 'canceled')::int) as canceled
                      from unnest(moved) t
                     where not (t.from_status in ('queued', 'submitting') and t.to_status = 'submitting')
                     group by t.batch_id) d
             where b.id = any(batch_ids) and b.id = d.batch_id
            returning b.id, b.status, b.finalized_at
            )
            select array_agg(id) into finalized from updated where status = 'finalized' and finalized_at = p_at;
        end if;

        -- Credits follow, through pending_credits: see post_pending_credits.
        insert into pending_credits (account_id, batch_id, captured, released)
        select t.account_id, t.batch_id,
               coalesce(sum(t.credits) filter (where t.to_status = 'sent'), 0),
               coalesce(sum(t.credits) filter (where t.to_status in ('rejected', 'canceled')
                   or (t.to_status = 'failed' and t.from_status in ('queued', 'submitting'))), 0)
          from unnest(moved) t
         group by t.account_id, t.batch_id
        having sum(t.credits) filter (where t.to_status in ('sent', 'rejected', 'canceled')
                   or (t.to_status = 'failed' and t.from_status in ('queued', 'submitting'))) > 0;

        perform after_messages_moved(moved, coalesce(finalized, '{}'), p_at);
    end if;

    -- Every input id, moved or not, so callers can tell "already done" from "not yet possible".
    return query
        select i.id, c.batch_id, c.account_id, c.credits, c.from_status, i.to_status, coalesce(c.id = any(moved_ids), false)
          from unnest(p_ids, p_to) as i(id, to_status)
          left join unnest(current) c on c.id = i.id;
end
$$;
