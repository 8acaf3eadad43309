-- pgbench script: "create booking" (RequestBooking with a new id). The stream must not exist
-- (expected version 0): the primary key of `streams` refuses a second one.
\set tutor random(1, 10000)
BEGIN;
SELECT nextval('booking_numbers') AS n \gset
SELECT count(*) AS existing FROM streams WHERE stream_id = 'booking-bk-' || :n \gset
INSERT INTO streams (stream_id, version) VALUES ('booking-bk-' || :n, 1);
INSERT INTO events (stream_id, version, type, actor, command_id, data)
  VALUES ('booking-bk-' || :n, 1, 'BookingRequested', 'student:s' || :client_id, 'pg-create-' || :n,
          jsonb_build_object('booking_id', 'bk-' || :n, 'student_id', 's' || :client_id, 'tutor_id', 't' || :tutor,
                             'subject', 'Mathematics', 'scheduled_start', 1795514400000, 'duration_minutes', 60,
                             'price', jsonb_build_object('amount', 35000, 'currency', 'ETB'), 'created_at', 1795341600000));
COMMIT;
