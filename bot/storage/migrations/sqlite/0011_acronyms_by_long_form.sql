-- The acronyms are looked up by long form too: a topic that spells out "large language models"
-- is found in the papers that write "LLMs" (bot/acronyms.py, short_forms).
CREATE INDEX "idx_acronyms_long_form" ON "acronyms" ("long_form");
