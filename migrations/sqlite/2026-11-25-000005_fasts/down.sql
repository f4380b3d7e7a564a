DROP TABLE fast_check_ins;
DROP TABLE fast_commitments;
DROP TABLE fast_participants;
DROP TABLE fast_focus;
DROP TABLE fasts;
