-- The message lifecycle: status moves, the batch's counters, captures and releases, and the events they emit (decision 0008).
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

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
create or replace function transition_messages(
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

-- The events of the moves: a webhook event per moved message and per finalized batch, for the account's
-- endpoints (held for disabled ones) and a batch's callback_url.
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
