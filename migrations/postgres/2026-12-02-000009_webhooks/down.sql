DROP INDEX outbox_webhook_idx;
ALTER TABLE outbox DROP COLUMN response_status;
ALTER TABLE outbox DROP COLUMN webhook_id;
DROP TABLE webhooks;
