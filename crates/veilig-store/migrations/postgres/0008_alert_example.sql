-- The line that completed an alert, so the alert explains itself.
ALTER TABLE alerts ADD COLUMN example TEXT;
