-- Credits: the one way a balance moves, always with its ledger entry (decision 0004).
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

-- The one way credits move (also used by the Api through CreditLedger): update the balance row and
-- append the entry with the figures after the change. Check constraints refuse an overdraft.
create or replace function post_credits(
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

-- Posts pending credit moves (of one account, or all): one capture and/or release entry per account
-- and batch, with running figures, and one update per balance row, taken in account order.
-- Returns the number of ledger entries written.
create or replace function post_pending_credits(p_at timestamptz, p_account uuid default null)
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
