DROP TABLE blockouts;
