-- Where each message goes: the recipient's country (ISO 3166 alpha-2) and, where libphonenumber's carrier
-- data knows it, the mobile operator the number range belongs to, both read when the message is written.
-- Null for messages written before this migration and for numbers of no country or no known operator.
-- No index: filters by them run within the account's messages (messages_account_created_idx), and every
-- index is paid for on each row of a 10,000-recipient COPY.
alter table messages
    add column country  text,
    add column operator text;
