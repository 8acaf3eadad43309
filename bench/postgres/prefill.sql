-- Bookings ready for "capture payment": requested, accepted, checked out (stream at version 3).
-- psql variable :payable is the number of bookings.
INSERT INTO streams (stream_id, version)
  SELECT 'booking-pay-' || n, 3 FROM generate_series(1, :payable) AS n;

INSERT INTO events (stream_id, version, type, actor, command_id, data)
  SELECT 'booking-pay-' || n, step.version, step.type, step.actor, 'prefill-' || n || '-' || step.version,
         jsonb_build_object('booking_id', 'pay-' || n, 'student_id', 's' || (n % 100000), 'tutor_id', 't' || (n % 10000),
                            'subject', 'Mathematics', 'scheduled_start', 1795514400000, 'duration_minutes', 60,
                            'price', jsonb_build_object('amount', 35000, 'currency', 'ETB'))
  FROM generate_series(1, :payable) AS n,
       (VALUES (1, 'BookingRequested', 'student'), (2, 'BookingAccepted', 'tutor'), (3, 'CheckoutOpened', 'student'))
         AS step (version, type, actor);

VACUUM ANALYZE;
