-- The tables of both minimal endpoints (bench/peers): what a user would write in an afternoon.
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,          -- hex SHA-256 of the bearer token
    owner TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    challenge TEXT NOT NULL,          -- base64url, from the start of the registration
    created_at INTEGER NOT NULL,      -- ms since the epoch
    credential_id TEXT UNIQUE,        -- base64url; NULL until verified
    public_key BLOB,
    sign_count INTEGER,
    name TEXT,
    verified_at INTEGER
);
