DROP TABLE outbox_news;
