-- What the guards did for a comparison, so every cut is visible per row.
-- request_changes: parameters shadow removed from or capped in the candidate's request, e.g.
--   'n', 'service_tier', 'max_tokens:capped' (empty when the request went as production sent it).
-- caps: work caps that applied while comparing, e.g. 'text_cut', 'tool_calls', 'diff_paths'
--   (the full-length facts such as lengths and validity are still measured on whole texts).
ALTER TABLE ${database}.comparisons ADD COLUMN IF NOT EXISTS request_changes Array(LowCardinality(String));
ALTER TABLE ${database}.comparisons ADD COLUMN IF NOT EXISTS caps Array(LowCardinality(String))
