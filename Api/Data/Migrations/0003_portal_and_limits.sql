-- Portal sign-in (failed attempts slow down, then lock) and per-account rate limits.

alter table users
    add column failed_logins integer not null default 0,
    add column locked_until  timestamptz;

-- Failed sign-ins per client address, so one address cannot try passwords on many users.
create table login_failures (
    client_ip    text primary key,
    failures     integer not null,
    window_start timestamptz not null,
    locked_until timestamptz
);

-- Per-account overrides of the gateway's rate limits (requests per window); null = the defaults.
alter table accounts
    add column messages_per_minute integer check (messages_per_minute > 0),
    add column contacts_per_hour   integer check (contacts_per_hour > 0),
    add column requests_per_hour   integer check (requests_per_hour > 0);
