-- Invitations (decision 0028): how the owner of an account an operator or a partner opened gets a password.
-- The link carries a random token shown once; only its SHA-256 is kept, and it works once, for 7 days.
create table invitations (
    id          uuid primary key,
    user_id     uuid not null references users (id),
    token_hash  bytea not null unique check (length(token_hash) = 32),
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    accepted_at timestamptz
);
create index invitations_user_idx on invitations (user_id);
