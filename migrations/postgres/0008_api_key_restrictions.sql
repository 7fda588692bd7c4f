-- Keys narrower than their group (key-restrictions.md §1): the canonical JSON object, or NULL
-- for none.
ALTER TABLE api_key ADD COLUMN restrictions TEXT;
