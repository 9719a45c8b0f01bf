-- Idempotency-Key on every POST that creates something (decision 0027), not only sends: the answer a
-- key replays is a JSON body plus the headers that say what it is and where the new thing lives.
alter table idempotency_keys add column response_headers jsonb;
