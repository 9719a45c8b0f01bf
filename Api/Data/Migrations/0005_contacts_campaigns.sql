-- Contacts, opt-outs, segments, campaigns and the operators' content rules.

-- Trigram indexes make substring search over a million contacts an index lookup; btree_gin lets
-- one GIN index lead with the account id, so a search never wanders into other accounts' rows.
create extension if not exists pg_trgm;
create extension if not exists btree_gin;

create table contacts (
    id         uuid primary key,
    account_id uuid not null references accounts (id),
    name       text,
    phone      text not null,                 -- E.164
    email      text,
    tags       text[] not null default '{}',  -- lower case, sorted, unique
    attributes jsonb not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    -- What q searches: name, phone and email, lower-cased, in one indexed expression.
    search     text generated always as (lower(coalesce(name, '') || ' ' || phone || ' ' || coalesce(email, ''))) stored
);
create unique index contacts_account_phone_idx on contacts (account_id, phone);
create index contacts_account_idx on contacts (account_id, id desc);
create index contacts_search_idx on contacts using gin (account_id, search gin_trgm_ops);
create index contacts_tags_idx on contacts using gin (account_id, tags);

-- Numbers that must not be messaged, per account: recorded from a contact, by number (an inbound
-- STOP, say), or by an import. Kept apart from contacts so a number can opt out without being one,
-- and so deleting a contact does not forget that its number opted out.
create table opt_outs (
    account_id uuid not null,
    phone      text not null,
    source     text not null,
    created_at timestamptz not null,
    primary key (account_id, phone)
);

create table segments (
    id         uuid primary key,
    account_id uuid not null references accounts (id),
    name       text not null,
    tags_any   text[] not null default '{}',   -- a member has at least one of these (if any)
    tags_all   text[] not null default '{}',   -- and every one of these
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index segments_account_idx on segments (account_id, id desc);

-- One campaign is one batch: its messages, counts, credits and reports are the batch's. The
-- campaign keeps what the batch does not know: the name, the template, the audience asked for and
-- the recipients left out.
create table campaigns (
    id            uuid primary key,
    account_id    uuid not null references accounts (id),
    batch_id      uuid not null unique,
    name          text not null,
    template      text not null,
    audience      jsonb not null,
    skipped       integer not null default 0,
    skipped_numbers text[] not null default '{}',   -- the first few, for the report
    created_at    timestamptz not null
);
create index campaigns_account_idx on campaigns (account_id, id desc);

-- Operators' content policy: a send or campaign whose text contains one of these phrases (as whole
-- words, ignoring case and accents) is refused with the rule's category.
create table content_rules (
    id         uuid primary key,
    category   text not null,
    phrase     text not null,      -- normalised: lower case, accents removed, single spaces
    created_at timestamptz not null,
    unique (category, phrase)
);
