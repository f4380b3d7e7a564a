DROP TABLE calendar_tokens;
DROP TABLE watch_check_ins;
DROP TABLE watch_signup_slots;
DROP TABLE watch_signups;
DROP TABLE watches;
