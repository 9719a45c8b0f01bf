-- Mobile-money payments (decision 0025): an account buys credits, or its partner buys them for it; the
-- aggregator's signed callback (or the Worker's reconciliation) completes the payment, which credits the
-- account exactly once per provider transaction.

-- The operator's tariff: what one credit costs this account (null: the platform default,
-- Payments:DefaultPricePerCredit), in the account's currency.
alter table accounts
    add column price_per_credit numeric(12, 2) check (price_per_credit > 0),
    add column currency         text not null default 'TZS' check (currency ~ '^[A-Z]{3}$');

create table payments (
    id                      uuid primary key,
    account_id              uuid not null references accounts (id),  -- credited on completion
    requested_by            uuid not null references accounts (id),  -- the account itself, or its partner
    provider                text not null check (provider in ('vodacom', 'tigo', 'airtel', 'halotel')),
    phone                   text not null,
    credits                 bigint not null check (credits > 0),
    amount                  numeric(14, 2) not null check (amount > 0),
    currency                text not null,
    status                  text not null default 'pending' check (status in ('pending', 'completed', 'failed')),
    provider_reference      text,  -- the aggregator's id for the request: what a status query names
    provider_transaction_id text,  -- the money movement that completed it
    failure_reason          text,
    created_at              timestamptz not null,
    expires_at              timestamptz not null,
    checked_at              timestamptz,  -- last time the Worker asked the aggregator (reconciliation)
    completed_at            timestamptz,
    failed_at               timestamptz,
    check ((status = 'completed') = (provider_transaction_id is not null and completed_at is not null)),
    check ((status = 'failed') = (failed_at is not null))
);
-- One provider transaction credits at most one payment, ever.
create unique index payments_transaction_key on payments (provider, provider_transaction_id) where provider_transaction_id is not null;
create index payments_account_idx on payments (account_id, created_at desc, id desc);
create index payments_requested_by_idx on payments (requested_by, created_at desc, id desc);
create index payments_pending_idx on payments (created_at) where status = 'pending';

-- And one payment credits its account at most once, whatever path its completion took.
create unique index ledger_entries_payment_key on ledger_entries (reference) where kind = 'topup' and reference like 'pay\_%';

create function payment_event(p payments, p_at timestamptz) returns jsonb language sql stable as $$
    select jsonb_build_object(
        'created_at', p_at,
        'payment_id', 'pay_' || replace(p.id::text, '-', ''),
        'account_id', 'acct_' || replace(p.account_id::text, '-', ''),
        'status', p.status, 'credits', p.credits, 'amount', p.amount, 'currency', p.currency,
        'provider', p.provider, 'phone_number', p.phone,
        'provider_transaction_id', p.provider_transaction_id, 'failure_reason', p.failure_reason)
$$;

create function emit_payment_event(p payments, p_type text, p_at timestamptz) returns void language plpgsql as $$
begin
    perform emit_webhook_event(p.account_id, p_type, payment_event(p, p_at), null, p_at);
    if p.requested_by <> p.account_id then
        perform emit_webhook_event(p.requested_by, p_type, payment_event(p, p_at), null, p_at);
    end if;
end
$$;

-- Completes a pending payment and credits its account, once. The row lock serialises concurrent callbacks
-- and the Worker: the first completes it, the others find it completed. What happened, as a word:
-- completed (by this call), duplicate (already completed by this transaction), already_completed (by
-- another), already_failed, unknown, amount_mismatch (the money that moved is not what was asked),
-- transaction_used (this transaction already completed another payment).
create function complete_payment(p_id uuid, p_transaction text, p_amount numeric, p_at timestamptz) returns text language plpgsql as $$
declare
    p payments;
begin
    select * into p from payments where id = p_id for update;
    if not found then
        return 'unknown';
    elsif p.status = 'completed' then
        return case when p.provider_transaction_id = p_transaction then 'duplicate' else 'already_completed' end;
    elsif p.status = 'failed' then
        return 'already_failed';
    elsif p_amount is not null and p_amount <> p.amount then
        return 'amount_mismatch';
    end if;
    begin
        update payments
           set status = 'completed', provider_transaction_id = p_transaction, completed_at = p_at
         where id = p_id
        returning * into p;
    exception when unique_violation then
        return 'transaction_used';
    end;
    perform post_credits(p.account_id, 'topup', p.credits, 0, 'pay_' || replace(p.id::text, '-', ''), p_at);
    perform emit_payment_event(p, 'payment.completed', p_at);
    return 'completed';
end
$$;

-- Fails a pending payment (declined, expired, never reached the provider). Nothing is credited.
-- Answers failed (by this call), already_failed, already_completed or unknown.
create function fail_payment(p_id uuid, p_reason text, p_at timestamptz) returns text language plpgsql as $$
declare
    p payments;
begin
    select * into p from payments where id = p_id for update;
    if not found then
        return 'unknown';
    elsif p.status <> 'pending' then
        return 'already_' || p.status;
    end if;
    update payments set status = 'failed', failure_reason = p_reason, failed_at = p_at
     where id = p_id
    returning * into p;
    perform emit_payment_event(p, 'payment.failed', p_at);
    return 'failed';
end
$$;
