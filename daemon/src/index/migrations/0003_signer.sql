-- 0003: the fingerprint of the key whose signature verified an install
-- (NULL when the trust policy accepted it without a signature check).
ALTER TABLE installs ADD COLUMN signer TEXT;
