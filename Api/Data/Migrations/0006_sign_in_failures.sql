-- Failed sign-ins are counted per email address, whether or not a user has it: a known and an unknown
-- email then slow down and lock alike, so neither timing nor a lock tells which emails exist. Counts
-- were on users before, updated read-modify-write, which lost concurrent failures.
create table sign_in_failures (
    email           text primary key,      -- trimmed, lower-cased
    failures        integer not null,
    last_failure_at timestamptz not null,
    locked_until    timestamptz
);

-- Rows go when idle (see SignIn.cs); this serves that sweep.
create index sign_in_failures_last_failure_at on sign_in_failures (last_failure_at);

alter table users
    drop column failed_logins,
    drop column locked_until;
