-- Mobile-money payments: settled once, whichever of the callback and the reconciler comes first (decision 0025).
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

create or replace function payment_event(p payments, p_at timestamptz) returns jsonb language sql stable as $$
    select jsonb_build_object(
        'created_at', p_at,
        'payment_id', 'pay_' || replace(p.id::text, '-', ''),
        'account_id', 'acct_' || replace(p.account_id::text, '-', ''),
        'status', p.status, 'credits', p.credits, 'amount', p.amount, 'currency', p.currency,
        'provider', p.provider, 'phone_number', p.phone,
        'provider_transaction_id', p.provider_transaction_id, 'failure_reason', p.failure_reason)
$$;

create or replace function emit_payment_event(p payments, p_type text, p_at timestamptz) returns void language plpgsql as $$
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
create or replace function complete_payment(p_id uuid, p_transaction text, p_amount numeric, p_at timestamptz) returns text language plpgsql as $$
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
create or replace function fail_payment(p_id uuid, p_reason text, p_at timestamptz) returns text language plpgsql as $$
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
