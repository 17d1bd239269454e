-- The unit of a column's values (₹, INR, min), from the data dictionary:
-- answers show money with its currency. '' means no unit.
ALTER TABLE descriptions ADD COLUMN unit TEXT NOT NULL DEFAULT '';
