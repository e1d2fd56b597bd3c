-- noc-tui: Kamailio 5.6 accounting tables for PostgreSQL (db_postgres), with the extra
-- columns of kamailio.cfg. Create them as the owner Kamailio writes with:
--   psql -U kamailio -d kamailio -f postgres.sql
-- Differences from Debian's /usr/share/kamailio/postgres/acc-create.sql: the text
-- columns may be NULL (acc writes NULL for a value it does not have), the extra columns
-- of db_extra / time_attr / cdr_extra, and indexes on time_s (noc-tui reads windows).
-- noc-tui reads with a user that may only read (see the end).

CREATE TABLE IF NOT EXISTS version (
    id SERIAL PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
);

CREATE TABLE IF NOT EXISTS acc (
    id SERIAL PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '',
    from_tag VARCHAR(128) DEFAULT '',
    to_tag VARCHAR(128) DEFAULT '',
    callid VARCHAR(255) DEFAULT '',
    sip_code VARCHAR(3) DEFAULT '',
    sip_reason VARCHAR(128) DEFAULT '',
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_s DOUBLE PRECISION,
    carrier VARCHAR(255),
    attempt INTEGER,
    t_inv DOUBLE PRECISION,
    t_18x DOUBLE PRECISION,
    dst VARCHAR(64),
    cli VARCHAR(64)
);
CREATE INDEX IF NOT EXISTS acc_callid_idx ON acc (callid);
CREATE INDEX IF NOT EXISTS acc_time_s_idx ON acc (time_s);

CREATE TABLE IF NOT EXISTS missed_calls (
    id SERIAL PRIMARY KEY NOT NULL,
    method VARCHAR(16) DEFAULT '',
    from_tag VARCHAR(128) DEFAULT '',
    to_tag VARCHAR(128) DEFAULT '',
    callid VARCHAR(255) DEFAULT '',
    sip_code VARCHAR(3) DEFAULT '',
    sip_reason VARCHAR(128) DEFAULT '',
    time TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    time_s DOUBLE PRECISION,
    carrier VARCHAR(255),
    attempt INTEGER,
    t_inv DOUBLE PRECISION,
    t_18x DOUBLE PRECISION,
    dst VARCHAR(64),
    cli VARCHAR(64)
);
CREATE INDEX IF NOT EXISTS missed_calls_callid_idx ON missed_calls (callid);
CREATE INDEX IF NOT EXISTS missed_calls_time_s_idx ON missed_calls (time_s);

CREATE TABLE IF NOT EXISTS acc_cdrs (
    id SERIAL PRIMARY KEY NOT NULL,
    start_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    end_time TIMESTAMP WITHOUT TIME ZONE DEFAULT '2000-01-01 00:00:00' NOT NULL,
    duration REAL DEFAULT 0 NOT NULL,
    callid VARCHAR(255),
    time_s DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS acc_cdrs_callid_idx ON acc_cdrs (callid);
CREATE INDEX IF NOT EXISTS acc_cdrs_time_s_idx ON acc_cdrs (time_s);

INSERT INTO version (table_name, table_version) VALUES ('acc', 5), ('missed_calls', 4),
    ('acc_cdrs', 2) ON CONFLICT (table_name) DO NOTHING;

-- noc-tui's user may only read these three tables, e.g.:
--   CREATE ROLE noc_ro LOGIN PASSWORD '...';
--   GRANT CONNECT ON DATABASE kamailio TO noc_ro;
--   GRANT USAGE ON SCHEMA public TO noc_ro;
--   GRANT SELECT ON acc, missed_calls, acc_cdrs TO noc_ro;
