DROP TABLE request_comments;
DROP TABLE request_updates;
DROP TABLE request_intercessors;
DROP TABLE prayers;
DROP TABLE prayer_requests;
DROP TABLE categories;
