-- The PostgreSQL peer: the event store a team would build on PostgreSQL instead of tutorledger's
-- engine (bench/run, section 3). Global order from a bigserial, per-stream versions made unique
-- by the database, expected versions kept in `streams`, balances as rows (one hot row:
-- external:psp, which every payment debits).
CREATE TABLE streams (
  stream_id text PRIMARY KEY,
  version   integer NOT NULL
);

CREATE TABLE events (
  position   bigserial PRIMARY KEY,
  stream_id  text NOT NULL,
  version    integer NOT NULL,
  type       text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  command_id text NOT NULL,
  data       jsonb NOT NULL,
  UNIQUE (stream_id, version)
);

CREATE TABLE balances (
  account  text NOT NULL,
  currency char(3) NOT NULL,
  balance  bigint NOT NULL,
  PRIMARY KEY (account, currency)
);

INSERT INTO balances VALUES ('external:psp', 'ETB', 0);

CREATE SEQUENCE booking_numbers;   -- new booking ids for "create booking"
CREATE SEQUENCE payable_numbers;   -- the next prepared booking for "capture payment"
