-- A webhook endpoint receives its events in Ujumbe's shape (Standard Webhooks) or in a compatibility
-- dialect's (decision 0026): 'wasambazie' gets delivery.batch.finalized signed with X-Wasambazie-Signature.
alter table webhook_endpoints add column format text not null default 'ujumbe'
    check (format in ('ujumbe', 'wasambazie'));
