-- What visitors submitted through the forms of published pages
-- (docs/materials.md, "Forms"): validated against the form's fields of the
-- revision they saw, kept until an admin deletes the page's submissions.
CREATE TABLE form_submissions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id    TEXT NOT NULL,
    -- The form node's id in the page schema.
    form_node  TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    -- The values, a JSON object of field name to text, in field order.
    fields     TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX form_submissions_page ON form_submissions (page_id, id);
