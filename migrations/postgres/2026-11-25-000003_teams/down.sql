DROP TABLE assignments;
DROP TABLE team_members;
DROP TABLE teams;
