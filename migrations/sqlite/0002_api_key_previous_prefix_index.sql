-- Prefix-uniqueness checks look at retired prefixes too; without this index every key creation
-- scanned the whole api_key table.
CREATE INDEX api_key_previous_prefix ON api_key (previous_key_prefix);
