-- noc-tui: Kamailio 5.6 accounting tables for SQLite (db_sqlite), with the extra columns
-- of kamailio.cfg. Create once, as the user Kamailio runs as:
--   sqlite3 /var/lib/kamailio/acc.db < sqlite.sql
-- Differences from Debian's /usr/share/kamailio/db_sqlite/acc-create.sql:
--   * the text columns may be NULL: acc writes NULL for a value it does not have (an
--     initial request's To tag, an empty extra), which NOT NULL would reject (the row
--     is then lost, with "NOT NULL constraint failed" in Kamailio's log);
--   * extra columns carrier, attempt, t_inv, t_18x, dst, cli (acc db_extra) and time_s
--     (acc time_attr with time_mode 2), and acc_cdrs.callid/time_s (cdr_extra);
--   * indexes on time_s: noc-tui reads each table in time windows.
-- WAL lets noc-tui read while Kamailio writes. Set it here, once: it stays with the
-- file. (db_sqlite's db_set_journal_mode parameter breaks Kamailio's start-up.)
PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS version (
    id INTEGER PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
);

CREATE TABLE IF NOT EXISTS acc (
    id INTEGER PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '',
    from_tag VARCHAR(128) DEFAULT '',
    to_tag VARCHAR(128) DEFAULT '',
    callid VARCHAR(255) DEFAULT '',
    sip_code VARCHAR(3) DEFAULT '',
    sip_reason VARCHAR(128) DEFAULT '',
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_s REAL,
    carrier VARCHAR(255),
    attempt INTEGER,
    t_inv REAL,
    t_18x REAL,
    dst VARCHAR(64),
    cli VARCHAR(64)
);
CREATE INDEX IF NOT EXISTS acc_callid_idx ON acc (callid);
CREATE INDEX IF NOT EXISTS acc_time_s_idx ON acc (time_s);

CREATE TABLE IF NOT EXISTS missed_calls (
    id INTEGER PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '',
    from_tag VARCHAR(128) DEFAULT '',
    to_tag VARCHAR(128) DEFAULT '',
    callid VARCHAR(255) DEFAULT '',
    sip_code VARCHAR(3) DEFAULT '',
    sip_reason VARCHAR(128) DEFAULT '',
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_s REAL,
    carrier VARCHAR(255),
    attempt INTEGER,
    t_inv REAL,
    t_18x REAL,
    dst VARCHAR(64),
    cli VARCHAR(64)
);
CREATE INDEX IF NOT EXISTS missed_calls_callid_idx ON missed_calls (callid);
CREATE INDEX IF NOT EXISTS missed_calls_time_s_idx ON missed_calls (time_s);

CREATE TABLE IF NOT EXISTS acc_cdrs (
    id INTEGER PRIMARY KEY NOT NULL,
    start_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    end_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    duration REAL DEFAULT 0 NOT NULL,
    callid VARCHAR(255),
    time_s REAL
);
CREATE INDEX IF NOT EXISTS acc_cdrs_callid_idx ON acc_cdrs (callid);
CREATE INDEX IF NOT EXISTS acc_cdrs_time_s_idx ON acc_cdrs (time_s);

INSERT OR IGNORE INTO version (table_name, table_version) VALUES ('acc', 5);
INSERT OR IGNORE INTO version (table_name, table_version) VALUES ('missed_calls', 4);
INSERT OR IGNORE INTO version (table_name, table_version) VALUES ('acc_cdrs', 2);
