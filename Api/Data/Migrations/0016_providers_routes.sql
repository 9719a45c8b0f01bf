-- Upstream SMS providers and the routes that pick them (issue 14, decision 0030).

-- One upstream: Kannel (sendsms + dlr-url), a generic HTTP aggregator, or the built-in simulator.
-- Nothing secret is in clear: the kind's secrets (a sendsms password, an Authorization header) and
-- the token its delivery reports must carry are AES-256-GCM sealed with the Webhooks:SecretKey.
create table providers (
    id             uuid primary key,
    name           text not null unique,
    kind           text not null check (kind in ('simulator', 'kannel', 'http')),
    settings       jsonb not null default '{}',   -- the kind's settings, nothing secret
    secrets        bytea,                          -- sealed JSON object of the kind's secrets
    secret_names   text[] not null default '{}',   -- which secrets are set (shown; their values never are)
    callback_token bytea not null,                 -- sealed: what the provider's delivery reports carry
    max_per_second integer check (max_per_second between 1 and 100000),
    enabled        boolean not null default true,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);

-- Which providers a destination goes to, in failover order. The route with the longest matching
-- prefix wins, an account's own route before a platform-wide one. A provider id that no longer
-- exists is skipped (and counted) by the Worker; no foreign key, so deleting a provider never
-- fails on the routes that still name it.
create table routes (
    id           uuid primary key,
    prefix       text not null check (prefix ~ '^[0-9]{0,15}$'),  -- E.164 digits without '+'; '' matches every number
    country      text,                                             -- the ISO country the prefix was given as, if it was
    account_id   uuid references accounts (id),
    provider_ids uuid[] not null check (cardinality(provider_ids) between 1 and 5),
    created_at   timestamptz not null,
    updated_at   timestamptz not null
);
create unique index routes_prefix_account_idx on routes (prefix, coalesce(account_id, '00000000-0000-0000-0000-000000000000'::uuid));

-- A submission whose outcome is unknown (the provider timed out after the request left) may have
-- been taken: the message is pinned to that provider, so a retry never hands it to another one.
alter table messages add column pinned_provider text;

-- What the Worker last saw of each provider (it keeps the circuit breaker), for the operators'
-- health endpoint: one row per provider and Worker, written every few seconds.
create table provider_health (
    provider_id      uuid not null,
    worker           text not null,
    circuit          text not null,           -- closed, open, half_open, isolated
    submitted        bigint not null,         -- since the Worker started
    failed           bigint not null,
    accepted         bigint not null,         -- submissions the provider took
    reports          bigint not null,         -- final delivery reports (delivered or failed) this Worker applied
    latency_ms_avg   double precision,
    updated_at       timestamptz not null,
    primary key (provider_id, worker)
);
