-- Helpers every other file uses.
-- Re-applied at every start, after the migrations (decision 0001): edit the function here, not in a migration.

create or replace function refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name;
end
$$;

-- A time-ordered UUID (version 7: 48-bit Unix milliseconds, then random), for rows created in SQL.
create or replace function uuid_v7(at timestamptz default clock_timestamp()) returns uuid language sql volatile as $$
    select encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send(floor(extract(epoch from at) * 1000)::bigint) from 3)
                    from 1 for 6),
            52, 1), 53, 1),   -- version nibble 0100 (v4) becomes 0111 (v7); the variant bits stay
        'hex')::uuid
$$;
