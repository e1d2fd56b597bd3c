-- noc-tui: the tables of inbound.cfg (Kamailio 5.6, SQLite via db_sqlite and sqlops).
-- Create once, as the user Kamailio runs as:
--   sqlite3 /var/lib/kamailio/inbound.db < inbound-sqlite.sql
-- The operator provisions inbound_trunk_groups and inbound_dids; Kamailio reads them on
-- every call and REGISTER, noc-tui reads the same rows as its trunk groups and DIDs.
-- Kamailio writes the other three; noc-tui only reads them (opened read-only).
-- WAL lets noc-tui read while Kamailio writes. Set it here, once: it stays with the file.
PRAGMA journal_mode = WAL;

-- One row per trunk group (issue 15's trunk group record). Its id is also the AOR its
-- PBX registers (REGISTER To: sip:<id>@...).
CREATE TABLE IF NOT EXISTS inbound_trunk_groups (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,                      -- NULL: the id
    customer TEXT,
    -- registered_then_trunk2 | backup_then_number | dial_plan_on_triggers
    policy TEXT NOT NULL,
    edges TEXT,                     -- comma list of trunk1, trunk2; NULL: both
    backup_pbx TEXT,                -- sip: URI, host[:port] (the DID is the user), or
                                    -- tg:<id>: that trunk group's registered PBX
    global_failover_number TEXT,    -- digits; sent to NUMBER_GW
    dial_plan TEXT,                 -- sip: URI of the dial plan (an IVR)
    failover_triggers TEXT,         -- comma list; NULL: the policy's default; '': none
    no_1xx_timeout_s REAL,          -- NULL: 15
    channel_limit INTEGER           -- NULL or 0: unlimited
);

CREATE TABLE IF NOT EXISTS inbound_dids (
    did TEXT PRIMARY KEY NOT NULL,  -- digits, as the caller's INVITE names it
    trunk_group_id TEXT NOT NULL,
    failover_number TEXT,           -- overrides the group's global number
    backup_pbx TEXT                 -- overrides the group's backup PBX
);

-- One row per delivery attempt, sent or decided locally (sent = 0: not registered, or
-- the channel limit), written when its outcome is known.
CREATE TABLE IF NOT EXISTS inbound_attempts (
    id INTEGER PRIMARY KEY,
    callid TEXT NOT NULL,           -- the caller's Call-ID: the delivery id
    seq INTEGER NOT NULL,
    trunk_group_id TEXT,
    did TEXT,
    caller TEXT,
    target_kind TEXT,               -- primary_pbx | trunk2 | backup_pbx | failover_number | dial_plan
    target TEXT,                    -- the URI tried (for a failover number: the number)
    edge TEXT,                      -- trunk1 | trunk2 (the PBX attempts)
    sent INTEGER,
    number_source TEXT,             -- did | trunk_group (a failover number attempt)
    t_sent REAL,                    -- epoch seconds: the INVITE sent (or the decision)
    t_1xx REAL,                     -- epoch seconds: its first provisional reply
    sip_code INTEGER,
    sip_reason TEXT,
    cancelled INTEGER,              -- the caller hung up while it was pending
    time_s REAL NOT NULL,           -- when the row was written
    UNIQUE (callid, seq)
);
CREATE INDEX IF NOT EXISTS inbound_attempts_time_idx ON inbound_attempts (time_s);

-- One row per delivery when it is over: failed (the caller got a final non-2xx) or,
-- for an answered one, when its dialog ended (BYE or dialog timeout).
CREATE TABLE IF NOT EXISTS inbound_ends (
    callid TEXT PRIMARY KEY NOT NULL,
    ended TEXT NOT NULL,            -- failed | hung_up
    time_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS inbound_ends_time_idx ON inbound_ends (time_s);

-- Registration events, as the switch saw them.
CREATE TABLE IF NOT EXISTS inbound_registrations (
    id INTEGER PRIMARY KEY,
    trunk_group_id TEXT NOT NULL,
    edge TEXT NOT NULL,             -- trunk1 | trunk2 (the socket the REGISTER came to)
    at REAL NOT NULL,               -- epoch seconds
    event TEXT NOT NULL,            -- registered | refreshed | unregistered | expired | rejected
    contact TEXT,
    expires_s INTEGER               -- as granted by the registrar (0: unregistered)
);
CREATE INDEX IF NOT EXISTS inbound_registrations_at_idx ON inbound_registrations (at);
