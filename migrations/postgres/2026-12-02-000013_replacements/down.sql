DROP TABLE replacement_offers;
DROP TABLE replacements;
