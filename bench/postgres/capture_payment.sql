-- pgbench script: "capture payment" on a prepared booking. Locks the booking's stream at its
-- expected version (3; \gset fails the transaction when no row matches), appends
-- PaymentCaptured and EscrowHeld, and moves the money: external:psp (the hot row every payment
-- updates) to the booking's escrow account.
BEGIN;
SELECT nextval('payable_numbers') AS n \gset
UPDATE streams SET version = 5 WHERE stream_id = 'booking-pay-' || :n AND version = 3 RETURNING version AS new_version \gset
INSERT INTO events (stream_id, version, type, actor, command_id, data) VALUES
  ('booking-pay-' || :n, 4, 'PaymentCaptured', 'system', 'pg-capture-' || :n,
   jsonb_build_object('booking_id', 'pay-' || :n, 'tx_ref', 'tx-pay-' || :n, 'reference', 'psp-pay-' || :n,
                      'amount', jsonb_build_object('amount', 35000, 'currency', 'ETB'),
                      'postings', jsonb_build_array(jsonb_build_object('debit', 'external:psp', 'credit', 'escrow:pay-' || :n,
                                                                       'amount', 35000, 'currency', 'ETB')))),
  ('booking-pay-' || :n, 5, 'EscrowHeld', 'system', 'pg-capture-' || :n,
   jsonb_build_object('booking_id', 'pay-' || :n, 'amount', jsonb_build_object('amount', 35000, 'currency', 'ETB')));
UPDATE balances SET balance = balance - 35000 WHERE account = 'external:psp' AND currency = 'ETB';
INSERT INTO balances (account, currency, balance) VALUES ('escrow:pay-' || :n, 'ETB', 35000)
  ON CONFLICT (account, currency) DO UPDATE SET balance = balances.balance + EXCLUDED.balance;
COMMIT;
